#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Packets
import SFlow

/// Where a flow was sampled: one agent's data source. A flow seen by several switches has one
/// observation point per switch; its rate combines them (weighted by sampling probability, see
/// `FlowAnalytics.estimate`), never a sum.
public struct ObservationPoint: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var agent: IPAddress
    public var subAgentId: UInt32
    public var sourceIndex: UInt32

    public init(agent: IPAddress, subAgentId: UInt32, sourceIndex: UInt32) {
        self.agent = agent
        self.subAgentId = subAgentId
        self.sourceIndex = sourceIndex
    }

    public var description: String { "\(agent)/\(subAgentId)#\(sourceIndex)" }
    public static func < (a: Self, b: Self) -> Bool {
        (a.agent, a.subAgentId, a.sourceIndex) < (b.agent, b.subAgentId, b.sourceIndex)
    }
}

/// A port a flow crosses, as seen in its samples.
public struct FlowLink: Hashable, Sendable {
    public var port: AgentPort
    /// True when the flow entered the switch here; false when it left through it.
    public var input: Bool
}

public enum ElephantEventType: String, Sendable {
    case elephantStart, elephantEnd
}

public struct ElephantEvent: Sendable, Equatable {
    public var type: ElephantEventType
    public var time: Double
    public var flow: FlowKey
    public var bps: Double
    public var links: [FlowLink]
}

/// Two rates (bits and packets) over the same samples: one clock, one sample count.
struct DualRate {
    var bits: RateEstimator
    var packets: Double = 0

    init(start t: Double) { bits = RateEstimator(start: t) }

    @inline(__always)
    mutating func add(bits b: Double, packets p: Double, at t: Double, tau: Double) {
        // Decay the packet sum by the same factor the bit estimator applies.
        let before = bits.lastTime
        bits.add(b, at: t, tau: tau)
        if t > before { packets *= exp(-(t - before) / tau) }
        packets += p
    }

    func ppsRate(at t: Double, tau: Double, minWindow: Double) -> Double {
        let dt = max(0, t - bits.lastTime)
        let age = max(t - bits.firstTime, minWindow)
        return packets * exp(-dt / tau) / (tau * (1 - exp(-age / tau)))
    }
}

/// One observation point of a flow (interned ids keep the entry small and free of references).
struct PointState {
    var point: Int32
    /// Port id of the entry port seen at this point, or -1.
    var input: Int32
    var rate: DualRate
}

/// A port a flow was seen on: interned port id (negative: output direction, as ~id).
struct LinkSlot {
    var code: Int32
    var lastSeen: Double

    static let empty = LinkSlot(code: Int32.min, lastSeen: 0)
}

/// One flow's state in the cache. The common case (seen at one or two switches, a few ports) is
/// stored inline: one cache entry, no heap objects, so a sample touches few cache lines.
struct FlowEntry {
    var key: FlowKey
    var firstSeen: Double
    var lastSeen: Double
    var belowSince: Double?
    /// When the entry last moved to the front of the LRU list.
    var lastTouched: Double
    var elephant = false
    var live = true
    /// Sampled since its last evaluation (a new entry is).
    var fresh = true
    var linkCount: UInt8 = 0
    /// From its last evaluation, for skipping the next ones while it is not sampled (`evaluate(at:)`):
    /// an upper bound of what its estimate can reach, per unit of source loss factor; the samples
    /// behind it, all points together; and the lowest elephant threshold of the ports it may enter by.
    var quietBound = Double.infinity
    var quietSamples = Double.infinity
    var quietThreshold = 0.0
    var p0: PointState
    var morePoints: [PointState] = []
    var links: InlineArray<4, LinkSlot> = InlineArray(repeating: .empty)
    var moreLinks: [LinkSlot] = []

    /// What a free slot holds.
    static let dead: FlowEntry = {
        var e = FlowEntry(key: FlowKey(src: .v4(IPv4Address(0)), dst: .v4(IPv4Address(0)), proto: 0, sport: 0, dport: 0),
                          point: -1, input: -1, at: 0)
        e.live = false
        return e
    }()

    init(key: FlowKey, point: Int32, input: Int32, at t: Double) {
        self.key = key
        firstSeen = t
        lastSeen = t
        lastTouched = t
        // The first sample only starts the clock (see RateEstimator).
        p0 = PointState(point: point, input: input, rate: DualRate(start: t))
    }

    mutating func add(point: Int32, bits: Double, packets: Double, inPort: Int32, outPort: Int32, at t: Double, tau: Double) {
        if t > lastSeen { lastSeen = t }
        fresh = true
        if p0.point == point {
            p0.rate.add(bits: bits, packets: packets, at: t, tau: tau)
            if p0.input < 0 { p0.input = inPort }
        } else if let k = morePoints.firstIndex(where: { $0.point == point }) {
            morePoints[k].rate.add(bits: bits, packets: packets, at: t, tau: tau)
            if morePoints[k].input < 0 { morePoints[k].input = inPort }
        } else {
            morePoints.append(PointState(point: point, input: inPort, rate: DualRate(start: t)))
        }
        noteLinks(inPort: inPort, outPort: outPort, at: t)
    }

    mutating func noteLinks(inPort: Int32, outPort: Int32, at t: Double) {
        if inPort >= 0 { note(inPort, t) }
        if outPort >= 0 { note(~outPort, t) }
    }

    private mutating func note(_ code: Int32, _ t: Double) {
        let n = Int(linkCount)
        for i in 0..<min(n, 4) where links[i].code == code {
            links[i].lastSeen = t
            return
        }
        if let k = moreLinks.firstIndex(where: { $0.code == code }) {
            moreLinks[k].lastSeen = t
            return
        }
        if n < 4 {
            links[n] = LinkSlot(code: code, lastSeen: t)
            linkCount += 1
        } else {
            moreLinks.append(LinkSlot(code: code, lastSeen: t))
        }
    }

