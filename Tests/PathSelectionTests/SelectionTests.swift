import FabricProgramming
import FlowAnalytics
import OpenFlow
import Packets
import PathSelection
import Testing
import Topology

func key(_ i: Int, sport: UInt16 = 40000) -> FlowKey {
    FlowKey(src: .v4(IPv4Address(UInt32(0x0A00_0000 + i))), dst: .v4(IPv4Address(UInt32(0x0A00_1000 + i))),
            proto: IPProtocolNumber.tcp, sport: sport, dport: 5201)
}

/// A random permutation of `t`'s hosts (no host to itself), one host-rate flow each, every flow on
/// a random one of its equal-cost paths (as ECMP would place it).
func permutationFlows(_ t: Topology, seed: UInt64) -> [ElephantFlow] {
    let n = t.hosts.count
    var rng = SeededGenerator(seed: seed)
    var dst = Array(0..<n)
    repeat { dst.shuffle(using: &rng) } while dst.enumerated().contains { $0.offset == $0.element }
    return (0..<n).map { s in
        let ps = t.equalCostPaths(from: HostID(s), to: HostID(dst[s]))
        return ElephantFlow(key: key(s), src: HostID(s), dst: HostID(dst[s]), rate: 1e9, demand: 1e9,
                            current: ps[Int.random(in: 0..<ps.count, using: &rng)], candidates: ps)
    }
}

