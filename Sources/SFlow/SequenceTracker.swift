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
    var recent: [UInt32] = []

    init(first: UInt32) {
        last = first
        counts.received = 1
        recent = [first]
    }

    /// How far back a late datagram may be before we call it a restart instead.
    static let reorderWindow: UInt32 = 1024

    mutating func observe(_ seq: UInt32, restarted: Bool) {
        counts.received += 1
        if restarted {
            counts.resets += 1
            last = seq
            recent = [seq]
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
                recent = [seq]
            } else if recent.contains(seq) {
                counts.duplicates += 1
            } else {
                counts.outOfOrder += 1
                if counts.lost > 0 { counts.lost -= 1 }
                remember(seq)
            }
        }
    }

    private mutating func remember(_ seq: UInt32) {
        recent.append(seq)
        if recent.count > 64 { recent.removeFirst(recent.count - 64) }
    }
}

/// Per sub-agent and per data source sequence tracking, and the effective sampling rate
/// from the change in `sample_pool` over the change in sample sequence number.
public struct SequenceTracker: Sendable {
    struct AgentState {
        var datagrams: SequenceState
        var lastUptime: UInt32

        /// Returns true when the agent restarted.
        mutating func observe(sequence: UInt32, uptime: UInt32) -> Bool {
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
    private var sources: [SourceKey: SourceState] = [:]

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
            for k in sources.keys where k.subAgent == key { sources[k] = nil }
        }
        return restarted
    }

    /// Observes a flow sample's sequence and pool; returns the effective sampling rate when known.
    @discardableResult
    public mutating func observeFlowSample(subAgent: SubAgentKey, source: DataSource, sequence: UInt32, samplePool: UInt32) -> Double? {
        let key = SourceKey(subAgent: subAgent, source: source, isFlow: true)
        guard let rate = sources[key]?.observeFlow(sequence: sequence, samplePool: samplePool) else {
            if sources[key] == nil {
                sources[key] = SourceState(samples: SequenceState(first: sequence), lastPool: samplePool, lastSeq: sequence)
            }
            return nil
        }
        return rate
    }

    public mutating func observeCounterSample(subAgent: SubAgentKey, source: DataSource, sequence: UInt32) {
        let key = SourceKey(subAgent: subAgent, source: source, isFlow: false)
        if sources[key] != nil {
            sources[key]?.samples.observe(sequence, restarted: false)
        } else {
            sources[key] = SourceState(samples: SequenceState(first: sequence), lastPool: 0, lastSeq: sequence)
        }
    }

    /// Takes in the state of another tracker that watched other sub-agents (a collector reading
    /// several sockets keeps one tracker per socket, and each sub-agent arrives on one socket only).
    /// A sub-agent or source both trackers saw keeps the state that received more.
    public mutating func merge(_ other: SequenceTracker) {
        for (k, a) in other.agents where (agents[k]?.datagrams.counts.received ?? 0) < a.datagrams.counts.received { agents[k] = a }
        for (k, v) in other.sources where (sources[k]?.samples.counts.received ?? 0) < v.samples.counts.received { sources[k] = v }
    }

    /// Observes every sample of a decoded datagram.
    public mutating func observe(_ d: SFlowDatagram) {
        observeDatagram(agent: d.agent, subAgentId: d.subAgentId, sequence: d.sequence, uptime: d.uptime)
        let key = SubAgentKey(agent: d.agent, subAgentId: d.subAgentId)
        for s in d.samples {
            switch s {
            case .flow(let f): observeFlowSample(subAgent: key, source: f.source, sequence: f.sequence, samplePool: f.samplePool)
            case .counters(let c): observeCounterSample(subAgent: key, source: c.source, sequence: c.sequence)
            case .unknown: break
            }
        }
    }

    public func datagramCounts(_ key: SubAgentKey) -> SequenceCounts? { agents[key]?.datagrams.counts }

    public func sampleCounts(_ key: SourceKey) -> SequenceCounts? { sources[key]?.samples.counts }

    public func effectiveSamplingRate(_ key: SourceKey) -> Double? { sources[key]?.effectiveRate }

    public var subAgents: [SubAgentKey] { agents.keys.sorted() }

    /// Lost flow and counter samples summed over a sub-agent's data sources.
    public func lostSamples(_ key: SubAgentKey) -> UInt64 {
        sources.filter { $0.key.subAgent == key }.reduce(0) { $0 + $1.value.samples.counts.lost }
    }
}
