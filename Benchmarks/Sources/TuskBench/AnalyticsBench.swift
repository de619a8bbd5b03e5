import FlowAnalytics
import Packets
import SFlow

/// Flow analytics: decode + flow-key extraction + cache update per sample, with 100,000 distinct
/// active flows, each sampled by the three switches on its path; then the memory held by
/// 1,000,000 tracked flows.
func analyticsBenchmarks() {
    var cfg = SyntheticSFlow.Config()
    cfg.agents = 8
    cfg.flows = 100_000
    cfg.counterEvery = 0
    cfg.seed = 7
    cfg.pathLength = 3 // each flow crosses three switches (leaf, spine, leaf), each sampling it
    var gen = SyntheticSFlow(config: cfg)
    let datagrams = (0..<40_000).map { i in SFlowEncoder.encode(gen.nextDatagram(agent: i % 8, uptimeMs: UInt32(i))) }
    // Warm the cache so all 100,000 flows are active before timing.
    var analytics = FlowAnalytics(config: AnalyticsConfig())
    var t = 0.0
    for d in datagrams { d.withUnsafeBytes { _ = analytics.ingest(datagram: $0, at: t) }; t += 0.00002 }
    print("active flows in cache: \(analytics.flowCount)")
    _ = measureThroughput("analytics.decode+key+cache-update", unit: "samples/s") {
        let before = analytics.samplesIngested
        for d in datagrams {
            d.withUnsafeBytes { _ = analytics.ingest(datagram: $0, at: t) }
            t += 0.00002
        }
        return analytics.samplesIngested - before
    }
    // The daemon's path: datagrams scanned into batches of 256 (on its socket threads), then the
    // batch ingested with the flow lookups prefetched (on the analytics thread). Both on this one
    // thread here, so this is the CPU a sample costs in all.
    var batched = FlowAnalytics(config: AnalyticsConfig())
    var tb = 0.0
    func ingestBatched() -> Int {
        let before = batched.samplesIngested
        var scanned = ScannedDatagrams()
        var i = 0
        while i < datagrams.count {
            scanned.removeAll()
            for d in datagrams[i..<min(i + 256, datagrams.count)] {
                d.withUnsafeBytes { _ = scanned.scan($0, at: tb) }
                tb += 0.00002
            }
            batched.ingest(scanned)
            i += 256
        }
        return batched.samplesIngested - before
    }
    _ = ingestBatched()
    _ = measureThroughput("analytics.scan+batch-ingest (the daemon's path)", unit: "samples/s") { ingestBatched() }
    _ = measureThroughput("analytics.evaluate(100k flows)", unit: "evaluations/s", runs: 5) {
        t += 0.1
        _ = analytics.evaluate(at: t)
        return 1
    }

    // Memory: 1,000,000 tracked flows (each sampled once at one switch).
    let rss0 = residentBytes()
    var big = FlowAnalytics(config: AnalyticsConfig())
    var sample = FlowSampleSummary(
        agent: .v4(IPv4Address(192, 0, 2, 1)), subAgentId: 0, datagramSequence: 1, uptime: 1,
        sample: SFlowDecoder.FlowSampleHeader(expanded: false, sequence: 1, source: DataSource(type: 0, index: 1),
                                              samplingRate: 1000, samplePool: 1000, drops: 0, input: .ifIndex(1), output: .ifIndex(2)),
        frameLength: 1500, header: ParsedHeader(), hasHeader: true)
    for i in 0..<1_000_000 {
        sample.header.src = .v4(IPv4Address(UInt32(0x0A00_0000 + i)))
        sample.header.dst = .v4(IPv4Address(0x0AC8_0001))
        sample.header.proto = 6
        sample.header.sport = UInt16(truncatingIfNeeded: i)
        sample.header.dport = 5201
        big.ingestFlowSample(sample, at: 1)
    }
    let rss1 = residentBytes()
    print("memory for \(big.flowCount) tracked flows: \((rss1 - rss0) / (1 << 20)) MiB (\((rss1 - rss0) / big.flowCount) bytes per flow)")
}
