import Foundation
import Testing
@testable import FlowAnalytics
import Topology
import Packets
import SFlow

/// A seeded sFlow agent: packets of a flow at a known rate are sampled 1-in-N (each packet
/// independently, as a switch's random sampler does), encoded as real sFlow datagrams and fed
/// through the decoder into the analytics.
struct SampledSource {
    var rng: SeededGenerator
    var agent = IPAddress.v4(IPv4Address(192, 0, 2, 1))
    var samplingRate: UInt32 = 1000
    var sequence: UInt32 = 0
    var sampleSequence: UInt32 = 0
    var pool: UInt32 = 0
    var input: UInt32 = 1
    var output: UInt32 = 2
    var sourceIndex: UInt32 = 1

    init(seed: UInt64) { rng = SeededGenerator(seed: seed) }

    mutating func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }

    /// Exponential gap until the next sampled packet of a flow sending `pps` packets/s.
    mutating func nextGap(pps: Double) -> Double {
        -log(1 - uniform()) / (pps / Double(samplingRate))
    }

    mutating func datagram(key: FlowKey, frameLength: Int, uptimeMs: UInt32) -> [UInt8] {
        sequence += 1
        sampleSequence += 1
        pool &+= samplingRate
        guard case .v4(let s) = key.src, case .v4(let d) = key.dst else { return [] }
        let header = FrameBuilder.sampledIPv4Header(srcMac: MACAddress(0x0200_0000_0001), dstMac: MACAddress(0x0200_0000_0002),
                                                    src: s, dst: d, proto: key.proto, srcPort: key.sport, dstPort: key.dport,
                                                    ipLength: frameLength - 18)
        let sample = FlowSample(sequence: sampleSequence, source: DataSource(type: 0, index: sourceIndex), samplingRate: samplingRate,
                                samplePool: pool, drops: 0, input: .ifIndex(input), output: .ifIndex(output),
                                records: [.rawPacketHeader(RawPacketHeader(headerProtocol: 1, frameLength: UInt32(frameLength), stripped: 4, header: header))])
        return SFlowEncoder.encode(SFlowDatagram(agent: agent, subAgentId: 0, sequence: sequence, uptime: uptimeMs, samples: [.flow(sample)]))
    }
}

func key(_ a: UInt8, _ b: UInt8, sport: UInt16 = 40000, dport: UInt16 = 5201) -> FlowKey {
    FlowKey(src: .v4(IPv4Address(10, 0, 0, a)), dst: .v4(IPv4Address(10, 0, 0, b)), proto: 6, sport: sport, dport: dport)
}

/// Runs one flow at `bps` from `start` to `end` through the analytics, evaluating every 100 ms.
/// `rateAt` may vary the rate over time. Returns the events.
func drive(_ a: inout FlowAnalytics, _ src: inout SampledSource, flow: FlowKey, frame: Int = 1500,
           start: Double = 0, end: Double, rateAt: (Double) -> Double) -> [ElephantEvent] {
    var events: [ElephantEvent] = []
    var t = start
    var nextEval = start + 0.1
    while true {
        let pps = rateAt(t) / Double(frame * 8)
        t += src.nextGap(pps: pps)
        if t > end { break }
        while nextEval <= t { events += a.evaluate(at: nextEval); nextEval += 0.1 }
        let bytes = src.datagram(key: flow, frameLength: frame, uptimeMs: UInt32(t * 1000))
        bytes.withUnsafeBytes { _ = a.ingest(datagram: $0, at: t) }
    }
    while nextEval <= end { events += a.evaluate(at: nextEval); nextEval += 0.1 }
    return events
}

