// Desired flow-table state per switch, keyed by cookie (flows) and group id (groups), and the
// reconciliation diff against what a switch reports (flow stats and group descriptions, OF 1.3.5
// §7.3.5.2 and §7.3.5.8). A switch that reconnects, or a controller that restarts, is reconciled
// rather than wiped: what matches stays (its counters too), what is missing is added, what is stale
// is deleted. Only entries whose cookie (or group id) Tusk owns are ever deleted.
import OpenFlow

/// One flow entry Tusk wants on a switch.
public struct DesiredFlow: Hashable, Sendable {
    public var cookie: FabricCookie
    public var tableID: UInt8
    public var priority: UInt16
    public var match: OpenFlowMatch
    public var instructions: [OpenFlowInstruction]
    public var idleTimeout: UInt16
    public var hardTimeout: UInt16

    public init(cookie: FabricCookie, tableID: UInt8 = 0, priority: UInt16, match: OpenFlowMatch,
                instructions: [OpenFlowInstruction], idleTimeout: UInt16 = 0, hardTimeout: UInt16 = 0) {
        self.cookie = cookie
        self.tableID = tableID
        self.priority = priority
        self.match = match
        self.instructions = instructions
        self.idleTimeout = idleTimeout
        self.hardTimeout = hardTimeout
    }

    /// `OFPFC_ADD` for this entry. An add over an entry with the same match and priority replaces it
    /// (OF 1.3.5 §6.4), so adding twice never duplicates.
    public var addFlowMod: FlowMod {
        FlowMod(command: .add, cookie: cookie.rawValue, tableID: tableID, idleTimeout: idleTimeout,
                hardTimeout: hardTimeout, priority: priority, match: match, instructions: instructions)
    }

    /// Whether a switch's entry is this one: same table, priority, match (as a set of fields: a switch
    /// may reorder OXM TLVs), instructions and timeouts. Counters and flags are not compared.
    public func isSatisfied(by s: FlowStats) -> Bool {
        s.cookie == cookie.rawValue && s.tableID == tableID && s.priority == priority
            && s.idleTimeout == idleTimeout && s.hardTimeout == hardTimeout
            && Set(s.match.fields) == Set(match.fields) && s.instructions == instructions
    }
}

/// One group Tusk wants on a switch.
public struct DesiredGroup: Hashable, Sendable {
    public var groupID: GroupID
    public var type: GroupType
    public var buckets: [Bucket]
    public init(groupID: GroupID, type: GroupType, buckets: [Bucket]) {
        self.groupID = groupID
        self.type = type
        self.buckets = buckets
    }
    public func groupMod(_ command: GroupModCommand) -> GroupMod {
        GroupMod(command: command, type: type, groupID: groupID, buckets: command == .delete ? [] : buckets)
    }
    public func isSatisfied(by g: GroupDescription) -> Bool {
        g.groupID == groupID && g.type == type && g.buckets == buckets
    }
}

/// Everything Tusk wants on one switch.
public struct SwitchTable: Hashable, Sendable {
    public var dpid: UInt64
    public var name: String
    public var flows: [FabricCookie: DesiredFlow]
    public var groups: [GroupID: DesiredGroup]
    public init(dpid: UInt64, name: String, flows: [FabricCookie: DesiredFlow] = [:], groups: [GroupID: DesiredGroup] = [:]) {
        self.dpid = dpid
        self.name = name
        self.flows = flows
        self.groups = groups
    }

    public mutating func add(_ f: DesiredFlow) { flows[f.cookie] = f }
    public mutating func add(_ g: DesiredGroup) { groups[g.groupID] = g }

    /// Every entry as messages for an empty switch: groups first (flows refer to them).
    public var installMessages: [OpenFlowMessage] {
        groups.values.sorted { $0.groupID.rawValue < $1.groupID.rawValue }.map { .groupMod($0.groupMod(.add)) }
            + flows.values.sorted { $0.cookie < $1.cookie }.map { .flowMod($0.addFlowMod) }
    }
}

