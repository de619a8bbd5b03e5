import Packets

/// Identifies one sFlow sub-agent: the agent address and its sub-agent id (each Open vSwitch
/// bridge is a sub-agent of its own, and they share one sequence space each).
public struct SubAgentKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var agent: IPAddress
    public var subAgentId: UInt32

    public init(agent: IPAddress, subAgentId: UInt32) {
        self.agent = agent
        self.subAgentId = subAgentId
    }

    public var description: String { "\(agent)/\(subAgentId)" }
    public static func < (a: Self, b: Self) -> Bool { (a.agent, a.subAgentId) < (b.agent, b.subAgentId) }
}

/// A data source of one sub-agent: flow and counter samples have their own sequence spaces.
public struct SourceKey: Hashable, Sendable {
    public var subAgent: SubAgentKey
    public var source: DataSource
    public var isFlow: Bool

    public init(subAgent: SubAgentKey, source: DataSource, isFlow: Bool) {
        self.subAgent = subAgent
        self.source = source
        self.isFlow = isFlow
    }
}

/// Loss and order accounting for one sequence space.
public struct SequenceCounts: Sendable, Equatable {
    public var received: UInt64 = 0
    /// Numbers skipped over (a late arrival of a skipped number takes one back off).
    public var lost: UInt64 = 0
    /// Arrivals older than the newest seen (late or duplicated).
    public var outOfOrder: UInt64 = 0
    public var duplicates: UInt64 = 0
    /// The sender restarted (uptime went back, or the sequence jumped back far).
    public var resets: UInt64 = 0
    public init() {}
}

/// One sequence space's state (sFlow sequence numbers are 32-bit and wrap).
struct SequenceState {
    var last: UInt32
    var counts = SequenceCounts()
    /// Recently seen numbers behind `last`, to tell a late arrival from a duplicate.
    var recent: RecentNumbers

    init(first: UInt32) {
        last = first
        counts.received = 1
        recent = RecentNumbers(first)
    }

    /// How far back a late datagram may be before we call it a restart instead.
    static let reorderWindow: UInt32 = 1024

    mutating func observe(_ seq: UInt32, restarted: Bool) {
        counts.received += 1
        if restarted {
            counts.resets += 1
            last = seq
            recent.reset(seq)
            return
        }
        let ahead = seq &- last
        if ahead == 0 {
            counts.duplicates += 1
        } else if ahead < 0x8000_0000 {
            counts.lost += UInt64(ahead - 1)
            last = seq
            remember(seq)
        } else {
            let behind = last &- seq
            if behind > Self.reorderWindow {
                counts.resets += 1
                last = seq
                recent.reset(seq)
            } else if recent.contains(seq) {
                counts.duplicates += 1
            } else {
                counts.outOfOrder += 1
                if counts.lost > 0 { counts.lost -= 1 }
                remember(seq)
            }
        }
    }

    private mutating func remember(_ seq: UInt32) { recent.append(seq) }
}

/// The last 64 sequence numbers remembered, in a ring: no shifting and no allocation after the
/// first (this runs for every sample of every datagram).
struct RecentNumbers {
    static let capacity = 64
    private var slots: [UInt32]
    private var next = 1
    private var count = 1

    init(_ first: UInt32) {
        slots = [UInt32](repeating: 0, count: Self.capacity)
        slots[0] = first
    }

    mutating func reset(_ first: UInt32) {
        slots[0] = first
        next = 1
        count = 1
    }

    mutating func append(_ seq: UInt32) {
        slots[next] = seq
        next = (next + 1) & (Self.capacity - 1)
        if count < Self.capacity { count += 1 }
    }

    func contains(_ seq: UInt32) -> Bool {
        slots.withUnsafeBufferPointer { b in
            for i in 0..<count where b[i] == seq { return true }
            return false
        }
    }
}