    var allLinks: [LinkSlot] {
        var out: [LinkSlot] = []
        for i in 0..<Int(linkCount) { out.append(links[i]) }
        return out + moreLinks
    }

    /// Forgets links not seen for `timeout` seconds.
    mutating func expireLinks(at t: Double, timeout: Double) {
        var stale = false
        for i in 0..<Int(linkCount) where t - links[i].lastSeen > timeout { stale = true }
        if !stale, !moreLinks.contains(where: { t - $0.lastSeen > timeout }) { return }
        let keep = allLinks.filter { t - $0.lastSeen <= timeout }
        linkCount = 0
        links = InlineArray(repeating: .empty)
        moreLinks = []
        for l in keep { note(l.code, l.lastSeen) }
    }

    func forEachPoint(_ body: (PointState) -> Void) {
        body(p0)
        for p in morePoints { body(p) }
    }
}

/// Flow analytics: per-flow rates and links from packet samples, per-port load from samples
/// and counters, and elephant events with hysteresis. Pure and deterministic: time comes in with
/// every call (the capture's clock, the simulator's clock, or the daemon's).
public struct FlowAnalytics {
    public var config: AnalyticsConfig {
        didSet { configChanges &+= 1 }
    }
    /// Counts changes of `config` (for `estimates`).
    private var configChanges = 0
    public private(set) var ports = PortMap()
    // Interned ports (agent, ifIndex) and observation points, so flow entries hold small ids.
    private var portIDs: [AgentPort: Int32] = [:]
    /// Tells these analytics from others for `portSlotGeneration` (never used for a result).
    private let instance = UInt64.random(in: 1...UInt64.max)
    private var portTable: [AgentPort] = []
    var loads: [PortLoad] = []
    private var pointIDs: [ObservationPoint: Int32] = [:]
    // By point id: the point, and its data source's sampling rate and sample loss.
    private var pointTable: [ObservationPoint] = []
    var sources: [SourceLoss] = []
    private var statedSpeeds: [DpidPort: Double] = [:]
    // The same ids by agent and index, for the per-sample path (`AgentIDs`). Points by agent and
    // sub-agent, and data source index.
    var portsByAgent = AgentIDs<IPAddress>()
    var pointsByAgent = AgentIDs<AgentAndSubAgent>()

    /// Per-port loads by agent and ifIndex.
    public var portLoads: [AgentPort: PortLoad] {
        Dictionary(uniqueKeysWithValues: zip(portTable, loads))
    }

    /// Flow entries by slot; free slots hold a dead entry (`live == false`). Non-optional, so a
    /// field can be read or updated in place without copying the entry.
    var slots: [FlowEntry] = []
    // The LRU list lives beside the entries (prev/next by slot), so moving a flow to the front
    // touches two integers rather than copying its entry.
    private var prevs: [Int32] = []
    private var nexts: [Int32] = []
    private var free: [Int32] = []
    var index: FlowIndex
    private var head: Int32 = -1  // most recently seen
    private var tail: Int32 = -1  // least recently seen
    public private(set) var evictions = 0
    public private(set) var expired = 0
    public private(set) var samplesIngested = 0
    /// Each slot's estimate (bps, pps, samples) from the last `evaluate(at:)` that estimated it, and
    /// what they hold for: the evaluation's time, the samples ingested and the settings' changes by
    /// then. Every elephant is estimated at every evaluation; a control round that asks for the
    /// elephants at the same time, with nothing ingested or changed since, takes their estimates
    /// from here instead of making them again (the same function of the same state: the same bits).
    private var estimates: [FlowEntry.Estimate] = []
    private var estimatesHold: (t: Double, samples: Int, configChanges: Int)?
    public private(set) var samplesWithoutKey = 0
    private var pendingEvents: [ElephantEvent] = []

    /// Seconds: the LRU order is exact to this resolution.
    static let lruResolution = 1.0

    public init(config: AnalyticsConfig = AnalyticsConfig()) {
        self.config = config
        index = FlowIndex(capacity: min(config.maxFlows, 1 << 16), seed: config.hashSeed)
    }

    public var flowCount: Int { index.count }

    // MARK: Ingest

    /// Ingests a raw datagram: flow samples through the fast scanner, counter samples decoded.
    /// Returns false when the datagram was not usable sFlow.
    @discardableResult
    public mutating func ingest(datagram bytes: UnsafeRawBufferPointer, at t: Double) -> Bool {
        guard let counts = try? SFlowDecoder.scanFlowSamples(bytes, { s in
            ingestFlowSample(s, at: t)
        }) else { return false }
        if counts.counterSamples > 0, let d = try? SFlowDecoder.decode(bytes) {
            for case .counters(let c) in d.datagram.samples {
                ingestCounters(c, agent: d.datagram.agent, uptime: d.datagram.uptime, at: t)
            }
        }
        return true
    }

    /// Ingests one flow sample: scales the sampled frame by the sample's own sampling rate
    /// (switches change it under load), updates the port loads and the flow's estimate.
    public mutating func ingestFlowSample(_ s: borrowing FlowSampleSummary, at t: Double) {
        ingestFlowSample(s, key: s.header.flowKey.map { config.keySpec.project($0) }, at: t)
    }