/// `portSlotNamed(dpid:port:)` (one call, what a control round asks of every fabric port) gives what
/// `portSlot(dpid:port:)` and `portIdentity(slot:)` give together, for ports named as they were
/// first, for ports renumbered (the old number still leads to the port's slot, which now names
/// another port) and for ports unknown.
@Suite struct PortSlotTests {
    @Test func slotAndNameInOneCallAgreeWithTheTwoCalls() {
        var a = FlowAnalytics(config: AnalyticsConfig())
        let agent = IPAddress.v4(IPv4Address(192, 0, 2, 7))
        func check(_ when: String) {
            for dpid: UInt64 in [11, 12] {
                for port: UInt32 in 0...6 {
                    let slot = a.portSlot(dpid: dpid, port: port)
                    let identity = slot.flatMap { a.portIdentity(slot: $0) }
                    let both = a.portSlotNamed(dpid: dpid, port: port)
                    #expect(both?.slot == slot, "\(when): slot of \(dpid):\(port)")
                    #expect(both.map { $0.named } == slot.map { _ in identity?.datapathId == dpid && identity?.portNo == port },
                            "\(when): name of \(dpid):\(port)")
                }
            }
        }
        for p: UInt32 in 1...4 {
            a.setPortIdentity(AgentPort(agent: agent, ifIndex: 100 + p), PortIdentity(datapathId: 11, portNo: p, name: "s11-eth\(p)"))
        }
        check("named")
        #expect((1...4).allSatisfy { a.portSlotNamed(dpid: 11, port: $0)?.named == true })
        // ifIndex 104 renumbered port 3: port 3 is its now, and port 4 still leads to its slot,
        // which no longer names it.
        a.setPortIdentity(AgentPort(agent: agent, ifIndex: 104), PortIdentity(datapathId: 11, portNo: 3, name: "s11-eth3"))
        check("renumbered")
        #expect(a.portSlotNamed(dpid: 11, port: 4)?.named == false)
        #expect(a.portSlotNamed(dpid: 11, port: 3)?.named == true)
        #expect(a.portSlotNamed(dpid: 11, port: 3)?.slot == a.portSlot(dpid: 11, port: 4))
        // Another datapath's ports, and a port of no switch.
        a.setPortIdentity(AgentPort(agent: agent, ifIndex: 201), PortIdentity(datapathId: 12, portNo: 1))
        check("two datapaths")
        #expect(a.portSlotNamed(dpid: 12, port: 1)?.named == true)
        #expect(a.portSlotNamed(dpid: 12, port: 2) == nil && a.portSlotNamed(dpid: 13, port: 1) == nil)
    }
}

@Suite struct RateEstimationTests {
    @Test func estimatesFallWithinTheirStatedErrorBoundInAtLeast95PercentOfTrials() {
        var within = 0
        let trials = 200
        for seed in 0..<trials {
            var cfg = AnalyticsConfig()
            cfg.linkSpeedOverride = 1e9
            var a = FlowAnalytics(config: cfg)
            var src = SampledSource(seed: UInt64(seed) + 1)
            let rate = 100e6 // 10 % of 1 Gbit/s, 1-in-1000: about 8 samples a second
            _ = drive(&a, &src, flow: key(1, 2), end: 10) { _ in rate }
            guard let f = a.flow(key(1, 2), at: 10) else { continue }
            if abs(f.bps - rate) / rate * 100 <= f.errorPercent { within += 1 }
        }
        #expect(within >= trials * 95 / 100, "\(within) of \(trials) estimates within their bound")
    }

    @Test func errorBoundFollowsSampleCount() {
        #expect(abs(RateEstimator.errorPercent(samples: 100) - 19.6) < 1e-9)
        #expect(abs(RateEstimator.errorPercent(samples: 1) - 196) < 1e-9)
        #expect(RateEstimator.errorPercent(samples: 0) == 100)
    }

    @Test func eachSampleIsScaledByItsOwnSamplingRate() {
        // The same packet stream sampled at 1-in-100 then 1-in-1000 must give the same estimate.
        var a = FlowAnalytics(config: AnalyticsConfig())
        var src = SampledSource(seed: 7)
        src.samplingRate = 100
        _ = drive(&a, &src, flow: key(1, 2), end: 10) { _ in 50e6 }
        src.samplingRate = 1000
        _ = drive(&a, &src, flow: key(1, 2), start: 10, end: 30) { _ in 50e6 }
        let f = a.flow(key(1, 2), at: 30)
        #expect(f != nil)
        if let f { #expect(abs(f.bps - 50e6) / 50e6 < f.errorPercent / 100) }
    }
}

@Suite struct ElephantDetectionTests {
    @Test func twentyPercentFlowIsAnElephantWithinOneAndAHalfSecondsInTheMedianTrial() {
        var delays: [Double] = []
        for seed in 1...101 {
            var cfg = AnalyticsConfig()
            cfg.linkSpeedOverride = 1e9
            var a = FlowAnalytics(config: cfg)
            var src = SampledSource(seed: UInt64(seed))
            let events = drive(&a, &src, flow: key(1, 2), start: 5, end: 10) { _ in 200e6 }
            if let first = events.first(where: { $0.type == .elephantStart }) { delays.append(first.time - 5) } else { delays.append(.infinity) }
        }
        delays.sort()
        let median = delays[delays.count / 2]
        #expect(median <= 1.5, "median detection delay \(median) s")
    }