@Suite struct DemandEstimatorTests {
    /// Hedera (NSDI 2010) Fig. 4: hosts A, B, C, D; flows A→B, A→C, A→D, B→A, B→A, B→C, C→A, C→D, D→B, D→B.
    @Test func hederaWorkedExample() {
        let (A, B, C, D) = (0, 1, 2, 3)
        let flows = [(A, B), (A, C), (A, D), (B, A), (B, A), (B, C), (C, A), (C, D), (D, B), (D, B)]
            .map { DemandFlow(src: $0.0, dst: $0.1) }
        let d = DemandEstimator.estimate(flows, senderCapacity: { _ in 1 }, receiverCapacity: { _ in 1 })
        let expected: [Double] = [1.0 / 3, 1.0 / 3, 1.0 / 3, 1.0 / 3, 1.0 / 3, 1.0 / 3, 1.0 / 3, 2.0 / 3, 1.0 / 3, 1.0 / 3]
        #expect(d.count == expected.count)
        for (got, want) in zip(d, expected) { #expect(abs(got - want) < 1e-9) }
    }

    @Test func senderAndReceiverLimits() {
        // One sender with two flows: half each. Three senders to one receiver: a third each, in bits/s.
        let a = DemandEstimator.estimate([DemandFlow(src: 0, dst: 1), DemandFlow(src: 0, dst: 2)],
                                         senderCapacity: { _ in 1e9 }, receiverCapacity: { _ in 1e9 })
        #expect(a.allSatisfy { abs($0 - 5e8) < 1 })
        let b = DemandEstimator.estimate((1...3).map { DemandFlow(src: $0, dst: 0) },
                                         senderCapacity: { _ in 1e9 }, receiverCapacity: { _ in 1e9 })
        #expect(b.allSatisfy { abs($0 - 1e9 / 3) < 1 })
        #expect(DemandEstimator.estimate([], senderCapacity: { _ in 1 }, receiverCapacity: { _ in 1 }).isEmpty)
    }

    /// The estimator as first written (flows grouped by host in dictionaries), the reference for
    /// the flat grouping: the same demands to the last bit, on inputs with many flows per host.
    static func reference(_ flows: [DemandFlow], sender: (Int) -> Double, receiver: (Int) -> Double) -> [Double] {
        let n = flows.count
        guard n > 0 else { return [] }
        var demand = [Double](repeating: 0, count: n)
        var converged = [Bool](repeating: false, count: n)
        var receiverLimited = [Bool](repeating: false, count: n)
        var bySrc: [Int: [Int]] = [:], byDst: [Int: [Int]] = [:]
        for (i, f) in flows.enumerated() {
            bySrc[f.src, default: []].append(i)
            byDst[f.dst, default: []].append(i)
        }
        let senders = bySrc.keys.sorted().map { ($0, bySrc[$0]!) }
        let receivers = byDst.keys.sorted().map { ($0, byDst[$0]!) }
        for _ in 0..<100 {
            let before = demand
            for (host, ids) in senders {
                var convergedDemand = 0.0, unconverged = 0
                for i in ids { if converged[i] { convergedDemand += demand[i] } else { unconverged += 1 } }
                guard unconverged > 0 else { continue }
                let share = max(0, sender(host) - convergedDemand) / Double(unconverged)
                for i in ids where !converged[i] { demand[i] = share }
            }
            for (host, ids) in receivers {
                let capacity = receiver(host)
                var total = 0.0
                for i in ids {
                    receiverLimited[i] = true
                    total += demand[i]
                }
                guard total > capacity else { continue }
                var senderLimited = 0.0, limited = ids.count
                var share = capacity / Double(limited)
                while true {
                    var changed = false
                    limited = 0
                    for i in ids where receiverLimited[i] {
                        if demand[i] < share {
                            senderLimited += demand[i]
                            receiverLimited[i] = false
                            changed = true
                        } else {
                            limited += 1
                        }
                    }
                    guard limited > 0 else { break }
                    share = max(0, capacity - senderLimited) / Double(limited)
                    if !changed { break }
                }
                for i in ids where receiverLimited[i] {
                    demand[i] = share
                    converged[i] = true
                }
            }
            if zip(before, demand).allSatisfy({ abs($0 - $1) <= 1e-12 * max(1, abs($1)) }) { break }
        }
        return demand
    }

    @Test func sameBitsAsGroupingByDictionary() {
        var rng = SeededGenerator(seed: 17)
        for round in 0..<300 {
            let hosts = Int.random(in: 2...40, using: &rng)
            let n = Int.random(in: 1...200, using: &rng)
            // Every third round, host numbers far apart and below zero (not indices of a table).
            let ids = round % 3 == 2 ? (0..<hosts).map { $0 * 1_000_003 - 500_000 } : Array(0..<hosts)
            let index = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
            let flows = (0..<n).map { _ in DemandFlow(src: ids[Int.random(in: 0..<hosts, using: &rng)], dst: ids[Int.random(in: 0..<hosts, using: &rng)]) }
            let caps = (0..<hosts).map { _ in [1e9, 1e10, 2.5e9, 1.0 / 3][Int.random(in: 0..<4, using: &rng)] }
            let sender = { (h: Int) in caps[index[h]!] }, receiver = { (h: Int) in caps[(index[h]! + round) % hosts] }
            let got = DemandEstimator.estimate(flows, senderCapacity: sender, receiverCapacity: receiver)
            let want = Self.reference(flows, sender: sender, receiver: receiver)
            #expect(got.map(\.bitPattern) == want.map(\.bitPattern), "round \(round)")
        }
    }
}

/// Leaf-spine 2×2, two hosts per leaf, 100 Mbit/s links: h1,h2 on l1 and h3,h4 on l2.
struct SmallFabric {
    let t = try! Topology.leafSpine(leaves: 2, spines: 2, hostsPerLeaf: 2)
    var capacity: [Double] { (0..<(t.links.count * 2)).map { Double(t.capacity(of: DirectedLinkID($0))) } }
    func h(_ n: String) -> HostID { t.hostID(named: n)! }
    func paths(_ a: String, _ b: String) -> [Path] { t.equalCostPaths(from: h(a), to: h(b)) }
    func elephant(_ i: Int, _ a: String, _ b: String, on spine: Int, rate: Double = 5e7, demand: Double = 1e8) -> ElephantFlow {
        let ps = paths(a, b)
        return ElephantFlow(key: key(i), src: h(a), dst: h(b), rate: rate, demand: demand, current: ps[spine], candidates: ps)
    }
    /// Measured load: each flow's rate on its current path, plus `extra`.
    func load(_ flows: [ElephantFlow], extra: [(DirectedLinkID, Double)] = []) -> [Double] {
        var l = [Double](repeating: 0, count: t.links.count * 2)
        for f in flows { for d in f.current!.links { l[d.index] += f.rate } }
        for (d, v) in extra { l[d.index] += v }
        return l
    }
}

@Suite struct PlacementTests {
    @Test func tuskSplitsTwoCollidingElephants() {
        let f = SmallFabric()
        let flows = [f.elephant(1, "h1", "h3", on: 0), f.elephant(2, "h2", "h4", on: 0)]
        var s = TuskSelector()
        let r = s.select(SelectionInput(time: 10, flows: flows, load: f.load(flows), capacity: f.capacity), rules: StabilityRules())
        #expect(r.decisions.count == 1)
        let d = r.decisions[0]
        #expect(d.key == key(2))
        #expect(d.to == f.paths("h2", "h4")[1])
        #expect(abs(d.reason.gain - 1.0) < 1e-9) // 200 % on the shared spine link -> 100 %
        #expect(abs(d.reason.hotUtilization - 2.0) < 1e-9)
        #expect(d.reason.hotLink.map { f.paths("h2", "h4")[0].links.contains($0) } == true)
        #expect(d.reason.description.contains("gain 100%"))
    }

    @Test func tuskSeesTheMiceThatStay() {
        // One elephant on spine 1; spine 2's uplink carries 80 Mbit/s of mice: moving would be worse.
        let f = SmallFabric()
        let e = f.elephant(1, "h1", "h3", on: 0, rate: 1e8)
        let other = f.paths("h1", "h3")[1].links[1]
        var s = TuskSelector()
        let r = s.select(SelectionInput(time: 1, flows: [e], load: f.load([e], extra: [(other, 8e7)]), capacity: f.capacity),
                         rules: StabilityRules(minGain: 0))
        #expect(r.decisions.isEmpty)
        // Now the mice sit on spine 1 and the elephant is squeezed: tusk moves it, gff cannot tell.
        let hot = f.paths("h1", "h3")[0].links[1]
        let e2 = f.elephant(1, "h1", "h3", on: 0, rate: 5e7)
        let input = SelectionInput(time: 1, flows: [e2], load: f.load([e2], extra: [(hot, 5e7)]), capacity: f.capacity)
        var s2 = TuskSelector()
        let r2 = s2.select(input, rules: StabilityRules())
        #expect(r2.decisions.map(\.to) == [f.paths("h1", "h3")[1]])
        var g = GlobalFirstFit()
        #expect(g.select(input, rules: StabilityRules()).decisions.isEmpty) // first path fits by reservations
    }