    /// `ingestFlowSample(_:at:)` with the sample's flow key already read and projected by the key
    /// spec (nil: the header has none).
    mutating func ingestFlowSample(_ s: borrowing FlowSampleSummary, key: FlowKey?, at t: Double) {
        samplesIngested += 1
        let rate = Double(max(1, s.sample.samplingRate))
        let tau = config.timeConstant
        // The data source's sequence numbers tell its lost samples (every sample counts, with a
        // flow key or without).
        let agentSlot = pointsByAgent.slot(AgentAndSubAgent(agent: s.agent, subAgentId: s.subAgentId))
        let point: Int32
        if let p = pointsByAgent.id(slot: agentSlot, index: s.sample.source.index) {
            point = p
            sources[Int(point)].observe(sequence: s.sample.sequence, uptime: s.uptime, samplingRate: rate, at: t, tau: tau)
        } else {
            let op = ObservationPoint(agent: s.agent, subAgentId: s.subAgentId, sourceIndex: s.sample.source.index)
            if let p = pointIDs[op] {
                point = p
                sources[Int(point)].observe(sequence: s.sample.sequence, uptime: s.uptime, samplingRate: rate, at: t, tau: tau)
            } else {
                point = Int32(pointTable.count)
                pointIDs[op] = point
                pointTable.append(op)
                sources.append(SourceLoss(sequence: s.sample.sequence, uptime: s.uptime, samplingRate: rate, at: t))
            }
            pointsByAgent.remember(slot: agentSlot, index: op.sourceIndex, id: point)
        }
        let bits = Double(s.frameLength) * 8 * rate
        // Port loads from samples stand in for what the source saw: the samples it lost lately
        // are made up for here (flow rates are compensated when they are evaluated).
        let portBits = bits * sources[Int(point)].factor
        var inPort: Int32 = -1
        if let i = s.sample.input.singleIfIndex {
            inPort = portID(AgentPort(agent: s.agent, ifIndex: i))
            loads[Int(inPort)].addSample(bits: portBits, input: true, at: t, tau: tau)
        }
        var outPort: Int32 = -1
        // Output "discarded" with reason 256 is how some switches report a packet sent through a
        // group: the port is unknown, not dropped. Either way no single output port is known.
        if let o = s.sample.output.singleIfIndex {
            outPort = portID(AgentPort(agent: s.agent, ifIndex: o))
            loads[Int(outPort)].addSample(bits: portBits, input: false, at: t, tau: tau)
        }
        guard let key else {
            samplesWithoutKey += 1
            return
        }
        if let existing = lookup(key) {
            // Keeping the LRU order costs a few random memory accesses; at most one move a second
            // per flow keeps it exact to that resolution at a fraction of the cost.
            if t - slots[Int(existing)].lastTouched >= Self.lruResolution {
                touch(existing)
                slots[Int(existing)].lastTouched = t
            }
            slots[Int(existing)].add(point: point, bits: bits, packets: rate, inPort: inPort, outPort: outPort, at: t, tau: tau)
        } else {
            // The first sample only starts the flow's clock (see RateEstimator): it names links,
            // but adds neither bits nor a sample.
            var e = FlowEntry(key: key, point: point, input: inPort, at: t)
            e.noteLinks(inPort: inPort, outPort: outPort, at: t)
            _ = insert(e)
        }
    }

    @inline(__always)
    private func lookup(_ key: FlowKey) -> Int32? {
        slots.withUnsafeBufferPointer { buf in
            index.find(key) { s in buf[Int(s)].key }
        }
    }

    @inline(__always)
    private mutating func portID(_ p: AgentPort) -> Int32 {
        let agentSlot = portsByAgent.slot(p.agent)
        if let id = portsByAgent.id(slot: agentSlot, index: p.ifIndex) { return id }
        let id: Int32
        if let found = portIDs[p] {
            id = found
        } else {
            id = Int32(portTable.count)
            portIDs[p] = id
            portTable.append(p)
            loads.append(PortLoad())
        }
        portsByAgent.remember(slot: agentSlot, index: p.ifIndex, id: id)
        return id
    }

    func link(_ l: LinkSlot) -> FlowLink {
        l.code >= 0 ? FlowLink(port: portTable[Int(l.code)], input: true) : FlowLink(port: portTable[Int(~l.code)], input: false)
    }

    /// Ingests a counter sample: learns port identities (1004/1005) and counter rates (1).
    public mutating func ingestCounters(_ c: CounterSample, agent: IPAddress, uptime: UInt32, at t: Double) {
        let known = ports.count
        let moved = ports.learn(agent: agent, counters: c, at: t)
        for r in c.records {
            if case .genericInterface(let g) = r {
                let id = portID(AgentPort(agent: agent, ifIndex: g.ifIndex))
                loads[Int(id)].addCounters(g, uptime: uptime, at: t, cfg: config)
            }
        }
        if ports.count != known || moved { applyStatedSpeeds() }
    }

    /// Maps an ifIndex by hand (for switches that send no 1004/1005 records).
    public mutating func setPortIdentity(_ p: AgentPort, _ id: PortIdentity) {
        ports.set(p, id)
        _ = portID(p)
        applyStatedSpeeds()
    }

    // MARK: Cache

    private mutating func insert(_ e: FlowEntry) -> Int32 {
        if index.count >= config.maxFlows, tail >= 0 {
            remove(tail)
            evictions += 1
        }
        let slot: Int32
        if let f = free.popLast() {
            slot = f
            slots[Int(f)] = e
        } else {
            slot = Int32(slots.count)
            slots.append(e)
            prevs.append(-1)
            nexts.append(-1)
        }
        index.insert(e.key, slot: slot)
        linkFront(slot)
        return slot
    }

    private mutating func remove(_ slot: Int32) {
        guard slots[Int(slot)].live else { return }
        let key = slots[Int(slot)].key
        unlink(slot)
        index.remove(key, slot: slot)
        slots[Int(slot)] = FlowEntry.dead
        free.append(slot)
    }

    private mutating func touch(_ slot: Int32) {
        guard head != slot else { return }
        unlink(slot)
        linkFront(slot)
    }

    private mutating func linkFront(_ slot: Int32) {
        prevs[Int(slot)] = -1
        nexts[Int(slot)] = head
        if head >= 0 { prevs[Int(head)] = slot }
        head = slot
        if tail < 0 { tail = slot }
    }

    private mutating func unlink(_ slot: Int32) {
        let p = prevs[Int(slot)], n = nexts[Int(slot)]
        if p >= 0 { nexts[Int(p)] = n } else { head = n }
        if n >= 0 { prevs[Int(n)] = p } else { tail = p }
        prevs[Int(slot)] = -1
        nexts[Int(slot)] = -1
    }

