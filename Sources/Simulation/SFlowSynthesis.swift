// sFlow from the fluid model: what a fabric of sampling switches would export, encoded as datagrams
// (`SFlowEncoder.encode(agent:...:samples:)`, the same bytes as the general encoder gives) and fed
// to the real `FlowAnalytics` through `ingest(datagram:at:)`.
//
// Every switch is an sFlow agent (address 172.16.0.0 + switch index + 1, ifIndex = OpenFlow port).
// A flow is sampled at every switch it crosses, on the port it enters by (sFlow v5 flow_sample,
// data source = that port; input and output ifIndex set). The number of samples of a flow at one
// switch over an interval is Poisson with mean bytes / packet size / N, drawn from the seeded
// generator: sampling 1-in-N packets independently is binomial, and Poisson is its limit for large N.
// Counter samples (if_counters with the octet counters, plus the OpenFlow port record 1004 so that the
// analytics can map ifIndex to (dpid, port)) go out every polling interval.
//
// Cost: bytes are accumulated per flow between exports (O(active flows) per segment); samples are
// drawn per (flow, switch) at each export, so the work follows the number of samples, not packets.
import FlowAnalytics
import Foundation
import Packets
import SFlow
import Topology

public struct SFlowSynthesisConfig: Hashable, Sendable {
    /// 1-in-N packet sampling on every port.
    public var samplingRate = 1000
    /// Size of every packet, bytes (the frame length the samples report).
    public var packetBytes = 1500
    /// Seconds between counter samples of a port.
    public var pollingInterval = 1.0
    /// Seconds between datagram batches (agents send as samples accumulate; the analytics sees them
    /// with this granularity).
    public var exportInterval = 0.1
    /// Flow samples per datagram (a 1500-byte datagram holds about this many 54-byte headers).
    public var samplesPerDatagram = 8

    public init(samplingRate: Int = 1000, packetBytes: Int = 1500, pollingInterval: Double = 1.0,
                exportInterval: Double = 0.1, samplesPerDatagram: Int = 8) {
        self.samplingRate = samplingRate
        self.packetBytes = packetBytes
        self.pollingInterval = pollingInterval
        self.exportInterval = exportInterval
        self.samplesPerDatagram = samplesPerDatagram
    }
}

struct SFlowSynthesizer {
    let network: SimNetwork
    let config: SFlowSynthesisConfig
    private var rng: Xoshiro256
    private let specs: [FlowSpec]

    // Per directed link: the switch that receives on it and the port numbers at both ends (0: a host).
    private let receiver: [Int32]
    private let fromPort: [UInt32]
    private let toPort: [UInt32]

    // Per flow: bytes since the last export and the path they crossed.
    private var pendingBytes: [Double]
    private var pendingPath: [[Int32]]
    private var touched: [Int32] = []
    private var isTouched: [Bool]
    /// Per flow: its sampled header, built on first use (empty: not built); `headersBuilt` of them.
    private var headers: [[UInt8]]
    private var headersBuilt = 0

    // Per directed link: octets carried so far.
    private var octets: [Double]

    // Per switch: samples waiting for the next export (the flow, the link it came in by, the port
    // it leaves by), and sFlow sequence state.
    private var waiting: [[(flow: Int32, link: Int32, outPort: UInt32)]]
    private var datagramSequence: [UInt32]
    /// Per data source, that is per directed link into a switch (the switch and its input port):
    /// sFlow v5 numbers each source's flow samples and keeps its sample pool on its own, so a
    /// collector can count the source's lost samples.
    private var sourceSequence: [UInt32]
    private var sourcePool: [UInt32]
    private var batch: [HeaderSample] = []
    private var counterSequence: [UInt32]
    private var nextExport: Double
    private var nextPoll: Double
    public private(set) var samplesSent = 0
    public private(set) var datagramsSent = 0

    init(network: SimNetwork, flows: [FlowSpec], config: SFlowSynthesisConfig, seed: UInt64) {
        self.network = network
        self.config = config
        specs = flows
        rng = Xoshiro256(seed: seed).fork(0x5F10_5A3B)
        let t = network.topology
        let n = network.directedLinkCount
        var rx = [Int32](repeating: -1, count: n), fp = [UInt32](repeating: 0, count: n), tp = [UInt32](repeating: 0, count: n)
        for d in 0..<n {
            let e = t.ends(of: DirectedLinkID(d))
            if let p = e.from.switchPort { fp[d] = p.port }
            if let p = e.to.switchPort { tp[d] = p.port; rx[d] = Int32(p.switchID.index) }
        }
        receiver = rx
        fromPort = fp
        toPort = tp
        pendingBytes = [Double](repeating: 0, count: flows.count)
        pendingPath = [[Int32]](repeating: [], count: flows.count)
        isTouched = [Bool](repeating: false, count: flows.count)
        headers = [[UInt8]](repeating: [], count: flows.count)
        octets = [Double](repeating: 0, count: n)
        sourceSequence = [UInt32](repeating: 0, count: n)
        sourcePool = sourceSequence
        let s = t.switches.count
        waiting = Array(repeating: [], count: s)
        datagramSequence = [UInt32](repeating: 0, count: s)
        counterSequence = datagramSequence
        nextExport = config.exportInterval
        nextPoll = config.pollingInterval
    }

