// What the elephant loop keeps for the operator's view (the HTTP API, the web page, /metrics):
// a bounded ring of events with increasing ids, per sFlow agent accounting, when placements and
// sessions began, and the last 5 minutes of link utilization. Like everything of the loop, it is
// touched on the loop's event loop only; readers get value snapshots through `loop.submit`.
import Foundation
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import Packets
import SFlow

/// One event of the loop, rendered once as a JSON object.
public struct LoopEvent: Sendable {
    public var id: Int
    public var type: String
    /// `{"eventID":..,"timestamp":..,"type":..,...}`
    public var json: String
}

/// The last `capacity` events with consecutive ids (the first is 1). Long polls and SSE streams read
/// it at their own cursor, so a slow reader costs no memory: it is dropped once its cursor has left
/// the ring.
final class EventRing {
    let capacity: Int
    private var slots: [LoopEvent?]
    /// The id the next event gets.
    private(set) var nextID = 1
    private var waiters: [Int: EventLoopPromise<Void>] = [:]
    private var nextWaiter = 0
    /// Waiting long polls and streams, at most (the rest are refused with 503).
    let maxWaiters: Int

    init(capacity: Int = 10_000, maxWaiters: Int = 10_000) {
        self.capacity = max(1, capacity)
        self.maxWaiters = maxWaiters
        slots = [LoopEvent?](repeating: nil, count: self.capacity)
    }

    var latestID: Int { nextID - 1 }
    /// The oldest id still held (latestID + 1 when empty).
    var oldestID: Int { max(1, nextID - capacity) }
    var waiting: Int { waiters.count }

    func append(type: String, time: Double, _ body: (inout JSONWriter) -> Void = { _ in }) {
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.field("eventID", nextID)
        w.field("timestamp", Int64((time * 1000).rounded()))
        w.field("type", type)
        body(&w)
        w.endObject()
        slots[(nextID - 1) % capacity] = LoopEvent(id: nextID, type: type, json: String(decoding: w.bytes, as: UTF8.self))
        nextID += 1
        let ws = waiters
        waiters.removeAll()
        for (_, p) in ws { p.succeed(()) }
    }

    /// Events with an id above `after`, oldest first, at most `max`; `missed` when some were already
    /// overwritten.
    func events(after: Int, max n: Int) -> (events: [LoopEvent], missed: Bool) {
        let start = Swift.max(after + 1, oldestID)
        guard start <= latestID, n > 0 else { return ([], after + 1 < oldestID && latestID > 0) }
        let end = Swift.min(latestID, start + n - 1)
        var out: [LoopEvent] = []
        out.reserveCapacity(end - start + 1)
        for id in start...end { if let e = slots[(id - 1) % capacity] { out.append(e) } }
        return (out, after + 1 < start)
    }

    /// Completes every waiting long poll and stream (at shutdown: they then see `closing`).
    func wakeAll() {
        closing = true
        let ws = waiters
        waiters.removeAll()
        for (_, p) in ws { p.succeed(()) }
    }

    /// Set at shutdown: streams end, long polls answer at once.
    private(set) var closing = false

    /// A future that completes when an event after `after` exists, or after `timeout`. Nil when too
    /// many are already waiting.
    func wait(after: Int, timeout: TimeAmount, on loop: any EventLoop) -> EventLoopFuture<Void>? {
        if latestID > after || timeout <= .zero || closing { return loop.makeSucceededVoidFuture() }
        guard waiters.count < maxWaiters else { return nil }
        let p = loop.makePromise(of: Void.self)
        let id = nextWaiter
        nextWaiter += 1
        waiters[id] = p
        loop.scheduleTask(in: timeout) { [weak self] in
            if let p = self?.waiters.removeValue(forKey: id) { p.succeed(()) }
        }
        return p.futureResult
    }
}

/// Per sFlow sub-agent counts, kept from each datagram's header and sample headers (a cheap walk of
/// the framing; the analytics parse the samples themselves).
struct AgentTable {
    struct Entry {
        var datagrams: UInt64 = 0
        var flowSamples: UInt64 = 0
        var counterSamples: UInt64 = 0
        /// Drops the agent reports (flow_sample `drops`, per data source, latest values summed).
        var dropsBySource: [DataSource: UInt32] = [:]
        var nominalRate: UInt32 = 0
        var lastSeen: Double = 0
        var lastLost: UInt64 = 0
        var lastDrops: UInt64 = 0
        /// ifIndexes its counter samples describe (bounded): maps the sub-agent to a switch.
        var ifIndexes: Set<UInt32> = []
        var metrics: AgentMetrics
    }

