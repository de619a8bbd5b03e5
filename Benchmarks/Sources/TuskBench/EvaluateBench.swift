// Cost of `FlowAnalytics.evaluate(at:)` as a daemon sees it: 100,000 tracked flows, mostly mice.
// 1,000 elephants are sampled at three switches each (1-in-1000: 40 samples a second each, about
// 500 Mbit/s); 99,000 mice, each seen a few times when they started, are sampled now and then: each
// once every 5 s (a fifth of them in any one second, so none idles out), a few Mbit/s each. Every second the round's samples go in
// (not timed), then `evaluate(at:)` runs (timed, thread CPU time), as the daemon's control round
// does. The events are the same on every run (the input is seeded); only the time varies.
import FlowAnalytics
import Packets
import SFlow

func evaluateBench() {
    let elephants = 1_000, mice = 99_000
    var analytics = FlowAnalytics(config: AnalyticsConfig())
    var rng = SeededGenerator(seed: 5)
    // Per data source (agent, source index): the next sample sequence number, so nothing counts lost.
    var sequence: [Int: UInt32] = [:]
    var sample = FlowSampleSummary(
        agent: .v4(IPv4Address(192, 0, 2, 1)), subAgentId: 0, datagramSequence: 1, uptime: 1,
        sample: SFlowDecoder.FlowSampleHeader(expanded: false, sequence: 1, source: DataSource(type: 0, index: 1),
                                              samplingRate: 1000, samplePool: 1000, drops: 0, input: .ifIndex(1), output: .ifIndex(2)),
        frameLength: 1500, header: ParsedHeader(), hasHeader: true)
    func feed(_ flow: Int, switch sw: Int, at t: Double) {
        let agent = sw % 64
        sample.agent = .v4(IPv4Address(UInt32(0xC000_0200 + agent)))
        let source = agent * 8 + (flow % 8)
        let seq = (sequence[source] ?? 0) + 1
        sequence[source] = seq
        sample.sample.sequence = seq
        sample.sample.source = DataSource(type: 0, index: UInt32(1000 + flow % 8))
        sample.sample.input = .ifIndex(UInt32(1 + flow % 8))
        sample.sample.output = .ifIndex(UInt32(9 + flow % 8))
        sample.uptime = UInt32(t * 1000)
        sample.header.src = .v4(IPv4Address(UInt32(0x0A00_0000 + flow)))
        sample.header.dst = .v4(IPv4Address(UInt32(0x0B00_0000 + flow / 7)))
        sample.header.proto = 6
        sample.header.sport = UInt16(truncatingIfNeeded: 30000 + flow)
        sample.header.dport = 443
        analytics.ingestFlowSample(sample, at: t)
    }
    var t = 0.0
    // The mice start: a few samples each over the first second, at the three switches of their path.
    for f in elephants..<(elephants + mice) {
        for k in 0..<3 { feed(f, switch: (f + 20 * k) % 61, at: t + Double(k) * 0.3 + Double(f % 100) * 0.001) }
    }
    /// One second of traffic: the elephants' samples at their three switches, and a fifth of the mice once.
    var round = 0
    func second() {
        let t0 = t
        for k in 0..<40 {
            let at = t0 + Double(k) * 0.025
            for f in 0..<elephants { feed(f, switch: (f + k) % 3 * 17 + f % 17, at: at) }
        }
        for m in stride(from: round % 5, to: mice, by: 5) {
            let f = elephants + m
            feed(f, switch: (f + 20 * (round % 3)) % 61, at: t0 + Double.random(in: 0..<1, using: &rng))
        }
        round += 1
        t = t0 + 1
    }
    for _ in 0..<4 {
        second()
        _ = analytics.evaluate(at: t)
    }
    var times: [Double] = []
    var events = 0
    for _ in 0..<9 {
        second()
        let c0 = threadCPUNanos()
        events += analytics.evaluate(at: t).count
        times.append(Double(threadCPUNanos() - c0) / 1e6)
    }
    let elephantCount = analytics.elephants(at: t).count
    times.sort()
    print("evaluate(at:) with \(analytics.flowCount) tracked flows (\(elephantCount) elephants), \(events) events in 9 rounds:"
        + " median \(formatNumber(times[times.count / 2])) ms (CPU time; rounds: \(times.map { formatNumber($0) }.joined(separator: " ")))")
}