/// Per sub-agent and per data source sequence tracking, and the effective sampling rate
/// from the change in `sample_pool` over the change in sample sequence number.
public struct SequenceTracker: Sendable {
    struct AgentState {
        /// Its datagram sequence space; nil while only samples were observed for it (through
        /// `observeFlowSample` / `observeCounterSample` with no datagram header).
        var datagrams: SequenceState?
        var lastUptime: UInt32
        /// Its data sources, flow and counter sequence spaces apart (looked up by the data source
        /// alone: the sub-agent's address is hashed once a datagram, not once a sample).
        var flowSources: [DataSource: SourceBox] = [:]
        var counterSources: [DataSource: SourceBox] = [:]

        init(datagrams: SequenceState?, lastUptime: UInt32) {
            self.datagrams = datagrams
            self.lastUptime = lastUptime
        }

        mutating func observeFlowSample(source: DataSource, sequence: UInt32, samplePool: UInt32) -> Double? {
            if let box = flowSources[source] { return box.state.observeFlow(sequence: sequence, samplePool: samplePool) }
            flowSources[source] = SourceBox(SourceState(samples: SequenceState(first: sequence), lastPool: samplePool, lastSeq: sequence))
            return nil
        }

        mutating func observeCounterSample(source: DataSource, sequence: UInt32) {
            if let box = counterSources[source] {
                box.state.samples.observe(sequence, restarted: false)
            } else {
                counterSources[source] = SourceBox(SourceState(samples: SequenceState(first: sequence), lastPool: 0, lastSeq: sequence))
            }
        }

        mutating func observe(_ samples: [SFlowSample]) {
            for s in samples {
                switch s {
                case .flow(let f): _ = observeFlowSample(source: f.source, sequence: f.sequence, samplePool: f.samplePool)
                case .counters(let c): observeCounterSample(source: c.source, sequence: c.sequence)
                case .unknown: break
                }
            }
        }

        /// Returns true when the agent restarted.
        mutating func observe(sequence: UInt32, uptime: UInt32) -> Bool {
            guard var datagrams else {
                self.datagrams = SequenceState(first: sequence)
                lastUptime = uptime
                return false
            }
            // Moved out and back so that its history stays uniquely referenced (no copy a datagram).
            self.datagrams = nil
            defer { self.datagrams = datagrams }
            // An agent restart shows as uptime going back (allow a little reordering slack) and the
            // sequence numbers starting over. The 32-bit millisecond uptime also wraps, every 49.7
            // days: then the datagram sequence carries on, and nothing restarted.
            let wentBack = uptime &+ 60_000 < lastUptime && uptime < lastUptime
            let carriesOn = sequence &- datagrams.last <= SequenceState.reorderWindow
            let restarted = wentBack && !carriesOn
            datagrams.observe(sequence, restarted: restarted)
            if restarted || uptime > lastUptime || wentBack { lastUptime = uptime }
            return restarted
        }
    }

    /// A data source's state, updated in place through the reference (no dictionary write-back a
    /// sample). Boxes are never shared between trackers that go on observing: `merge` takes them
    /// from a tracker that is done, and copies of a tracker are only read.
    final class SourceBox: @unchecked Sendable {
        var state: SourceState
        init(_ state: SourceState) { self.state = state }
    }

    struct SourceState {
        var samples: SequenceState
        var lastPool: UInt32
        var lastSeq: UInt32
        /// Effective 1-in-N rate measured over the last interval with new samples.
        var effectiveRate: Double?

        mutating func observeFlow(sequence: UInt32, samplePool: UInt32) -> Double? {
            let resets = samples.counts.resets
            samples.observe(sequence, restarted: false)
            if samples.counts.resets != resets {
                // The numbers started over: measure from here, or every later sample looks late.
                lastSeq = sequence
                lastPool = samplePool
            }
            let dSeq = sequence &- lastSeq
            if dSeq > 0, dSeq < 0x8000_0000 {
                let dPool = samplePool &- lastPool
                effectiveRate = Double(dPool) / Double(dSeq)
                lastSeq = sequence
                lastPool = samplePool
            }
            return effectiveRate
        }
    }

