#!/usr/bin/env python3
"""Python's multiprocessing.Pool on the workloads of benches/process.rs.

`cargo bench --bench process` runs this script in the same run as parapool and divides the
figures; run it alone to read them:

    python3 benches/python_pool.py [--words 1000000] [--workers 2] [--repeat 3]
                                   [--tasks 20000] [--applies 500] [--starts 10]

Figures (all medians over the repeats, Pool started with the default start method):
- map_letter_all, map_letter_e: `pool.map(count_letters, words)` with the default chunksize over
  `--words` tutorial words, letter "" and "e" (the "e" variant through functools.partial);
- apply_async: `--tasks` trivial calls `pool.apply_async(plus_one, (i,))`, then every `.get()`;
- apply: the latency of one `pool.apply(plus_one, (i,))` on an idle pool (median of `--applies`);
- start_first_close: `Pool(workers)`, one `apply`, `close()`, `join()` (median of `--starts`).

Each figure is printed as `name<TAB>items<TAB>seconds<TAB>items/s`; the last line is one JSON
object `{name: {"items": n, "seconds": s, "per_second": n / s}}` for the benchmark to parse.

With `--serve`, it starts one `Pool(workers)` and answers requests on stdin instead, so that a
benchmark can alternate Python's rounds with its own (`benches/borrowed.rs`): it prints `ready`,
then for each line `map_letter_all` or `map_letter_e` it runs that map once over `--words` words
and prints the seconds it took (timed here, around `pool.map` alone); an empty line or the end of
stdin stops it.
"""
import argparse
import functools
import json
import multiprocessing
import statistics
import time

WORDS = ["map", "entry", "buyer", "hall", "clothes", "patience", "negotiation", "courage",
         "grandmother", "writer"]


def count_letters(word, letter=""):
    """The tutorial's function: the characters of word that occur in letter (all if empty)."""
    if letter == "":
        letter = word
    return len([x for x in word if x in letter])


def plus_one(x):
    return x + 1


def median_seconds(run, repeat):
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--applies", type=int, default=500)
    parser.add_argument("--starts", type=int, default=10)
    parser.add_argument("--serve", action="store_true", help="answer timed map requests on stdin")
    args = parser.parse_args()

    words = [WORDS[i % len(WORDS)] for i in range(args.words)]
    if args.serve:
        return serve(words, args.workers)
    figures = {}

    def record(name, items, seconds):
        figures[name] = {"items": items, "seconds": seconds, "per_second": items / seconds}
        print(f"{name}\t{items}\t{seconds:.6f}\t{items / seconds:.0f}", flush=True)

    with multiprocessing.Pool(args.workers) as pool:
        # The tutorial's answers, checked before anything is timed.
        assert pool.map(count_letters, WORDS) == [3, 5, 5, 4, 7, 8, 11, 7, 11, 6]
        count_e = functools.partial(count_letters, letter="e")
        assert pool.map(count_e, WORDS) == [0, 1, 1, 0, 1, 2, 1, 1, 1, 1]

        record("map_letter_all", len(words),
               median_seconds(lambda: pool.map(count_letters, words), args.repeat))
        record("map_letter_e", len(words),
               median_seconds(lambda: pool.map(count_e, words), args.repeat))

        def apply_async_all():
            handles = [pool.apply_async(plus_one, (i,)) for i in range(args.tasks)]
            return sum(h.get() for h in handles)
        record("apply_async", args.tasks, median_seconds(apply_async_all, args.repeat))

        latencies = []
        for i in range(args.applies):
            started = time.perf_counter()
            pool.apply(plus_one, (i,))
            latencies.append(time.perf_counter() - started)
        record("apply", 1, statistics.median(latencies))

    def start_first_close():
        pool = multiprocessing.Pool(args.workers)
        pool.apply(plus_one, (1,))
        pool.close()
        pool.join()
    record("start_first_close", 1, median_seconds(start_first_close, args.starts))

    print(json.dumps(figures), flush=True)


def serve(words, workers):
    """Timed maps on request, for alternating rounds with another benchmark."""
    import sys
    with multiprocessing.Pool(workers) as pool:
        count_e = functools.partial(count_letters, letter="e")
        maps = {"map_letter_all": count_letters, "map_letter_e": count_e}
        assert pool.map(count_letters, WORDS) == [3, 5, 5, 4, 7, 8, 11, 7, 11, 6]
        assert pool.map(count_e, WORDS) == [0, 1, 1, 0, 1, 2, 1, 1, 1, 1]
        print("ready", flush=True)
        for line in sys.stdin:
            name = line.strip()
            if not name:
                break
            started = time.perf_counter()
            counts = pool.map(maps[name], words)
            seconds = time.perf_counter() - started
            assert len(counts) == len(words)
            print(f"{seconds:.6f}", flush=True)


if __name__ == "__main__":
    main()