    @Test func tuskPlacesLargestFirst() {
        // A 100M and a 30M elephant share spine 1; the big one is placed first and keeps its path,
        // the small one moves.
        let f = SmallFabric()
        let big = f.elephant(1, "h1", "h3", on: 0, rate: 7e7, demand: 1e8)
        var small = f.elephant(2, "h2", "h4", on: 0, rate: 3e7, demand: 3e7)
        small.demand = 3e7
        var s = TuskSelector()
        let r = s.select(SelectionInput(time: 1, flows: [small, big], load: f.load([big, small]), capacity: f.capacity),
                         rules: StabilityRules())
        #expect(r.decisions.map(\.key) == [key(2)])
    }

    @Test func ejectionChain() {
        // Leaf-spine 3×2. A (h1→h3) is held on spine 1 and B (h2→h5) collides with it on l1's uplink;
        // B's other path is blocked on s2→l3 by D (h4→h6), which is not hot itself. No single move
        // gains; moving D to spine 1 and B to spine 2 does.
        let t = try! Topology.leafSpine(leaves: 3, spines: 2, hostsPerLeaf: 2)
        let cap = (0..<(t.links.count * 2)).map { Double(t.capacity(of: DirectedLinkID($0))) }
        func h(_ n: String) -> HostID { t.hostID(named: n)! }
        func e(_ i: Int, _ a: String, _ b: String, spine: Int, priority: Int = 0, movable: Bool = true) -> ElephantFlow {
            let ps = t.equalCostPaths(from: h(a), to: h(b))
            return ElephantFlow(key: key(i), src: h(a), dst: h(b), rate: 5e7, demand: 1e8, current: ps[spine], candidates: ps,
                                priority: priority, movable: movable)
        }
        // D has a policy priority: it is placed first and keeps its path in the first phase.
        let flows = [e(1, "h1", "h3", spine: 0, movable: false), e(2, "h2", "h5", spine: 0), e(4, "h4", "h6", spine: 1, priority: 1)]
        var load = [Double](repeating: 0, count: cap.count)
        for f in flows { for l in f.current!.links { load[l.index] += f.rate } }
        let input = SelectionInput(time: 1, flows: flows, load: load, capacity: cap)
        // Both flows need a whole link: the alternating chains (phase 1) find it, and so do the
        // ejection chains (phase 3) and the local search (phase 4) each on their own.
        for (selector, reason) in [(TuskSelector(), "tusk (alternating chain)"),
                                   (TuskSelector(alternatingChains: false), "tusk (making room)")] {
            var s = selector
            let r = s.select(input, rules: StabilityRules())
            #expect(Set(r.decisions.map(\.key)) == [key(2), key(4)])
            #expect(r.decisions.first { $0.key == key(2) }?.to == t.equalCostPaths(from: h("h2"), to: h("h5"))[1])
            #expect(r.decisions.first { $0.key == key(4) }?.to == t.equalCostPaths(from: h("h4"), to: h("h6"))[0])
            #expect(r.decisions.first { $0.key == key(4) }?.reason.algorithm == reason)
        }
        // Phase 3 alone: the chain frees a whole link (gain 1.0) and displaces one flow, which costs
        // 0.01; it is made when the minimum gain is below what is left (0.99), not above it.
        for (minGain, made) in [(0.98, true), (0.995, false)] {
            var ejection = TuskSelector(searchBudget: 0, alternatingChains: false)
            let r = ejection.select(input, rules: StabilityRules(minGain: minGain))
            #expect(Set(r.decisions.map(\.key)) == (made ? [key(2), key(4)] : []))
            #expect(r.skipped.contains { $0.key == key(2) && $0.reason == .smallGain } == !made)
        }
        // Greedy placement alone moves nothing.
        var single = TuskSelector(rearrangeBudget: 0, searchBudget: 0, alternatingChains: false)
        #expect(single.select(input, rules: StabilityRules()).decisions.isEmpty)
        var searchOnly = TuskSelector(rearrangeBudget: 0, alternatingChains: false)
        let r3 = searchOnly.select(SelectionInput(time: 1, flows: flows, load: load, capacity: cap), rules: StabilityRules())
        #expect(Set(r3.decisions.map(\.key)) == [key(2), key(4)])
        #expect(r3.decisions.allSatisfy { $0.reason.algorithm == "tusk (rearranging)" })
        #expect(r3.decisions.first { $0.key == key(2) }?.reason.gain == 1.0)
    }

