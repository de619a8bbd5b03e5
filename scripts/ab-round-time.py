#!/usr/bin/env python3
"""Round times of two builds side by side: `TuskBench control-round`, run alternately.

    scripts/ab-round-time.py OLD/TuskBench NEW/TuskBench [--k 32] [--runs 4] [--seconds 14]

The machines here are noisy (a run's rounds can all be 20 % slower than the next run's), so the
builds take turns, A B A B ..., and what is compared is each pair of runs as well as the medians.
Each run is itself the median of TuskBench's 3 repetitions, CPU ms of both cores. Besides the
medians, each span gives the fastest run of each build: when other work on the machine slows runs
at random, the fastest is the least disturbed. The moves of every
round must be the same in every run of both builds (the benchmark is seeded): a difference means
the two builds decide differently, and is reported.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys


def run(binary, k, seconds):
    env = dict(os.environ, TUSK_BENCH_K=str(k), TUSK_BENCH_SECONDS=str(seconds), TUSK_BENCH_REFERENCES="0")
    out = subprocess.run([binary, "control-round"], env=env, capture_output=True, text=True, check=True).stdout

    def series(prefix):
        line = next((l for l in out.splitlines() if l.strip().startswith(prefix)), None)
        if line is None:
            sys.exit(f"{binary}: no '{prefix}' line in its output:\n{out}")
        return [float(x) for x in re.findall(r"r\d+ ([\d.]+)", line)]

    return series("round: r1"), series("round, wall ms:"), series("moves:")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--k", type=int, default=32)
    p.add_argument("--runs", type=int, default=4)
    p.add_argument("--seconds", type=float, default=14)
    a = p.parse_args()
    if a.seconds <= 1:
        sys.exit("--seconds must be above 1 (the first round runs at 1 s)")
    builds = {"old": a.old, "new": a.new}
    results = {"old": [], "new": []}
    for i in range(a.runs):
        for name in ("old", "new"):
            cpu, wall, moves = run(builds[name], a.k, a.seconds)
            results[name].append((cpu, wall, moves))
            print(f"run {i + 1} {name}: " + " ".join(f"r{j + 1} {x:g}" for j, x in enumerate(cpu)), file=sys.stderr)
    moves = {tuple(m) for runs in results.values() for (_, _, m) in runs}
    n = min(len(c) for runs in results.values() for (c, _, _) in runs)
    print(f"k={a.k}, {a.runs} alternating runs of each build, {n} rounds; CPU ms of both cores")
    if len(moves) == 1:
        print("moves per round (the same in every run of both builds): " + " ".join(f"r{j + 1} {int(x)}" for j, x in enumerate(next(iter(moves)))))
    else:
        print("MOVES DIFFER between runs or builds: the builds do not decide alike")
        for name, runs in results.items():
            for (_, _, m) in runs:
                print(f"  {name}: " + " ".join(str(int(x)) for x in m))
    medians = {}
    for name, runs in results.items():
        medians[name] = [statistics.median(c[j] for (c, _, _) in runs) for j in range(n)]
        wall = [statistics.median(w[j] for (_, w, _) in runs) for j in range(n)]
        print(f"{name} median per round: " + " ".join(f"r{j + 1} {x:.1f}" for j, x in enumerate(medians[name])))
        print(f"{name} median wall ms:   " + " ".join(f"r{j + 1} {x:.1f}" for j, x in enumerate(wall)))
    spans = [("round 1", 0, 1)]
    if n >= 2:
        spans.append((f"rounds 2-{n}", 1, n))
    if n >= 11:
        spans.append(("rounds 4-11", 3, 11))
    for label, lo, hi in spans:
        old = [sum(c[lo:hi]) for (c, _, _) in results["old"]]
        new = [sum(c[lo:hi]) for (c, _, _) in results["new"]]
        pairs = ", ".join(f"{o:.1f}->{w:.1f}" for o, w in zip(old, new))
        ratio = statistics.median(new) / statistics.median(old)
        lower = sum(w < o for o, w in zip(old, new))
        print(f"{label}: sums per pair {pairs}; medians {statistics.median(old):.1f} -> {statistics.median(new):.1f}, "
              f"new/old {ratio:.3f}; new lower in {lower} of {len(old)} pairs; "
              f"fastest runs {min(old):.1f} -> {min(new):.1f}, new/old {min(new) / min(old):.3f}")


if __name__ == "__main__":
    main()
