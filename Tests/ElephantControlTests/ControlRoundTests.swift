// The control round's daemon-side inputs, on a leaf-spine 2x2 (the e2e lab's topology): real sFlow
// datagrams (the project's encoder) through the real analytics, then rounds, moves, a port going
// down, refused placements, FLOW_REMOVED, adoption after a restart and a policy change.
import ElephantControl
import FabricProgramming
import FlowAnalytics
import Foundation
import Packets
import PathSelection
import SFlow
import Testing
import Topology

/// Samples of flows crossing leaf l1 (dpid 11), as its sFlow agent would send them: input the host
/// port, output the spine port the flow hashes to.
struct LeafAgent {
    var rng = SeededGenerator(seed: 7)
    var agent = IPAddress.v4(IPv4Address(192, 0, 2, 11))
    let samplingRate: UInt32 = 100
    var sequence: UInt32 = 0
    /// Per data source (sFlow v5: each source numbers its own samples and keeps its own pool).
    var sampleSequence: [UInt32: UInt32] = [:]
    var pool: [UInt32: UInt32] = [:]

    mutating func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }

    /// Feeds `seconds` of the flows (key, bps, input port, output port) into `a`, ending at `end`.
    mutating func feed(_ a: inout FlowAnalytics, _ flows: [(FlowKey, Double, UInt32, UInt32)], from start: Double, to end: Double) {
        var t = start
        let frame = 1500
        let total = flows.reduce(0) { $0 + $1.1 } / Double(frame * 8) / Double(samplingRate)
        while true {
            t += -log(1 - uniform()) / total
            if t > end { break }
            // Pick a flow in proportion to its rate.
            var x = uniform() * flows.reduce(0) { $0 + $1.1 }
            var f = flows[0]
            for g in flows { if x < g.1 { f = g; break }; x -= g.1 }
            sequence += 1
            sampleSequence[f.2, default: 0] += 1
            pool[f.2, default: 0] &+= samplingRate
            guard case .v4(let s) = f.0.src, case .v4(let d) = f.0.dst else { continue }
            let header = FrameBuilder.sampledIPv4Header(srcMac: MACAddress(0x0200_0000_0001), dstMac: MACAddress(0x0200_0000_0003),
                                                        src: s, dst: d, proto: f.0.proto, srcPort: f.0.sport, dstPort: f.0.dport,
                                                        ipLength: frame - 18)
            let sample = FlowSample(sequence: sampleSequence[f.2, default: 0], source: DataSource(type: 0, index: f.2),
                                    samplingRate: samplingRate, samplePool: pool[f.2, default: 0], drops: 0, input: .ifIndex(f.2), output: .ifIndex(f.3),
                                    records: [.rawPacketHeader(RawPacketHeader(headerProtocol: 1, frameLength: UInt32(frame), stripped: 4, header: header))])
            let bytes = SFlowEncoder.encode(SFlowDatagram(agent: agent, subAgentId: 0, sequence: sequence, uptime: UInt32(t * 1000),
                                                          samples: [.flow(sample)]))
            bytes.withUnsafeBytes { _ = a.ingest(datagram: $0, at: t) }
        }
    }
}

@Suite struct ControlRoundTests {
    let topo = try! Topology(yaml: """
        name: leaf-spine-2x2
        switches:
          - {name: s1, dpid: 1, role: spine}
          - {name: s2, dpid: 2, role: spine}
          - {name: l1, dpid: 11, role: leaf}
          - {name: l2, dpid: 12, role: leaf}
        links:
          - {a: "l1:3", b: "s1:1", capacity: 100M}
          - {a: "l1:4", b: "s2:1", capacity: 100M}
          - {a: "l2:3", b: "s1:2", capacity: 100M}
          - {a: "l2:4", b: "s2:2", capacity: 100M}
        hosts:
          - {name: h1, ipv4: 10.0.0.1/24, mac: "02:00:00:00:00:01", switch: "l1:1", capacity: 100M}
          - {name: h2, ipv4: 10.0.0.2/24, mac: "02:00:00:00:00:02", switch: "l1:2", capacity: 100M}
          - {name: h3, ipv4: 10.0.0.3/24, mac: "02:00:00:00:00:03", switch: "l2:1", capacity: 100M}
          - {name: h4, ipv4: 10.0.0.4/24, mac: "02:00:00:00:00:04", switch: "l2:2", capacity: 100M}
        """)
    static let a = FlowKey(src: .v4(IPv4Address(10, 0, 0, 1)), dst: .v4(IPv4Address(10, 0, 0, 3)), proto: 6, sport: 40001, dport: 5201)
    static let b = FlowKey(src: .v4(IPv4Address(10, 0, 0, 2)), dst: .v4(IPv4Address(10, 0, 0, 4)), proto: 6, sport: 40002, dport: 5201)