    // MARK: Evaluation

    /// The estimate of a flow, combined over the observation points that sample it.
    func estimate(_ e: FlowEntry, at t: Double) -> (bps: Double, pps: Double, samples: Double, entry: Int32) {
        Self.estimate(e, at: t, config: config, sources: sources)
    }

    /// What one observation point contributes to a flow's combined estimate.
    ///
    /// Point i samples the flow's packets independently with probability p_i = 1/N_i, and keeps
    /// a share 1/f_i of its samples (f_i = n/(n−k), its data source's loss factor), so it sees each
    /// packet with probability q_i = p_i/f_i. Its sum S_i (sampled bits × N_i, decayed with τ)
    /// over its exposure W_i = τ(1−e^(−age/τ)) estimates the rate as f_i·S_i/W_i, with variance
    /// ∝ 1/(q_i·W_i). Weighing each point by q_i·W_i (inverse variance, and fixed in advance:
    /// not by how many samples it happened to get) gives
    ///     rate = Σ f_i·q_i·S_i / Σ q_i·W_i = Σ (S_i/N_i) / Σ (W_i/(N_i·f_i)),
    /// unbiased whatever the points' sampling rates, with a 95 % bound of 196·√(1/Σ n_i) %.
    struct PointTerms {
        /// f_i·q_i·S_i and the same for packets.
        var bits: Double
        var packets: Double
        /// q_i·W_i, and q_i·W(minWindow) (the floor of a young flow's window).
        var exposure: Double
        var floor: Double
        var q: Double
        var samples: Double
        var lastSample: Double

        /// `floorWindow` is τ(1−e^(−minWindow/τ)) (`floorWindow(config)`).
        init(_ p: PointState, at t: Double, config: AnalyticsConfig, floorWindow: Double, source: SourceLoss) {
            let tau = config.timeConstant
            let decay = exp(-max(0, t - p.rate.bits.lastTime) / tau)
            let n = source.samplingRate
            q = 1 / (n * source.factor)
            bits = p.rate.bits.sum * decay / n
            packets = p.rate.packets * decay / n
            exposure = q * tau * (1 - exp(-max(0, t - p.rate.bits.firstTime) / tau))
            floor = q * floorWindow
            samples = p.rate.bits.effectiveSamples * decay
            lastSample = p.rate.bits.lastTime
        }
    }

    /// Whether point terms `p` still sample the flow at time `t`, given the flow's packet rate: a
    /// point that has sent no sample for `pointTimeout` and for five of its expected gaps between
    /// samples no longer sees the flow (the flow moved to another path), and its decaying
    /// estimate would only pull the others down.
    static func floorWindow(_ config: AnalyticsConfig) -> Double {
        config.timeConstant * (1 - exp(-config.minWindow / config.timeConstant))
    }

    static func isCurrent(_ p: PointTerms, at t: Double, pps: Double, config: AnalyticsConfig) -> Bool {
        let perSecond = pps * p.q
        let gap = perSecond > 0 ? max(config.pointTimeout, 5 / perSecond) : .infinity
        return t - p.lastSample <= gap
    }

    static func estimate(_ e: FlowEntry, at t: Double, config: AnalyticsConfig, sources: [SourceLoss]) -> (bps: Double, pps: Double, samples: Double, entry: Int32) {
        let x = estimate(e, at: t, config: config, sources: sources, floorWindow: floorWindow(config))
        return (x.bps, x.pps, x.samples, x.entry)
    }

    /// The estimate, and what bounds it while no new sample comes (`quiet`): the largest of the
    /// points' rates f_i·S_i/W_i divided by their loss factors f_i, and the samples of all points.
    ///
    /// Without a new sample, S_i only decays and the exposure W_i only grows, so each point's
    /// S_i/W_i falls. A combined estimate, over whichever points are current, is Σ f_i·q_i·S_i over
    /// at least Σ q_i·W_i, at most the largest f_i·S_i/W_i of its points (a ratio of sums is at most
    /// the largest ratio): so at most (largest loss factor then) × `quiet.bound`. Its samples only
    /// decay, and are a part of `quiet.samples`. The sampling rates N_i cancel out.
    static func estimate(_ e: FlowEntry, at t: Double, config: AnalyticsConfig, sources: [SourceLoss], floorWindow fw: Double)
        -> (bps: Double, pps: Double, samples: Double, entry: Int32, quietBound: Double, quietSamples: Double) {
        // Pass 1: every point, for the flow's packet rate.
        var bits = 0.0, packets = 0.0, exposure = 0.0, floor = 0.0, samples = 0.0
        var count = 0
        var oldest = Double.infinity
        var entry = e.p0.input, most = -1.0
        var bound = 0.0
        e.forEachPoint { p in
            let source = sources[Int(p.point)]
            let x = PointTerms(p, at: t, config: config, floorWindow: fw, source: source)
            bits += x.bits; packets += x.packets; exposure += x.exposure; floor += x.floor; samples += x.samples
            count += 1
            oldest = min(oldest, x.lastSample)
            if x.samples > most, p.input >= 0 { most = x.samples; entry = p.input }
            if x.bits > 0 { bound = max(bound, x.exposure > 0 ? x.bits / (x.exposure * source.factor) : .infinity) }
        }
        let quietSamples = max(0, samples)
        let window = max(exposure, floor)
        guard window > 0 else { return (0, 0, 0, e.p0.input, bound, quietSamples) }
        var bps = bits / window, pps = packets / window
        // Every point sampled the flow within `pointTimeout`: all are current (the common case).
        if count == 1 || t - oldest <= config.pointTimeout { return (bps, pps, max(0, samples), entry, bound, quietSamples) }
        // Pass 2: only the points that still see the flow (all of them when none does).
        var b = 0.0, pk = 0.0, ex = 0.0, fl = 0.0, n = 0.0
        var currentEntry = entry
        most = -1
        let allPps = pps
        e.forEachPoint { p in
            let x = PointTerms(p, at: t, config: config, floorWindow: fw, source: sources[Int(p.point)])
            guard isCurrent(x, at: t, pps: allPps, config: config) else { return }
            b += x.bits; pk += x.packets; ex += x.exposure; fl += x.floor; n += x.samples
            if x.samples > most, p.input >= 0 { most = x.samples; currentEntry = p.input }
        }
        if max(ex, fl) > 0 {
            bps = b / max(ex, fl)
            pps = pk / max(ex, fl)
            samples = n
            entry = currentEntry
        }
        return (bps, pps, max(0, samples), entry, bound, quietSamples)
    }

