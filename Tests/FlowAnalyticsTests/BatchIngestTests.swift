import Testing
@testable import FlowAnalytics
import Packets
import SFlow

/// The batched, prefetching ingest (`ScannedDatagrams` + `ingest(_:)`, what the daemon's socket
/// threads feed) must leave the analytics exactly as ingesting the same datagrams one by one does.
@Suite struct BatchIngestTests {
    /// Synthetic datagrams from 4 agents sampling each flow along a 3-switch path (so flows have
    /// several observation points), interface counters every few datagrams, and garbage mixed in.
    func datagrams(_ n: Int) -> [(bytes: [UInt8], time: Double)] {
        var c = SyntheticSFlow.Config()
        c.agents = 4
        c.flows = 3_000
        c.pathLength = 3
        c.counterEvery = 5
        var g = SyntheticSFlow(config: c)
        var out: [(bytes: [UInt8], time: Double)] = []
        for i in 0..<n {
            let t = Double(i) * 0.0005
            out.append((SFlowEncoder.encode(g.nextDatagram(agent: i % 4, uptimeMs: UInt32(1000 + i / 2))), t))
            if i % 97 == 0 { out.append(([0, 0, 0, 5, 1, 2, 3], t)) }
        }
        return out
    }

    @Test("batches of any size give the same flows, rates, links and port loads as one datagram at a time",
          arguments: [1, 7, 64, 256])
    func sameAsOneByOne(batchSize: Int) {
        let input = datagrams(4_000)
        var one = FlowAnalytics(config: AnalyticsConfig())
        var bad = 0
        for d in input { d.bytes.withUnsafeBytes { if !one.ingest(datagram: $0, at: d.time) { bad += 1 } } }
        #expect(bad > 0)

        var batched = FlowAnalytics(config: AnalyticsConfig())
        var rejected = 0
        var i = 0
        // One batch, emptied and filled again (`removeAll()` must leave nothing of the last one).
        var s = ScannedDatagrams()
        while i < input.count {
            s.removeAll()
            #expect(s.isEmpty && s.samples.isEmpty && s.rejected.isEmpty && s.counterDatagrams.isEmpty)
            let end = min(i + batchSize, input.count)
            for d in input[i..<end] { d.bytes.withUnsafeBytes { _ = s.scan($0, at: d.time) } }
            rejected += s.rejected.count
            batched.ingest(s)
            i = end
        }
        #expect(rejected == bad)
        let t = input.last!.time + 0.1
        let a = one.flows(at: t), b = batched.flows(at: t)
        #expect(a.count == b.count)
        #expect(a.count > 1_000)
        for (x, y) in zip(a, b) {
            #expect(x.key == y.key)
            #expect(x.bps == y.bps)
            #expect(x.samples == y.samples)
            #expect(x.links == y.links)
        }
        // Points per flow agree too (several points per flow here).
        var multiPoint = 0
        for f in a.prefix(300) {
            let pa = one.points(f.key, at: t), pb = batched.points(f.key, at: t)
            #expect(pa.map(\.bps) == pb.map(\.bps))
            if pa.count > 1 { multiPoint += 1 }
        }
        #expect(multiPoint > 10)
        let la = one.loadViews(at: t), lb = batched.loadViews(at: t)
        #expect(Set(la.keys) == Set(lb.keys))
        for (port, v) in la {
            #expect(v.sampledInBps == lb[port]?.sampledInBps)
            #expect(v.sampledOutBps == lb[port]?.sampledOutBps)
            #expect(v.counterInBps == lb[port]?.counterInBps)
        }
    }

    /// Analytics in which every flow sampled once is an elephant.
    func everyFlowAnElephant() -> FlowAnalytics {
        var config = AnalyticsConfig()
        config.threshold = .bitsPerSecond(1)
        config.minSamples = 1
        return FlowAnalytics(config: config)
    }