    /// Analytics that know l1's ports (as a 1004 record would tell them) and the topology's speeds.
    func analytics(_ agent: LeafAgent) -> FlowAnalytics {
        var a = FlowAnalytics(config: Policy().analyticsConfig)
        a.apply(topology: topo)
        for p in UInt32(1)...4 {
            a.setPortIdentity(AgentPort(agent: agent.agent, ifIndex: p), PortIdentity(datapathId: 11, portNo: p, name: "l1-eth\(p)"))
        }
        return a
    }

    /// Two 80 Mbit/s elephants from l1's hosts, both hashed onto spine s1 (port 3): one must move to s2.
    func collided() -> (ElephantControl, FlowAnalytics, LeafAgent, RoundResult) {
        var agent = LeafAgent()
        var a = analytics(agent)
        agent.feed(&a, [(Self.a, 80e6, 1, 3), (Self.b, 80e6, 2, 3)], from: 0, to: 3)
        _ = a.evaluate(at: 3)
        var c = ElephantControl(fabric: ControlFabric(topology: topo), policy: Policy(), seed: 1)
        let r = c.round(a, at: 3)
        return (c, a, agent, r)
    }

    /// No moves on stale data: the same collision, but the samples stopped 3.5 s before the round (the
    /// switches' sFlow went away). The analytics still hold both flows above the threshold (their
    /// estimates only decay), yet the round leaves them where they are. With fresh samples up to the
    /// same time, the round moves one (the case is not empty).
    @Test func noMoveOnStaleData() throws {
        var agent = LeafAgent()
        var stale = analytics(agent)
        agent.feed(&stale, [(Self.a, 80e6, 1, 3), (Self.b, 80e6, 2, 3)], from: 0, to: 3)
        _ = stale.evaluate(at: 3)
        let t = 6.5
        _ = stale.evaluate(at: t)
        let still = stale.elephants(at: t).map(\.key)
        #expect(Set(still) == [Self.a, Self.b], "both still elephants by their decaying estimates: \(still)")
        var c = ElephantControl(fabric: ControlFabric(topology: topo), policy: Policy(), seed: 1)
        let r = c.round(stale, at: t)
        #expect(r.decisions.isEmpty, "moved on stale data: \(r.decisions.map(\.decision.key))")
        #expect(r.plan.changes.isEmpty && r.plan.pinned.isEmpty)

        var fresh = analytics(LeafAgent())
        var agent2 = LeafAgent()
        agent2.feed(&fresh, [(Self.a, 80e6, 1, 3), (Self.b, 80e6, 2, 3)], from: 0, to: t)
        _ = fresh.evaluate(at: t)
        var c2 = ElephantControl(fabric: ControlFabric(topology: topo), policy: Policy(), seed: 1)
        #expect(c2.round(fresh, at: t).decisions.count == 1)
    }