    /// Speed of a port in bits per second: the override, else ifSpeed, else the default.
    public func speed(of p: AgentPort?) -> Double {
        Self.speed(of: p.flatMap { portIDs[$0] } ?? -1, config: config, loads: loads)
    }

    /// The link speed stated for an OpenFlow port (from the topology file): used instead of the
    /// ifSpeed the switch reports, which is wrong for shaped and virtual links.
    public mutating func setLinkSpeed(dpid: UInt64, port: UInt32, bps: Double) {
        statedSpeeds[DpidPort(dpid: dpid, port: port)] = bps
        applyStatedSpeeds()
    }

    /// Copies stated speeds onto the ports whose identity is known (again as identities are learned).
    private mutating func applyStatedSpeeds() {
        guard !statedSpeeds.isEmpty else { return }
        for (i, p) in portTable.enumerated() {
            guard let id = ports[p], let d = id.datapathId, let n = id.portNo,
                  let bps = statedSpeeds[DpidPort(dpid: d, port: n)] else { continue }
            loads[i].statedSpeed = bps
        }
    }

    static func speed(of id: Int32, config: AnalyticsConfig, loads: [PortLoad]) -> Double {
        if let o = config.linkSpeedOverride { return o }
        if id >= 0, Int(id) < loads.count {
            if let s = loads[Int(id)].statedSpeed { return s }
            if let s = loads[Int(id)].ifSpeed, s > 0 { return Double(s) }
        }
        return config.defaultLinkSpeed
    }

    /// Advances to time `t`: expires idle flows and stale links, and applies the elephant rules.
    /// Returns the events since the last call, in order.
    public mutating func evaluate(at t: Double) -> [ElephantEvent] {
        // Idle expiry from the least recently seen end.
        while tail >= 0, case let e = slots[Int(tail)], e.live, t - e.lastSeen > config.idleTimeout {
            if e.elephant {
                pendingEvents.append(ElephantEvent(type: .elephantEnd, time: t, flow: e.key, bps: 0, links: e.allLinks.map { link($0) }))
            }
            remove(tail)
            expired += 1
        }
        let cfg = config
        let loads = self.loads
        let sources = self.sources
        let fw = Self.floorWindow(cfg)
        // A flow that is not an elephant and was not sampled since its last evaluation stays what it
        // is while its bound (see `estimate`) times the largest loss factor of any source is at or
        // below its threshold, or its samples are fewer than `minSamples`: it is not estimated again.
        // That holds while time goes forward and the settings and port speeds behind the thresholds
        // stay as they were; otherwise every flow is evaluated.
        var speeds = [Double](repeating: 0, count: loads.count)
        for i in loads.indices { speeds[i] = Self.speed(of: Int32(i), config: cfg, loads: loads) }
        let settings = EvaluationSettings(cfg)
        let quiet = !evaluatesEveryFlow && t >= lastEvaluation && settings == lastSettings && speeds.starts(with: lastSpeeds)
        var factor = 1.0
        for s in sources { factor = max(factor, s.factor) }
        let margin = factor * (1 + 1e-6)
        if estimates.count != slots.count { estimates = Array(repeating: (0, 0, 0), count: slots.count) }
        // Each flow's evaluation reads and changes its own entry alone: many flows are evaluated on
        // two threads, half of the slots each, and their events put in slot order after, as on one.
        var entries: [FlowEntry] = [], made: [FlowEntry.Estimate] = []
        swap(&entries, &slots)
        swap(&made, &estimates)
        var transitions: [FlowEntry.Transition] = [], skipped = 0
        let n = entries.count, parallel = n >= parallelEvaluationFrom
        entries.withUnsafeMutableBufferPointer { e in
            made.withUnsafeMutableBufferPointer { m in
                func evaluate(_ range: Range<Int>) -> (transitions: [FlowEntry.Transition], skipped: Int) {
                    var out: [FlowEntry.Transition] = [], skipped = 0
                    for i in range where e[i].live {
                        if quiet && !e[i].fresh && !e[i].elephant
                            && (e[i].quietSamples < cfg.minSamples || e[i].quietBound * margin <= e[i].quietThreshold) {
                            // Its links expire as they would have (the only other thing an evaluation changes).
                            e[i].expireLinks(at: t, timeout: cfg.linkTimeout)
                            skipped += 1
                            continue
                        }
                        if let ev = e[i].evaluate(at: t, config: cfg, speeds: speeds, sources: sources, floorWindow: fw, estimate: &m[i]) {
                            out.append(ev)
                        }
                    }
                    return (out, skipped)
                }
                if !parallel {
                    (transitions, skipped) = evaluate(0..<n)
                } else {
                    var first: (transitions: [FlowEntry.Transition], skipped: Int) = ([], 0), second = first
                    inParallel({ first = evaluate(0..<(n / 2)) }, { second = evaluate((n / 2)..<n) })
                    transitions = first.transitions + second.transitions
                    skipped = first.skipped + second.skipped
                }
            }
        }
        swap(&entries, &slots)
        swap(&made, &estimates)
        for ev in transitions {
            pendingEvents.append(ElephantEvent(type: ev.type, time: t, flow: ev.key, bps: ev.bps, links: ev.links.map { link($0) }))
        }
        lastEvaluation = t
        estimatesHold = (t, samplesIngested, configChanges)
        lastSettings = settings
        lastSpeeds = speeds
        lastSkipped = skipped
        defer { pendingEvents.removeAll() }
        return pendingEvents
    }