    @Test("elephants evaluated and estimated on two threads are the same events and reports, in the same order, as on one")
    func elephantsOnTwoThreads() {
        var a = everyFlowAnElephant()
        for d in datagrams(6_000) { d.bytes.withUnsafeBytes { _ = a.ingest(datagram: $0, at: d.time) } }
        var one = a
        one.parallelReportsFrom = .max
        one.parallelEvaluationFrom = .max
        #expect(a.parallelReportsFrom <= 1024)
        #expect(a.parallelEvaluationFrom <= 3_000)
        var events = 0
        for t in [0.5, 3.0, 3.5, 30] {
            // Evaluated on two threads and on one: the same events in the same order.
            let e2 = a.evaluate(at: t), e1 = one.evaluate(at: t)
            #expect(e2 == e1)
            events += e2.count
            guard t < 30 else { continue }
            // With their links (a control round with nothing pinned) and without (one with pins:
            // it asks for the few it needs).
            for withLinks in [true, false] {
                let two = a.elephants(at: t, links: withLinks), single = one.elephants(at: t, links: withLinks)
                #expect(two.count > 1024)
                #expect(two.map(\.key) == single.map(\.key))
                #expect(two.map(\.bps) == single.map(\.bps))
                #expect(two.map(\.errorPercent) == single.map(\.errorPercent))
                #expect(two.map(\.links) == single.map(\.links))
                #expect(two.map(\.lastSeen) == single.map(\.lastSeen))
                #expect(two.contains { !$0.links.isEmpty } == withLinks)
            }
        }
        // Flows became elephants, and ended (idle) by t = 30.
        #expect(events > 2 * 1024)
    }

    @Test("elephants take the estimates of the evaluation at their time, and only while nothing has changed since")
    func elephantsTakeTheEvaluationsEstimates() {
        var a = everyFlowAnElephant()
        let all = datagrams(4_000)
        let (early, late) = (all.prefix(3_000), all.dropFirst(3_000))
        for d in early { d.bytes.withUnsafeBytes { _ = a.ingest(datagram: $0, at: d.time) } }
        // Each report against the flow's own estimate (`flow(_:at:)` estimates it afresh).
        func check(_ t: Double, _ what: Comment) {
            let reports = a.elephants(at: t)
            #expect(reports.count > 100, what)
            for r in reports {
                let f = a.flow(r.key, at: t)!
                #expect(r.bps == f.bps && r.pps == f.pps && r.samples == f.samples, what)
            }
        }
        let t = early.last!.time
        _ = a.evaluate(at: t)
        check(t, "right after the evaluation")
        check(t + 0.5, "at a later time")
        a.config.timeConstant *= 2
        check(t, "after a change of settings")
        _ = a.evaluate(at: t)
        for d in late { d.bytes.withUnsafeBytes { _ = a.ingest(datagram: $0, at: t) } }
        check(t, "after samples came in")
    }

    @Test("a scan keeps nothing of a datagram that is not sFlow, and names its position")
    func rejectedDatagrams() {
        var s = ScannedDatagrams()
        let good = SFlowEncoder.encode(SyntheticSFlow(config: SyntheticSFlow.Config()).nextDatagramCopy())
        let ok = good.withUnsafeBytes { s.scan($0, at: 1) }
        let cut = Array(good.prefix(10))  // cut inside the datagram header
        let okCut = cut.withUnsafeBytes { s.scan($0, at: 2) }
        let okJunk = [UInt8]([1, 2, 3]).withUnsafeBytes { s.scan($0, at: 3) }
        #expect(ok && !okCut && !okJunk)
        #expect(s.rejected == [1, 2])
        #expect(s.datagrams == 3)
        #expect(s.samples.count == 7)
        #expect(s.sampleTimes.allSatisfy { $0 == 1 })
    }
}

extension SyntheticSFlow {
    func nextDatagramCopy() -> SFlowDatagram {
        var g = self
        return g.nextDatagram(agent: 0, uptimeMs: 1000)
    }
}
