// Decisions → flow-table state → OpenFlow messages.
//
// The fabric forwards by ECMP groups at the default priority; an elephant Tusk places gets
// exact-match entries (its 5-tuple) one priority band above, on the switches where its path must
// diverge from what ECMP could pick: every switch of the path with more than one equal-cost next hop
// toward the destination. Switches with a single next hop (the way down in a fat-tree) need nothing.
// Entries carry a cookie that names the flow and an idle timeout, so a finished flow's entries go
// by themselves. Each switch has an entry budget: when desired pins exceed it, the largest flows
// (after policy priority) get entries and the rest stay on ECMP.
import OpenFlow
import Packets
import PathSelection
import Topology

/// One exact-match entry.
public struct ElephantEntry: Hashable, Sendable {
    public var switchID: SwitchID
    public var dpid: UInt64
    public var key: FlowKey
    public var outPort: UInt32
    public var cookie: UInt64
    public var priority: UInt16
    public var idleTimeout: UInt16

    public init(switchID: SwitchID, dpid: UInt64, key: FlowKey, outPort: UInt32, cookie: UInt64, priority: UInt16, idleTimeout: UInt16) {
        self.switchID = switchID
        self.dpid = dpid
        self.key = key
        self.outPort = outPort
        self.cookie = cookie
        self.priority = priority
        self.idleTimeout = idleTimeout
    }

    /// The OpenFlow message that installs (or, with `.deleteStrict`, removes) this entry.
    /// Match: EtherType, IP protocol, addresses and ports (OF 1.3.5 §7.2.3.6 prerequisites: IPv4/IPv6
    /// fields need the EtherType, transport ports the protocol).
    public func flowMod(_ command: FlowModCommand = .add, tableID: UInt8 = 0) -> FlowMod {
        var fields: [OXMField] = []
        switch (key.src, key.dst) {
        case (.v4(let s), .v4(let d)):
            fields += [.ethType(0x0800), .ipProto(key.proto), .ipv4Src(s), .ipv4Dst(d)]
        case (.v6(let s), .v6(let d)):
            fields += [.ethType(0x86DD), .ipProto(key.proto), .ipv6Src(s), .ipv6Dst(d)]
        default:
            fields += [.ipProto(key.proto)]
        }
        switch key.proto {
        case IPProtocolNumber.tcp: fields += [.tcpSrc(key.sport), .tcpDst(key.dport)]
        case IPProtocolNumber.udp: fields += [.udpSrc(key.sport), .udpDst(key.dport)]
        case IPProtocolNumber.sctp: fields += [.sctpSrc(key.sport), .sctpDst(key.dport)]
        default: break
        }
        let deleting = command == .delete || command == .deleteStrict
        return FlowMod(command: command, cookie: cookie, cookieMask: deleting ? .max : 0, tableID: tableID,
                       idleTimeout: deleting ? 0 : idleTimeout, priority: priority,
                       flags: deleting ? [] : [.sendFlowRemoved], match: OpenFlowMatch(fields),
                       instructions: deleting ? [] : [.applyActions([.output(port: PortNumber(outPort))])])
    }
}

extension FlowKey {
    /// The 5-tuple of an elephant entry's match (what `ElephantEntry.flowMod` writes); nil when the
    /// match is not one.
    public init?(elephantMatch m: OpenFlowMatch) {
        var src: IPAddress?, dst: IPAddress?, proto: UInt8?, sport: UInt16 = 0, dport: UInt16 = 0
        for f in m.fields {
            switch f {
            case .ipv4Src(let a, nil): src = .v4(a)
            case .ipv4Dst(let a, nil): dst = .v4(a)
            case .ipv6Src(let a, nil): src = .v6(a)
            case .ipv6Dst(let a, nil): dst = .v6(a)
            case .ipProto(let p, nil): proto = p
            case .tcpSrc(let p, nil), .udpSrc(let p, nil), .sctpSrc(let p, nil): sport = p
            case .tcpDst(let p, nil), .udpDst(let p, nil), .sctpDst(let p, nil): dport = p
            default: break
            }
        }
        guard let src, let dst, let proto else { return nil }
        self.init(src: src, dst: dst, proto: proto, sport: sport, dport: dport)
    }
}