    /// A random permutation on a k=8 fat-tree at host rate, every flow on its ECMP path: the result
    /// of one round, as oversubscribed links, with and without the later phases.
    static func permutationRound(_ selector: TuskSelector, seed: UInt64, rounds: Int = 1) -> (overloaded: Int, moves: Int) {
        let t = try! Topology.fatTree(k: 8)
        let n = t.hosts.count
        let cap = (0..<(t.links.count * 2)).map { Double(t.capacity(of: DirectedLinkID($0))) }
        var flows = permutationFlows(t, seed: seed)
        func load() -> [Double] {
            var l = [Double](repeating: 0, count: cap.count)
            for f in flows { for d in f.current!.links { l[d.index] += f.demand } }
            return l
        }
        var sel = selector
        var moves = 0
        for round in 0..<rounds {
            let r = sel.select(SelectionInput(time: Double(round + 1), flows: flows, load: load(), capacity: cap),
                               rules: StabilityRules(maxMoves: n))
            moves += r.decisions.count
            let moved = Dictionary(r.decisions.map { ($0.key, $0.to) }, uniquingKeysWith: { a, _ in a })
            for i in flows.indices { if let p = moved[flows[i].key] { flows[i].current = p } }
        }
        let after = load()
        return (after.indices.filter { after[$0] > cap[$0] * 1.0001 }.count, moves)
    }

    @Test func localSearchUntanglesAPermutation() {
        for seed: UInt64 in 1...3 {
            let greedy = Self.permutationRound(TuskSelector(searchBudget: 0, alternatingChains: false), seed: seed)
            let full = Self.permutationRound(TuskSelector(seed: seed, alternatingChains: false), seed: seed)
            // Seeds 1-3 leave 20, 14, 15 oversubscribed links after phases 2 and 3 (phase 1 off), and 6, 2, 5 after the search.
            #expect(full.overloaded * 2 <= greedy.overloaded, "seed \(seed): \(full) vs greedy and chains \(greedy)")
        }
    }

    @Test func alternatingChainsUntangleAPermutation() {
        // A permutation of host-rate flows on a fat-tree has an arrangement with one flow per link
        // (the fabric is rearrangeably non-blocking). In one round the alternating chains alone
        // leave 19, 0, 1 of the greedy placement's 77, 61, 63 oversubscribed links (seeds 1-3); two
        // rounds of every phase leave 1, 0, 1, moving each flow about once (142, 105, 103 moves for
        // 128 flows). What remains would take a chain longer than its gain pays for.
        for seed: UInt64 in 1...3 {
            let two = Self.permutationRound(TuskSelector(seed: seed), seed: seed, rounds: 2)
            let one = Self.permutationRound(TuskSelector(rearrangeBudget: 0, searchBudget: 0), seed: seed)
            let greedy = Self.permutationRound(TuskSelector(rearrangeBudget: 0, searchBudget: 0, alternatingChains: false), seed: seed)
            #expect(one.overloaded * 3 <= greedy.overloaded, "seed \(seed): one round \(one), greedy alone \(greedy)")
            #expect(two.overloaded <= 1, "seed \(seed): two rounds \(two)")
            #expect(two.moves <= 128 * 3 / 2, "seed \(seed): two rounds \(two)")
        }
    }

    @Test func globalFirstFit() {
        let f = SmallFabric()
        // Both on spine 2; GFF puts the first (larger) on the first path that fits (spine 1), the second
        // no longer fits there and fits on spine 2 where it already is.
        let a = f.elephant(1, "h1", "h3", on: 1, demand: 1e8)
        let b = f.elephant(2, "h2", "h4", on: 1, demand: 9e7)
        var g = GlobalFirstFit()
        let input = SelectionInput(time: 1, flows: [a, b], load: f.load([a, b]), capacity: f.capacity)
        let r = g.select(input, rules: StabilityRules())
        #expect(r.decisions.map(\.key) == [key(1)])
        #expect(r.decisions.first?.to == f.paths("h1", "h3")[0])
        #expect(g.reservations.count == 2)
        // Reservations persist: the next round moves nothing.
        #expect(g.select(input, rules: StabilityRules()).decisions.isEmpty)
        // A flow that fits nowhere stays on ECMP, unreserved.
        let c = f.elephant(3, "h1", "h4", on: 0, demand: 1e8)
        let r3 = g.select(SelectionInput(time: 2, flows: [a, b, c], load: f.load([a, b, c]), capacity: f.capacity), rules: StabilityRules())
        #expect(r3.decisions.isEmpty)
        #expect(g.reservations[key(3)] == nil)
    }