    @Test func miceAreNotElephants() {
        var cfg = AnalyticsConfig()
        cfg.linkSpeedOverride = 1e9
        var a = FlowAnalytics(config: cfg)
        var src = SampledSource(seed: 3)
        let events = drive(&a, &src, flow: key(1, 2), end: 30) { _ in 20e6 } // 2 % of the link
        #expect(events.isEmpty)
        #expect(a.flow(key(1, 2), at: 30)?.elephant == false)
    }

    @Test func aFlowHoveringAtTheThresholdDoesNotFlap() {
        var toggles: [Int] = []
        for seed in 1...20 {
            var cfg = AnalyticsConfig()
            cfg.linkSpeedOverride = 1e9
            var a = FlowAnalytics(config: cfg)
            var src = SampledSource(seed: UInt64(seed))
            // Wobbles ±5 % around the 10 % threshold, with a 3 s period.
            let events = drive(&a, &src, flow: key(1, 2), end: 60) { t in 100e6 * (1 + 0.05 * sin3(t)) }
            toggles.append(events.count)
        }
        // At most one start and one end per run: never a start/end/start sequence.
        #expect(toggles.allSatisfy { $0 <= 2 }, "events per run: \(toggles)")
    }

    @Test func anElephantThatStopsEndsAfterTheHoldTime() {
        var cfg = AnalyticsConfig()
        cfg.linkSpeedOverride = 1e9
        var a = FlowAnalytics(config: cfg)
        var src = SampledSource(seed: 11)
        var events = drive(&a, &src, flow: key(1, 2), end: 10) { _ in 300e6 }
        events += drive(&a, &src, flow: key(1, 2), start: 10, end: 20) { _ in 1e6 }
        #expect(events.map(\.type) == [.elephantStart, .elephantEnd])
        if events.count == 2 { #expect(events[1].time > 10 + cfg.holdTime) }
    }

    @Test func absoluteThreshold() {
        var cfg = AnalyticsConfig()
        cfg.threshold = .bitsPerSecond(50e6)
        var a = FlowAnalytics(config: cfg)
        var src = SampledSource(seed: 5)
        let events = drive(&a, &src, flow: key(1, 2), end: 10) { _ in 80e6 }
        #expect(events.first?.type == .elephantStart)
    }
}

func sin3(_ t: Double) -> Double { sin(2 * Double.pi * t / 3) }

@Suite struct LinkAndMappingTests {
    func counters(ifIndex: UInt32, inOctets: UInt64, outOctets: UInt64, speed: UInt64 = 1_000_000_000,
                  dpid: UInt64? = nil, port: UInt32? = nil, name: String? = nil, seq: UInt32 = 1) -> CounterSample {
        var g = GenericInterfaceCounters()
        g.ifIndex = ifIndex
        g.ifSpeed = speed
        g.ifInOctets = inOctets
        g.ifOutOctets = outOctets
        var recs: [CounterRecord] = [.genericInterface(g)]
        if let dpid, let port { recs.append(.openFlowPort(OpenFlowPort(datapathId: dpid, portNo: port))) }
        if let name { recs.append(.portName(PortName(name: name))) }
        return CounterSample(sequence: seq, source: DataSource(type: 0, index: ifIndex), records: recs)
    }

    let agent = IPAddress.v4(IPv4Address(192, 0, 2, 1))