    struct AgentMetrics {
        let datagrams, samples, lost, drops: Counter
        init(_ key: SubAgentKey) {
            let d = [("agent", "\(key.agent)/\(key.subAgentId)")]
            datagrams = Counter(label: "tusk_sflow_datagrams_total", dimensions: d)
            samples = Counter(label: "tusk_sflow_samples_total", dimensions: d)
            lost = Counter(label: "tusk_sflow_lost_datagrams_total", dimensions: d)
            drops = Counter(label: "tusk_sflow_agent_drops_total", dimensions: d)
        }
    }

    private(set) var entries: [SubAgentKey: Entry] = [:]
    private(set) var tracker = SequenceTracker()
    /// Sub-agents tracked, at most (a flood of forged agent addresses cannot grow the table).
    static let maxAgents = 4096

    /// Walks one datagram's framing (sFlow v5 `sample_datagram_v5`, `flow_sample`, `counters_sample`
    /// and their expanded forms); every length is checked against what remains.
    mutating func observe(_ bytes: UnsafeRawBufferPointer, wallTime: Double) {
        var r = WireReader(bytes)
        guard let h = try? SFlowDecoder.readDatagramHeader(&r) else { return }
        let key = SubAgentKey(agent: h.agent, subAgentId: h.subAgentId)
        if entries[key] == nil {
            guard entries.count < Self.maxAgents else { return }
            entries[key] = Entry(metrics: AgentMetrics(key))
        }
        tracker.observeDatagram(agent: h.agent, subAgentId: h.subAgentId, sequence: h.sequence, uptime: h.uptime)
        var flows: UInt64 = 0, counters: UInt64 = 0
        var n = 0
        while n < Int(h.sampleCount), let tag = r.readUInt32(), let len = r.readUInt32(), len <= UInt32(r.remaining),
              var s = r.readSlice(Int(len)) {
            n += 1
            // Enterprise 0: 1 flow_sample, 2 counters_sample, 3 flow_sample_expanded, 4 counters_sample_expanded.
            switch tag {
            case 1, 3:
                flows += 1
                if let f = try? SFlowDecoder.readFlowSampleHeader(&s, expanded: tag == 3) {
                    tracker.observeFlowSample(subAgent: key, source: f.source, sequence: f.sequence, samplePool: f.samplePool)
                    if entries[key]?.dropsBySource.count ?? 0 < 1024 || entries[key]?.dropsBySource[f.source] != nil {
                        entries[key]?.dropsBySource[f.source] = f.drops
                    }
                    entries[key]?.nominalRate = f.samplingRate
                }
            case 2, 4:
                counters += 1
                guard let seq = s.readUInt32() else { break }
                let source: DataSource
                if tag == 2 {
                    guard let id = s.readUInt32() else { break }
                    source = DataSource(type: id >> 24, index: id & 0x00FF_FFFF)
                } else {
                    guard let t = s.readUInt32(), let i = s.readUInt32() else { break }
                    source = DataSource(type: t, index: i)
                }
                tracker.observeCounterSample(subAgent: key, source: source, sequence: seq)
                if source.type == 0, entries[key]?.ifIndexes.count ?? 0 < 1024 { entries[key]?.ifIndexes.insert(source.index) }
            default:
                break
            }
        }
        guard var e = entries[key] else { return }
        e.datagrams += 1
        e.flowSamples += flows
        e.counterSamples += counters
        e.lastSeen = wallTime
        e.metrics.datagrams.increment()
        if flows + counters > 0 { e.metrics.samples.increment(by: Int64(flows + counters)) }
        let lost = tracker.datagramCounts(key)?.lost ?? 0
        if lost > e.lastLost { e.metrics.lost.increment(by: Int64(lost - e.lastLost)) }
        e.lastLost = lost
        let drops = e.dropsBySource.values.reduce(UInt64(0)) { $0 + UInt64($1) }
        if drops > e.lastDrops { e.metrics.drops.increment(by: Int64(drops - e.lastDrops)) }
        e.lastDrops = drops
        entries[key] = e
    }