    /// Path inference learns a port's link once the port is known (not before: an ifIndex means
    /// nothing until a counter sample names it), and keeps it by the analytics' own port slot, which
    /// means nothing to another analytics: a round on a new one, whose slots come in another order,
    /// still infers the paths the samples show.
    @Test func pathInferenceLearnsPortsOnceKnownAndPerAnalytics() throws {
        var agent = LeafAgent()
        var a = FlowAnalytics(config: Policy().analyticsConfig)
        a.apply(topology: topo)
        // The host ports are known (their stated speed makes the flows elephants), the spine ports not yet.
        for p in UInt32(1)...2 {
            a.setPortIdentity(AgentPort(agent: agent.agent, ifIndex: p), PortIdentity(datapathId: 11, portNo: p, name: "l1-eth\(p)"))
        }
        agent.feed(&a, [(Self.a, 80e6, 1, 3), (Self.b, 80e6, 2, 3)], from: 0, to: 3)
        _ = a.evaluate(at: 3)
        var c = ElephantControl(fabric: ControlFabric(topology: topo), policy: Policy(), seed: 1)
        let unknown = c.round(a, at: 3)
        #expect(unknown.elephants.count == 2 && unknown.elephants.allSatisfy { $0.current == nil && !$0.pinned })
        for p in UInt32(3)...4 {
            a.setPortIdentity(AgentPort(agent: agent.agent, ifIndex: p), PortIdentity(datapathId: 11, portNo: p, name: "l1-eth\(p)"))
        }
        agent.feed(&a, [(Self.a, 80e6, 1, 3), (Self.b, 80e6, 2, 3)], from: 3, to: 4)
        _ = a.evaluate(at: 4)
        let known = c.round(a, at: 4)
        let fabric = c.fabric
        func viaS1(_ r: RoundResult, _ k: FlowKey) -> Bool {
            r.elephants.first { $0.key == k }?.current.map { fabric.nodeNames(of: $0).contains("s1") } == true
        }
        #expect(viaS1(known, Self.a) && viaS1(known, Self.b), "both inferred on s1 once l1's ports are known")
        let moved = try #require(known.decisions.first?.decision.key)
        let stays = moved == Self.a ? Self.b : Self.a

        // Another analytics, whose ports get their slots in another order: spine port 4 has the slot
        // spine port 3 had. The flows now leave by port 4 (to s2): the one not pinned is inferred on
        // s2 (what `a`'s slot would have said, s1, is wrong here).
        var b = FlowAnalytics(config: Policy().analyticsConfig)
        b.apply(topology: topo)
        for p: UInt32 in [2, 1, 4, 3] {
            b.setPortIdentity(AgentPort(agent: agent.agent, ifIndex: p), PortIdentity(datapathId: 11, portNo: p, name: "l1-eth\(p)"))
        }
        #expect(b.portSlot(dpid: 11, port: 4) == a.portSlot(dpid: 11, port: 3))
        agent.feed(&b, [(Self.a, 80e6, 1, 4), (Self.b, 80e6, 2, 4)], from: 5, to: 8)
        _ = b.evaluate(at: 8)
        let again = c.round(b, at: 8)
        let stayed = try #require(again.elephants.first { $0.key == stays }?.current)
        #expect(fabric.nodeNames(of: stayed).contains("s2"), "inferred from the new analytics' slots: \(fabric.nodeNames(of: stayed))")
        #expect(again.elephants.first { $0.key == moved }?.pinned == true)

        // The same analytics, with l1's spine ports renumbered: ifIndex 4 is now port 3 (to s1), and
        // 3 is port 4. A new flow leaving by ifIndex 4 is inferred on s1: the slot's link learnt
        // before (s2) gives way to the port's new one.
        for (ifIndex, port): (UInt32, UInt32) in [(4, 3), (3, 4)] {
            b.setPortIdentity(AgentPort(agent: agent.agent, ifIndex: ifIndex), PortIdentity(datapathId: 11, portNo: port, name: "l1-eth\(port)"))
        }
        let c3 = FlowKey(src: .v4(IPv4Address(10, 0, 0, 2)), dst: .v4(IPv4Address(10, 0, 0, 3)), proto: 6, sport: 40003, dport: 5201)
        agent.feed(&b, [(c3, 80e6, 2, 4)], from: 8, to: 10)
        _ = b.evaluate(at: 10)
        let renumbered = c.round(b, at: 10)
        let inferred = try #require(renumbered.elephants.first { $0.key == c3 }?.current)
        #expect(fabric.nodeNames(of: inferred).contains("s1"), "inferred by the port's old link: \(fabric.nodeNames(of: inferred))")
    }

