import CTuskSys
import Packets
import SFlow

/// Datagrams scanned into flow samples, ready for `FlowAnalytics.ingest(_:)`. Scanning needs no
/// analytics state, so a collector can scan on the thread that read the datagrams and hand the
/// analytics only the samples.
public struct ScannedDatagrams: Sendable {
    public private(set) var samples: [FlowSampleSummary] = []
    public private(set) var sampleTimes: [Double] = []
    /// Each sample's flow key (`header.flowKey`), read on the scanning thread.
    public private(set) var flowKeys: [FlowKey?] = []
    /// Datagrams that hold counter samples (one in tens), decoded when ingested.
    public private(set) var counterDatagrams: [[UInt8]] = []
    public private(set) var counterTimes: [Double] = []
    /// Datagrams that were not usable sFlow, by their position among the scanned.
    public private(set) var rejected: [Int] = []
    public private(set) var datagrams = 0

    public init() {}

    public var isEmpty: Bool { datagrams == 0 }

    /// Empties the batch, keeping its memory for the next one.
    public mutating func removeAll() {
        samples.removeAll(keepingCapacity: true)
        sampleTimes.removeAll(keepingCapacity: true)
        flowKeys.removeAll(keepingCapacity: true)
        counterDatagrams.removeAll(keepingCapacity: true)
        counterTimes.removeAll(keepingCapacity: true)
        rejected.removeAll(keepingCapacity: true)
        datagrams = 0
    }

    /// Scans one datagram. Returns false when it was not usable sFlow (nothing of it is kept).
    @discardableResult
    public mutating func scan(_ bytes: UnsafeRawBufferPointer, at t: Double) -> Bool {
        datagrams += 1
        let before = samples.count
        guard let counts = try? SFlowDecoder.scanFlowSamples(bytes, appendingTo: &samples) else {
            samples.removeSubrange(before...)
            rejected.append(datagrams - 1)
            return false
        }
        sampleTimes.append(contentsOf: repeatElement(t, count: samples.count - before))
        // Read after the whole datagram is scanned, not as each header is parsed: reading the
        // addresses back at once waits for the parser's narrower stores to complete.
        for i in flowKeys.count..<samples.count { flowKeys.append(samples[i].header.flowKey) }
        if counts.counterSamples > 0 {
            counterDatagrams.append([UInt8](bytes))
            counterTimes.append(t)
        }
        return true
    }
}

extension FlowAnalytics {
    /// How many samples ahead the hash bucket, and then the flow entry, are fetched.
    static let bucketLead = 8
    static let entryLead = 4

    /// Ingests scanned datagrams: the same as `ingest(datagram:at:)` on each of them in order
    /// (counter samples after the flow samples of the batch), with the memory latency of the flow
    /// lookups overlapped: while sample i is applied, the hash bucket of sample i+8 and the flow
    /// entry of sample i+4 are already being loaded (with sample i+4's data source state and port
    /// loads). With 100,000 flows the index and the entries are far larger than the CPU caches, and
    /// these loads are most of a sample's cost.
    public mutating func ingest(_ batch: ScannedDatagrams) {
        let n = batch.samples.count
        if n > 0 {
            var hashes = [UInt64](repeating: 0, count: n)
            var keys = [FlowKey?](repeating: nil, count: n)
            let spec = config.keySpec
            batch.samples.withUnsafeBufferPointer { samples in
                for i in 0..<min(n, Self.bucketLead) { keys[i] = batch.flowKeys[i].map { spec.project($0) }; prefetchBucket(keys[i], &hashes[i]) }
                for i in 0..<n {
                    let ahead = i + Self.bucketLead
                    if ahead < n {
                        prefetchSample(samples.baseAddress! + ahead)
                        keys[ahead] = batch.flowKeys[ahead].map { spec.project($0) }
                        prefetchBucket(keys[ahead], &hashes[ahead])
                    }
                    let near = i + Self.entryLead
                    if near < n {
                        if keys[near] != nil { prefetchEntry(hash: hashes[near]) }
                        prefetchSourceAndPorts(samples[near])
                    }
                    ingestFlowSample(samples[i], key: keys[i], at: batch.sampleTimes[i])
                }
            }
        }
        for (bytes, t) in zip(batch.counterDatagrams, batch.counterTimes) {
            guard let d = try? bytes.withUnsafeBytes({ try SFlowDecoder.decode($0) }) else { continue }
            for case .counters(let c) in d.datagram.samples {
                ingestCounters(c, agent: d.datagram.agent, uptime: d.datagram.uptime, at: t)
            }
        }
    }

    @inline(__always)
    private func prefetchBucket(_ key: FlowKey?, _ hash: inout UInt64) {
        guard let key else { return }
        hash = index.hash(key)
        index.prefetch(hash: hash)
    }

    /// All of a scanned sample (a few cache lines, written by the thread that scanned it).
    @inline(__always)
    private func prefetchSample(_ p: UnsafePointer<FlowSampleSummary>) {
        let raw = UnsafeRawPointer(p)
        for line in stride(from: 0, to: MemoryLayout<FlowSampleSummary>.size, by: 64) { tusk_prefetch(raw + line) }
    }

    /// The sample's data source state and the loads of its two ports, where their ids are known.
    @inline(__always)
    private func prefetchSourceAndPorts(_ s: borrowing FlowSampleSummary) {
        let agent = s.agent
        if let p = pointsByAgent.peek(AgentAndSubAgent(agent: s.agent, subAgentId: s.subAgentId), index: s.sample.source.index) {
            sources.withUnsafeBufferPointer { b in if Int(p) < b.count { tusk_prefetch(b.baseAddress! + Int(p)) } }
        }
        let input = s.sample.input.singleIfIndex.flatMap { portsByAgent.peek(agent, index: $0) }
        let output = s.sample.output.singleIfIndex.flatMap { portsByAgent.peek(agent, index: $0) }
        loads.withUnsafeBufferPointer { b in
            if let input, Int(input) < b.count { tusk_prefetch(b.baseAddress! + Int(input)) }
            if let output, Int(output) < b.count { tusk_prefetch(b.baseAddress! + Int(output)) }
        }
    }

    @inline(__always)
    private func prefetchEntry(hash: UInt64) {
        slots.withUnsafeBufferPointer { buf in
            guard let s = index.candidate(hash: hash), Int(s) < buf.count else { return }
            let p = UnsafeRawPointer(buf.baseAddress! + Int(s))
            tusk_prefetch(p)
            tusk_prefetch(p + 64)
            tusk_prefetch(p + 128)
        }
    }
}