    /// Flows the last `evaluate(at:)` did not estimate again (not sampled since, and unable to
    /// become elephants).
    public private(set) var lastSkipped = 0
    /// Estimates every flow at every evaluation (tests compare the two ways).
    var evaluatesEveryFlow = false
    private var lastEvaluation = -Double.infinity
    private var lastSettings: EvaluationSettings?
    private var lastSpeeds: [Double] = []

    /// The settings an evaluation's outcome depends on.
    struct EvaluationSettings: Equatable {
        var threshold: RateSpec
        var timeConstant, minWindow, lowMarkFraction, holdTime, minSamples, pointTimeout, defaultLinkSpeed: Double
        var linkSpeedOverride: Double?

        init(_ c: AnalyticsConfig) {
            threshold = c.threshold
            timeConstant = c.timeConstant
            minWindow = c.minWindow
            lowMarkFraction = c.lowMarkFraction
            holdTime = c.holdTime
            minSamples = c.minSamples
            pointTimeout = c.pointTimeout
            defaultLinkSpeed = c.defaultLinkSpeed
            linkSpeedOverride = c.linkSpeedOverride
        }
    }

    // MARK: Reports

    public struct FlowReport: Sendable {
        public var key: FlowKey
        public var bps: Double
        public var pps: Double
        public var samples: Double
        public var errorPercent: Double
        public var elephant: Bool
        public var links: [FlowLink]
        public var firstSeen: Double
        public var lastSeen: Double
        /// `links` by the analytics' own numbers: the port's slot (see `portSlot(dpid:port:)`) where
        /// the flow entered the switch, its complement (`~slot`, negative) where it left. They mean
        /// something only to the analytics that made the report (`portSlotGeneration.instance`):
        /// a control round keeps what it learns of each port by them, instead of hashing ports.
        public var linkSlots: [Int32]
    }

    /// Flows sorted by rate, highest first.
    public func flows(at t: Double, limit: Int = .max) -> [FlowReport] {
        var out: [FlowReport] = []
        out.reserveCapacity(min(index.count, limit))
        for e in slots where e.live { out.append(report(e, at: t)) }
        out.sort { $0.bps != $1.bps ? $0.bps > $1.bps : $0.key < $1.key }
        return Array(out.prefix(limit))
    }

    /// The elephants only, in the order `flows(at:)` gives them (highest rate first): what a control
    /// round reads, without building a report for every mouse.
    public func elephants(at t: Double) -> [FlowReport] {
        elephants(at: t, links: true)
    }

    /// `elephants(at:)`, with their links or without (then empty): a control round needs them only
    /// for the flows it has not placed itself, and asks for those (`links(of:at:)`) once it has
    /// placed any.
    /// Many elephants are estimated on two threads, half each (each estimate reads its own flow
    /// alone, and the reports are sorted after): the same reports as on one.
    public func elephants(at t: Double, links: Bool) -> [FlowReport] {
        var which: [Int32] = []
        for i in slots.indices where slots[i].live && slots[i].elephant { which.append(Int32(i)) }
        let evaluated = estimatesHold.map { $0 == (t, samplesIngested, configChanges) } ?? false
        func reports(_ part: ArraySlice<Int32>) -> [FlowReport] {
            var out: [FlowReport] = []
            out.reserveCapacity(part.count)
            // (Each entry read in place: see `report(at:at:estimate:links:)`.)
            slots.withUnsafeBufferPointer { entries in
                for i in part {
                    out.append(report(at: entries.baseAddress! + Int(i), at: t, estimate: evaluated ? estimates[Int(i)] : nil, links: links))
                }
            }
            return out
        }
        var out: [FlowReport]
        if which.count < parallelReportsFrom {
            out = reports(which[...])
        } else {
            let half = which.count / 2
            var first: [FlowReport] = [], second: [FlowReport] = []
            inParallel({ first = reports(which[..<half]) }, { second = reports(which[half...]) })
            out = first
            out.append(contentsOf: second)
        }
        // By rate, then key (a total order: keys are unique). The indices are sorted, not the
        // reports: a report is a large value, and moving them was most of the sort's time.
        let order = out.withUnsafeBufferPointer { r in
            out.indices.sorted { a, b in r[a].bps != r[b].bps ? r[a].bps > r[b].bps : r[a].key < r[b].key }
        }
        return order.map { out[$0] }
    }

    /// From this many elephants on, `elephants(at:links:)` estimates them on two threads (tests set
    /// it to compare).
    var parallelReportsFrom = 1024
    /// From this many slots on, `evaluate(at:)` evaluates them on two threads (tests set it to compare).
    var parallelEvaluationFrom = 2048

    /// Changes whenever a tracked flow may have stopped being tracked (evicted, or expired) or a key
    /// may name another flow (new settings), and differs from one analytics to another. While it is
    /// the same, `lastSeen(_:)` of a key that had an answer still has one, and never an earlier one:
    /// a reader that knows the oldest of many flows' answers need not ask again for each.
    public var trackingGeneration: TrackingGeneration {
        TrackingGeneration(instance: instance, removals: evictions &+ expired, configChanges: configChanges)
    }

    /// When a tracked flow was last sampled (nil: not tracked): `flow(_:at:)`'s `lastSeen` without
    /// the estimate and the report.
    public func lastSeen(_ key: FlowKey) -> Double? {
        let k = config.keySpec.project(key)
        guard let s = lookup(k), slots[Int(s)].live else { return nil }
        return slots[Int(s)].lastSeen
    }

    /// `FlowReport.links` and `linkSlots` of one tracked flow, as `flow(_:at:)` gives them, without
    /// its estimate (none when the flow is not tracked).
    public func links(of key: FlowKey, at t: Double) -> (links: [FlowLink], slots: [Int32]) {
        let k = config.keySpec.project(key)
        guard let s = lookup(k), slots[Int(s)].live else { return ([], []) }
        return slots.withUnsafeBufferPointer { liveLinks(at: $0.baseAddress! + Int(s), at: t) }
    }