/// A change to one switch's table.
public enum EntryChange: Hashable, Sendable {
    case add(ElephantEntry)
    /// Same match, new output port.
    case modify(ElephantEntry)
    case delete(ElephantEntry)

    public var entry: ElephantEntry {
        switch self {
        case .add(let e), .modify(let e), .delete(let e): e
        }
    }

    /// The flow-mod for this change.
    public var flowMod: FlowMod {
        switch self {
        case .add(let e): e.flowMod(.add)
        case .modify(let e): e.flowMod(.modifyStrict)
        case .delete(let e): e.flowMod(.deleteStrict)
        }
    }
}

/// A flow Tusk wants pinned to a path.
public struct Pin: Hashable, Sendable {
    public var key: FlowKey
    public var dst: HostID
    public var path: Path
    /// Bits/s; larger flows get entries first.
    public var demand: Double
    public var priority: Int

    public init(key: FlowKey, dst: HostID, path: Path, demand: Double, priority: Int = 0) {
        self.key = key
        self.dst = dst
        self.path = path
        self.demand = demand
        self.priority = priority
    }
}

/// What one programming round did.
public struct ProgrammingPlan: Sendable {
    /// Table changes, grouped by switch in switch order.
    public var changes: [EntryChange] = []
    /// Flows now pinned (new or moved) this round, with their paths.
    public var pinned: [(key: FlowKey, path: Path)] = []
    /// Flows that were pinned and are not any more (they fall back to ECMP).
    public var unpinned: [FlowKey] = []
    /// Flows refused for lack of table space on some switch.
    public var overBudget: [FlowKey] = []

    public init() {}
}

public struct ProgrammingConfig: Hashable, Sendable {
    public var budgetPerSwitch: Int
    public var priority: UInt16
    public var idleTimeout: UInt16
    public var cookiePrefix: UInt16

    public init(budgetPerSwitch: Int = 1000, priority: UInt16 = 40000, idleTimeout: UInt16 = 5, cookiePrefix: UInt16 = 0x5453) {
        self.budgetPerSwitch = budgetPerSwitch
        self.priority = priority
        self.idleTimeout = idleTimeout
        self.cookiePrefix = cookiePrefix
    }

    public init(policy: Policy) {
        self.init(budgetPerSwitch: policy.flowTableBudget, priority: policy.entryPriority,
                  idleTimeout: UInt16(min(65535, max(1, policy.idleTimeout.rounded()))), cookiePrefix: policy.cookiePrefix)
    }
}

/// A pinned flow: its pin and the entries that hold it on the switches.
public struct InstalledPin: Sendable {
    public var pin: Pin
    public var entries: [ElephantEntry]
    public init(pin: Pin, entries: [ElephantEntry]) {
        self.pin = pin
        self.entries = entries
    }
}

/// The desired elephant state of the fabric and the changes that get the switches there.
public struct FabricProgrammer: Sendable {
    public let topology: Topology
    public let routing: RoutingTable
    public var config: ProgrammingConfig {
        // Entries made under other settings are no longer current, and a smaller budget may refuse
        // pins: until the next `program`, `update` declines.
        didSet { if config != oldValue { allCurrent = false } }
    }
    /// True when every installed entry was made under `config` and no switch holds more than its
    /// budget (after `program`, and kept by `update`, `adopt`, `expire` and `withdraw`).
    private var allCurrent = true
    /// Pinned flows: their path and entries.
    public private(set) var installed: [FlowKey: InstalledPin] = [:]
    /// Entries held per switch.
    public private(set) var entriesPerSwitch: [Int]
    public private(set) var peakEntriesPerSwitch: [Int]

    public init(topology: Topology, config: ProgrammingConfig = ProgrammingConfig()) {
        self.topology = topology
        routing = RoutingTable(topology)
        self.config = config
        entriesPerSwitch = [Int](repeating: 0, count: topology.switches.count)
        peakEntriesPerSwitch = entriesPerSwitch
    }

