#!/usr/bin/env python3
"""Max-min fair throughput of per-flow ECMP on a k-ary fat-tree under a stride pattern, computed
independently of Tusk's simulator (plain progressive filling, every link 1 unit, each flow on one of
the (k/2)^2 equal-cost paths drawn uniformly). It bounds what any scheduler can gain over ECMP:
non-blocking is 1.0, so the best ratio is 1 / (this value).

    python3 scripts/ecmp-ceiling.py [K] [STRIDE] [SEEDS]      (default 32 256 3; about a minute a seed)
"""
import random
import sys
from collections import defaultdict


def ecmp_throughput(k, stride, seed):
    half, hosts, per_pod = k // 2, k ** 3 // 4, k * k // 4
    rnd = random.Random(seed)
    flows = []
    for h in range(hosts):
        d = (h + stride) % hosts
        sp, se = h // per_pod, (h // half) % half
        dp, de = d // per_pod, (d // half) % half
        if sp == dp and se == de:
            flows.append([("up", h), ("down", d)])
            continue
        a = rnd.randrange(half)                       # aggregation plane
        if sp == dp:
            flows.append([("up", h), ("e-a", sp, se, a), ("a-e", dp, a, de), ("down", d)])
            continue
        c = rnd.randrange(half)                       # core within the plane
        flows.append([("up", h), ("e-a", sp, se, a), ("a-c", sp, a, c), ("c-a", a, c, dp), ("a-e", dp, a, de), ("down", d)])
    users = defaultdict(list)
    for i, f in enumerate(flows):
        for link in f:
            users[link].append(i)
    room = {link: 1.0 for link in users}
    active = [len(us) for us in users.values()]
    names = list(users)
    count = dict(zip(names, active))
    rate = [0.0] * len(flows)
    frozen = [False] * len(flows)
    left = len(flows)
    while left:
        share = min(room[l] / count[l] for l in names if count[l] > 0)
        for l in names:
            room[l] -= share * count[l]
        for i in range(len(flows)):
            if not frozen[i]:
                rate[i] += share
        for i in range(len(flows)):
            if not frozen[i] and any(room[l] <= 1e-12 for l in flows[i]):
                frozen[i] = True
                left -= 1
                for l in flows[i]:
                    count[l] -= 1
    return sum(rate) / hosts


if __name__ == "__main__":
    k = int(sys.argv[1]) if len(sys.argv) > 1 else 32
    stride = int(sys.argv[2]) if len(sys.argv) > 2 else 256
    seeds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    values = []
    for seed in range(1, seeds + 1):
        v = ecmp_throughput(k, stride, seed)
        values.append(v)
        print(f"k={k} stride({stride}) seed {seed}: ECMP {v:.4f}, best possible gain {1 / v:.3f}x", flush=True)
    print(f"mean ECMP {sum(values) / len(values):.4f}; 2x ECMP would need {2 * sum(values) / len(values):.4f} (non-blocking is 1.0)")