    static func agentAddress(_ switchIndex: Int) -> IPAddress { .v4(IPv4Address(0xAC10_0000 &+ UInt32(switchIndex + 1))) }

    /// Accumulates one interval of constant rates; exports when an export time has passed.
    mutating func observe(_ s: SegmentView, into analytics: inout FlowAnalytics) {
        let dt = s.to - s.from
        if dt > 0 {
            for i in s.flows.indices {
                let f = s.flows[i]
                let r = s.rates[i]
                if pendingPath[f] != s.paths[i] {
                    if pendingBytes[f] > 0 { draw(f) }
                    pendingPath[f] = s.paths[i]
                }
                guard r > 0 else { continue }
                pendingBytes[f] += r * dt / 8
                if !isTouched[f] {
                    isTouched[f] = true
                    touched.append(Int32(f))
                }
            }
        }
        if s.to >= nextExport { export(at: s.to, into: &analytics) }
    }

    /// Draws the samples of the bytes a flow sent since the last draw, at every switch of its path.
    private mutating func draw(_ f: Int) {
        let bytes = pendingBytes[f]
        pendingBytes[f] = 0
        let path = pendingPath[f]
        guard bytes > 0, path.count >= 2 else { return }
        for l in path { octets[Int(l)] += bytes }
        let mean = bytes / Double(config.packetBytes) / Double(max(1, config.samplingRate))
        // The same mean at every switch of the path: e^-mean is computed once for them all.
        let limit = mean < Self.normalAbove ? exp(-mean) : 0
        for i in 0..<(path.count - 1) {
            let l = Int(path[i]), next = Int(path[i + 1])
            let sw = Int(receiver[l])
            guard sw >= 0 else { continue }
            let n = poisson(mean, limit: limit)
            guard n > 0 else { continue }
            waiting[sw].append(contentsOf: repeatElement((flow: Int32(f), link: Int32(l), outPort: fromPort[next]), count: n))
        }
    }

    /// Sends everything up to time `t`: flow samples of the bytes so far, and counters when a
    /// polling interval has passed.
    ///
    /// The flow samples go to the analytics in batches of scanned datagrams (`ScannedDatagrams`, as
    /// the daemon's collector hands them over). Two threads share the work (`Pipeline`): while the
    /// analytics ingests one batch, the next few are encoded and scanned. Only the analytics' state
    /// changes on the first thread and only the synthesizer's on the second, and batches are
    /// ingested in the order they were made, so the run is the same as on one thread.
    mutating func export(at t: Double, into analytics: inout FlowAnalytics) {
        for f in touched {
            isTouched[Int(f)] = false
            draw(Int(f))
        }
        touched.removeAll(keepingCapacity: true)
        let uptime = UInt32(truncatingIfNeeded: Int((t * 1000).rounded()))
        cursor = (0, 0)
        countersDue = t >= nextPoll
        counterCursor = (0, 0)
        Pipeline(depth: Self.batchesAhead) { ScannedDatagrams() }.run(produce: { batch in
            nextBatch(into: &batch, uptime: uptime, at: t)
            return !batch.isEmpty
        }, consume: { batch in analytics.ingest(batch) })
        if countersDue {
            while nextPoll <= t { nextPoll += config.pollingInterval }
        }
        while nextExport <= t { nextExport += config.exportInterval }
        if headersBuilt > 200_000 {
            for i in headers.indices { headers[i] = [] }
            headersBuilt = 0
        }
    }

    /// Datagrams in one batch: bounds the memory of an export (a k=64 fabric exports millions of
    /// samples every 0.1 s) and keeps a batch's samples in the CPU caches between the two threads.
    static let datagramsPerBatch = 256
    /// Batches made ahead of the one being ingested, at most.
    static let batchesAhead = 4
    /// The next sample to send: its switch and its place in the switch's waiting list.
    private var cursor = (sw: 0, start: 0)
    /// Whether this export sends counters (after every flow sample), and the next switch and port.
    private var countersDue = false
    private var counterCursor = (sw: 0, port: 0)