    /// A stable cookie for a flow: the policy's prefix in the top 16 bits, a hash of the 5-tuple below.
    public func cookie(for k: FlowKey) -> UInt64 {
        func addr(_ a: IPAddress) -> UInt64 {
            switch a {
            case .v4(let v): UInt64(v.value)
            case .v6(let v): v.high &* 0x9E37_79B9_7F4A_7C15 ^ v.low
            }
        }
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for v in [addr(k.src), addr(k.dst), UInt64(k.proto) << 32 | UInt64(k.sport) << 16 | UInt64(k.dport)] {
            h = (h ^ v) &* 0x0000_0100_0000_01B3
            h ^= h >> 29
        }
        return UInt64(config.cookiePrefix) << 48 | (h & 0xFFFF_FFFF_FFFF)
    }

    /// The entries a flow needs to follow `path`: one on every switch of the path that has a choice.
    public func entries(for key: FlowKey, path: Path, dst: HostID) -> [ElephantEntry] {
        // (The host's and switches' fields read in place: `topology[id]` copies the whole record,
        // names and all, for every hop of each of a first k=32 round's 7,900 new pins.)
        let target = topology.hosts[dst.index].attachment.switchID
        let cookie = self.cookie(for: key)
        var out: [ElephantEntry] = []
        // (At most one per switch hop, made at that size: grown one entry at a time it was an
        // allocation per entry.)
        out.reserveCapacity(max(0, path.links.count - 1))
        topology.forEachHop(of: path) { hop in
            guard routing.nextHopCount(at: hop.switchID, toward: target) > 1 else { return }
            out.append(ElephantEntry(switchID: hop.switchID, dpid: topology.switches[hop.switchID.index].dpid, key: key,
                                     outPort: hop.outPort, cookie: cookie, priority: config.priority, idleTimeout: config.idleTimeout))
        }
        return out
    }

    /// Moves the fabric to `desired` (the complete set of flows that should be pinned). Flows are
    /// admitted largest first (after policy priority) while every switch they need has room; the
    /// rest stay on, or return to, ECMP. Returns the table changes against what is installed.
    public mutating func program(_ desired: [Pin]) -> ProgrammingPlan {
        var plan = ProgrammingPlan()
        // (Indices sorted, then the pins taken in that order: a pin is a large value. The same
        // order as sorting the pins: both sorts are stable.)
        let order = desired.withUnsafeBufferPointer { d in
            desired.indices.sorted { a, b in
                (d[a].priority, d[a].demand) != (d[b].priority, d[b].demand)
                    ? (d[a].priority, d[a].demand) > (d[b].priority, d[b].demand) : d[a].key < d[b].key
            }
        }.map { desired[$0] }
        var count = [Int](repeating: 0, count: topology.switches.count)
        var next: [FlowKey: InstalledPin] = [:]
        next.reserveCapacity(order.count)
        // Flows whose entries may differ from what is installed: only these are compared below. A
        // flow kept on the same path, to the same host, under the same table settings keeps the
        // very entries it has (they are a function of these alone), and nothing of it changes.
        var touched: [FlowKey] = []
        for pin in order where next[pin.key] == nil {
            let es: [ElephantEntry]
            if let old = installed[pin.key], old.pin.path == pin.path, old.pin.dst == pin.dst, isCurrent(old.entries) {
                es = old.entries
            } else {
                es = entries(for: pin.key, path: pin.path, dst: pin.dst)
                touched.append(pin.key)
            }
            guard es.allSatisfy({ count[$0.switchID.index] < config.budgetPerSwitch }) else {
                plan.overBudget.append(pin.key)
                continue
            }
            for e in es { count[e.switchID.index] += 1 }
            next[pin.key] = InstalledPin(pin: pin, entries: es)
        }
        for key in installed.keys where next.index(forKey: key) == nil { touched.append(key) }
        // Diff per flow and switch, in key order.
        for key in Set(touched).sorted() {
            let old = installed[key], new = next[key]
            Self.diff(old?.entries ?? [], new?.entries ?? [], into: &plan.changes)
            if let new, old?.pin.path != new.pin.path { plan.pinned.append((key, new.pin.path)) }
            if old != nil, new == nil { plan.unpinned.append(key) }
        }
        Self.order(&plan.changes)
        installed = next
        entriesPerSwitch = count
        allCurrent = true
        for i in count.indices { peakEntriesPerSwitch[i] = max(peakEntriesPerSwitch[i], count[i]) }
        return plan
    }

