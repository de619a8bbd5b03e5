import Packets
import SFlow

/// sFlow decode benchmarks: datagram bytes to flow keys (the fast path the analytics use),
/// and the full model decode that `tusk sflow decode` renders.
func sflowBenchmarks() {
    var cfg = SyntheticSFlow.Config()
    cfg.agents = 8
    cfg.flows = 100_000
    cfg.counterEvery = 0
    cfg.seed = 42
    var gen = SyntheticSFlow(config: cfg)
    let datagrams = (0..<20_000).map { i in SFlowEncoder.encode(gen.nextDatagram(agent: i % 8, uptimeMs: UInt32(i))) }
    let samplesPerRun = datagrams.count * cfg.samplesPerDatagram
    print("corpus: \(datagrams.count) datagrams, \(samplesPerRun) flow samples with 128-byte Ethernet/IPv4 headers")

    var sink = 0
    _ = measureThroughput("sflow.scan-to-flow-keys", unit: "flow samples/s") {
        var n = 0
        for d in datagrams {
            d.withUnsafeBytes { raw in
                let c = try? SFlowDecoder.scanFlowSamples(raw) { s in
                    if let k = s.header.flowKey { sink &+= k.hashValue }
                }
                n += c?.flowSamples ?? 0
            }
        }
        return n
    }
    // The samples of a collector's batch (256 datagrams, as `ScannedDatagrams` keeps them): each
    // copied in from the closure form, against parsed in place at the end of the array.
    var batch: [FlowSampleSummary] = []
    batch.reserveCapacity(256 * cfg.samplesPerDatagram)
    /// Scans the corpus into batches of 256 datagrams with `scan`; the samples scanned.
    func scanInBatches(_ scan: (UnsafeRawBufferPointer, inout [FlowSampleSummary]) -> Void) -> Int {
        var n = 0
        for (i, d) in datagrams.enumerated() {
            if i % 256 == 0 { n += batch.count; batch.removeAll(keepingCapacity: true) }
            d.withUnsafeBytes { scan($0, &batch) }
        }
        sink &+= batch.last.map { Int($0.sample.sequence) } ?? 0
        return n + batch.count
    }
    _ = measureThroughput("sflow.scan-into-batch, copied from the closure", unit: "flow samples/s") {
        scanInBatches { raw, out in _ = try? SFlowDecoder.scanFlowSamples(raw) { s in out.append(copy s) } }
    }
    _ = measureThroughput("sflow.scan-into-batch, parsed in place", unit: "flow samples/s") {
        scanInBatches { raw, out in _ = try? SFlowDecoder.scanFlowSamples(raw, appendingTo: &out) }
    }
    _ = measureThroughput("sflow.full-decode", unit: "flow samples/s") {
        var n = 0
        for d in datagrams {
            if let dd = try? SFlowDecoder.decode(d) { n += dd.datagram.samples.count }
        }
        return n
    }
    // What `tusk sflow stats` does with each decoded datagram: per sub-agent counts and the
    // sequence accounting of the datagram and of every sample's data source.
    let decoded = datagrams.compactMap { try? SFlowDecoder.decode($0) }
    _ = measureThroughput("sflow.stats-record", unit: "flow samples/s") {
        var stats = IngestStats()
        for d in decoded { stats.record(d) }
        sink &+= Int(stats.totals.flowSamples)
        return samplesPerRun
    }
    _ = measureThroughput("sflow.encode", unit: "datagrams/s", runs: 5) {
        var g = SyntheticSFlow(config: cfg)
        var bytes = 0
        for i in 0..<5_000 { bytes &+= SFlowEncoder.encode(g.nextDatagram(agent: i % 8, uptimeMs: UInt32(i))).count }
        sink &+= bytes
        return 5_000
    }
    if sink == 42 { print("") } // keep the work observable
}