    /// A fabric with many switches has its ports' analytics slots looked up on two threads, half of
    /// the switches each. A k=8 fat-tree (80 switches), its ports given slots in a shuffled order and
    /// a few of them renamed (the slot a port looks up then names another port), and flows sampled
    /// at three edge switches: rounds with the lookups on one thread and on two give the same loads,
    /// the same inferred paths and the same moves.
    @Test func portsLookedUpOnTwoThreadsGiveTheSameRound() throws {
        let t = try Topology.fatTree(k: 8)
        var a = FlowAnalytics(config: Policy().analyticsConfig)
        a.apply(topology: t)
        func agentIP(_ s: SwitchID) -> IPAddress { .v4(IPv4Address(192, 0, 2, UInt8(s.index + 1))) }
        var named: [(AgentPort, PortIdentity)] = []
        for s in t.switchIDs {
            for p in t.ports(of: s) {
                named.append((AgentPort(agent: agentIP(s), ifIndex: p.number), PortIdentity(datapathId: t[s].dpid, portNo: p.number, name: "\(t[s].name)-eth\(p.number)")))
            }
        }
        var rng = SeededGenerator(seed: 11)
        named.shuffle(using: &rng)
        for (port, identity) in named { a.setPortIdentity(port, identity) }
        // Switches 30 to 39: ifIndex 1 and 2 swap their port numbers.
        for s in t.switchIDs[30..<40] {
            for (ifIndex, port): (UInt32, UInt32) in [(1, 2), (2, 1)] {
                a.setPortIdentity(AgentPort(agent: agentIP(s), ifIndex: ifIndex), PortIdentity(datapathId: t[s].dpid, portNo: port, name: "x"))
            }
        }
        // Three edge switches (pods 0, 1 and 6: both halves of the switches), each host sending to a host on the next edge switch of
        // its pod, all hashed onto the first uplink (port 5): the uplink gives the whole path.
        let half = UInt32(4)
        for (e, dst) in [(0, 4), (8, 20), (48, 100)] {
            let s = SwitchID(e)
            var agent = LeafAgent(agent: agentIP(s))
            var flows: [(FlowKey, Double, UInt32, UInt32)] = []
            for (n, h) in t.hosts.enumerated() where h.attachment.switchID == s {
                let key = FlowKey(src: .v4(h.ipv4), dst: .v4(t.hosts[dst + flows.count].ipv4), proto: 6, sport: UInt16(41000 + n), dport: 5201)
                flows.append((key, 400e6, h.attachment.port, half + 1))
            }
            agent.feed(&a, flows, from: 0, to: 3)
        }
        _ = a.evaluate(at: 3)
        var one = ElephantControl(fabric: ControlFabric(topology: t), policy: Policy(), seed: 1)
        var two = ElephantControl(fabric: ControlFabric(topology: t), policy: Policy(), seed: 1)
        one.parallelPortsFrom = .max
        #expect(two.parallelPortsFrom <= t.switchIDs.count)
        let r1 = one.round(a, at: 3), r2 = two.round(a, at: 3)
        #expect(r1.load.count == r2.load.count && r1.load.indices.filter { r1.load[$0] != r2.load[$0] } == [], "links whose loads differ")
        #expect(r1.load.contains { $0 > 0 }, "the sampled ports carry load")
        #expect(r1.elephants.count == 12)
        #expect(r1.elephants.map(\.current) == r2.elephants.map(\.current))
        #expect(r1.elephants.allSatisfy { $0.current != nil }, "every elephant's path inferred from its ports")
        #expect(r1.decisions.map(\.decision.to) == r2.decisions.map(\.decision.to))
        #expect(!r1.decisions.isEmpty, "four elephants on one uplink: some move")
    }

    @Test func twoElephantsOnOneSpineAreSpread() throws {
        let (c, _, _, r) = collided()
        #expect(r.elephants.count == 2)
        #expect(r.elephants.allSatisfy { $0.current != nil }, "paths inferred from the sampled ports")
        #expect(r.decisions.count == 1)
        // The elephants are new: the round's rearranging phases ran (the settle window is open).
        #expect(r.rearranging == .ran)
        let d = try #require(r.decisions.first)
        let fabric = c.fabric
        #expect(fabric.nodeNames(of: d.decision.to).contains("s2"))
        #expect(fabric.nodeNames(of: try #require(d.decision.from)).contains("s1"))
        // One entry, on l1 (the only switch of the path with a choice), out of port 4 (to s2).
        let changes = r.changesByDatapath
        #expect(changes.count == 1)
        #expect(changes.first?.dpid == 11)
        guard case .add(let e)? = changes.first?.changes.first else { Issue.record("no add: \(changes)"); return }
        #expect(e.outPort == 4)
        #expect(e.cookie >> 48 == 0x5453)
        // The link it left is predicted to drop, the link it joined to rise.
        let l1s1 = try #require(c.directedLink(dpid: 11, port: 3))
        let change = try #require(d.links.first { $0.link == l1s1 })
        #expect(change.before > 1.2 && change.after < 1.0)
        #expect(r.peakAfter < r.peakBefore)
    }