/// Desired state of the whole fabric, per datapath id.
public struct FabricState: Hashable, Sendable {
    public var switches: [UInt64: SwitchTable]
    public init(switches: [UInt64: SwitchTable] = [:]) { self.switches = switches }
    public subscript(dpid: UInt64) -> SwitchTable? { switches[dpid] }
    public var flowCount: Int { switches.values.reduce(0) { $0 + $1.flows.count } }
    public var groupCount: Int { switches.values.reduce(0) { $0 + $1.groups.count } }
}

/// Which entries reconciliation manages (and so may delete when they are not desired).
public struct ReconciliationScope: Sendable {
    public var ownsCookie: @Sendable (UInt64) -> Bool
    public var ownsGroup: @Sendable (GroupID) -> Bool
    public init(ownsCookie: @escaping @Sendable (UInt64) -> Bool, ownsGroup: @escaping @Sendable (GroupID) -> Bool) {
        self.ownsCookie = ownsCookie
        self.ownsGroup = ownsGroup
    }
    /// The proactive fabric's entries: cookie owner "TF", group ids 0x5446xxxx.
    public static let fabric = ReconciliationScope(
        ownsCookie: { FabricCookie(rawValue: $0).isFabric },
        ownsGroup: { FabricGroupID.isFabric($0.rawValue) })
}

/// The changes that bring a switch to its desired state, in the order they must be applied.
public struct ReconciliationPlan: Hashable, Sendable {
    public var groupAdds: [GroupMod] = []
    public var groupModifies: [GroupMod] = []
    public var flowDeletes: [FlowMod] = []
    public var flowAdds: [FlowMod] = []
    public var groupDeletes: [GroupMod] = []
    public var untouchedFlows = 0
    public var untouchedGroups = 0
    /// Entries the switch holds that are not Tusk's to manage.
    public var foreignFlows = 0

    public init() {}

    public var isEmpty: Bool {
        groupAdds.isEmpty && groupModifies.isEmpty && flowDeletes.isEmpty && flowAdds.isEmpty && groupDeletes.isEmpty
    }

    /// Barrier-separated batches: groups are created before the flows that use them, stale flows go
    /// before new ones are added (a strict delete of a stale entry must not hit a new entry with the
    /// same match), and stale groups go last (deleting a group deletes the flows that use it, OF 1.3.5
    /// §6.5). Without a barrier a switch may reorder (§6.2), hence one batch per step. Empty batches
    /// are left out.
    public var batches: [[OpenFlowMessage]] {
        [
            groupAdds.map { .groupMod($0) } + groupModifies.map { .groupMod($0) },
            flowDeletes.map { .flowMod($0) },
            flowAdds.map { .flowMod($0) },
            groupDeletes.map { .groupMod($0) },
        ].filter { !$0.isEmpty }
    }

    /// Compares what a switch reports with what is desired.
    public init(desired: SwitchTable, flows: [FlowStats], groups: [GroupDescription],
                scope: ReconciliationScope = .fabric) {
        // Flows, by cookie.
        var kept = Set<FabricCookie>()
        for s in flows {
            guard scope.ownsCookie(s.cookie) else {
                foreignFlows += 1
                continue
            }
            let c = FabricCookie(rawValue: s.cookie)
            if let d = desired.flows[c], !kept.contains(c), d.isSatisfied(by: s) {
                kept.insert(c)
                untouchedFlows += 1
            } else {
                // Stale (not desired), different, or a second copy: remove exactly this entry.
                flowDeletes.append(FlowMod(command: .deleteStrict, cookie: s.cookie, cookieMask: .max, tableID: s.tableID,
                                           priority: s.priority, match: s.match))
            }
        }
        for (c, d) in desired.flows.sorted(by: { $0.key < $1.key }) where !kept.contains(c) {
            flowAdds.append(d.addFlowMod)
        }
        // Groups, by id.
        var seen = Set<GroupID>()
        for g in groups where scope.ownsGroup(g.groupID) {
            seen.insert(g.groupID)
            if let d = desired.groups[g.groupID] {
                if d.isSatisfied(by: g) { untouchedGroups += 1 } else { groupModifies.append(d.groupMod(.modify)) }
            } else {
                groupDeletes.append(GroupMod(command: .delete, type: g.type, groupID: g.groupID))
            }
        }
        for (id, d) in desired.groups.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where !seen.contains(id) {
            groupAdds.append(d.groupMod(.add))
        }
    }
}