    @Test func counterRatesUseTheAgentsUptime() {
        var a = FlowAnalytics(config: AnalyticsConfig())
        a.ingestCounters(counters(ifIndex: 3, inOctets: 1_000, outOctets: 0, dpid: 11, port: 3, name: "l1-eth3"), agent: agent, uptime: 10_000, at: 100)
        // 12.5 MB in 2 s of agent time = 50 Mbit/s, whatever the arrival time says.
        a.ingestCounters(counters(ifIndex: 3, inOctets: 1_000 + 12_500_000, outOctets: 25_000_000), agent: agent, uptime: 12_000, at: 100.5)
        let l = a.load(dpid: 11, port: 3, at: 100.5)
        #expect(l != nil)
        #expect(abs((l?.inBps ?? 0) - 50e6) < 1)
        #expect(abs((l?.outBps ?? 0) - 100e6) < 1)
        #expect(l?.identity?.name == "l1-eth3")
        #expect(abs((l?.utilization ?? 0) - 0.1) < 1e-9)
    }

    /// A second agent naming an OpenFlow port another agent holds (a forged or misconfigured agent, a
    /// synthetic flood) does not take the port while the holder keeps naming it: the port's load stays
    /// the holder's, and the claimant's port gets no OpenFlow identity. A holder silent for
    /// `takeoverSeconds` loses it; the same agent renumbering its port takes it at once.
    @Test func aSecondAgentCannotTakeAPortItsHolderKeepsNaming() {
        var a = FlowAnalytics(config: AnalyticsConfig())
        let forger = IPAddress.v4(IPv4Address(198, 51, 100, 7))
        // The holder: 50 Mbit/s in on dpid 1 port 1 (ifIndex 5).
        a.ingestCounters(counters(ifIndex: 5, inOctets: 0, outOctets: 0, dpid: 1, port: 1), agent: agent, uptime: 1_000, at: 1)
        a.ingestCounters(counters(ifIndex: 5, inOctets: 12_500_000, outOctets: 0, dpid: 1, port: 1), agent: agent, uptime: 3_000, at: 3)
        // The forger claims the same port with a huge rate, every second, while the holder goes on.
        var octets: UInt64 = 0
        for t in 3...20 {
            octets += 1_000_000_000_000
            a.ingestCounters(counters(ifIndex: 1, inOctets: octets, outOctets: 0, dpid: 1, port: 1, seq: UInt32(t)), agent: forger,
                             uptime: UInt32(t * 1000), at: Double(t) + 0.5)
            if t % 2 == 1 {
                a.ingestCounters(counters(ifIndex: 5, inOctets: 12_500_000 * UInt64(t - 1) / 2, outOctets: 0, dpid: 1, port: 1),
                                 agent: agent, uptime: UInt32(t * 1000), at: Double(t))
            }
        }
        let l = a.load(dpid: 1, port: 1, at: 20)
        #expect(l?.port == AgentPort(agent: agent, ifIndex: 5))
        #expect(abs((l?.inBps ?? 0) - 50e6) < 1, "\(l?.inBps ?? -1)")
        #expect(a.ports[AgentPort(agent: forger, ifIndex: 1)]?.datapathId == nil)
        #expect(a.ports.conflicts == 18)
        #expect(a.ports.lastConflict?.holder == AgentPort(agent: agent, ifIndex: 5))
        // The holder falls silent: after takeoverSeconds the claimant's next claim wins.
        let late = 19 + PortMap.takeoverSeconds + 1
        a.ingestCounters(counters(ifIndex: 1, inOctets: octets, outOctets: 0, dpid: 1, port: 1), agent: forger, uptime: 90_000, at: late)
        #expect(a.ports.agentPort(dpid: 1, port: 1) == AgentPort(agent: forger, ifIndex: 1))
        #expect(a.ports[AgentPort(agent: agent, ifIndex: 5)]?.datapathId == nil)
        // The same agent renumbering the port (ifIndex 2) takes it at once.
        a.ingestCounters(counters(ifIndex: 2, inOctets: 0, outOctets: 0, dpid: 1, port: 1), agent: forger, uptime: 91_000, at: late + 1)
        #expect(a.ports.agentPort(dpid: 1, port: 1) == AgentPort(agent: forger, ifIndex: 2))
        // A port the topology maps by hand is never taken.
        a.setPortIdentity(AgentPort(agent: agent, ifIndex: 9), PortIdentity(datapathId: 2, portNo: 2))
        a.ingestCounters(counters(ifIndex: 1, inOctets: 0, outOctets: 0, dpid: 2, port: 2), agent: forger, uptime: 92_000, at: late + 500)
        #expect(a.ports.agentPort(dpid: 2, port: 2) == AgentPort(agent: agent, ifIndex: 9))
    }