    @Test func aPortGoingDownMovesItsElephantsAtOnceAndNothingLandsOnIt() throws {
        var (c, a, agent, r) = collided()
        let moved = try #require(r.decisions.first).key
        // s2's link to l1 goes down: the moved flow's path is dead, and s1 is its only way left.
        let wentDown = c.portDown(dpid: 11, port: 4)
        #expect(wentDown)
        #expect(c.pinsOnDownLinks == [moved])
        agent.feed(&a, [(Self.a, 80e6, 1, 3), (Self.b, 80e6, 2, 3)], from: 3, to: 3.5)
        _ = a.evaluate(at: 3.5)
        let r2 = c.round(a, at: 3.5)
        #expect(r2.withdrawn == [moved], "back to ECMP: the SELECT group skips the dead port")
        #expect(r2.plan.changes.contains { if case .delete(let e) = $0 { return e.key == moved } else { return false } })
        #expect(c.programmer.installed[moved] == nil)
        let dead = try #require(c.directedLink(dpid: 11, port: 4))
        #expect(!c.programmer.pins.contains { $0.path.links.contains(dead) })
        // Up again: the next rounds may use it once more.
        let cameUp = c.portUp(dpid: 11, port: 4)
        #expect(cameUp)
        #expect(c.downLinks.isEmpty)
    }

    @Test func aRefusedPlacementGoesBackToECMPAndIsRetried() throws {
        var (c, a, agent, r) = collided()
        let k = try #require(r.decisions.first).key
        let leftovers = c.placementFailed(k)
        #expect(leftovers.count == 1 && leftovers.first?.dpid == 11)
        #expect(c.programmer.installed[k] == nil)
        // Not held: the next round may place it again.
        agent.feed(&a, [(Self.a, 80e6, 1, 3), (Self.b, 80e6, 2, 3)], from: 3, to: 4)
        _ = a.evaluate(at: 4)
        let r2 = c.round(a, at: 4)
        #expect(r2.decisions.count == 1, "retried in the next round")
    }

    /// A pin ends in the first round after its flow has been quiet for the idle timeout, not before,
    /// though the rounds in between look no pin up (the analytics dropped no flow, and the oldest
    /// sighting of a pinned flow is recent); and in the next round when the analytics drop its flow
    /// (evicted for a new one), long before the timeout.
    @Test func aPinEndsWhenItsFlowGoesQuietOrIsDropped() throws {
        var (c, a, agent, r) = collided()
        let k = try #require(r.decisions.first).key
        let other = k == Self.a ? Self.b : Self.a
        let otherPort: UInt32 = other == Self.a ? 1 : 2
        let quietSince = try #require(a.lastSeen(k))
        var t = 3.0, goneAt: Double?
        while t < 12 {
            agent.feed(&a, [(other, 80e6, otherPort, 3)], from: t, to: t + 0.5)
            t += 0.5
            _ = a.evaluate(at: t)
            _ = c.round(a, at: t)
            if c.programmer.installed[k] == nil {
                goneAt = t
                break
            }
        }
        let gone = try #require(goneAt, "the pin of a quiet flow never ended")
        let idle = Policy().idleTimeout
        #expect(gone - quietSince > idle && gone - 0.5 - quietSince <= idle, "ended at \(gone), quiet since \(quietSince)")
        #expect(a.lastSeen(k) != nil, "the analytics still track the flow: the pin ended by its own timeout")

        // The analytics hold two flows at most: a third evicts the least recently seen, the pinned one.
        var (c2, a2, agent2, r2) = collided()
        let k2 = try #require(r2.decisions.first).key
        let other2 = k2 == Self.a ? Self.b : Self.a
        a2.config.maxFlows = 2
        agent2.feed(&a2, [(other2, 80e6, other2 == Self.a ? 1 : 2, 3)], from: 3, to: 5)
        _ = a2.evaluate(at: 5)
        _ = c2.round(a2, at: 5)
        #expect(c2.programmer.installed[k2] != nil)
        let third = FlowKey(src: .v4(IPv4Address(10, 0, 0, 2)), dst: .v4(IPv4Address(10, 0, 0, 3)), proto: 17, sport: 4000, dport: 4000)
        agent2.feed(&a2, [(other2, 80e6, other2 == Self.a ? 1 : 2, 3), (third, 80e6, 2, 4)], from: 5, to: 5.5)
        _ = a2.evaluate(at: 5.5)
        #expect(a2.evictions > 0 && a2.lastSeen(k2) == nil, "the pinned flow was not the one evicted")
        _ = c2.round(a2, at: 5.5)
        #expect(c2.programmer.installed[k2] == nil, "the pin of a flow the analytics dropped was kept")
    }

