import Packets
import SFlow

/// Where a flow was sampled: one agent's data source. A flow seen by several switches has one
/// observation point per switch; its rate comes from the best-sampled one, never a sum.
public struct ObservationPoint: Hashable, Sendable {
    public var agent: IPAddress
    public var subAgentId: UInt32
    public var sourceIndex: UInt32
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

/// One flow's state in the cache.
struct FlowEntry {
    var key: FlowKey
    var points: [(point: ObservationPoint, estimator: RateEstimator, pps: RateEstimator, input: AgentPort?)]
    var links: [(link: FlowLink, lastSeen: Double)]
    var firstSeen: Double
    var lastSeen: Double
    var elephant = false
    var belowSince: Double?
    // LRU list (indices into the slot array; -1 = none).
    var prev: Int32 = -1
    var next: Int32 = -1
}

/// Flow analytics: per-flow rates and links from packet samples, per-port load from samples
/// and counters, and elephant events with hysteresis. Pure and deterministic: time comes in with
/// every call (the capture's clock, the simulator's clock, or the daemon's).
public struct FlowAnalytics {
    public let config: AnalyticsConfig
    public private(set) var ports = PortMap()
    public private(set) var portLoads: [AgentPort: PortLoad] = [:]

    private var slots: [FlowEntry?] = []
    private var free: [Int32] = []
    private var index: [FlowKey: Int32] = [:]
    private var head: Int32 = -1  // most recently seen
    private var tail: Int32 = -1  // least recently seen
    public private(set) var evictions = 0
    public private(set) var expired = 0
    public private(set) var samplesIngested = 0
    public private(set) var samplesWithoutKey = 0
    private var pendingEvents: [ElephantEvent] = []

    public init(config: AnalyticsConfig = AnalyticsConfig()) {
        self.config = config
        index.reserveCapacity(min(config.maxFlows, 1 << 16))
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

    /// Ingests every sample of a decoded datagram.
    public mutating func ingest(_ d: SFlowDatagram, at t: Double) {
        for s in d.samples {
            switch s {
            case .flow(let f):
                var frame: UInt32 = 0
                var parsed: ParsedHeader?
                for r in f.records {
                    switch r {
                    case .rawPacketHeader(let h):
                        frame = h.frameLength
                        parsed = h.parsed
                    case .ipv4Data(let v) where parsed == nil:
                        frame = v.length
                        parsed = SFlowDecoder.ipDataHeader(version: 4, proto: v.protocol, src: .v4(v.srcIp), dst: .v4(v.dstIp),
                                                           sport: v.srcPort, dport: v.dstPort, flags: v.tcpFlags, tos: v.tos, length: v.length)
                    case .ipv6Data(let v) where parsed == nil:
                        frame = v.length
                        parsed = SFlowDecoder.ipDataHeader(version: 6, proto: v.protocol, src: .v6(v.srcIp), dst: .v6(v.dstIp),
                                                           sport: v.srcPort, dport: v.dstPort, flags: v.tcpFlags, tos: v.priority, length: v.length)
                    default: break
                    }
                }
                let header = SFlowDecoder.FlowSampleHeader(expanded: f.expanded, sequence: f.sequence, source: f.source,
                                                           samplingRate: f.samplingRate, samplePool: f.samplePool, drops: f.drops,
                                                           input: f.input, output: f.output)
                let summary = FlowSampleSummary(agent: d.agent, subAgentId: d.subAgentId, datagramSequence: d.sequence,
                                                uptime: d.uptime, sample: header, frameLength: frame,
                                                header: parsed ?? ParsedHeader(), hasHeader: parsed != nil)
                ingestFlowSample(summary, at: t)
            case .counters(let c):
                ingestCounters(c, agent: d.agent, uptime: d.uptime, at: t)
            case .unknown:
                break
            }
        }
    }

    /// Ingests one flow sample: scales the sampled frame by the sample's own sampling rate
    /// (switches change it under load), updates the port loads and the flow's estimate.
    public mutating func ingestFlowSample(_ s: borrowing FlowSampleSummary, at t: Double) {
        samplesIngested += 1
        let rate = Double(max(1, s.sample.samplingRate))
        let bits = Double(s.frameLength) * 8 * rate
        let tau = config.timeConstant
        var inPort: AgentPort?
        if let i = s.sample.input.singleIfIndex {
            let p = AgentPort(agent: s.agent, ifIndex: i)
            inPort = p
            portLoads[p, default: PortLoad()].addSample(bits: bits, input: true, at: t, tau: tau)
        }
        var outPort: AgentPort?
        // Output "discarded" with reason 256 is how some switches report a packet sent through a
        // group: the port is unknown, not dropped. Either way no single output port is known.
        if let o = s.sample.output.singleIfIndex {
            let p = AgentPort(agent: s.agent, ifIndex: o)
            outPort = p
            portLoads[p, default: PortLoad()].addSample(bits: bits, input: false, at: t, tau: tau)
        }
        guard let raw = s.header.flowKey else {
            samplesWithoutKey += 1
            return
        }
        let key = config.keySpec.project(raw)
        let point = ObservationPoint(agent: s.agent, subAgentId: s.subAgentId, sourceIndex: s.sample.source.index)
        let slot: Int32
        if let existing = index[key] {
            slot = existing
            touch(slot)
        } else {
            slot = insert(FlowEntry(key: key, points: [], links: [], firstSeen: t, lastSeen: t))
        }
        guard var e = slots[Int(slot)] else { return }
        slots[Int(slot)] = nil // keep the entry uniquely referenced while it is mutated
        e.lastSeen = max(e.lastSeen, t)
        if let k = e.points.firstIndex(where: { $0.point == point }) {
            e.points[k].estimator.add(bits, at: t, tau: tau)
            e.points[k].pps.add(rate, at: t, tau: tau)
            if e.points[k].input == nil { e.points[k].input = inPort }
        } else {
            e.points.append((point, RateEstimator(start: t), RateEstimator(start: t), inPort))
        }
        if let p = inPort { note(&e, FlowLink(port: p, input: true), t) }
        if let p = outPort { note(&e, FlowLink(port: p, input: false), t) }
        slots[Int(slot)] = e
    }

    private func note(_ e: inout FlowEntry, _ l: FlowLink, _ t: Double) {
        if let k = e.links.firstIndex(where: { $0.link == l }) {
            e.links[k].lastSeen = t
        } else {
            e.links.append((l, t))
        }
    }

    /// Ingests a counter sample: learns port identities (1004/1005) and counter rates (1).
    public mutating func ingestCounters(_ c: CounterSample, agent: IPAddress, uptime: UInt32, at t: Double) {
        ports.learn(agent: agent, counters: c)
        for r in c.records {
            if case .genericInterface(let g) = r {
                portLoads[AgentPort(agent: agent, ifIndex: g.ifIndex), default: PortLoad()]
                    .addCounters(g, uptime: uptime, at: t, cfg: config)
            }
        }
    }

    /// Maps an ifIndex by hand (for switches that send no 1004/1005 records).
    public mutating func setPortIdentity(_ p: AgentPort, _ id: PortIdentity) { ports.set(p, id) }

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
        }
        index[e.key] = slot
        linkFront(slot)
        return slot
    }

