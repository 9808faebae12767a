#!/usr/bin/env python3
"""Prints the latest criterion results as ratios within each group.

    cargo bench --bench thread && python3 benches/report.py [group-prefix ...]

For every group under target/criterion it prints each benchmark's median and its ratio to the
group's first baseline found (sequential_loop, sequential, or the first one alphabetically), and
for cpu_1ms_x2000 the parallel efficiency sequential / (workers x parallel). The groups of
`cargo bench --bench process` (prefix process_) get the same, with parapool_process as the
parallel contender, items/s for the maps and tasks/s for process_apply_async_get.
"""
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion"
BASELINES = ("sequential_loop", "sequential", "rayon_par_iter", "rayon_spawn_channel")
WORKERS = 2
# Items per iteration of the groups whose throughput is printed, by group-name prefix.
ITEMS = {"process_map": 1_000_000, "process_apply_async_get": 20_000}


def median_ns(bench_dir):
    est = bench_dir / "new" / "estimates.json"
    if not est.exists():
        return None
    return json.loads(est.read_text())["median"]["point_estimate"]


def fmt(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3f} {unit}"
    return f"{ns:.1f} ns"


def main():
    prefixes = sys.argv[1:]
    if not ROOT.exists():
        sys.exit(f"no results under {ROOT}: run cargo bench first")
    for group in sorted(p for p in ROOT.iterdir() if p.is_dir() and p.name != "report"):
        if prefixes and not any(group.name.startswith(x) for x in prefixes):
            continue
        results = {b.name: median_ns(b) for b in group.iterdir() if b.is_dir() and b.name != "report"}
        results = {k: v for k, v in results.items() if v is not None}
        if not results:
            continue
        print(f"\n{group.name}")
        for base in BASELINES:
            if base in results:
                break
        else:
            base = sorted(results)[0]
        for name, ns in sorted(results.items(), key=lambda kv: kv[1]):
            print(f"  {name:24s} {fmt(ns):>12s}   {ns / results[base]:6.3f}x {base}")
        if group.name.startswith("cpu_") and "sequential" in results and "parapool_thread" in results:
            eff = results["sequential"] / (WORKERS * results["parapool_thread"])
            print(f"  parallel efficiency      {eff * 100:.1f} %")
        if group.name.startswith("process_cpu_") and "sequential" in results and "parapool_process" in results:
            eff = results["sequential"] / (WORKERS * results["parapool_process"])
            print(f"  parallel efficiency      {eff * 100:.1f} %")
        for prefix, items in ITEMS.items():
            if group.name.startswith(prefix):
                for name, ns in sorted(results.items()):
                    print(f"  {name:24s} {items / ns * 1e9:12,.0f} per second")
        if group.name.startswith("apply_async_get"):
            for name, ns in sorted(results.items()):
                print(f"  {name:24s} {ns / 100_000:8.1f} ns per task")


if __name__ == "__main__":
    main()