    @Test func lagMemberChoice() throws {
        // Two switches joined by a two-member LAG; both elephants on member 1.
        let sw = [Switch(name: "s1", dpid: 1, role: .leaf), Switch(name: "s2", dpid: 2, role: .leaf)]
        let links = [Link(a: .port(PortRef(SwitchID(0), 3)), b: .port(PortRef(SwitchID(1), 3)), capacity: 1_000_000_000),
                     Link(a: .port(PortRef(SwitchID(0), 4)), b: .port(PortRef(SwitchID(1), 4)), capacity: 1_000_000_000)]
        var hosts: [Host] = []
        for (i, (s, p)) in [(0, 1), (0, 2), (1, 1), (1, 2)].enumerated() {
            hosts.append(Host(name: "h\(i + 1)", ipv4: IPv4Address(10, 0, 0, UInt8(i + 1)), mac: MACAddress(UInt64(i + 1)),
                              attachment: PortRef(SwitchID(s), UInt32(p)), capacity: 1_000_000_000))
        }
        let t = try Topology(name: "lag", switches: sw, links: links, hosts: hosts)
        let groups = t.lagGroups
        #expect(groups.count == 2) // one per direction
        let g = try #require(groups.first { $0.switchID == SwitchID(0) })
        #expect(g.members.count == 2)
        let flows = [ElephantFlow.lag(key: key(1), src: HostID(0), dst: HostID(2), rate: 5e8, demand: 1e9, member: g.members[0], group: g),
                     ElephantFlow.lag(key: key(2), src: HostID(1), dst: HostID(3), rate: 5e8, demand: 1e9, member: g.members[0], group: g)]
        var load = [Double](repeating: 0, count: t.links.count * 2)
        load[g.members[0].index] = 1e9
        let cap = (0..<load.count).map { Double(t.capacity(of: DirectedLinkID($0))) }
        var s = TuskSelector()
        let r = s.select(SelectionInput(time: 1, flows: flows, load: load, capacity: cap), rules: StabilityRules())
        #expect(r.decisions.count == 1)
        #expect(r.decisions.first?.to == Path([g.members[1]]))
    }
}

@Suite struct StabilityTests {
    @Test func minimumGain() {
        // Spine 1 slightly busier than spine 2 (5 % of a link): below the 10 % minimum, no move.
        let f = SmallFabric()
        let e = f.elephant(1, "h1", "h3", on: 0, rate: 5e7, demand: 5e7)
        let hot = f.paths("h1", "h3")[0].links[1], other = f.paths("h1", "h3")[1].links[1]
        let input = SelectionInput(time: 1, flows: [e], load: f.load([e], extra: [(hot, 2e7), (other, 1.5e7)]), capacity: f.capacity)
        var s = TuskSelector()
        let r = s.select(input, rules: StabilityRules(minGain: 0.1, hotThreshold: 0))
        #expect(r.decisions.isEmpty)
        #expect(r.skipped.map(\.reason) == [.smallGain])
        var s2 = TuskSelector()
        #expect(s2.select(input, rules: StabilityRules(minGain: 0.01, hotThreshold: 0)).decisions.count == 1)
        // With the default hot threshold (100 %) a path at 70 % is left alone: the flow's demand is met.
        var s3 = TuskSelector()
        #expect(s3.select(input, rules: StabilityRules(minGain: 0.01)).decisions.isEmpty)
    }

    @Test func moveCap() {
        // Leaf-spine with four spines: four elephants on spine 1 from four senders; three would move,
        // the cap allows two.
        let t = try! Topology.leafSpine(leaves: 2, spines: 4, hostsPerLeaf: 4)
        let cap = (0..<(t.links.count * 2)).map { Double(t.capacity(of: DirectedLinkID($0))) }
        var load = [Double](repeating: 0, count: cap.count)
        var flows: [ElephantFlow] = []
        for i in 1...4 {
            let ps = t.equalCostPaths(from: t.hostID(named: "h\(i)")!, to: t.hostID(named: "h\(i + 4)")!)
            flows.append(ElephantFlow(key: key(i), src: t.hostID(named: "h\(i)")!, dst: t.hostID(named: "h\(i + 4)")!,
                                      rate: 2.5e7, demand: 1e8, current: ps[0], candidates: ps))
            for l in ps[0].links { load[l.index] += 2.5e7 }
        }
        var s = TuskSelector()
        let r = s.select(SelectionInput(time: 1, flows: flows, load: load, capacity: cap), rules: StabilityRules(maxMoves: 2))
        #expect(r.decisions.count == 2)
        #expect(Set(r.decisions.map(\.to)).count == 2) // onto two different spines
        #expect(!r.skipped.isEmpty && r.skipped.allSatisfy { $0.reason == .moveCap })
        var s2 = TuskSelector()
        #expect(s2.select(SelectionInput(time: 1, flows: flows, load: load, capacity: cap), rules: StabilityRules()).decisions.count == 3)
    }

    @Test func holdTime() {
        var st = StabilityState(smoothing: 1, holdTime: 5)
        #expect(!st.isHeld(key(1), at: 0))
        st.recordMove(key(1), at: 10)
        #expect(st.isHeld(key(1), at: 14.9))
        #expect(!st.isHeld(key(1), at: 15))
        #expect(st.totalMoves == 1)
        // A held flow is not movable: the selector leaves it, and moves the other one instead.
        let f = SmallFabric()
        var a = f.elephant(1, "h1", "h3", on: 0)
        a.movable = !st.isHeld(key(1), at: 12)
        let b = f.elephant(2, "h2", "h4", on: 0)
        var s = TuskSelector()
        let r = s.select(SelectionInput(time: 12, flows: [a, b], load: f.load([a, b]), capacity: f.capacity), rules: StabilityRules())
        #expect(r.decisions.map(\.key) == [key(2)])
    }

