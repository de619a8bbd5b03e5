// Reconciliation: the diff by cookie and group id, and the machine reading the switch's tables,
// applying the plan in barrier-separated batches and reporting when all are confirmed.
import Controller
import FabricProgramming
import NIOCore
import OpenFlow
import Packets
import Testing
import Topology

func leafSpine() throws -> Topology {
    try Topology(yaml: """
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
}

/// What a switch would report for a desired entry.
func stats(_ f: DesiredFlow, reorder: Bool = false) -> FlowStats {
    FlowStats(tableID: f.tableID, durationSec: 5, durationNsec: 0, priority: f.priority, idleTimeout: f.idleTimeout,
              hardTimeout: f.hardTimeout, flags: [], cookie: f.cookie.rawValue, packetCount: 9, byteCount: 900,
              match: OpenFlowMatch(reorder ? f.match.fields.reversed() : f.match.fields), instructions: f.instructions)
}

@Suite("Reconciliation")
struct ReconciliationTests {
    @Test("missing entries are added, stale deleted, matching untouched, foreign left alone")
    func diff() throws {
        let table = ProactiveFabric(topology: try leafSpine()).desiredState()[11]!
        let flows = table.flows.values.sorted { $0.cookie < $1.cookie }
        #expect(flows.count == 8)
        #expect(table.groups.count == 1)
        let group = table.groups.values.first!

        var reported: [FlowStats] = []
        // Half present (one with its OXM fields in another order), one present but pointing elsewhere.
        for f in flows[0..<4] { reported.append(stats(f, reorder: f.cookie.kind == .arp)) }
        var wrong = stats(flows[4])
        wrong.instructions = [.applyActions([.output(port: 9, maxLength: 0)])]
        reported.append(wrong)
        // A stale fabric entry (a host that no longer exists) and someone else's entry.
        let stale = FlowStats(tableID: 0, durationSec: 1, durationNsec: 0, priority: 0x8000, idleTimeout: 0, hardTimeout: 0,
                              flags: [], cookie: FabricCookie.fabric(.ipv4, id: 99).rawValue, packetCount: 0, byteCount: 0,
                              match: [.ethType(0x0800), .ipv4Dst(IPv4Address(10, 0, 0, 99))], instructions: [])
        let foreign = FlowStats(tableID: 0, durationSec: 1, durationNsec: 0, priority: 1, idleTimeout: 0, hardTimeout: 0,
                                flags: [], cookie: 0x7e57, packetCount: 0, byteCount: 0, match: [], instructions: [])
        reported += [stale, foreign]
        let staleGroup = GroupDescription(type: .select, groupID: GroupID(FabricGroupID.toward(switchIndex: 40)), buckets: [])
        let foreignGroup = GroupDescription(type: .all, groupID: 5, buckets: [])

        let plan = ReconciliationPlan(desired: table, flows: reported,
                                      groups: [GroupDescription(type: group.type, groupID: group.groupID, buckets: group.buckets),
                                               staleGroup, foreignGroup])
        #expect(plan.untouchedFlows == 4)
        #expect(plan.foreignFlows == 1)
        #expect(Set(plan.flowAdds.map(\.cookie)) == Set(flows[4...].map(\.cookie.rawValue)))
        #expect(plan.flowAdds.allSatisfy { $0.command == .add })
        // The wrong one and the stale one are removed by strict delete of exactly that entry.
        #expect(plan.flowDeletes.count == 2)
        #expect(plan.flowDeletes.allSatisfy { $0.command == .deleteStrict && $0.cookieMask == .max })
        #expect(Set(plan.flowDeletes.map(\.cookie)) == [flows[4].cookie.rawValue, stale.cookie])
        #expect(plan.untouchedGroups == 1)
        #expect(plan.groupAdds.isEmpty && plan.groupModifies.isEmpty)
        #expect(plan.groupDeletes.map(\.groupID) == [staleGroup.groupID])
        // Order: flow deletes, flow adds, group deletes (no group adds here).
        #expect(plan.batches.map { $0.first?.type } == [.flowMod, .flowMod, .groupMod])
    }

    @Test("a switch that holds exactly the desired state is left untouched")
    func nothingToDo() throws {
        let table = ProactiveFabric(topology: try leafSpine()).desiredState()[11]!
        let plan = ReconciliationPlan(desired: table, flows: table.flows.values.map { stats($0) },
                                      groups: table.groups.values.map { GroupDescription(type: $0.type, groupID: $0.groupID, buckets: $0.buckets) })
        #expect(plan.isEmpty)
        #expect(plan.untouchedFlows == table.flows.count)
    }

    @Test("an empty switch gets groups first, then flows; a changed group is modified")
    func emptyAndModified() throws {
        let table = ProactiveFabric(topology: try leafSpine()).desiredState()[11]!
        let plan = ReconciliationPlan(desired: table, flows: [], groups: [])
        #expect(plan.batches.count == 2)
        #expect(plan.batches[0].allSatisfy { $0.type == .groupMod })
        #expect(plan.batches[1].count == table.flows.count)
        let g = table.groups.values.first!
        let changed = ReconciliationPlan(desired: table, flows: [],
                                         groups: [GroupDescription(type: .select, groupID: g.groupID, buckets: Array(g.buckets.prefix(1)))])
        #expect(changed.groupModifies.map(\.groupID) == [g.groupID])
        #expect(changed.groupModifies.first?.command == .modify)
    }

    @Test("the machine reads flows and groups, applies the plan batch by batch, reports when all are confirmed")
    func machineReconciles() throws {
        let table = ProactiveFabric(topology: try leafSpine()).desiredState()[11]!
        var m = activeMachine()
        let reads = m.reconcile(with: table).sent
        #expect(reads.map(\.message) == [
            .multipartRequest(MultipartRequest(body: .flow(FlowStatsRequest(tableID: 0xFF)))),
            .multipartRequest(MultipartRequest(body: .groupDesc)),
        ])
        #expect(m.isReconciling)
        #expect(m.reconcile(with: table).isEmpty) // one at a time: the newer table waits for this one
        let flows = table.flows.values.sorted { $0.cookie < $1.cookie }
        // Flow stats in two parts; group desc empty.
        _ = m.received(ok(.multipartReply(MultipartReply(flags: .more, body: .flow([stats(flows[0])]))), xid: reads[0].xid), now: at(10))
        _ = m.received(ok(.multipartReply(MultipartReply(body: .flow([stats(flows[1])]))), xid: reads[0].xid), now: at(11))
        let a = m.received(ok(.multipartReply(MultipartReply(body: .groupDesc([]))), xid: reads[1].xid), now: at(12))
        guard case .reconciliationPlanned(let plan) = a.first else { Issue.record("no plan: \(a)"); return }
        #expect(plan.untouchedFlows == 2)
        #expect(plan.flowAdds.count == flows.count - 2)
        let sent = a.sent
        let barriers = sent.filter { $0.message == .barrierRequest }
        #expect(barriers.count == 2) // group adds, flow adds
        #expect(sent.first?.message.type == .groupMod)
        #expect(m.received(ok(.barrierReply, xid: barriers[0].xid), now: at(13)).isEmpty)
        let done = m.received(ok(.barrierReply, xid: barriers[1].xid), now: at(14))
        guard case .reconciled(let r) = done.first else { Issue.record("not reconciled: \(done)"); return }
        #expect(r.datapathID == testDPID)
        #expect(r.flowsAdded == flows.count - 2)
        #expect(r.flowsUntouched == 2)
        #expect(r.groupsAdded == 1)
        #expect(r.failures.isEmpty)
        // The table that came in during the first reconciliation is reconciled right after it.
        #expect(done.sent.map(\.message) == reads.map(\.message))
        #expect(m.isReconciling)
    }

    @Test("a fabric link down: the fabric is recomputed without it, and other switches stop using it")
    func fabricWithoutADownLink() throws {
        let t = try leafSpine()
        let full = ProactiveFabric(topology: t).desiredState()
        // l1:3 - s1:1 goes down.
        let l1 = t.switchID(dpid: 11)!
        let link = t.port(PortRef(l1, 3))!.link.index
        let reduced = FabricKeeper.fabric(t, without: [link])
        let h1 = t.hostID(named: "h1")!
        func action(_ st: FabricState, _ dpid: UInt64) -> [OpenFlowAction] {
            let f = st[dpid]!.flows[.fabric(.ipv4, id: UInt64(h1.index))]!
            if case .applyActions(let a) = f.instructions.first { return a }
            return []
        }
        // l2 toward h1: a SELECT group over both spines before; only s2 (l2 port 4) after.
        #expect(action(full, 12).contains { if case .group = $0 { true } else { false } })
        #expect(action(reduced, 12) == [.output(port: PortNumber(4), maxLength: 0)])
        // s1 has no direct way to l1 any more: it sends toward h1 back down to l2 (then s2).
        #expect(action(full, 1) == [.output(port: PortNumber(1), maxLength: 0)])
        #expect(action(reduced, 1) == [.output(port: PortNumber(2), maxLength: 0)])
        // And back up: the full fabric again.
        #expect(FabricKeeper.fabric(t, without: []) == full)
    }
}

@Suite("Proactive fabric")
struct ProactiveFabricTests {
    @Test("cookies encode owner, kind and id")
    func cookies() {
        let c = FabricCookie.fabric(.arp, id: 7)
        #expect(c.owner == .fabric && c.kind == .arp && c.id == 7 && c.isFabric && c.isTusk)
        #expect(c.rawValue >> 48 == 0x5446)
        #expect(!FabricCookie(rawValue: 0x7e57).isTusk)
        #expect(FabricCookie(rawValue: 0x5453_0000_0000_0001).owner == .elephant)
    }

    @Test("leaf-spine: leaves hash up through a SELECT group, spines go down by a fixed port")
    func leafSpineEntries() throws {
        let state = ProactiveFabric(topology: try leafSpine()).desiredState()
        #expect(state.switches.count == 4)
        let l1 = state[11]!
        let g = try #require(l1.groups.values.first)
        #expect(g.type == .select)
        #expect(g.buckets.map(\.actions) == [[.output(port: 3, maxLength: 0)], [.output(port: 4, maxLength: 0)]])
        // h3 from l1: the group; h1 from l1: port 1. ARP the same way as IP.
        #expect(l1.flows[.fabric(.ipv4, id: 2)]?.instructions == [.applyActions([.group(g.groupID)])])
        #expect(g.buckets.map(\.watchPort) == [3, 4])
        #expect(l1.flows[.fabric(.arp, id: 2)]?.instructions == [.applyActions([.group(g.groupID)])])
        #expect(l1.flows[.fabric(.ipv4, id: 0)]?.instructions == [.applyActions([.output(port: 1, maxLength: 0)])])
        #expect(l1.flows[.fabric(.arp, id: 0)]?.match == [.ethType(0x0806), .arpTPA(IPv4Address(10, 0, 0, 1))])
        let s1 = state[1]!
        #expect(s1.groups.isEmpty)
        #expect(s1.flows[.fabric(.ipv4, id: 2)]?.instructions == [.applyActions([.output(port: 2, maxLength: 0)])])
    }

    @Test("fat-tree: aggregation switches repeat buckets so that each tier hashes on another bit")
    func antiPolarization() throws {
        let t = try Topology.fatTree(k: 4)
        let state = ProactiveFabric(topology: t).desiredState()
        let edge = try #require(t.switchID(named: "e0_0"))
        let agg = try #require(t.switchID(named: "a0_0"))
        let ports = { (s: SwitchID) -> [[UInt32]] in
            state[t[s].dpid]!.groups.values.map { $0.buckets.map(\.watchPort.rawValue) }
        }
        #expect(ports(edge).allSatisfy { $0 == [3, 4] })
        #expect(!ports(agg).isEmpty)
        #expect(ports(agg).allSatisfy { $0 == [3, 3, 4, 4] })
        // Webster-style assignment over [3, 3, 4, 4]: hash values h with the same bit 0 still reach
        // both ports (bit 1 decides).
        let evenHashes = stride(from: 0, to: 16, by: 2).map { [3, 3, 4, 4][$0 % 4] }
        #expect(Set(evenHashes) == [3, 4])
    }

    /// A fake forwarding walk (the Faucet habit): from each host's switch, follow the entry for the
    /// destination (every bucket of a group) until it leaves on the destination's port.
    @Test("every host reaches every other host over every ECMP choice", arguments: ["leaf-spine", "fat-tree"])
    func allPairsReach(_ which: String) throws {
        let t = which == "leaf-spine" ? try leafSpine() : try Topology.fatTree(k: 4)
        let state = ProactiveFabric(topology: t).desiredState()
        var paths = 0
        for src in t.hostIDs {
            for dst in t.hostIDs where dst != src {
                for kind in [FabricCookie.Kind.ipv4, .arp] {
                    var frontier: [(SwitchID, Int)] = [(t[src].attachment.switchID, 0)]
                    while let (s, depth) = frontier.popLast() {
                        #expect(depth < 8, "loop toward \(t[dst].name)")
                        guard depth < 8 else { break }
                        let table = try #require(state[t[s].dpid])
                        let f = try #require(table.flows[.fabric(kind, id: UInt64(dst.index))], "\(t[s].name) has no entry for \(t[dst].name)")
                        guard case .applyActions(let acts) = f.instructions.first, let act = acts.first else {
                            Issue.record("no actions"); break
                        }
                        var ports: [UInt32] = []
                        if case .output(let p, _) = act { ports = [p.rawValue] }
                        if case .group(let g) = act {
                            ports = try #require(table.groups[g]).buckets.compactMap {
                                if case .output(let p, _) = $0.actions.first { return p.rawValue }
                                return nil
                            }
                        }
                        for p in ports {
                            let port = try #require(t.port(PortRef(s, p)))
                            switch port.peer {
                            case .host(let h):
                                #expect(h == dst, "\(t[s].name):\(p) delivers to the wrong host")
                                paths += 1
                            case .port(let next):
                                frontier.append((next.switchID, depth + 1))
                            }
                        }
                    }
                }
            }
        }
        #expect(paths > 0)
    }
}