    /// `program` for a round that refreshes some pins' demands and pins some flows anew (moved or
    /// new), keeping every other pin: the same plan and the same pins as `program` given every
    /// installed pin with `demands` applied and then `pins`, at the cost of the pins that change
    /// (a moving round at k=32 changes a few dozen of 8,192). Nil, with nothing changed, when that
    /// `program` might refuse a pin for lack of table space (a switch would end above its budget:
    /// admission order then matters), or when the installed entries are not all current; the
    /// caller then calls `program`.
    ///
    /// Why the plans are the same: with every switch's final count within its budget, `program`
    /// admits every pin whatever their order (when a pin is checked, its switches hold at most
    /// their final counts less its own entries, so each has room), so the pins are all kept, and
    /// only the flows whose entries change (`touched`) are diffed, in key order, as here.
    /// `demands`: the last one given for a key counts; keys not installed are ignored. `pins`:
    /// one per key.
    public mutating func update(demands: [(key: FlowKey, demand: Double)], pins: [Pin]) -> ProgrammingPlan? {
        guard allCurrent else { return nil }
        var count = entriesPerSwitch
        // Each new pin's entries (`made`, by the pins' index): the installed ones where its path and
        // host are the same (`touched` false). (Apart from the pins, and the installed pin read in
        // place: a tuple holding the pin, or a copy of the installed pin, retained and released its
        // path and entries at every read, for each of a first k=32 round's 7,900 pins.)
        var made: [[ElephantEntry]] = [], touched = [Bool](repeating: true, count: pins.count)
        made.reserveCapacity(pins.count)
        for j in pins.indices {
            let at = installed.index(forKey: pins[j].key)
            if let at, installed.values[at].pin.path == pins[j].path, installed.values[at].pin.dst == pins[j].dst {
                made.append(installed.values[at].entries)
                touched[j] = false
                continue
            }
            let es = entries(for: pins[j].key, path: pins[j].path, dst: pins[j].dst)
            if let at { for e in installed.values[at].entries { count[e.switchID.index] -= 1 } }
            for e in es { count[e.switchID.index] += 1 }
            made.append(es)
        }
        for j in pins.indices where touched[j] {
            for e in made[j] where count[e.switchID.index] > config.budgetPerSwitch { return nil }
        }
        var plan = ProgrammingPlan()
        for (key, demand) in demands { installed[key]?.pin.demand = demand }
        // The changed pins: their entries before and after, and their path where it changed. (Only
        // these are kept, and their indices sorted: whole pins, copied and moved, were most of a
        // first round's update, 7,917 new pins at k=32.)
        var changed: [(key: FlowKey, old: [ElephantEntry], new: [ElephantEntry], path: Path?)] = []
        // (Their keys apart, for the sort: reading a key out of `changed` copied the whole element,
        // its three arrays retained and released, at every comparison.)
        var keys: [FlowKey] = []
        installed.reserveCapacity(installed.count + pins.count)
        for j in pins.indices {
            let old = installed.updateValue(InstalledPin(pin: pins[j], entries: made[j]), forKey: pins[j].key)
            guard touched[j] else { continue }
            changed.append((pins[j].key, old?.entries ?? [], made[j], old?.pin.path == pins[j].path ? nil : pins[j].path))
            keys.append(pins[j].key)
        }
        let order = keys.withUnsafeBufferPointer { k in k.indices.sorted { k[$0] < k[$1] } }
        for k in order {
            Self.diff(changed[k].old, changed[k].new, into: &plan.changes)
            if let path = changed[k].path { plan.pinned.append((changed[k].key, path)) }
        }
        Self.order(&plan.changes)
        entriesPerSwitch = count
        for i in count.indices { peakEntriesPerSwitch[i] = max(peakEntriesPerSwitch[i], count[i]) }
        return plan
    }

    /// The changes from a flow's `old` entries to its `new` ones: both by switch, merged in switch
    /// order (a path's few entries: small arrays, not a dictionary and a set per flow, which cost
    /// most of a first round's plan).
    private static func diff(_ old: [ElephantEntry], _ new: [ElephantEntry], into changes: inout [EntryChange]) {
        let o = bySwitch(old), n = bySwitch(new)
        var a = 0, b = 0
        while a < o.count || b < n.count {
            if b == n.count || (a < o.count && o[a].switchID < n[b].switchID) {
                changes.append(.delete(o[a]))
                a += 1
            } else if a == o.count || n[b].switchID < o[a].switchID {
                changes.append(.add(n[b]))
                b += 1
            } else {
                if o[a].outPort != n[b].outPort { changes.append(.modify(n[b])) }
                a += 1
                b += 1
            }
        }
    }