    /// The state of one flow, if tracked.
    public func flow(_ key: FlowKey, at t: Double) -> FlowReport? {
        let k = config.keySpec.project(key)
        guard let s = lookup(k), case let e = slots[Int(s)], e.live else { return nil }
        return report(e, at: t)
    }

    /// One observation point's own estimate of a flow (a point far from the others is a finding:
    /// a drop between them, a mirror, or a misconfigured sampling rate).
    public struct PointReport: Sendable {
        public var point: ObservationPoint
        /// The port the flow entered by at this point, when the samples name it.
        public var entry: AgentPort?
        /// This point's estimate alone, compensated for its source's lost samples.
        public var bps: Double
        public var pps: Double
        public var samples: Double
        public var errorPercent: Double
        /// 1-in-N of the source's last sample.
        public var samplingRate: Double
        /// Share of the source's recent samples that were lost (n − received) / n.
        public var lossShare: Double
        /// n / (n − k): the factor the estimate was scaled by.
        public var lossFactor: Double
        public var lastSeen: Double
        /// Whether it still sees the flow and counts in the combined estimate.
        public var current: Bool
    }

    /// The per-point estimates of one flow, ordered by point.
    public func points(_ key: FlowKey, at t: Double) -> [PointReport] {
        let k = config.keySpec.project(key)
        guard let s = lookup(k), case let e = slots[Int(s)], e.live else { return [] }
        let flowPps = estimate(e, at: t).pps
        // The rate over all points decides which are current (as in `estimate`).
        var all = 0.0, window = 0.0, floor = 0.0
        let fw = Self.floorWindow(config)
        e.forEachPoint { p in
            let x = PointTerms(p, at: t, config: config, floorWindow: fw, source: sources[Int(p.point)])
            all += x.packets; window += x.exposure; floor += x.floor
        }
        let allPps = max(window, floor) > 0 ? all / max(window, floor) : flowPps
        var out: [PointReport] = []
        e.forEachPoint { p in
            let src = sources[Int(p.point)]
            let x = PointTerms(p, at: t, config: config, floorWindow: fw, source: src)
            let w = max(x.exposure, x.floor)
            out.append(PointReport(point: pointTable[Int(p.point)], entry: p.input >= 0 ? portTable[Int(p.input)] : nil,
                                   bps: w > 0 ? x.bits / w : 0, pps: w > 0 ? x.packets / w : 0, samples: x.samples,
                                   errorPercent: RateEstimator.errorPercent(samples: x.samples), samplingRate: src.samplingRate,
                                   lossShare: src.lossShare, lossFactor: src.factor, lastSeen: x.lastSample,
                                   current: Self.isCurrent(x, at: t, pps: allPps, config: config)))
        }
        return out.sorted { $0.point < $1.point }
    }

    /// Sample loss of one flow-sample data source (from its sequence numbers).
    public struct SourceReport: Sendable {
        public var point: ObservationPoint
        public var samplingRate: Double
        /// Share of the recent window's samples lost, and the factor n / (n − k) applied.
        public var lossShare: Double
        public var lossFactor: Double
        /// Totals since the source was first seen.
        public var received: UInt64
        public var lost: UInt64
        /// Times its numbering started over (agent restarts), which are not losses.
        public var resets: UInt64
    }

    /// Every flow-sample data source seen, ordered by point.
    public var sourceReports: [SourceReport] {
        zip(pointTable, sources).map { p, s in
            SourceReport(point: p, samplingRate: s.samplingRate, lossShare: s.lossShare, lossFactor: s.factor,
                         received: s.totalReceived, lost: s.totalLost, resets: s.resets)
        }.sorted { $0.point < $1.point }
    }

    /// Share of the recent window's flow samples lost per sub-agent (all its data sources together).
    public var agentLossShares: [SubAgentKey: Double] {
        var expected: [SubAgentKey: Double] = [:], received: [SubAgentKey: Double] = [:]
        for (p, s) in zip(pointTable, sources) {
            let k = SubAgentKey(agent: p.agent, subAgentId: p.subAgentId)
            expected[k, default: 0] += s.expected
            received[k, default: 0] += s.received
        }
        var out: [SubAgentKey: Double] = [:]
        for (k, e) in expected { out[k] = e > 0 ? max(0, 1 - (received[k] ?? 0) / e) : 0 }
        return out
    }

    public struct LinkReport: Sendable {
        public var port: AgentPort
        public var identity: PortIdentity?
        public var speedBps: Double
        public var inBps: Double
        public var outBps: Double
        /// The busier direction.
        public var bps: Double { max(inBps, outBps) }
        public var utilization: Double { speedBps > 0 ? bps / speedBps : 0 }
    }

    public func links(at t: Double) -> [LinkReport] {
        zip(portTable, loads).map { p, load in
            LinkReport(port: p, identity: ports[p], speedBps: speed(of: p),
                       inBps: load.bps(input: true, at: t, cfg: config), outBps: load.bps(input: false, at: t, cfg: config))
        }.sorted { ($0.identity?.datapathId ?? .max, $0.identity?.portNo ?? .max, $0.port) < ($1.identity?.datapathId ?? .max, $1.identity?.portNo ?? .max, $1.port) }
    }

    /// Receive and transmit rate of one OpenFlow port, by datapath id and port number: `load(dpid:port:at:)`'s
    /// `inBps` and `outBps` alone (what a control round reads for every port of the fabric).
    public func rates(dpid: UInt64, port: UInt32, at t: Double) -> (inBps: Double, outBps: Double)? {
        guard let id = portSlot(dpid: dpid, port: port) else { return nil }
        return rates(slot: id, at: t)
    }