    /// Encodes the next `datagramsPerBatch` datagrams of waiting samples and scans them into `out`;
    /// when every sample is out and counters are due, the counter datagrams follow (the analytics
    /// applies a batch's counters after its flow samples, so the order is the same as sending the
    /// counters after the last batch).
    private mutating func nextBatch(into out: inout ScannedDatagrams, uptime: UInt32, at t: Double) {
        out.removeAll()
        let rate = UInt32(max(1, config.samplingRate)), perDatagram = max(1, config.samplesPerDatagram)
        while cursor.sw < waiting.count, out.datagrams < Self.datagramsPerBatch {
            let sw = cursor.sw, start = cursor.start, count = waiting[sw].count
            guard start < count else {
                if count > 0 { waiting[sw].removeAll(keepingCapacity: true) }
                cursor = (sw + 1, 0)
                continue
            }
            let end = min(count, start + perDatagram)
            batch.removeAll(keepingCapacity: true)
            for i in start..<end {
                let (f, l, outPort) = waiting[sw][i]
                let link = Int(l), inPort = toPort[link]
                sourceSequence[link] &+= 1
                sourcePool[link] &+= rate
                batch.append(HeaderSample(sequence: sourceSequence[link], source: DataSource(type: 0, index: inPort),
                                          samplingRate: rate, samplePool: sourcePool[link], drops: 0,
                                          input: .ifIndex(inPort), output: .ifIndex(outPort),
                                          headerProtocol: RawPacketHeader.ethernet, frameLength: UInt32(config.packetBytes),
                                          stripped: 0, header: header(Int(f))))
            }
            let bytes = SFlowEncoder.encode(agent: SFlowSynthesizer.agentAddress(sw), subAgentId: 0, sequence: nextSequence(sw),
                                            uptime: uptime, samples: batch)
            bytes.withUnsafeBytes { _ = out.scan($0, at: t) }
            datagramsSent += 1
            samplesSent += end - start
            cursor.start = end
        }
        while countersDue, out.datagrams < Self.datagramsPerBatch, let bytes = nextCounterDatagram(uptime: uptime) {
            bytes.withUnsafeBytes { _ = out.scan($0, at: t) }
            datagramsSent += 1
        }
    }

    /// The next datagram of counter samples: up to 8 ports of one switch, every switch in turn
    /// (nil when all are sent).
    private mutating func nextCounterDatagram(uptime: UInt32) -> [UInt8]? {
        let topo = network.topology
        while counterCursor.sw < topo.switches.count {
            let s = SwitchID(counterCursor.sw)
            let ports = topo.ports(of: s)
            let start = counterCursor.port
            guard start < ports.count else {
                counterCursor = (counterCursor.sw + 1, 0)
                continue
            }
            let end = min(ports.count, start + 8)
            var samples: [SFlowSample] = []
            samples.reserveCapacity(end - start)
            for p in ports[start..<end] {
                var c = GenericInterfaceCounters()
                c.ifIndex = p.number
                c.ifType = 6
                c.ifSpeed = p.capacity
                c.ifDirection = 1
                c.ifStatus = 3
                c.ifInOctets = UInt64(octets[p.egress.reversed.index])
                c.ifOutOctets = UInt64(octets[p.egress.index])
                counterSequence[s.index] &+= 1
                samples.append(.counters(CounterSample(sequence: counterSequence[s.index], source: DataSource(type: 0, index: p.number),
                                                       records: [.genericInterface(c),
                                                                 .openFlowPort(OpenFlowPort(datapathId: topo[s].dpid, portNo: p.number))])))
            }
            counterCursor.port = end
            return SFlowEncoder.encode(SFlowDatagram(agent: SFlowSynthesizer.agentAddress(s.index), subAgentId: 0,
                                                     sequence: nextSequence(s.index), uptime: uptime, samples: samples))
        }
        return nil
    }

    private mutating func nextSequence(_ sw: Int) -> UInt32 {
        datagramSequence[sw] &+= 1
        return datagramSequence[sw]
    }

    /// The sampled header of a flow's packets (Ethernet, IPv4, TCP/UDP), built once per flow.
    private mutating func header(_ f: Int) -> [UInt8] {
        if !headers[f].isEmpty { return headers[f] }
        let spec = specs[f]
        let t = network.topology
        let k = spec.key
        guard case .v4(let src) = k.src, case .v4(let dst) = k.dst else { return [] }
        let h = FrameBuilder.sampledIPv4Header(srcMac: t[spec.src].mac, dstMac: t[spec.dst].mac, src: src, dst: dst,
                                               proto: k.proto, srcPort: k.sport, dstPort: k.dport,
                                               ipLength: max(40, config.packetBytes - 14))
        headers[f] = h
        headersBuilt += 1
        return h
    }

    /// Means from which `poisson` takes the normal approximation.
    static let normalAbove = 30.0

    /// A Poisson variate: Knuth's product method for small means (`limit` is e^-mean), the normal
    /// approximation from `normalAbove`.
    private mutating func poisson(_ mean: Double, limit: Double) -> Int {
        guard mean > 0 else { return 0 }
        if mean < Self.normalAbove {
            var p = rng.nextDouble()
            var k = 0
            while p > limit {
                k += 1
                p *= rng.nextDouble()
            }
            return k
        }
        let u1 = max(rng.nextDouble(), 1e-300), u2 = rng.nextDouble()
        let z = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
        return max(0, Int((mean + z * mean.squareRoot()).rounded()))
    }
}