    private mutating func remove(_ slot: Int32) {
        guard let e = slots[Int(slot)] else { return }
        unlink(slot)
        index[e.key] = nil
        slots[Int(slot)] = nil
        free.append(slot)
    }

    private mutating func touch(_ slot: Int32) {
        guard head != slot else { return }
        unlink(slot)
        linkFront(slot)
    }

    private mutating func linkFront(_ slot: Int32) {
        slots[Int(slot)]?.prev = -1
        slots[Int(slot)]?.next = head
        if head >= 0 { slots[Int(head)]?.prev = slot }
        head = slot
        if tail < 0 { tail = slot }
    }

    private mutating func unlink(_ slot: Int32) {
        guard let e = slots[Int(slot)] else { return }
        if e.prev >= 0 { slots[Int(e.prev)]?.next = e.next } else { head = e.next }
        if e.next >= 0 { slots[Int(e.next)]?.prev = e.prev } else { tail = e.prev }
    }

    // MARK: Evaluation

    /// The estimate of a flow: from its best-sampled observation point.
    func estimate(_ e: FlowEntry, at t: Double) -> (bps: Double, pps: Double, samples: Double, entry: AgentPort?) {
        let tau = config.timeConstant
        var best: (bps: Double, pps: Double, samples: Double, entry: AgentPort?) = (0, 0, -1, nil)
        for p in e.points {
            let n = p.estimator.samples(at: t, tau: tau)
            if n > best.samples {
                best = (p.estimator.rate(at: t, tau: tau, minWindow: config.minWindow),
                        p.pps.rate(at: t, tau: tau, minWindow: config.minWindow), n, p.input)
            }
        }
        return (best.bps, best.pps, max(0, best.samples), best.entry)
    }