    @Test func thirtyTwoBitCounterWrap() {
        var a = FlowAnalytics(config: AnalyticsConfig())
        let base: UInt64 = (1 << 32) - 1_000_000
        a.ingestCounters(counters(ifIndex: 1, inOctets: base, outOctets: 0, dpid: 1, port: 1), agent: agent, uptime: 1_000, at: 1)
        a.ingestCounters(counters(ifIndex: 1, inOctets: 4_000_000, outOctets: 0), agent: agent, uptime: 2_000, at: 2)
        // 1,000,000 to the wrap plus 4,000,000 after it, in one second.
        #expect(abs((a.load(dpid: 1, port: 1, at: 2)?.inBps ?? 0) - 5_000_000 * 8) < 1)
    }

    @Test func agentRestartStartsTheCountersOver() {
        var a = FlowAnalytics(config: AnalyticsConfig())
        a.ingestCounters(counters(ifIndex: 1, inOctets: 5_000_000_000, outOctets: 0, dpid: 1, port: 1), agent: agent, uptime: 900_000, at: 1)
        a.ingestCounters(counters(ifIndex: 1, inOctets: 1_000, outOctets: 0), agent: agent, uptime: 500, at: 2)
        // No bogus rate from a counter that went back because the agent rebooted.
        #expect(a.load(dpid: 1, port: 1, at: 2)?.inBps == 0)
        a.ingestCounters(counters(ifIndex: 1, inOctets: 1_000 + 1_250_000, outOctets: 0), agent: agent, uptime: 1_500, at: 3)
        #expect(abs((a.load(dpid: 1, port: 1, at: 3)?.inBps ?? 0) - 10e6) < 1)
        #expect(a.portLoads[AgentPort(agent: agent, ifIndex: 1)]?.counterResets == 1)
    }

