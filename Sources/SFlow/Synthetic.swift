import Packets

/// Seeded synthetic sFlow traffic: agents exporting flow samples (Ethernet/IPv4 TCP and UDP
/// headers of many distinct flows) and periodic interface counters. Used for the default run,
/// benchmarks and replay tests; the simulator builds its own datagrams with the same encoder.
public struct SyntheticSFlow {
    public struct Config: Sendable {
        public var agents = 4
        public var flows = 10_000
        public var samplesPerDatagram = 7
        public var samplingRate: UInt32 = 1000
        public var headerBytes = 128
        /// Every Nth datagram of an agent carries a counter sample instead of flow samples.
        public var counterEvery = 10
        public var seed: UInt64 = 1
        /// When positive, each flow is seen only by the agents on its path: flow f by agents
        /// f mod agents, +1, …, +pathLength−1 (mod agents), as switches on a fabric path would.
        /// 0: any agent samples any flow.
        public var pathLength = 0
        public init() {}
    }

    public let config: Config
    private var rng: SeededGenerator
    private var sequence: [UInt32]
    private var sampleSequence: [UInt32]
    private var counterSequence: [UInt32]
    private var pool: [UInt32]
    private var octets: [UInt64]
    private var headers: [[UInt8]] = []
    private var frameLengths: [UInt32] = []

    public init(config: Config) {
        self.config = config
        rng = SeededGenerator(seed: config.seed)
        sequence = Array(repeating: 0, count: config.agents)
        sampleSequence = Array(repeating: 0, count: config.agents)
        counterSequence = Array(repeating: 0, count: config.agents)
        pool = Array(repeating: 0, count: config.agents)
        octets = Array(repeating: 0, count: config.agents)
        // Pre-build one sampled header per flow.
        for f in 0..<config.flows {
            let tcp = f % 4 != 0
            let src = IPv4Address(10, UInt8(truncatingIfNeeded: f >> 16), UInt8(truncatingIfNeeded: f >> 8), UInt8(truncatingIfNeeded: f))
            let dst = IPv4Address(10, 200, UInt8(truncatingIfNeeded: f >> 8), UInt8(truncatingIfNeeded: f &* 7))
            let len = tcp ? 1500 : 1000 + f % 400
            var h = FrameBuilder.sampledIPv4Header(
                srcMac: MACAddress(0x0200_0000_0000 | UInt64(f)), dstMac: MACAddress(0x0200_00FF_0000 | UInt64(f % 64)),
                src: src, dst: dst, proto: tcp ? IPProtocolNumber.tcp : IPProtocolNumber.udp,
                srcPort: UInt16(truncatingIfNeeded: 1024 + f * 13), dstPort: tcp ? 5201 : 4789, ipLength: len)
            // Pad with payload bytes up to the sampled header size, as a switch would copy them.
            if h.count < config.headerBytes { h += [UInt8](repeating: 0xAB, count: config.headerBytes - h.count) }
            headers.append(Array(h.prefix(config.headerBytes)))
            frameLengths.append(UInt32(len + 14 + 4))
        }
    }

    /// The next datagram of agent `agent` (0-based), at agent uptime `uptimeMs`.
    public mutating func nextDatagram(agent: Int, uptimeMs: UInt32) -> SFlowDatagram {
        sequence[agent] &+= 1
        let agentAddress = IPAddress.v4(IPv4Address(192, 0, 2, UInt8(truncatingIfNeeded: agent + 1)))
        var samples: [SFlowSample] = []
        if config.counterEvery > 0, sequence[agent] % UInt32(config.counterEvery) == 0 {
            var c = GenericInterfaceCounters()
            c.ifIndex = 1
            c.ifType = 6
            c.ifSpeed = 10_000_000_000
            c.ifDirection = 1
            c.ifStatus = 3
            // The interface counters carry what the samples stand for: frames × sampling rate.
            c.ifInOctets = octets[agent]
            c.ifOutOctets = octets[agent]
            counterSequence[agent] &+= 1
            samples.append(.counters(CounterSample(sequence: counterSequence[agent], source: DataSource(type: 0, index: 1), records: [
                .genericInterface(c),
                .openFlowPort(OpenFlowPort(datapathId: UInt64(agent + 1), portNo: 1)),
                .portName(PortName(name: "eth1")),
            ])))
        } else {
            for _ in 0..<config.samplesPerDatagram {
                var f = Int(rng.next() % UInt64(config.flows))
                if config.pathLength > 0, config.agents > 1 {
                    // Re-aim f at a flow whose path includes this agent.
                    let hop = Int(rng.next() % UInt64(config.pathLength))
                    let home = ((agent - hop) % config.agents + config.agents) % config.agents
                    f = f - f % config.agents + home
                    if f >= config.flows { f -= config.agents }
                    if f < 0 { f = home }
                }
                sampleSequence[agent] &+= 1
                pool[agent] &+= config.samplingRate
                octets[agent] &+= UInt64(frameLengths[f]) * UInt64(config.samplingRate)
                samples.append(.flow(FlowSample(
                    sequence: sampleSequence[agent], source: DataSource(type: 0, index: 1),
                    samplingRate: config.samplingRate, samplePool: pool[agent], drops: 0,
                    input: .ifIndex(1), output: .ifIndex(2),
                    records: [
                        .rawPacketHeader(RawPacketHeader(headerProtocol: RawPacketHeader.ethernet, frameLength: frameLengths[f],
                                                         stripped: 4, header: headers[f])),
                        .extendedSwitch(ExtendedSwitch(srcVlan: 0, srcPriority: 0, dstVlan: 0, dstPriority: 0)),
                    ])))
            }
        }
        return SFlowDatagram(agent: agentAddress, subAgentId: 0, sequence: sequence[agent], uptime: uptimeMs, samples: samples)
    }
}
