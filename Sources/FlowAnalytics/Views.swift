// Read-only views for an operator's API: the largest flows without ranking every tracked flow, and a
// port's load split into what counters and what samples say.

extension FlowAnalytics {
    /// The `limit` fastest flows at or above `minBps`, fastest first (ties by key). Only those few are
    /// turned into reports: the rest cost one rate estimate each, so this stays cheap with 100,000
    /// flows tracked (a full `flows(at:)` ranks and reports every one).
    public func topFlows(at t: Double, limit: Int, minBps: Double = 0, where include: ((FlowReport) -> Bool)? = nil) -> [FlowReport] {
        guard limit > 0 else { return [] }
        // A bounded min-heap of (bps, slot): the root is the slowest flow kept so far.
        var heap: [(bps: Double, slot: Int)] = []
        heap.reserveCapacity(min(limit, 4096))
        func less(_ a: (bps: Double, slot: Int), _ b: (bps: Double, slot: Int)) -> Bool {
            a.bps != b.bps ? a.bps < b.bps : slots[a.slot].key > slots[b.slot].key
        }
        func siftDown(_ i0: Int) {
            var i = i0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count, less(heap[l], heap[m]) { m = l }
                if r < heap.count, less(heap[r], heap[m]) { m = r }
                if m == i { return }
                heap.swapAt(i, m)
                i = m
            }
        }
        func siftUp(_ i0: Int) {
            var i = i0
            while i > 0 {
                let p = (i - 1) / 2
                if !less(heap[i], heap[p]) { return }
                heap.swapAt(i, p)
                i = p
            }
        }
        for i in slots.indices where slots[i].live {
            let bps = estimate(slots[i], at: t).bps
            guard bps >= minBps else { continue }
            let c = (bps: bps, slot: i)
            if heap.count >= limit, !less(heap[0], c) { continue }
            if let include, !include(report(slots[i], at: t)) { continue }
            if heap.count < limit {
                heap.append(c)
                siftUp(heap.count - 1)
            } else if less(heap[0], c) {
                heap[0] = c
                siftDown(0)
            }
        }
        return heap.sorted { less($1, $0) }.map { report(slots[$0.slot], at: t) }
    }

    /// A flow's report: its estimate (`estimate`, from an evaluation, or worked out now) and, if
    /// `links`, the links it was seen on within the link timeout (else none).
    func report(_ e: FlowEntry, at t: Double, estimate given: FlowEntry.Estimate? = nil, links: Bool = true) -> FlowReport {
        withUnsafePointer(to: e) { report(at: $0, at: t, estimate: given, links: links) }
    }

    /// `report(_:at:estimate:links:)` of the entry at `e`, read in place. (An entry passed by value
    /// from the analytics' own table is copied first, its arrays retained and released: for each
    /// of 8,192 elephants in every k=32 round.)
    func report(at e: UnsafePointer<FlowEntry>, at t: Double, estimate given: FlowEntry.Estimate?, links: Bool) -> FlowReport {
        let est = given ?? { let x = estimate(e.pointee, at: t); return (x.bps, x.pps, x.samples) }()
        let live = links ? liveLinks(at: e, at: t) : (links: [], slots: [])
        return FlowReport(key: e.pointee.key, bps: est.bps, pps: est.pps, samples: est.samples,
                          errorPercent: RateEstimator.errorPercent(samples: est.samples), elephant: e.pointee.elephant,
                          links: live.links, firstSeen: e.pointee.firstSeen, lastSeen: e.pointee.lastSeen, linkSlots: live.slots)
    }

    /// The links the flow at `e` was seen on within the link timeout: `FlowReport.links` and `linkSlots`.
    func liveLinks(at e: UnsafePointer<FlowEntry>, at t: Double) -> (links: [FlowLink], slots: [Int32]) {
        // (Closures, not `map(link)` and `map(\.code)`: a method passed as a value copies the whole
        // analytics into its context, retaining and releasing every field, and a key path goes
        // through the runtime; for each of 8,192 reports in a k=32 round.)
        let live = e.pointee.allLinks.filter { t - $0.lastSeen <= config.linkTimeout }
        return (live.map { link($0) }, live.map { $0.code })
    }

    /// A port's load by source: the counters' last rates (nil before two counter samples) and the
    /// samples' estimate, bits per second, with when counters last came (analytics time).
    public struct PortLoadView: Sendable {
        public var counterInBps: Double?
        public var counterOutBps: Double?
        public var sampledInBps: Double
        public var sampledOutBps: Double
        public var lastCounterTime: Double?
    }

    public func loadViews(at t: Double) -> [AgentPort: PortLoadView] {
        portLoads.mapValues { l in
            PortLoadView(counterInBps: l.counterInBps, counterOutBps: l.counterOutBps,
                         sampledInBps: l.sampled(input: true, at: t, cfg: config),
                         sampledOutBps: l.sampled(input: false, at: t, cfg: config), lastCounterTime: l.lastCounterTime)
        }
    }
}