    // State is updated in place through the dictionaries' modify accessors (optional chaining),
    // never copied out and written back: that would copy each state's history on every sample.
    private var agents: [SubAgentKey: AgentState] = [:]

    public init() {}

    /// Observes a datagram header. Returns true when the sub-agent restarted (its uptime went back),
    /// so per-source state for it was reset too.
    @discardableResult
    public mutating func observeDatagram(agent: IPAddress, subAgentId: UInt32, sequence: UInt32, uptime: UInt32) -> Bool {
        let key = SubAgentKey(agent: agent, subAgentId: subAgentId)
        guard let restarted = agents[key]?.observe(sequence: sequence, uptime: uptime) else {
            agents[key] = AgentState(datagrams: SequenceState(first: sequence), lastUptime: uptime)
            return false
        }
        if restarted {
            agents[key]?.flowSources = [:]
            agents[key]?.counterSources = [:]
        }
        return restarted
    }

    /// Observes a flow sample's sequence and pool; returns the effective sampling rate when known.
    @discardableResult
    public mutating func observeFlowSample(subAgent: SubAgentKey, source: DataSource, sequence: UInt32, samplePool: UInt32) -> Double? {
        agents[subAgent, default: AgentState(datagrams: nil, lastUptime: 0)]
            .observeFlowSample(source: source, sequence: sequence, samplePool: samplePool)
    }

    public mutating func observeCounterSample(subAgent: SubAgentKey, source: DataSource, sequence: UInt32) {
        agents[subAgent, default: AgentState(datagrams: nil, lastUptime: 0)].observeCounterSample(source: source, sequence: sequence)
    }

    /// Takes in the state of another tracker that watched other sub-agents (a collector reading
    /// several sockets keeps one tracker per socket, and each sub-agent arrives on one socket only).
    /// A sub-agent or source both trackers saw keeps the state that received more.
    public mutating func merge(_ other: SequenceTracker) {
        for (k, a) in other.agents {
            guard var mine = agents[k] else { agents[k] = a; continue }
            if (mine.datagrams?.counts.received ?? 0) < (a.datagrams?.counts.received ?? 0) {
                mine.datagrams = a.datagrams
                mine.lastUptime = a.lastUptime
            }
            for (s, v) in a.flowSources where (mine.flowSources[s]?.state.samples.counts.received ?? 0) < v.state.samples.counts.received {
                mine.flowSources[s] = v
            }
            for (s, v) in a.counterSources where (mine.counterSources[s]?.state.samples.counts.received ?? 0) < v.state.samples.counts.received {
                mine.counterSources[s] = v
            }
            agents[k] = mine
        }
    }

    /// Observes every sample of a decoded datagram.
    public mutating func observe(_ d: SFlowDatagram) {
        observeDatagram(agent: d.agent, subAgentId: d.subAgentId, sequence: d.sequence, uptime: d.uptime)
        agents[SubAgentKey(agent: d.agent, subAgentId: d.subAgentId)]?.observe(d.samples)
    }

    public func datagramCounts(_ key: SubAgentKey) -> SequenceCounts? { agents[key]?.datagrams?.counts }

    private func state(_ key: SourceKey) -> SourceState? {
        (key.isFlow ? agents[key.subAgent]?.flowSources[key.source] : agents[key.subAgent]?.counterSources[key.source])?.state
    }

    public func sampleCounts(_ key: SourceKey) -> SequenceCounts? { state(key)?.samples.counts }

    public func effectiveSamplingRate(_ key: SourceKey) -> Double? { state(key)?.effectiveRate }

    public var subAgents: [SubAgentKey] { agents.filter { $0.value.datagrams != nil }.keys.sorted() }

    /// Lost flow and counter samples summed over a sub-agent's data sources.
    public func lostSamples(_ key: SubAgentKey) -> UInt64 {
        guard let a = agents[key] else { return 0 }
        return a.flowSources.values.reduce(0) { $0 + $1.state.samples.counts.lost } + a.counterSources.values.reduce(0) { $0 + $1.state.samples.counts.lost }
    }
}