    @Test func missingCountersFallBackToSamplesAndUnmappedPortsStillReport() {
        var a = FlowAnalytics(config: AnalyticsConfig())
        var src = SampledSource(seed: 9)
        src.samplingRate = 100
        src.input = 7
        _ = drive(&a, &src, flow: key(1, 2), end: 20) { _ in 40e6 }
        let links = a.links(at: 20)
        let inPort = links.first { $0.port == AgentPort(agent: src.agent, ifIndex: 7) }
        #expect(inPort != nil)
        #expect(inPort?.identity == nil) // no 1004/1005 seen: reported by agent and ifIndex
        if let inPort { #expect(abs(inPort.inBps - 40e6) / 40e6 < 0.25) }
    }

    @Test func samplesAreCorrectedByCountersAsTheyArrive() {
        var a = FlowAnalytics(config: AnalyticsConfig())
        var src = SampledSource(seed: 21)
        src.samplingRate = 100
        src.input = 1
        _ = drive(&a, &src, flow: key(1, 2), end: 10) { _ in 40e6 }
        // The counters say the port carries 60 Mbit/s (traffic the samples did not see, say).
        a.ingestCounters(counters(ifIndex: 1, inOctets: 0, outOctets: 0, dpid: 5, port: 1), agent: src.agent, uptime: 9_000, at: 9.5)
        a.ingestCounters(counters(ifIndex: 1, inOctets: 7_500_000, outOctets: 0), agent: src.agent, uptime: 10_000, at: 10)
        let l = a.load(dpid: 5, port: 1, at: 10)
        #expect(abs((l?.inBps ?? 0) - 60e6) < 1)
    }

    @Test func aFlowSeenAtSeveralSwitchesIsOneFlowNotASum() {
        var a = FlowAnalytics(config: AnalyticsConfig())
        var s1 = SampledSource(seed: 31)
        var s2 = SampledSource(seed: 32)
        s2.agent = .v4(IPv4Address(192, 0, 2, 2))
        s2.input = 4
        // Interleave two switches sampling the same 100 Mbit/s flow.
        var t1 = 0.0, t2 = 0.0
        let pps = 100e6 / 12_000
        while min(t1, t2) < 10 {
            if t1 <= t2 {
                t1 += s1.nextGap(pps: pps)
                s1.datagram(key: key(1, 3), frameLength: 1500, uptimeMs: UInt32(t1 * 1000)).withUnsafeBytes { _ = a.ingest(datagram: $0, at: t1) }
            } else {
                t2 += s2.nextGap(pps: pps)
                s2.datagram(key: key(1, 3), frameLength: 1500, uptimeMs: UInt32(t2 * 1000)).withUnsafeBytes { _ = a.ingest(datagram: $0, at: t2) }
            }
        }
        let f = a.flow(key(1, 3), at: 10)
        #expect(a.flowCount == 1)
        if let f {
            #expect(abs(f.bps - 100e6) / 100e6 < f.errorPercent / 100, "estimate \(f.bps)")
            // Both switches' ports are among the links it crosses.
            #expect(Set(f.links.map(\.port.agent)).count == 2)
        }
    }

    @Test func cacheIsBoundedAndEvictsTheLeastRecentlySeen() {
        var cfg = AnalyticsConfig()
        cfg.maxFlows = 100
        var a = FlowAnalytics(config: cfg)
        var src = SampledSource(seed: 1)
        for i in 0..<250 {
            let k = key(UInt8(i % 250), 9, sport: UInt16(1000 + i))
            src.datagram(key: k, frameLength: 500, uptimeMs: UInt32(i)).withUnsafeBytes { _ = a.ingest(datagram: $0, at: Double(i) * 0.001) }
        }
        #expect(a.flowCount == 100)
        #expect(a.evictions == 150)
        #expect(a.flow(key(249, 9, sport: 1249), at: 1) != nil)
        #expect(a.flow(key(0, 9, sport: 1000), at: 1) == nil)
    }

    @Test func idleFlowsExpire() {
        var cfg = AnalyticsConfig()
        cfg.idleTimeout = 5
        var a = FlowAnalytics(config: cfg)
        var src = SampledSource(seed: 1)
        src.datagram(key: key(1, 2), frameLength: 500, uptimeMs: 1).withUnsafeBytes { _ = a.ingest(datagram: $0, at: 0) }
        _ = a.evaluate(at: 4)
        #expect(a.flowCount == 1)
        _ = a.evaluate(at: 6)
        #expect(a.flowCount == 0)
        #expect(a.expired == 1)
    }

    @Test func ipPairKeysMergeFlows() {
        var cfg = AnalyticsConfig()
        cfg.keySpec = .ipPair
        var a = FlowAnalytics(config: cfg)
        var src = SampledSource(seed: 1)
        for p in 0..<10 {
            src.datagram(key: key(1, 2, sport: UInt16(2000 + p)), frameLength: 500, uptimeMs: 1).withUnsafeBytes { _ = a.ingest(datagram: $0, at: 0) }
        }
        #expect(a.flowCount == 1)
        #expect(FlowKeySpec.parse("src,dst") == .ipPair)
        #expect(FlowKeySpec.parse("src,bogus") == nil)
    }
}

@Suite struct RateSpecAndSummaryTests {
    @Test(arguments: [
        ("100mbit", RateSpec.bitsPerSecond(100e6)), ("1g", .bitsPerSecond(1e9)), ("2.5Gbps", .bitsPerSecond(2.5e9)),
        ("800k", .bitsPerSecond(800e3)), ("1500000", .bitsPerSecond(1.5e6)), ("10%", .shareOfLink(0.1)),
    ])
    func parsesRates(_ text: String, _ expected: RateSpec) {
        #expect(RateSpec.parse(text) == expected)
    }

    @Test(arguments: ["", "fast", "10%%", "-5m", "150%", "1x"])
    func rejectsBadRates(_ text: String) {
        #expect(RateSpec.parse(text) == nil)
    }

