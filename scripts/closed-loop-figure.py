#!/usr/bin/env python3
"""Throughput over time of one leaf-spine trial, ECMP against Tusk, as an SVG (no plotting library).
Usage: closed-loop-figure.py DIR TRIAL OUT.svg   (DIR: the e2e report dir with tN-ecmp.h1.json etc.)"""
import json
import os
import sys

d, trial, out = sys.argv[1], sys.argv[2], sys.argv[3]


def series(run):
    """(time, total Mbit/s) per iperf3 interval, both flows summed, and each flow alone."""
    per = []
    for h in ("h1", "h2"):
        with open(os.path.join(d, f"t{trial}-{run}.{h}.json")) as f:
            r = json.load(f)
        per.append([(i["sum"]["end"], i["sum"]["bits_per_second"] / 1e6) for i in r["intervals"]])
    n = min(len(p) for p in per)
    total = [(per[0][i][0], per[0][i][1] + per[1][i][1]) for i in range(n)]
    return total, per


W, H, L, B, T, R = 720, 360, 60, 40, 30, 150
xmax, ymax = 20.0, 200.0


def x(t):
    return L + (W - L - R) * t / xmax


def y(v):
    return H - B - (H - B - T) * min(v, ymax) / ymax


parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>']
for v in range(0, 201, 50):
    parts.append(f'<line x1="{L}" y1="{y(v)}" x2="{W-R}" y2="{y(v)}" stroke="#ddd"/>')
    parts.append(f'<text x="{L-8}" y="{y(v)+4}" text-anchor="end">{v}</text>')
for t in range(0, 21, 5):
    parts.append(f'<text x="{x(t)}" y="{H-B+16}" text-anchor="middle">{t}</text>')
parts.append(f'<line x1="{L}" y1="{H-B}" x2="{W-R}" y2="{H-B}" stroke="black"/>')
parts.append(f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H-B}" stroke="black"/>')
parts.append(f'<text x="{(L+W-R)/2}" y="{H-6}" text-anchor="middle">seconds since both flows started</text>')
parts.append(f'<text x="16" y="{(T+H-B)/2}" transform="rotate(-90 16 {(T+H-B)/2})" text-anchor="middle">Mbit/s (iperf3, 0.5 s intervals)</text>')
styles = {"ecmp": ("#c0392b", "ECMP"), "tusk": ("#2471a3", "Tusk")}
ly = T + 10
for run, (color, label) in styles.items():
    total, per = series(run)
    pts = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in total)
    parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2.5" points="{pts}"/>')
    for p in per:
        pts = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in p)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1" stroke-dasharray="4 3" points="{pts}"/>')
    parts.append(f'<line x1="{W-R+10}" y1="{ly}" x2="{W-R+30}" y2="{ly}" stroke="{color}" stroke-width="2.5"/>')
    parts.append(f'<text x="{W-R+36}" y="{ly+4}">{label}, both flows</text>')
    parts.append(f'<line x1="{W-R+10}" y1="{ly+18}" x2="{W-R+30}" y2="{ly+18}" stroke="{color}" stroke-dasharray="4 3"/>')
    parts.append(f'<text x="{W-R+36}" y="{ly+22}">{label}, each flow</text>')
    ly += 46
parts.append(f'<text x="{L}" y="18">Leaf-spine 2x2, 100 Mbit/s fabric links: two TCP elephants h1->h3, h2->h4, trial {trial}</text>')
parts.append("</svg>")
with open(out, "w") as f:
    f.write("\n".join(parts) + "\n")