    /// The analytics' own number for an OpenFlow port (nil: none yet), for `rates(slot:at:)`. It
    /// holds while `portSlotGeneration` is the same: a control round that reads every port of a
    /// large fabric (40,960 at k=32) looks them up once, not with two hash lookups each round.
    public func portSlot(dpid: UInt64, port: UInt32) -> Int32? {
        guard let p = ports.agentPort(dpid: dpid, port: port) else { return nil }
        return portIDs[p]
    }

    /// `portSlot(dpid:port:)`, and whether the port of that slot is still named (dpid, port) by its
    /// agent (what `portIdentity(slot:)` says of it: a port renumbered since keeps its slot under
    /// its old number until the number is claimed again). One call for what a control round asks of
    /// every port of the fabric in its first round (40,960 at k=32): the agent port is looked up
    /// once, and its name is not copied.
    public func portSlotNamed(dpid: UInt64, port: UInt32) -> (slot: Int32, named: Bool)? {
        guard let p = ports.agentPort(dpid: dpid, port: port), let id = portIDs[p] else { return nil }
        // (The slot's port is `p`: `portTable[portIDs[p]]` is `p` for every port with a slot.)
        return (id, ports.names(p, dpid: dpid, port: port))
    }

    /// What the port of slot `id` is in OpenFlow terms (`ports` of its agent port): the identity
    /// a flow's `linkSlots` entry stands for.
    public func portIdentity(slot id: Int32) -> PortIdentity? {
        guard id >= 0 && Int(id) < portTable.count else { return nil }
        return ports[portTable[Int(id)]]
    }

    /// Changes whenever a `portSlot(dpid:port:)` answer may have changed (a port mapped anew, or a
    /// port seen for the first time).
    public var portSlotGeneration: PortSlotGeneration {
        PortSlotGeneration(instance: instance, mapping: ports.generation, ports: portTable.count)
    }

    /// `rates(dpid:port:at:)` by the port's slot.
    public func rates(slot id: Int32, at t: Double) -> (inBps: Double, outBps: Double) {
        // (Read in place, through a pointer: a copy of the port's state is a 200-byte move, and
        // `loads[i].bps(...)` still made one per call, for each of 40,960 ports of a k=32 round.)
        loads.withUnsafeBufferPointer { b in
            let p = b.baseAddress! + Int(id)
            return (p.pointee.bps(input: true, at: t, cfg: config), p.pointee.bps(input: false, at: t, cfg: config))
        }
    }

    /// Load of one OpenFlow port, by datapath id and port number.
    public func load(dpid: UInt64, port: UInt32, at t: Double) -> LinkReport? {
        guard let p = ports.agentPort(dpid: dpid, port: port), let id = portIDs[p] else { return nil }
        let l = loads[Int(id)]
        return LinkReport(port: p, identity: ports[p], speedBps: speed(of: p),
                          inBps: l.bps(input: true, at: t, cfg: config), outBps: l.bps(input: false, at: t, cfg: config))
    }
}

/// See `FlowAnalytics.trackingGeneration`.
public struct TrackingGeneration: Hashable, Sendable {
    public var instance: UInt64
    public var removals: Int
    public var configChanges: Int
}

/// See `FlowAnalytics.portSlotGeneration`.
public struct PortSlotGeneration: Hashable, Sendable {
    /// Which analytics (one drawn at random when they are made: slots mean nothing to another).
    public var instance: UInt64
    public var mapping: Int
    public var ports: Int
}

extension FlowEntry {
    /// A flow's rate estimate, as an evaluation keeps it.
    typealias Estimate = (bps: Double, pps: Double, samples: Double)

    struct Transition {
        var type: ElephantEventType
        var key: FlowKey
        var bps: Double
        var links: [LinkSlot]
    }

    /// Applies the elephant rules at time `t`, in place; returns the transition it causes, if any.
    /// `speeds`: each port's speed (`FlowAnalytics.speed(of:)`), by port id.
    mutating func evaluate(at t: Double, config cfg: AnalyticsConfig, speeds: [Double], sources: [SourceLoss], floorWindow: Double,
                           estimate: inout Estimate) -> Transition? {
        expireLinks(at: t, timeout: cfg.linkTimeout)
        let est = FlowAnalytics.estimate(self, at: t, config: cfg, sources: sources, floorWindow: floorWindow)
        estimate = (est.bps, est.pps, est.samples)
        func speed(_ id: Int32) -> Double { id >= 0 && Int(id) < speeds.count ? speeds[Int(id)] : cfg.linkSpeedOverride ?? cfg.defaultLinkSpeed }
        let threshold = cfg.threshold.bps(linkSpeed: speed(est.entry))
        fresh = false
        quietBound = est.quietBound
        quietSamples = est.quietSamples
        // The port the estimate takes the flow to enter by is its first point's, or the entry port
        // of one of its points: the lowest of their thresholds holds whichever it is next time.
        var lowest = threshold
        lowest = min(lowest, cfg.threshold.bps(linkSpeed: speed(p0.input)))
        forEachPoint { p in if p.input >= 0 { lowest = min(lowest, cfg.threshold.bps(linkSpeed: speed(p.input))) } }
        quietThreshold = lowest
        if !elephant {
            if est.bps > threshold, est.samples >= cfg.minSamples {
                elephant = true
                belowSince = nil
                return Transition(type: .elephantStart, key: key, bps: est.bps, links: allLinks)
            }
        } else if est.bps * (1 + RateEstimator.errorPercent(samples: est.samples) / 100) < threshold * cfg.lowMarkFraction {
            // Ending needs confidence, not a dip: the estimate's upper 95 % bound must sit below
            // the low mark for the whole hold time, so sampling noise around the threshold
            // cannot make an elephant flap.
            if let since = belowSince {
                if t - since >= cfg.holdTime {
                    elephant = false
                    belowSince = nil
                    return Transition(type: .elephantEnd, key: key, bps: est.bps, links: allLinks)
                }
            } else {
                belowSince = t
            }
        } else {
            belowSince = nil
        }
        return nil
    }
}