    /// Speed of a port in bits per second: the override, else ifSpeed, else the default.
    public func speed(of p: AgentPort?) -> Double {
        if let o = config.linkSpeedOverride { return o }
        if let p, let s = portLoads[p]?.ifSpeed, s > 0 { return Double(s) }
        return config.defaultLinkSpeed
    }

    /// Advances to time `t`: expires idle flows and stale links, and applies the elephant rules.
    /// Returns the events since the last call, in order.
    public mutating func evaluate(at t: Double) -> [ElephantEvent] {
        // Idle expiry from the least recently seen end.
        while tail >= 0, let e = slots[Int(tail)], t - e.lastSeen > config.idleTimeout {
            if e.elephant {
                pendingEvents.append(ElephantEvent(type: .elephantEnd, time: t, flow: e.key, bps: 0, links: e.links.map(\.link)))
            }
            remove(tail)
            expired += 1
        }
        var s = head
        while s >= 0 {
            guard var e = slots[Int(s)] else { break }
            let next = e.next
            e.links.removeAll { t - $0.lastSeen > config.linkTimeout }
            let est = estimate(e, at: t)
            let threshold = config.threshold.bps(linkSpeed: speed(of: est.entry))
            if !e.elephant {
                if est.bps > threshold, est.samples >= config.minSamples {
                    e.elephant = true
                    e.belowSince = nil
                    pendingEvents.append(ElephantEvent(type: .elephantStart, time: t, flow: e.key, bps: est.bps, links: e.links.map(\.link)))
                }
            } else if est.bps < threshold * config.lowMarkFraction {
                if let since = e.belowSince {
                    if t - since >= config.holdTime {
                        e.elephant = false
                        e.belowSince = nil
                        pendingEvents.append(ElephantEvent(type: .elephantEnd, time: t, flow: e.key, bps: est.bps, links: e.links.map(\.link)))
                    }
                } else {
                    e.belowSince = t
                }
            } else {
                e.belowSince = nil
            }
            slots[Int(s)] = e
            s = next
        }
        defer { pendingEvents.removeAll() }
        return pendingEvents
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
    }

    /// Flows sorted by rate, highest first.
    public func flows(at t: Double, limit: Int = .max) -> [FlowReport] {
        var out: [FlowReport] = []
        out.reserveCapacity(min(index.count, limit))
        for case let e? in slots {
            let est = estimate(e, at: t)
            out.append(FlowReport(key: e.key, bps: est.bps, pps: est.pps, samples: est.samples,
                                  errorPercent: RateEstimator.errorPercent(samples: est.samples), elephant: e.elephant,
                                  links: e.links.filter { t - $0.lastSeen <= config.linkTimeout }.map(\.link),
                                  firstSeen: e.firstSeen, lastSeen: e.lastSeen))
        }
        out.sort { $0.bps != $1.bps ? $0.bps > $1.bps : $0.key < $1.key }
        return Array(out.prefix(limit))
    }

    /// The state of one flow, if tracked.
    public func flow(_ key: FlowKey, at t: Double) -> FlowReport? {
        let k = config.keySpec.project(key)
        guard let s = index[k], let e = slots[Int(s)] else { return nil }
        let est = estimate(e, at: t)
        return FlowReport(key: e.key, bps: est.bps, pps: est.pps, samples: est.samples,
                          errorPercent: RateEstimator.errorPercent(samples: est.samples), elephant: e.elephant,
                          links: e.links.filter { t - $0.lastSeen <= config.linkTimeout }.map(\.link),
                          firstSeen: e.firstSeen, lastSeen: e.lastSeen)
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
        portLoads.map { p, load in
            LinkReport(port: p, identity: ports[p], speedBps: speed(of: p),
                       inBps: load.bps(input: true, at: t, cfg: config), outBps: load.bps(input: false, at: t, cfg: config))
        }.sorted { ($0.identity?.datapathId ?? .max, $0.identity?.portNo ?? .max, $0.port) < ($1.identity?.datapathId ?? .max, $1.identity?.portNo ?? .max, $1.port) }
    }

    /// Load of one OpenFlow port, by datapath id and port number.
    public func load(dpid: UInt64, port: UInt32, at t: Double) -> LinkReport? {
        guard let p = ports.agentPort(dpid: dpid, port: port), let l = portLoads[p] else { return nil }
        return LinkReport(port: p, identity: ports[p], speedBps: speed(of: p),
                          inBps: l.bps(input: true, at: t, cfg: config), outBps: l.bps(input: false, at: t, cfg: config))
    }
}