    @Test func smoothing() {
        var st = StabilityState(smoothing: 0.5, holdTime: 0)
        var l = [100.0, 0]
        st.smooth(links: &l)
        #expect(l == [100, 0])
        l = [0, 100]
        st.smooth(links: &l)
        #expect(l == [50, 50])
        #expect(st.smooth(rates: [(key(1), 10)]) == [10])
        #expect(st.smooth(rates: [(key(1), 20)]) == [15])
    }

    /// Rates smoothed in place give what a table rebuilt every round gives (flows forgotten after a
    /// round unseen, keys listed twice smoothed from the same prior), over rounds in which flows
    /// come, go, come back and are listed twice, with enough of them gone to purge the table.
    @Test func ratesSmoothedInPlaceAsRebuilt() {
        var st = StabilityState(smoothing: 0.3, holdTime: 0)
        var reference: [FlowKey: Double] = [:]
        var rng = SeededGenerator(seed: 23)
        for round in 0..<60 {
            // A shifting window of flows: thousands gone at once now and then.
            let base = (round % 30) / 10 * 3_000
            var rates: [(FlowKey, Double)] = []
            for i in base..<(base + 2_500) where Int.random(in: 0..<10, using: &rng) > 0 {
                rates.append((key(i), Double.random(in: 0..<1e9, using: &rng)))
            }
            for _ in 0..<20 { rates.append(rates[Int.random(in: 0..<rates.count, using: &rng)]) }
            var next: [FlowKey: Double] = [:], want: [Double] = []
            for (k, r) in rates {
                let v = reference[k].map { $0 + 0.3 * (r - $0) } ?? r
                next[k] = v
                want.append(v)
            }
            reference = next
            #expect(st.smooth(rates: rates) == want, "round \(round)")
        }
    }
}

@Suite struct ProgrammingTests {
    let t = try! Topology.fatTree(k: 4)

    @Test func entriesOnlyWhereThePathHasAChoice() throws {
        var p = FabricProgrammer(topology: t, config: ProgrammingConfig(budgetPerSwitch: 10, priority: 40000, idleTimeout: 5))
        let src = HostID(0), dst = HostID(15) // pod 0 to pod 3
        let paths = t.equalCostPaths(from: src, to: dst)
        #expect(paths.count == 4)
        let es = p.entries(for: key(1), path: paths[3], dst: dst)
        // Edge (choice of aggregation) and aggregation (choice of core); the way down has no choice.
        #expect(es.map { t[$0.switchID].role } == [.edge, .aggregation])
        let plan = p.program([Pin(key: key(1), dst: dst, path: paths[3], demand: 1e9)])
        #expect(plan.changes.count == 2)
        #expect(plan.changes.allSatisfy { if case .add = $0 { true } else { false } })
        #expect(plan.pinned.map(\.key) == [key(1)])
        // Moving to another path through the same edge switch: modify there, and so on.
        let plan2 = p.program([Pin(key: key(1), dst: dst, path: paths[2], demand: 1e9)])
        #expect(!plan2.changes.isEmpty)
        #expect(plan2.changes.contains { if case .modify = $0 { true } else { false } } || plan2.changes.contains { if case .delete = $0 { true } else { false } })
        // Nothing desired: everything deleted, the flow unpinned.
        let plan3 = p.program([])
        #expect(plan3.unpinned == [key(1)])
        #expect(plan3.changes.allSatisfy { if case .delete = $0 { true } else { false } })
        #expect(p.entriesPerSwitch.allSatisfy { $0 == 0 })
    }

    @Test func budgetLargestFirst() {
        var p = FabricProgrammer(topology: t, config: ProgrammingConfig(budgetPerSwitch: 1))
        let dst = HostID(15)
        let path = t.equalCostPaths(from: HostID(0), to: dst)[1]
        let path2 = t.equalCostPaths(from: HostID(1), to: dst)[1] // same edge switch
        let plan = p.program([Pin(key: key(1), dst: dst, path: path, demand: 2e8),
                              Pin(key: key(2), dst: dst, path: path2, demand: 9e8)])
        #expect(plan.pinned.map(\.key) == [key(2)])
        #expect(plan.overBudget == [key(1)])
        #expect(p.entriesPerSwitch.max() == 1)
        // A policy priority beats size.
        let plan2 = p.program([Pin(key: key(1), dst: dst, path: path, demand: 2e8, priority: 5),
                               Pin(key: key(2), dst: dst, path: path2, demand: 9e8)])
        #expect(plan2.pinned.map(\.key) == [key(1)])
        #expect(plan2.unpinned == [key(2)])
        // Expiry frees the slot without messages.
        p.expire(key(1))
        #expect(p.entriesPerSwitch.allSatisfy { $0 == 0 })
    }