    @Test func flowRemovedEndsThePlacement() throws {
        var (c, _, _, r) = collided()
        let k = try #require(r.decisions.first).key
        #expect(c.programmer.installed[k] != nil)
        c.flowRemoved(k)
        #expect(c.programmer.installed[k] == nil)
        #expect(c.programmer.entriesPerSwitch.allSatisfy { $0 == 0 })
    }

    @Test func entriesHeldAfterARestartAreAdoptedNotRewritten() throws {
        var (c, a, agent, r) = collided()
        let k = try #require(r.decisions.first).key
        let held = c.programmer.installed[k]!.entries.map { (dpid: $0.dpid, outPort: $0.outPort) }
        // A new controller: fresh state, empty analytics; the switches still hold the entry.
        var fresh = ElephantControl(fabric: ControlFabric(topology: topo), policy: Policy(), seed: 1)
        let (adopted, stale) = fresh.adopt([k: held], at: 0)
        #expect(adopted == [k] && stale.isEmpty)
        #expect(fresh.programmer.installed[k]?.pin.path == c.programmer.installed[k]?.pin.path)
        // Its first rounds see no samples yet: the placement is kept, and nothing is sent.
        var empty = FlowAnalytics(config: Policy().analyticsConfig)
        empty.apply(topology: topo)
        let first = fresh.round(empty, at: 1)
        #expect(first.plan.changes.isEmpty, "no flap, no duplicate: \(first.plan.changes)")
        #expect(fresh.programmer.installed[k] != nil)
        // With the flows seen again the placement stays, and the other elephant is not piled onto it.
        agent.feed(&a, [(Self.a, 80e6, 1, 3), (Self.b, 80e6, 2, 3)], from: 3, to: 6)
        _ = a.evaluate(at: 6)
        let again = fresh.round(a, at: 6)
        #expect(!again.plan.changes.contains { $0.entry.key == k && { if case .delete = $0 { true } else { false } }($0) })
        // Entries that describe no path are not adopted.
        let bogus = FlowKey(src: .v4(IPv4Address(10, 0, 0, 1)), dst: .v4(IPv4Address(10, 0, 0, 4)), proto: 6, sport: 1, dport: 2)
        let (none, refused) = fresh.adopt([bogus: [(dpid: 11, outPort: 1)]], at: 6)
        #expect(none.isEmpty && refused == [bogus])
        let (none2, refused2) = fresh.adopt([bogus: [(dpid: 11, outPort: 3), (dpid: 1, outPort: 2)]], at: 6)
        #expect(none2.isEmpty && refused2 == [bogus], "an entry on a switch without a choice is not one Tusk writes")
    }