    /// Puts changes in switch order, then flow order (a flow has one change per switch). The
    /// indices are sorted, not the changes: each is a large value (tens of thousands of them in a
    /// first round at k=32).
    private static func order(_ changes: inout [EntryChange]) {
        let order = changes.withUnsafeBufferPointer { c in
            c.indices.sorted { a, b in
                let x = c[a].entry, y = c[b].entry
                return x.switchID != y.switchID ? x.switchID < y.switchID : x.key < y.key
            }
        }
        changes = order.map { changes[$0] }
    }

    /// A flow's entries, one per switch (the last, where a switch had two), in switch order.
    private static func bySwitch(_ entries: [ElephantEntry]) -> [ElephantEntry] {
        var out: [ElephantEntry] = []
        out.reserveCapacity(entries.count)
        for e in entries {
            if let k = out.firstIndex(where: { $0.switchID == e.switchID }) { out[k] = e } else { out.append(e) }
        }
        out.sort { $0.switchID < $1.switchID }
        return out
    }

    /// Whether installed entries were made under the table settings in force now (the cookie's
    /// hash part depends on the flow alone).
    private func isCurrent(_ entries: [ElephantEntry]) -> Bool {
        entries.allSatisfy {
            $0.priority == config.priority && $0.idleTimeout == config.idleTimeout && $0.cookie >> 48 == UInt64(config.cookiePrefix)
        }
    }

    /// A flow's entries timed out on the switches (FLOW_REMOVED, or in the simulator its samples
    /// stopped): forget them without sending anything.
    public mutating func expire(_ key: FlowKey) {
        guard let old = installed.removeValue(forKey: key) else { return }
        for e in old.entries { entriesPerSwitch[e.switchID.index] -= 1 }
    }

    /// A flow's placement failed or is given up: forget its pin and return the entries the switches may
    /// hold for it (the caller deletes them, and the flow is back on ECMP).
    public mutating func withdraw(_ key: FlowKey) -> [ElephantEntry] {
        guard let old = installed.removeValue(forKey: key) else { return [] }
        for e in old.entries { entriesPerSwitch[e.switchID.index] -= 1 }
        return old.entries
    }

    /// Takes a pin whose entries the switches already hold (adopted after a controller restart) as
    /// installed, without sending anything. False when the flow is pinned already or a switch of its
    /// path has no room left in its budget.
    public mutating func adopt(_ pin: Pin) -> Bool {
        guard installed[pin.key] == nil else { return false }
        let es = entries(for: pin.key, path: pin.path, dst: pin.dst)
        guard es.allSatisfy({ entriesPerSwitch[$0.switchID.index] < config.budgetPerSwitch }) else { return false }
        installed[pin.key] = InstalledPin(pin: pin, entries: es)
        for e in es {
            entriesPerSwitch[e.switchID.index] += 1
            peakEntriesPerSwitch[e.switchID.index] = max(peakEntriesPerSwitch[e.switchID.index], entriesPerSwitch[e.switchID.index])
        }
        return true
    }

    /// The pins in force, by flow.
    public var pins: [Pin] { installed.values.map(\.pin).sorted { $0.key < $1.key } }

    /// The path and demand of the pin at `index` in `installed`, read where the table keeps it.
    /// (Mutating only to reach the table's value in place: it changes nothing. Read through the
    /// table's getter, the whole `InstalledPin` comes out as a copy, its entries retained and
    /// released, a cache miss for each of 8,192 pinned elephants in every k=32 round. When the table
    /// is shared with a copy of it, the first such read copies it, as any write would.)
    public mutating func pathAndDemand(at index: Dictionary<FlowKey, InstalledPin>.Index) -> (path: Path, demand: Double) {
        func read(_ p: inout InstalledPin) -> (path: Path, demand: Double) { (p.pin.path, p.pin.demand) }
        return read(&installed.values[index])
    }
}