    @Test func summaryStatistics() {
        let s = Summary([1, 2, 3, 4, 5, 6, 7, 8])
        #expect(s?.max == 8)
        #expect(s?.min == 1)
        #expect(s?.sum == 36)
        #expect(s?.avg == 4.5)
        #expect(s?.var == 5.25)
        #expect(s?.med == 4.5)
        #expect(s?.q1 == 2.75)
        #expect(s?.q3 == 6.25)
        #expect(s?.iqr == 3.5)
        #expect(Summary([]) == nil)
        #expect(Summary([3])?.sdev == 0)
    }
}

@Suite struct TopologyMappingTests {
    static let yaml = """
    name: two
    switches:
      - {name: a, dpid: 7, role: leaf, agent: 192.0.2.9, ifIndexBase: 100}
      - {name: b, dpid: 8, role: leaf}
    links:
      - {a: "a:1", b: "b:1", capacity: 100M}
    hosts:
      - {name: h1, ipv4: 10.0.0.1/24, mac: "02:00:00:00:00:01", switch: "a:2", capacity: 200M}
      - {name: h2, ipv4: 10.0.0.2/24, mac: "02:00:00:00:00:02", switch: "b:2", capacity: 1G}
    """

    @Test func topologyFileMapsAgentsWithoutOpenFlowRecordsAndStatesSpeeds() throws {
        let topo = try Topology(yaml: Self.yaml)
        #expect(topo.switches[0].agent == .v4(IPv4Address(192, 0, 2, 9)))
        #expect(topo.switches[0].ifIndexBase == 100)
        // The new fields survive a round trip through the writer.
        #expect(try Topology(yaml: topo.yaml) == topo)

        var a = FlowAnalytics(config: AnalyticsConfig())
        a.apply(topology: topo)
        var src = SampledSource(seed: 4)
        src.agent = .v4(IPv4Address(192, 0, 2, 9))
        src.samplingRate = 100
        src.input = 102  // ifIndexBase 100 + port 2 (h1's port)
        src.output = 101 // port 1, towards b
        _ = drive(&a, &src, flow: key(1, 2), end: 10) { _ in 30e6 }
        let up = a.load(dpid: 7, port: 1, at: 10)
        #expect(up != nil)
        // The topology's 100 Mbit/s wins over any reported ifSpeed (none here: the default 1 Gbit/s).
        #expect(up?.speedBps == 100e6)
        if let up { #expect(abs(up.outBps - 30e6) / 30e6 < 0.25) }
        #expect(a.load(dpid: 7, port: 2, at: 10)?.speedBps == 200e6)
        // The flow's links are named by datapath id and port.
        let f = a.flow(key(1, 2), at: 10)
        let named = f?.links.compactMap { a.ports[$0.port]?.portNo }.sorted()
        #expect(named == [1, 2])
        // And by the analytics' port slots: the port's slot where the flow entered (port 2), its
        // complement where it left (port 1), in the order of the links.
        let slots = try #require(f?.linkSlots)
        #expect(slots.count == f?.links.count)
        for (l, code) in zip(f?.links ?? [], slots) {
            let id = try #require(a.ports[l.port])
            #expect(l.input == (code >= 0))
            #expect(a.portSlot(dpid: 7, port: try #require(id.portNo)) == (code >= 0 ? code : ~code))
        }
        #expect(Set(slots.map { $0 >= 0 ? $0 : ~$0 }).count == 2)
        #expect(a.elephants(at: 10).first?.linkSlots == slots)
        // The same links asked for alone; none for a flow not tracked, or when the links have timed out.
        let alone = a.links(of: key(1, 2), at: 10)
        #expect(alone.links.map(\.port) == f?.links.map(\.port) && alone.links.map(\.input) == f?.links.map(\.input))
        #expect(alone.slots == slots && !slots.isEmpty)
        #expect(a.links(of: key(2, 1), at: 10).slots.isEmpty && a.links(of: key(2, 1), at: 10).links.isEmpty)
        let late = 10 + a.config.linkTimeout + 1
        #expect(a.links(of: key(1, 2), at: late).slots == (a.flow(key(1, 2), at: late)?.linkSlots ?? []))
        #expect(a.links(of: key(1, 2), at: late).slots.isEmpty)
        // 30 Mbit/s entering on a stated 200 Mbit/s host link: an elephant by the 10 % rule (with the
        // default 1 Gbit/s it would not be).
        #expect(f?.elephant == true)
    }

    @Test func badAgentInATopologyFileNamesTheLine() {
        let bad = Self.yaml.replacingOccurrences(of: "agent: 192.0.2.9", with: "agent: not-an-ip")
        #expect(throws: TopologyError.self) { try Topology(yaml: bad) }
        do { _ = try Topology(yaml: bad) } catch { #expect("\(error)".contains("3")) }
    }
}
