#!/usr/bin/env python3
"""Static shortest-path forwarding for a lab built by lab.sh (no controller involved).

Reads the lab spec (lines "switch NAME DPID", "link SW:PORT SW:PORT", "host NAME IP MAC SW:PORT")
and writes, for every switch, an `ovs-ofctl add-flows` file NAME.flows in OUTDIR: per destination
host one IPv4 rule (nw_dst) and one ARP rule (arp_tpa), both priority 100, output to the port on a
shortest path. Among equal-cost next hops the choice is fixed: "low" takes the lowest port number
(leaf-spine: every leaf sends up through s1; fat-tree: edge -> a*_0 -> c0), "high" the highest, and
an integer N takes candidate N modulo the number of candidates (ports sorted ascending).

usage: lab_routes.py SPEC OUTDIR [low|high|N]
"""
import collections
import os
import sys


def main():
    spec, outdir = sys.argv[1], sys.argv[2]
    pick = sys.argv[3] if len(sys.argv) > 3 else "low"
    switches, hosts = [], []
    adj = collections.defaultdict(list)  # switch -> [(local port, neighbour switch)]
    for line in open(spec):
        f = line.split()
        if not f or f[0].startswith("#"):
            continue
        if f[0] == "switch":
            switches.append(f[1])
        elif f[0] == "link":
            (sa, pa), (sb, pb) = (x.split(":") for x in f[1:3])
            adj[sa].append((int(pa), sb))
            adj[sb].append((int(pb), sa))
        elif f[0] == "host":
            sw, port = f[4].split(":")
            hosts.append((f[1], f[2].split("/")[0], sw, int(port)))

    rules = collections.defaultdict(list)
    for name, ip, hsw, hport in hosts:
        # Breadth-first distances from the host's switch.
        dist = {hsw: 0}
        queue = collections.deque([hsw])
        while queue:
            s = queue.popleft()
            for _, n in adj[s]:
                if n not in dist:
                    dist[n] = dist[s] + 1
                    queue.append(n)
        for s in switches:
            if s == hsw:
                out = hport
            elif s in dist:
                cands = sorted(p for p, n in adj[s] if dist.get(n) == dist[s] - 1)
                if pick == "low":
                    out = cands[0]
                elif pick == "high":
                    out = cands[-1]
                else:
                    out = cands[int(pick) % len(cands)]
            else:
                continue  # unreachable: no rule, the table-miss drops
            rules[s].append(f"priority=100,ip,nw_dst={ip},actions=output:{out}")
            rules[s].append(f"priority=100,arp,arp_tpa={ip},actions=output:{out}")

    os.makedirs(outdir, exist_ok=True)
    for s in switches:
        with open(os.path.join(outdir, s + ".flows"), "w") as fh:
            fh.write("\n".join(rules[s]) + "\n")


if __name__ == "__main__":
    main()