    /// The effective sampling rate of a sub-agent: the mean over its flow data sources that have one.
    func effectiveRate(_ key: SubAgentKey) -> Double? {
        let rates = (entries[key]?.dropsBySource.keys).map { $0.compactMap { tracker.effectiveSamplingRate(SourceKey(subAgent: key, source: $0, isFlow: true)) } } ?? []
        return rates.isEmpty ? nil : rates.reduce(0, +) / Double(rates.count)
    }
}

/// The loop's state for the operator's view.
final class LoopAPIState {
    let startWall: Double
    let events = EventRing()
    var agents = AgentTable()
    /// When the policy in force was loaded (Unix seconds) and from where.
    var policyLoadedAt: Double
    var policySource: String
    var policyReloads = (ok: 0, failed: 0)
    /// When each placement was confirmed (Unix seconds), by flow.
    var placedSince: [FlowKey: Double] = [:]
    /// When each switch session became active, by datapath id.
    var switchUpSince: [UInt64: Double] = [:]
    var switchDownAt: [UInt64: Double] = [:]
    /// The last round's link loads (bits/s by directed link) and when it ran.
    var lastLoad: [Double] = []
    var lastRoundWall: Double?
    var lastRoundMillis: Double?
    /// Whether the last round's rearranging phases ran, and if not why (`ran`, `backing-off`,
    /// `settled`; nil for a selector without them), and rounds counted by that state.
    var lastRearranging: String?
    var rearrangingCounters: [String: Counter] = [:]
    /// Utilization history: (Unix time, utilization by directed link), the last 5 minutes.
    var history: [(time: Double, utilization: [Float])] = []
    static let historySeconds = 300.0
    /// Open SSE streams.
    var streams = 0
    static let maxStreams = 256
    /// Gauges of entries per switch, by datapath id.
    var entryGauges: [UInt64: (elephant: Gauge, fabric: Gauge)] = [:]
    /// Fabric entries per switch (index order), computed once.
    var fabricEntries: [Int]?

    init(startWall: Double, policySource: String) {
        self.startWall = startWall
        policyLoadedAt = startWall
        self.policySource = policySource
    }

    func recordHistory(_ load: [Double], capacities: [Double], at wall: Double) {
        let u = zip(load, capacities).map { l, c in Float(c > 0 ? l / c : 0) }
        history.append((wall, u))
        var drop = 0
        while drop < history.count, wall - history[drop].time > Self.historySeconds { drop += 1 }
        // At most one entry per 100 ms kept beyond that: a fast control interval cannot grow it.
        if history.count - drop > 3000 { drop = history.count - 3000 }
        if drop > 0 { history.removeFirst(drop) }
    }
}

/// One flow as `/activeflows` shows it, with names resolved on the loop.
struct FlowRow: Sendable {
    var key: FlowKey
    var bps: Double
    var errorPercent: Double
    var pps: Double
    var elephant: Bool
    var placed: Bool
    var links: [String]
    var path: [String]?
    /// Seconds since the first sample.
    var age: Double
    /// Agents that sampled it.
    var agents: [String]
}

/// The top flows the loop publishes once per round while API clients ask for them; requests read
/// them under a lock, without waiting for the loop.
final class PublishedFlows: Sendable {
    /// Flows kept: requests for more (or the first request) are answered on the loop.
    static let depth = 1000
    private struct State {
        var flows: [FlowRow] = []
        var time = 0.0
        var interval = 1.0
        var lastAsked = 0.0
    }
    private let box = NIOLockedValueBox(State())

    var lastAsked: Double { box.withLockedValue { $0.lastAsked } }

    func set(flows: [FlowRow], at wall: Double, interval: Double) {
        box.withLockedValue { $0.flows = flows; $0.time = wall; $0.interval = interval }
    }

    /// The published flows if they are fresh (published within two control intervals); notes the ask.
    func fresh(at wall: Double) -> [FlowRow]? {
        box.withLockedValue { s in
            s.lastAsked = wall
            return wall - s.time <= 2 * s.interval + 0.5 ? s.flows : nil
        }
    }
}
