#!/usr/bin/env python3
"""DPL's denoiser per diffusion step: mean L_diff, noised and denoised distance to p0 by diff_t in a training run's
metrics.csv, over iteration windows (METHODS §6 asks for L_diff per t well below 1 for t <= t* and the denoised
prototypes closer to p0 than the noised ones).

usage: tools/dpl_diff_by_t.py RUN/metrics.csv [--windows 4]
"""
import argparse
import csv
import sys
from collections import defaultdict


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("metrics")
    parser.add_argument("--windows", type=int, default=4, help="equal iteration windows to summarise separately")
    args = parser.parse_args()
    with open(args.metrics, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("diff_t") not in (None, "", "0") and r["diff_loss"] != ""]
    if not rows:
        sys.exit(f"{args.metrics}: no DPL rows (diff_t empty or 0; is it a --head dpl run?)")
    last = int(rows[-1]["iteration"])
    size = max(1, -(-last // args.windows))
    windows = defaultdict(lambda: defaultdict(list))
    distances = defaultdict(lambda: ([], []))
    for r in rows:
        w = (int(r["iteration"]) - 1) // size
        windows[w][int(r["diff_t"])].append(float(r["diff_loss"]))
        distances[w][0].append(float(r["noised_dist"]))
        distances[w][1].append(float(r["denoised_dist"]))
    steps = sorted({t for w in windows.values() for t in w})
    print("| iterations | " + " | ".join(f"L_diff t={t}" for t in steps) + " | noised_dist | denoised_dist |")
    print("|---|" + "---:|" * (len(steps) + 2))
    mean = lambda v: sum(v) / len(v)
    for w in sorted(windows):
        cells = [f"{mean(windows[w][t]):.3f} ({len(windows[w][t])})" if windows[w][t] else "-" for t in steps]
        noised, denoised = distances[w]
        print(f"| {w * size + 1}-{min(last, (w + 1) * size)} | " + " | ".join(cells) + f" | {mean(noised):.3f} | {mean(denoised):.3f} |")


if __name__ == "__main__":
    main()
