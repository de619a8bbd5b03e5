// What a round decided, as JSON: the decision log of the daemon (`--decisions`, one object a line),
// `tusk replay --format json`, and later the HTTP view all write the same records, so an operator
// reads one shape everywhere. Flow fields are those `tusk flows` prints.
import Packets
import PathSelection
import Topology

/// One decision and what became of it.
public struct DecisionRecord: Sendable {
    public enum Status: String, Sendable {
        /// Decided; its flow-mods are on their way (or, in `tusk replay`, would be sent).
        case decided
        /// Every switch confirmed its entries with a barrier reply.
        case installed
        /// A switch refused an entry, or its session was gone: the flow stays on ECMP.
        case failed
        /// `--dry-run`: decided and logged, nothing sent.
        case dryRun = "dry-run"
    }

    public var id: Int
    /// Seconds: Unix time in the daemon, capture time in `tusk replay`.
    public var time: Double
    public var decision: RoundDecision
    public var status: Status
    public var error: String?
    /// Datapath ids of the switches that got entries for it.
    public var switches: [UInt64]
    /// Seconds from the flow's first sample to the last barrier reply that confirmed it.
    public var firstSampleToBarrier: Double?
    /// When the last barrier reply came (same clock as `time`).
    public var confirmedTime: Double?

    public init(id: Int, time: Double, decision: RoundDecision, status: Status, error: String? = nil, switches: [UInt64] = [],
                firstSampleToBarrier: Double? = nil) {
        self.id = id
        self.time = time
        self.decision = decision
        self.status = status
        self.error = error
        self.switches = switches
        self.firstSampleToBarrier = firstSampleToBarrier
    }

    /// The record as one JSON object.
    public func write<W: StructuredWriter>(_ fabric: ControlFabric, into w: inout W) {
        let d = decision.decision
        w.beginObject()
        w.field("id", id)
        w.field("time", (time * 1000).rounded() / 1000)
        RecordJSON.writeFlow(d.key, bps: decision.measuredBps, errorPercent: decision.errorPercent, into: &w)
        w.key("from")
        if let from = d.from { RecordJSON.writePath(from, fabric, into: &w) } else { w.null() }
        w.key("to")
        RecordJSON.writePath(d.to, fabric, into: &w)
        w.field("reason", d.reason.described(fabric))
        w.field("algorithm", d.reason.algorithm)
        w.field("gain", (d.reason.gain * 1000).rounded() / 1000)
        w.field("demandBps", d.reason.demand.rounded())
        w.key("links")
        RecordJSON.writeLinkChanges(decision.links, fabric, into: &w)
        w.field("status", status.rawValue)
        if let error { w.field("error", error) }
        if !switches.isEmpty {
            w.key("switches")
            w.beginArray()
            for s in switches { w.string(String(s, radix: 16)) }
            w.endArray()
        }
        if let s = firstSampleToBarrier { w.field("firstSampleToBarrierSeconds", (s * 1000).rounded() / 1000) }
        if let c = confirmedTime { w.field("confirmedTime", (c * 1000).rounded() / 1000) }
        w.endObject()
    }

    public func jsonLine(_ fabric: ControlFabric) -> String {
        var w = JSONWriter(capacity: 512)
        write(fabric, into: &w)
        return String(decoding: w.bytes, as: UTF8.self)
    }
}

public enum RecordJSON {
    /// `src`, `dst`, `proto`, `sport`, `dport`, `bps`, `errorPercent`, as `tusk flows` writes them.
    public static func writeFlow<W: StructuredWriter>(_ k: FlowKey, bps: Double, errorPercent: Double, into w: inout W) {
        w.field("src", k.src.description)
        w.field("dst", k.dst.description)
        w.field("proto", k.proto)
        w.field("sport", k.sport)
        w.field("dport", k.dport)
        w.field("bps", bps.rounded())
        w.field("errorPercent", (errorPercent * 10).rounded() / 10)
    }

    /// A path as the names of the nodes it visits: `["h1","l1","s1","l2","h3"]`.
    public static func writePath<W: StructuredWriter>(_ p: Path, _ fabric: ControlFabric, into w: inout W) {
        w.beginArray()
        for n in fabric.nodeNames(of: p) { w.string(n) }
        w.endArray()
    }

    public static func writeLinkChanges<W: StructuredWriter>(_ links: [LinkChange], _ fabric: ControlFabric, into w: inout W) {
        w.beginArray()
        for l in links {
            w.beginObject()
            w.field("link", fabric.name(of: l.link))
            w.field("before", (l.before * 1000).rounded() / 1000)
            w.field("after", (l.after * 1000).rounded() / 1000)
            w.endObject()
        }
        w.endArray()
    }
}

extension MoveReason {
    /// The reason with links named by the switches and hosts at their ends.
    public func described(_ fabric: ControlFabric) -> String {
        func pct(_ v: Double) -> String { "\(Int((v * 100).rounded()))%" }
        let hot = hotLink.map { "\(fabric.name(of: $0)) at \(pct(hotUtilization))" } ?? "old path at \(pct(hotUtilization))"
        let new = newPeakLink.map { "\(fabric.name(of: $0)) at \(pct(newUtilization))" } ?? pct(newUtilization)
        return "\(algorithm): \(hot) -> peak \(new), gain \(pct(gain)), demand \(Int((demand / 1e6).rounded())) Mbit/s"
    }
}
