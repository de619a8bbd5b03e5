#!/usr/bin/env python3
"""Control round time against fabric size (hosts), log-log, as an SVG (no plotting library).
Usage: round-time-figure.py IN.csv OUT.svg
IN.csv: version,hosts,round,ms  (from `TuskBench control-round`: version, any name (the builds in the
order of the file, the last drawn solid, the earlier ones dashed, then dotted), round `first`, `second`
or `settled` (the median of the rounds after the second), CPU ms of one round: one core up to the "two threads" builds, both cores from then on)."""
import csv
import math
import sys

src, out = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(src)))

W, P, L, B, T, R = 860, 420, 70, 50, 34, 290
# The plot is P high; the picture is as high as the legend needs (a line per build).
versions = list(dict.fromkeys(r["version"] for r in rows))
H = max(P, T + 6 + 3 * 18 + 6 + (len(versions) + 1) * 18 + 10)
xmin, xmax = 512, 131072       # hosts
ymin, ymax = 1, 100000         # ms


def x(h):
    return L + (W - L - R) * (math.log10(h) - math.log10(xmin)) / (math.log10(xmax) - math.log10(xmin))


def y(ms):
    ms = min(max(ms, ymin), ymax)
    return P - B - (P - B - T) * (math.log10(ms) - math.log10(ymin)) / (math.log10(ymax) - math.log10(ymin))


parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>']
for e in range(0, 6):
    v = 10 ** e
    parts.append(f'<line x1="{L}" y1="{y(v):.1f}" x2="{W-R}" y2="{y(v):.1f}" stroke="#ddd"/>')
    parts.append(f'<text x="{L-8}" y="{y(v)+4:.1f}" text-anchor="end">{v:,}</text>')
for h, k in [(1024, 16), (8192, 32), (65536, 64)]:
    parts.append(f'<line x1="{x(h):.1f}" y1="{T}" x2="{x(h):.1f}" y2="{P-B}" stroke="#eee"/>')
    parts.append(f'<text x="{x(h):.1f}" y="{P-B+16}" text-anchor="middle">{h:,} (k={k})</text>')
parts.append(f'<line x1="{L}" y1="{P-B}" x2="{W-R}" y2="{P-B}" stroke="black"/>')
parts.append(f'<line x1="{L}" y1="{T}" x2="{L}" y2="{P-B}" stroke="black"/>')
parts.append(f'<text x="{(L+W-R)/2}" y="{P-10}" text-anchor="middle">hosts (fat-tree bijection, every host an elephant)</text>')
parts.append(f'<text x="18" y="{(T+P-B)/2}" transform="rotate(-90 18 {(T+P-B)/2})" text-anchor="middle">CPU ms per control round</text>')
# The control interval: a round longer than this acts on data a round old.
parts.append(f'<line x1="{L}" y1="{y(1000):.1f}" x2="{W-R}" y2="{y(1000):.1f}" stroke="#888" stroke-dasharray="6 4"/>')
parts.append(f'<text x="{W-R-4}" y="{y(1000)-5:.1f}" text-anchor="end" fill="#555">control interval (1 s)</text>')

colours = {"first": "#c0392b", "second": "#d68910", "settled": "#2471a3"}
styles = ["2 3", "6 4"]
dashes = {v: (styles[(len(versions) - 2 - i) % len(styles)] if i < len(versions) - 1 else "") for i, v in enumerate(versions)}
ly = T + 6
# Legend: a colour per round, a line style per build.
for rnd, colour in colours.items():
    parts.append(f'<line x1="{W-R+12}" y1="{ly}" x2="{W-R+36}" y2="{ly}" stroke="{colour}" stroke-width="4"/>')
    parts.append(f'<text x="{W-R+42}" y="{ly+4}">{rnd} round</text>')
    ly += 18
ly += 6
for version in versions:
    for rnd, colour in colours.items():
        pts = sorted((int(r["hosts"]), float(r["ms"])) for r in rows if r["version"] == version and r["round"] == rnd)
        if not pts:
            continue
        dash = f' stroke-dasharray="{dashes[version]}"' if dashes[version] else ""
        poly = " ".join(f"{x(h):.1f},{y(v):.1f}" for h, v in pts)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{poly}"/>')
        for h, v in pts:
            mark = "white" if dashes[version] else colour
            parts.append(f'<circle cx="{x(h):.1f}" cy="{y(v):.1f}" r="4" fill="{mark}" stroke="{colour}" stroke-width="2"/>')
    dash = f' stroke-dasharray="{dashes[version]}"' if dashes[version] else ""
    parts.append(f'<line x1="{W-R+12}" y1="{ly}" x2="{W-R+36}" y2="{ly}" stroke="#444" stroke-width="2"{dash}/>')
    parts.append(f'<text x="{W-R+42}" y="{ly+4}">{version}</text>')
    ly += 18
# The targets of a round at data-centre scale: k=16 within 10 ms, k=32 first round within 250 ms
# and a settled one within 50 ms.
for h, ms in [(1024, 10), (8192, 250), (8192, 50)]:
    cx, cy = x(h), y(ms)
    parts.append(f'<path d="M{cx-5:.1f},{cy-5:.1f} L{cx+5:.1f},{cy+5:.1f} M{cx-5:.1f},{cy+5:.1f} L{cx+5:.1f},{cy-5:.1f}" stroke="black" stroke-width="2"/>')
parts.append(f'<path d="M{W-R+19:.1f},{ly-5:.1f} L{W-R+29:.1f},{ly+5:.1f} M{W-R+19:.1f},{ly+5:.1f} L{W-R+29:.1f},{ly-5:.1f}" stroke="black" stroke-width="2"/>')
parts.append(f'<text x="{W-R+42}" y="{ly+4}">target (k=16; k=32 first, settled)</text>')
parts.append(f'<text x="{L}" y="20">Tusk control round (analytics, selection, plan) in the closed-loop simulator, 1-in-1000 sFlow</text>')
parts.append('</svg>')
open(out, "w").write("\n".join(parts) + "\n")
