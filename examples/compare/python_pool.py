#!/usr/bin/env python3
"""Python's multiprocessing.Pool as a contender of `cargo run --release --example compare`.

The runner starts this script with `--serve` and sends it one request per line on stdin, so that
Python's rounds alternate with parapool's, rayon's and the others' in one run. Every figure is
timed here, in Python, around the call alone; each reply is one line of numbers (seconds, and a
checksum the runner compares with its own: the task below computes exactly what the Rust `spin`
computes). Requests:

    calibrate                       -> spin iterations per nanosecond (fastest of 5 runs of ~20 ms)
    loop <iterations> <tasks>       -> seconds, checksum           (a plain `for` loop)
    map <workers> <iterations> <tasks>          -> seconds, checksum  (Pool.map, default chunksize)
    loop_timed <iterations> <tasks> -> seconds, seconds in tasks, checksum of task counts
    map_timed <workers> <iterations> <tasks>    -> seconds, seconds in tasks, task count
    words <n>                       -> 0 (keeps n tutorial words for the next requests)
    tutorial_loop <letter>          -> seconds, sum of counts      (`-` stands for the letter "")
    tutorial_map <workers> <letter> -> seconds, sum of counts      (Pool.map, default chunksize)
    call <workers> <n> <kind>       -> seconds per call of n calls: apply (one at a time),
                                       apply_async (all submitted, then every get), map, imap
    start <workers>                 -> seconds for Pool(workers) + one apply + close + join

One Pool per worker count is started on first use and kept. An empty line or the end of stdin
stops the script. Run alone, `python3 examples/compare/python_pool.py --serve`, it answers typed
requests.
"""
import multiprocessing
import sys
import time

WORDS = ["map", "entry", "buyer", "hall", "clothes", "patience", "negotiation", "courage",
         "grandmother", "writer"]


def spin(n):
    """The runner's `spin`: n rounds of integer arithmetic; returns the same checksum."""
    s = 0
    for i in range(n):
        s += (i * i) % 7
    return s


def spin_timed(n):
    """`spin`, timed from inside: the nanoseconds it took."""
    started = time.perf_counter_ns()
    spin(n)
    return time.perf_counter_ns() - started


def plus_one(x):
    return x + 1


def count_letters(word, letter=""):
    """The tutorial's function: the characters of word that occur in letter (all if empty)."""
    if letter == "":
        return len(word)
    return len([c for c in word if c in letter])


def count_e(word):
    return count_letters(word, "e")


def timed(run):
    started = time.perf_counter()
    out = run()
    return time.perf_counter() - started, out


def serve():
    pools = {}
    words = []

    def pool(workers):
        if workers not in pools:
            pools[workers] = multiprocessing.Pool(workers)
            pools[workers].map(plus_one, range(workers * 4))  # every worker started
        return pools[workers]

    def handle(request):
        nonlocal words
        name, args = request[0], request[1:]
        if name == "calibrate":
            n = 1000
            while timed(lambda: spin(n))[0] < 0.02:
                n *= 2
            return [max(n / (timed(lambda: spin(n))[0] * 1e9) for _ in range(5))]
        if name == "loop":
            n, tasks = int(args[0]), int(args[1])
            seconds, out = timed(lambda: [spin(x) for x in [n] * tasks])
            return [seconds, sum(out)]
        if name == "map":
            p, n, tasks = pool(int(args[0])), int(args[1]), int(args[2])
            inputs = [n] * tasks
            seconds, out = timed(lambda: p.map(spin, inputs))
            return [seconds, sum(out)]
        if name == "loop_timed":
            n, tasks = int(args[0]), int(args[1])
            seconds, out = timed(lambda: [spin_timed(x) for x in [n] * tasks])
            return [seconds, sum(out) * 1e-9, len(out)]
        if name == "map_timed":
            p, n, tasks = pool(int(args[0])), int(args[1]), int(args[2])
            inputs = [n] * tasks
            seconds, out = timed(lambda: p.map(spin_timed, inputs))
            return [seconds, sum(out) * 1e-9, len(out)]
        if name == "words":
            words = [WORDS[i % len(WORDS)] for i in range(int(args[0]))]
            return [0]
        if name == "tutorial_loop":
            letter = "" if args[0] == "-" else args[0]
            seconds, out = timed(lambda: [count_letters(w, letter) for w in words])
            return [seconds, sum(out)]
        if name == "tutorial_map":
            p, letter = pool(int(args[0])), "" if args[1] == "-" else args[1]
            task = count_letters if letter == "" else count_e
            assert letter in ("", "e"), "the runner asks for the tutorial's two letters"
            seconds, out = timed(lambda: p.map(task, words))
            return [seconds, sum(out)]
        if name == "call":
            p, n, kind = pool(int(args[0])), int(args[1]), args[2]
            runs = {
                "apply": lambda: [p.apply(plus_one, (i,)) for i in range(n)],
                "apply_async": lambda: [h.get() for h in [p.apply_async(plus_one, (i,)) for i in range(n)]],
                "map": lambda: p.map(plus_one, range(n)),
                "imap": lambda: list(p.imap(plus_one, range(n))),
            }
            seconds, out = timed(runs[kind])
            assert out == list(range(1, n + 1))
            return [seconds / n]
        if name == "start":
            workers = int(args[0])

            def start():
                p = multiprocessing.Pool(workers)
                assert p.apply(plus_one, (1,)) == 2
                p.close()
                p.join()
            return [timed(start)[0]]
        raise ValueError(f"unknown request {name!r}")

    print("ready", flush=True)
    for line in sys.stdin:
        request = line.split()
        if not request:
            break
        try:
            reply = handle(request)
            print(" ".join(repr(float(x)) for x in reply), flush=True)
        except Exception as error:  # the runner prints it and goes on without Python
            print(f"error {type(error).__name__}: {error}", flush=True)
    for p in pools.values():
        p.close()
        p.join()


if __name__ == "__main__":
    if sys.argv[1:] != ["--serve"]:
        sys.exit(__doc__)
    serve()
