import Packets

/// Per sub-agent counts, as `tusk sflow stats` prints them.
public struct SubAgentStats: Sendable, Equatable {
    public var datagrams: UInt64 = 0
    public var flowSamples: UInt64 = 0
    public var counterSamples: UInt64 = 0
    public var unknownSamples: UInt64 = 0
    public var lostDatagrams: UInt64 = 0
    public var lostSamples: UInt64 = 0
    public var outOfOrder: UInt64 = 0
    public var duplicates: UInt64 = 0
    public var resets: UInt64 = 0
    /// Samples skipped because their insides were malformed, plus datagrams cut short.
    public var malformed: UInt64 = 0
    public var unknownRecords: UInt64 = 0
    public init() {}
}

/// Everything an ingest run counts: per sub-agent figures, datagrams that were not sFlow at all,
/// and the effective sampling rates seen.
public struct IngestStats: Sendable {
    /// Counts kept per datagram; the loss and order figures are filled in from the tracker when
    /// read (computing them per datagram would cost a scan of every data source each time).
    private var counts: [SubAgentKey: SubAgentStats] = [:]

    /// Per sub-agent figures, loss and order accounting included.
    public var perSubAgent: [SubAgentKey: SubAgentStats] {
        var out = counts
        for (key, var s) in counts {
            if let c = tracker.datagramCounts(key) {
                s.lostDatagrams = c.lost
                s.outOfOrder = c.outOfOrder
                s.duplicates = c.duplicates
                s.resets = c.resets
            }
            s.lostSamples = tracker.lostSamples(key)
            out[key] = s
        }
        return out
    }
    /// Datagrams rejected before an agent could be named (not sFlow v5, or header cut short).
    public private(set) var notSFlow: UInt64 = 0
    public private(set) var tracker = SequenceTracker()

    public init() {}

    /// Adds the counts of another run over other sub-agents (see `SequenceTracker.merge`).
    public mutating func merge(_ other: IngestStats) {
        for (k, o) in other.counts {
            var s = counts[k] ?? SubAgentStats()
            s.datagrams += o.datagrams; s.flowSamples += o.flowSamples; s.counterSamples += o.counterSamples
            s.unknownSamples += o.unknownSamples; s.malformed += o.malformed; s.unknownRecords += o.unknownRecords
            counts[k] = s
        }
        notSFlow += other.notSFlow
        tracker.merge(other.tracker)
    }

    /// Records a datagram that could not be decoded at all.
    public mutating func recordRejected() { notSFlow += 1 }

    /// Records one decoded datagram.
    public mutating func record(_ d: DecodedDatagram) {
        let key = SubAgentKey(agent: d.datagram.agent, subAgentId: d.datagram.subAgentId)
        // Updated in place (one lookup a datagram).
        Self.count(d, into: &counts[key, default: SubAgentStats()])
        tracker.observe(d.datagram)
    }

    private static func count(_ d: DecodedDatagram, into s: inout SubAgentStats) {
        s.datagrams += 1
        s.malformed += UInt64(d.malformedSamples)
        // A framing error (not a per-sample one) also marks the datagram malformed.
        if d.issues.count > d.malformedSamples { s.malformed += 1 }
        for sample in d.datagram.samples {
            switch sample {
            case .flow(let f):
                s.flowSamples += 1
                for r in f.records { if case .unknown = r { s.unknownRecords += 1 } }
            case .counters(let c):
                s.counterSamples += 1
                for r in c.records { if case .unknown = r { s.unknownRecords += 1 } }
            case .unknown:
                s.unknownSamples += 1
            }
        }
    }

    public var totals: SubAgentStats {
        perSubAgent.values.reduce(into: SubAgentStats()) { t, s in
            t.datagrams += s.datagrams; t.flowSamples += s.flowSamples; t.counterSamples += s.counterSamples
            t.unknownSamples += s.unknownSamples; t.lostDatagrams += s.lostDatagrams; t.lostSamples += s.lostSamples
            t.outOfOrder += s.outOfOrder; t.duplicates += s.duplicates; t.resets += s.resets
            t.malformed += s.malformed; t.unknownRecords += s.unknownRecords
        }
    }

    /// Whether anything bad was seen (the exit status of the command line tools).
    public var sawBadInput: Bool { notSFlow > 0 || totals.malformed > 0 }

    public static let fieldNames = ["datagrams", "flowSamples", "counterSamples", "unknownSamples", "lostDatagrams",
                                    "lostSamples", "outOfOrder", "duplicates", "resets", "malformed", "unknownRecords"]

    public static func values(_ s: SubAgentStats) -> [UInt64] {
        [s.datagrams, s.flowSamples, s.counterSamples, s.unknownSamples, s.lostDatagrams, s.lostSamples,
         s.outOfOrder, s.duplicates, s.resets, s.malformed, s.unknownRecords]
    }

    public func write<W: StructuredWriter>(into w: inout W) {
        w.beginObject()
        w.key("agents")
        w.beginArray()
        for (key, s) in perSubAgent.sorted(by: { $0.key < $1.key }) {
            w.beginObject()
            w.field("agent", key.agent.description)
            w.field("subAgent", key.subAgentId)
            for (n, v) in zip(Self.fieldNames, Self.values(s)) { w.field(n, v) }
            w.endObject()
        }
        w.endArray()
        w.key("totals")
        w.beginObject()
        for (n, v) in zip(Self.fieldNames, Self.values(totals)) { w.field(n, v) }
        w.endObject()
        w.field("notSFlow", notSFlow)
        w.endObject()
    }
}