    /// `program` compares only the flows whose entries may have changed. Against a plain diff of
    /// every flow (entries recomputed for each, as `program` once did), over rounds of random moves,
    /// new and dropped pins, demand and priority changes, a tight budget, and table settings that
    /// change under installed entries, the plans and table counts must be the same.
    @Test func planIsTheFullDiff() {
        var p = FabricProgrammer(topology: t, config: ProgrammingConfig(budgetPerSwitch: 6))
        var reference: [FlowKey: (pin: Pin, entries: [ElephantEntry])] = [:]
        var g = SeededGenerator(seed: 11)
        var desired: [FlowKey: Pin] = [:]
        var unchangedFlows = 0
        for round in 0..<120 {
            if round % 17 == 16 {
                p.config.priority = UInt16.random(in: 30000...40000, using: &g)
                p.config.idleTimeout = UInt16.random(in: 3...9, using: &g)
                p.config.cookiePrefix = UInt16.random(in: 1...3, using: &g)
                p.config.budgetPerSwitch = Int.random(in: 3...8, using: &g)
            }
            for _ in 0..<Int.random(in: 0...6, using: &g) {
                let i = Int.random(in: 0..<30, using: &g), src = HostID(i % 16), dst = HostID((i * 7 + 3) % 16)
                guard src != dst else { continue }
                let paths = t.equalCostPaths(from: src, to: dst)
                switch Int.random(in: 0..<4, using: &g) {
                case 0: desired[key(i)] = nil
                case 1: desired[key(i)]?.demand = Double.random(in: 1e8...1e9, using: &g)
                case 2: desired[key(i)]?.priority = Int.random(in: 0...2, using: &g)
                default: desired[key(i)] = Pin(key: key(i), dst: dst, path: paths.randomElement(using: &g)!,
                                               demand: Double.random(in: 1e8...1e9, using: &g))
                }
            }
            let pins = Array(desired.values).shuffled(using: &g)
            let plan = p.program(pins)

            // The reference: every flow's entries made again, every flow compared.
            var expected = ProgrammingPlan()
            let order = pins.sorted { ($0.priority, $0.demand) != ($1.priority, $1.demand)
                ? ($0.priority, $0.demand) > ($1.priority, $1.demand) : $0.key < $1.key }
            var count = [Int](repeating: 0, count: t.switches.count)
            var next: [FlowKey: (pin: Pin, entries: [ElephantEntry])] = [:]
            for pin in order where next[pin.key] == nil {
                let es = p.entries(for: pin.key, path: pin.path, dst: pin.dst)
                guard es.allSatisfy({ count[$0.switchID.index] < p.config.budgetPerSwitch }) else {
                    expected.overBudget.append(pin.key)
                    continue
                }
                for e in es { count[e.switchID.index] += 1 }
                next[pin.key] = (pin, es)
            }
            for k in Set(reference.keys).union(next.keys).sorted() {
                let old = reference[k], new = next[k]
                let o = Dictionary((old?.entries ?? []).map { ($0.switchID, $0) }, uniquingKeysWith: { a, _ in a })
                let n = Dictionary((new?.entries ?? []).map { ($0.switchID, $0) }, uniquingKeysWith: { a, _ in a })
                if old != nil, new != nil, old!.entries == new!.entries { unchangedFlows += 1 }
                for s in Set(o.keys).union(n.keys).sorted() {
                    switch (o[s], n[s]) {
                    case (nil, let x?): expected.changes.append(.add(x))
                    case (let x?, nil): expected.changes.append(.delete(x))
                    case (let x?, let y?) where x.outPort != y.outPort: expected.changes.append(.modify(y))
                    default: break
                    }
                }
                if let new, old?.pin.path != new.pin.path { expected.pinned.append((k, new.pin.path)) }
                if old != nil, new == nil { expected.unpinned.append(k) }
            }
            expected.changes.sort { ($0.entry.switchID, $0.entry.key) < ($1.entry.switchID, $1.entry.key) }
            reference = next

            #expect(plan.changes == expected.changes, "round \(round)")
            #expect(plan.pinned.map(\.key) == expected.pinned.map(\.key) && plan.pinned.map(\.path) == expected.pinned.map(\.path), "round \(round)")
            #expect(plan.unpinned == expected.unpinned, "round \(round)")
            #expect(plan.overBudget == expected.overBudget, "round \(round)")
            #expect(p.entriesPerSwitch == count, "round \(round)")
            #expect(p.installed.mapValues(\.entries) == reference.mapValues(\.entries), "round \(round)")
        }
        // The rounds kept most flows as they were (the case `program` no longer recomputes).
        #expect(unchangedFlows > 1_000)
    }