    @Test func aPolicyThatNoLongerWantsAPlacementDeletesItsEntries() throws {
        var (c, a, agent, r) = collided()
        let k = try #require(r.decisions.first).key
        var p = Policy()
        p.algorithm = .ecmp
        c.update(policy: p)
        agent.feed(&a, [(Self.a, 80e6, 1, 3), (Self.b, 80e6, 2, 3)], from: 3, to: 4)
        _ = a.evaluate(at: 4)
        let r2 = c.round(a, at: 4)
        #expect(r2.decisions.isEmpty)
        #expect(r2.plan.unpinned == [k])
        guard case .delete(let e)? = r2.plan.changes.first else { Issue.record("no delete: \(r2.plan.changes)"); return }
        #expect(e.flowMod().command == .add) // the entry as written...
        #expect(EntryChange.delete(e).flowMod.command == .deleteStrict) // ...is removed by a strict delete
    }

    @Test func decisionRecordsCarryTheFlowThePathsAndTheLinks() throws {
        let (c, _, _, r) = collided()
        let d = try #require(r.decisions.first)
        let line = DecisionRecord(id: 7, time: 12.5, decision: d, status: .installed, switches: [11], firstSampleToBarrier: 1.25).jsonLine(c.fabric)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(obj["id"] as? Int == 7)
        for f in ["src", "dst", "proto", "sport", "dport", "bps", "errorPercent", "from", "to", "reason", "links", "status"] {
            #expect(obj[f] != nil, "field \(f) in \(line)")
        }
        #expect(obj["to"] as? [String] == ["h\(d.key == Self.a ? 1 : 2)", "l1", "s2", "l2", "h\(d.key == Self.a ? 3 : 4)"])
        #expect(obj["status"] as? String == "installed")
        #expect(obj["firstSampleToBarrierSeconds"] as? Double == 1.25)
        let links = try #require(obj["links"] as? [[String: Any]])
        #expect(links.contains { $0["link"] as? String == "l1>s1" })
    }

    @Test func elephantKeyRoundTripsThroughItsMatch() {
        for k in [Self.a, Self.b,
                  FlowKey(src: .v4(IPv4Address(10, 0, 0, 1)), dst: .v4(IPv4Address(10, 0, 0, 3)), proto: 17, sport: 5, dport: 6)] {
            let e = ElephantEntry(switchID: SwitchID(2), dpid: 11, key: k, outPort: 4, cookie: 0x5453_0000_0000_0001, priority: 40000, idleTimeout: 5)
            #expect(FlowKey(elephantMatch: e.flowMod().match) == k)
        }
    }
}

/// The control round's host index answers as a dictionary of the same hosts: every host of a k=16
/// fat-tree and of a leaf-spine with IPv6 addresses, addresses of no host (neighbours of hosts'
/// addresses, the all-ones address), and two hosts with one address (the later one has it).
@Suite struct HostIndexTests {
    @Test func answersAsADictionary() throws {
        var hosts = try Topology.leafSpine(leaves: 3, spines: 2, hostsPerLeaf: 4).hosts
        let v6 = hosts.indices.map { i in IPv6Address("2001:db8::\(i + 1)")! }
        for i in hosts.indices { hosts[i].ipv6 = v6[i] }
        // A later host with the address of an earlier one.
        var twin = hosts[2]
        twin.ipv4 = hosts[0].ipv4
        hosts.append(twin)
        for list in [try Topology.fatTree(k: 16).hosts, hosts] {
            var expected: [IPAddress: HostID] = [:]
            for (i, h) in list.enumerated() {
                expected[.v4(h.ipv4)] = HostID(i)
                if let b = h.ipv6 { expected[.v6(b)] = HostID(i) }
            }
            let index = HostIndex(list)
            var asked = 0
            for h in list {
                for d: Int64 in [-2, -1, 0, 1, 2, 256, 65536] {
                    let a = IPAddress.v4(IPv4Address(UInt32(truncatingIfNeeded: Int64(h.ipv4.value) + d)))
                    #expect(index[a] == expected[a], "\(a)")
                    asked += 1
                }
                if let b = h.ipv6 { #expect(index[.v6(b)] == expected[.v6(b)]) }
            }
            #expect(index[.v4(IPv4Address(UInt32.max))] == nil)
            #expect(index[.v6(IPv6Address("2001:db8::ffff")!)] == nil)
            #expect(asked >= 7 * list.count)
        }
        #expect(HostIndex(hosts)[.v4(hosts[0].ipv4)] == HostID(hosts.count - 1))
    }
}
