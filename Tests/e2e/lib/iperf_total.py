#!/usr/bin/env python3
"""Sum of the mean rates (bits/s) of iperf3 JSON results over their last N seconds.
Usage: iperf_total.py RESULT.json [RESULT.json ...] N"""
import json
import sys


def last_seconds_bps(path, seconds):
    with open(path) as f:
        r = json.load(f)
    ivs = [i["sum"] for i in r.get("intervals", [])]
    if not ivs:
        raise SystemExit(f"{path}: no intervals")
    end = ivs[-1]["end"]
    sel = [i for i in ivs if i["start"] >= end - seconds - 1e-6]
    bits = sum(i["bits_per_second"] * i["seconds"] for i in sel)
    secs = sum(i["seconds"] for i in sel)
    return bits / secs if secs > 0 else 0.0


if __name__ == "__main__":
    *files, n = sys.argv[1:]
    print(round(sum(last_seconds_bps(p, float(n)) for p in files)))