    /// `update` (a round that keeps every pin, refreshes some demands and moves or adds a few) gives
    /// the plan and the pins that `program` gives for every installed pin with the demands applied
    /// and the moved pins on top, or declines and changes nothing. Two programmers in step over
    /// rounds of random moves, new pins, demand changes (of pinned flows and others), expiries,
    /// adoptions, and table settings and budgets that change; the budget is tight enough that
    /// `update` must decline in some rounds.
    @Test func updateIsProgramOfEveryPin() {
        let config = ProgrammingConfig(budgetPerSwitch: 7)
        var a = FabricProgrammer(topology: t, config: config), b = a
        var g = SeededGenerator(seed: 23)
        var accepted = 0, declined = 0, moves = 0
        for round in 0..<200 {
            if round % 23 == 22 {
                let c = ProgrammingConfig(budgetPerSwitch: Int.random(in: 5...9, using: &g), priority: UInt16.random(in: 30000...40000, using: &g),
                                          idleTimeout: UInt16.random(in: 3...9, using: &g), cookiePrefix: UInt16.random(in: 1...3, using: &g))
                a.config = c
                b.config = c
            }
            if round % 13 == 5, let k = a.installed.keys.min() {
                a.expire(k)
                b.expire(k)
            }
            if round % 19 == 7 {
                let i = 40 + round, src = HostID(i % 16), dst = HostID((i * 5 + 1) % 16)
                if src != dst {
                    let pin = Pin(key: key(i), dst: dst, path: t.equalCostPaths(from: src, to: dst)[0], demand: 3e8)
                    #expect(a.adopt(pin) == b.adopt(pin))
                }
            }
            var demands: [(key: FlowKey, demand: Double)] = []
            for _ in 0..<Int.random(in: 0...4, using: &g) {
                demands.append((key(Int.random(in: 0..<40, using: &g)), Double.random(in: 1e8...1e9, using: &g)))
            }
            var pins: [FlowKey: Pin] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &g) {
                let i = Int.random(in: 0..<40, using: &g), src = HostID(i % 16), dst = HostID((i * 7 + 3) % 16)
                guard src != dst else { continue }
                pins[key(i)] = Pin(key: key(i), dst: dst, path: t.equalCostPaths(from: src, to: dst).randomElement(using: &g)!,
                                   demand: Double.random(in: 1e8...1e9, using: &g), priority: Int.random(in: 0...1, using: &g))
            }
            // What `program` is given: every installed pin, the last demand given for its key, then the moved pins.
            var desired = b.installed.mapValues(\.pin)
            for (k, d) in demands where desired[k] != nil { desired[k]!.demand = d }
            for (k, p) in pins { desired[k] = p }
            let expected = b.program(Array(desired.values).shuffled(using: &g))
            let before = a.installed.mapValues(\.pin), counts = a.entriesPerSwitch
            let plan: ProgrammingPlan
            if let p = a.update(demands: demands, pins: Array(pins.values)) {
                plan = p
                accepted += 1
                moves += p.pinned.count
            } else {
                // Declined: nothing changed.
                #expect(a.installed.mapValues(\.pin) == before && a.entriesPerSwitch == counts, "round \(round)")
                plan = a.program(Array(desired.values))
                declined += 1
            }
            #expect(plan.changes == expected.changes, "round \(round)")
            #expect(plan.pinned.map(\.key) == expected.pinned.map(\.key) && plan.pinned.map(\.path) == expected.pinned.map(\.path), "round \(round)")
            #expect(plan.unpinned == expected.unpinned && plan.overBudget == expected.overBudget, "round \(round)")
            #expect(a.installed.mapValues(\.pin) == b.installed.mapValues(\.pin), "round \(round)")
            #expect(a.installed.mapValues(\.entries) == b.installed.mapValues(\.entries), "round \(round)")
            #expect(a.entriesPerSwitch == b.entriesPerSwitch && a.peakEntriesPerSwitch == b.peakEntriesPerSwitch, "round \(round)")
        }
        // Both ways were taken, and `update` moved flows.
        #expect(accepted > 50 && declined > 10 && moves > 50, "accepted \(accepted), declined \(declined), moves \(moves)")
    }

    @Test func flowMod() {
        let p = FabricProgrammer(topology: t, config: ProgrammingConfig(budgetPerSwitch: 10, priority: 40000, idleTimeout: 7, cookiePrefix: 0x5453))
        let dst = HostID(15)
        let e = p.entries(for: key(1), path: t.equalCostPaths(from: HostID(0), to: dst)[0], dst: dst)[0]
        let fm = e.flowMod()
        #expect(fm.command == .add)
        #expect(fm.priority == 40000)
        #expect(fm.idleTimeout == 7)
        #expect(fm.cookie >> 48 == 0x5453)
        #expect(fm.cookie == p.cookie(for: key(1)))
        #expect(p.cookie(for: key(1)) != p.cookie(for: key(2)))
        #expect(fm.flags.contains(.sendFlowRemoved))
        #expect(fm.match.fields.first == .ethType(0x0800))
        #expect(fm.match.fields.contains(.tcpDst(5201)))
        #expect(fm.instructions == [.applyActions([.output(port: PortNumber(e.outPort))])])
        let del = EntryChange.delete(e).flowMod
        #expect(del.command == .deleteStrict)
        #expect(del.instructions.isEmpty)
    }
}
