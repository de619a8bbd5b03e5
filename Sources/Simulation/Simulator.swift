// The flow-level, event-driven simulator. Between two events every rate is constant; at each event
// (an arrival, a completion, a control round, a path install) flows are added, removed or moved and
// the max-min fair rates are computed again. No wall clock and no global random source: the run is
// a pure function of the topology, the flows, the scheduler and the configuration.
import Packets
import Topology

public struct SimulationConfig: Hashable, Sendable {
    /// Simulated seconds.
    public var duration: Double
    /// Start of the measurement window (throughput and utilisation are measured over
    /// [measureFrom, duration]); nil: 10 % of the duration.
    public var measureFrom: Double?

    public init(duration: Double = 60, measureFrom: Double? = nil) {
        self.duration = duration
        self.measureFrom = measureFrom
    }

    public var windowStart: Double { min(max(0, measureFrom ?? duration * 0.1), duration) }
}

public struct Simulator {
    public let network: SimNetwork
    public let specs: [FlowSpec]
    public var scheduler: any FlowScheduler
    public let config: SimulationConfig

    // Per flow.
    private var remaining: [Double]
    private var sent: [Double]
    private var sentInWindow: [Double]
    private var sentAtTick: [Double]
    private var finish: [Double]
    private var rate: [Double]
    private var paths: [[Int32]]
    private var pinned: [Bool]
    private var activePos: [Int32]
    private var active: [Int32] = []
    // Per directed link.
    private var linkRate: [Double]
    private var linkBytesWindow: [Double]
    private var linkBytesTotal: [Double]
    private var linkBytesAtTick: [Double]
    private var usedLinks: [Int32] = []
    // Per switch: pinned entries now, and the most at any time.
    private var tableEntries: [Int]
    private var tablePeak: [Int]
    private var controlMessages = 0
    private var pendingInstalls: [(time: Double, command: ControlCommand)] = []
    private var allocator = MaxMinAllocator()
    private var scratchRates: [Double] = []
    private var events = 0
    private var recomputations = 0
    private var now = 0.0

    public init(network: SimNetwork, flows: [FlowSpec], scheduler: any FlowScheduler, config: SimulationConfig) {
        self.network = network
        // Flow ids follow start time (ties keep the given order) so arrivals are a running index.
        specs = flows.enumerated().sorted { ($0.element.start, $0.offset) < ($1.element.start, $1.offset) }.map(\.element)
        self.scheduler = scheduler
        self.config = config
        let n = specs.count
        remaining = specs.map { $0.bytes ?? .infinity }
        sent = [Double](repeating: 0, count: n)
        sentInWindow = sent
        sentAtTick = sent
        finish = [Double](repeating: .nan, count: n)
        rate = sent
        paths = [[Int32]](repeating: [], count: n)
        pinned = [Bool](repeating: false, count: n)
        activePos = [Int32](repeating: -1, count: n)
        let links = network.directedLinkCount
        linkRate = [Double](repeating: 0, count: links)
        linkBytesWindow = linkRate
        linkBytesTotal = linkRate
        linkBytesAtTick = linkRate
        tableEntries = [Int](repeating: 0, count: network.topology.switches.count)
        tablePeak = tableEntries
    }

    /// Runs to the end. `progress` gets the simulated fraction done (0...1) now and then.
    public mutating func run(progress: ((Double) -> Void)? = nil) -> RunResult {
        let end = config.duration
        let windowStart = config.windowStart
        scheduler.start(network: network, flows: specs)
        let timing = scheduler.timing
        var nextTick = timing.map { $0.interval > 0 ? $0.interval : .infinity } ?? .infinity
        var lastTick = 0.0
        var nextArrival = 0
        var lastProgress = -1.0
        var dirty = false

        while true {
            // Next event.
            var tNext = end
            if nextArrival < specs.count { tNext = min(tNext, specs[nextArrival].start) }
            tNext = min(tNext, nextTick)
            if let p = pendingInstalls.first { tNext = min(tNext, p.time) }
            var completionAt = Double.infinity
            for f in active {
                let fi = Int(f)
                if rate[fi] > 0, remaining[fi].isFinite {
                    completionAt = min(completionAt, now + remaining[fi] * 8 / rate[fi])
                }
            }
            tNext = min(tNext, completionAt)
            tNext = max(tNext, now)

            advance(to: tNext, windowStart: windowStart)
            if tNext >= end { break }
            events += 1

            // Completions.
            var i = 0
            while i < active.count {
                let f = Int(active[i])
                // Done when (almost) nothing is left, or when what is left would take less time
                // than the clock can resolve (else the loop could stall at one instant).
                if remaining[f].isFinite,
                   remaining[f] <= max(1e-6, rate[f] * 1e-12) || (rate[f] > 0 && now + remaining[f] * 8 / rate[f] <= now) {
                    remaining[f] = 0
                    finish[f] = now
                    removeEntries(f)
                    deactivate(f)
                    dirty = true
                } else {
                    i += 1
                }
            }
            // Installs that are due.
            while let p = pendingInstalls.first, p.time <= now {
                pendingInstalls.removeFirst()
                if apply(p.command) { dirty = true }
            }
            // Arrivals.
            while nextArrival < specs.count, specs[nextArrival].start <= now {
                activate(nextArrival)
                nextArrival += 1
                dirty = true
            }
            // Control round.
            if let timing, now >= nextTick {
                if dirty { recompute(); dirty = false } // the view shows current rates
                let view = measurement(interval: now - lastTick)
                lastTick = now
                for c in scheduler.control(view) {
                    pendingInstalls.append((now + max(0, timing.installDelay), c))
                }
                if timing.installDelay <= 0 {
                    while let p = pendingInstalls.first, p.time <= now {
                        pendingInstalls.removeFirst()
                        if apply(p.command) { dirty = true }
                    }
                }
                nextTick += timing.interval
            }
            if dirty {
                recompute()
                dirty = false
            }
            if let progress, end > 0, now / end - lastProgress >= 0.01 {
                lastProgress = now / end
                progress(lastProgress)
            }
        }
        progress?(1)
        return result(windowStart: windowStart)
    }

    // MARK: State changes

    private mutating func activate(_ f: Int) {
        let s = specs[f]
        switch scheduler.forwarding {
        case .ecmp(let salt): paths[f] = network.ecmpPath(src: s.src, dst: s.dst, key: s.key, salt: salt)
        case .nonBlocking: paths[f] = network.nonBlockingPath(src: s.src, dst: s.dst)
        }
        activePos[f] = Int32(active.count)
        active.append(Int32(f))
    }

    private mutating func deactivate(_ f: Int) {
        let pos = Int(activePos[f])
        guard pos >= 0 else { return }
        let last = active.removeLast()
        if pos < active.count {
            active[pos] = last
            activePos[Int(last)] = Int32(pos)
        }
        activePos[f] = -1
        rate[f] = 0
    }

    /// Applies a control command; true if forwarding changed.
    private mutating func apply(_ c: ControlCommand) -> Bool {
        switch c {
        case .pin(let f, let path):
            guard f >= 0, f < specs.count, activePos[f] >= 0 else { return false }
            let links = path.links.map { Int32($0.index) }
            guard network.topology.isValidPath(path, from: specs[f].src, to: specs[f].dst) else { return false }
            let old = pinned[f] ? Set(network.switches(on: paths[f])) : []
            let new = network.switches(on: links)
            // One flow-mod per switch of the new path (add or modify), one delete per switch left behind.
            controlMessages += new.count + old.subtracting(new).count
            removeEntries(f)
            for s in new { addEntry(Int(s)) }
            pinned[f] = true
            let changed = paths[f] != links
            paths[f] = links
            return changed
        case .unpin(let f):
            guard f >= 0, f < specs.count, pinned[f] else { return false }
            controlMessages += network.switches(on: paths[f]).count
            removeEntries(f)
            pinned[f] = false
            guard activePos[f] >= 0 else { return false }
            let s = specs[f]
            let fallback: [Int32] = switch scheduler.forwarding {
            case .ecmp(let salt): network.ecmpPath(src: s.src, dst: s.dst, key: s.key, salt: salt)
            case .nonBlocking: network.nonBlockingPath(src: s.src, dst: s.dst)
            }
            let changed = fallback != paths[f]
            paths[f] = fallback
            return changed
        }
    }

    private mutating func addEntry(_ s: Int) {
        tableEntries[s] += 1
        tablePeak[s] = max(tablePeak[s], tableEntries[s])
    }

    /// A pinned flow's entries go when it ends (idle timeout on the switch; no controller message).
    private mutating func removeEntries(_ f: Int) {
        guard pinned[f] else { return }
        for s in network.switches(on: paths[f]) { tableEntries[Int(s)] -= 1 }
        pinned[f] = false
    }

    private mutating func recompute() {
        recomputations += 1
        let act = active
        let p = paths
        allocator.allocate(capacities: network.capacities, flowCount: act.count,
                           path: { p[Int(act[$0])][...] }, rates: &scratchRates)
        for l in usedLinks { linkRate[Int(l)] = 0 }
        usedLinks.removeAll(keepingCapacity: true)
        for (i, f) in act.enumerated() {
            let r = scratchRates[i].isFinite ? scratchRates[i] : 0
            rate[Int(f)] = r
            for l in p[Int(f)] {
                if linkRate[Int(l)] == 0 { usedLinks.append(l) }
                linkRate[Int(l)] += r
            }
        }
    }

    /// Moves time forward with the current rates.
    private mutating func advance(to t: Double, windowStart: Double) {
        let dt = t - now
        guard dt > 0 else { now = t; return }
        let overlap = max(0, t - max(now, windowStart))
        if scheduler.observesSegments {
            let ids = active.map(Int.init)
            scheduler.observe(SegmentView(from: now, to: t, flows: ids, rates: ids.map { rate[$0] },
                                          paths: ids.map { paths[$0] }, linkRates: linkRate,
                                          specs: ids.map { specs[$0] }))
        }
        for f in active {
            let fi = Int(f)
            let r = rate[fi]
            guard r > 0 else { continue }
            let bytes = min(r * dt / 8, remaining[fi])
            remaining[fi] -= bytes
            sent[fi] += bytes
            if overlap > 0 { sentInWindow[fi] += min(r * overlap / 8, bytes) }
        }
        for l in usedLinks {
            let li = Int(l)
            linkBytesTotal[li] += linkRate[li] * dt / 8
            if overlap > 0 { linkBytesWindow[li] += linkRate[li] * overlap / 8 }
        }
        now = t
    }

    private mutating func measurement(interval: Double) -> MeasurementView {
        var flows: [FlowMeasurement] = []
        flows.reserveCapacity(active.count)
        for f in active.sorted() {
            let fi = Int(f)
            flows.append(FlowMeasurement(id: fi, spec: specs[fi], path: paths[fi], pinned: pinned[fi],
                                         bytesInInterval: sent[fi] - sentAtTick[fi], rate: rate[fi]))
        }
        for i in sent.indices { sentAtTick[i] = sent[i] }
        var linkBytes = linkBytesTotal
        for i in linkBytes.indices { linkBytes[i] -= linkBytesAtTick[i] }
        linkBytesAtTick = linkBytesTotal
        return MeasurementView(time: now, interval: interval, network: network, flows: flows, linkBytes: linkBytes)
    }

    // MARK: Results

    private func result(windowStart: Double) -> RunResult {
        let window = config.duration - windowStart
        let delivered = sentInWindow.reduce(0, +)
        let throughput = window > 0 && network.fullBisection > 0 ? delivered * 8 / (window * network.fullBisection) : 0
        var outcomes: [FlowOutcome] = []
        outcomes.reserveCapacity(specs.count)
        for (i, s) in specs.enumerated() {
            // A flow's rate is measured over its part of the window.
            let from = max(windowStart, s.start)
            let to = finish[i].isNaN ? config.duration : min(finish[i], config.duration)
            let span = to - from
            outcomes.append(FlowOutcome(id: i, src: s.src.index, dst: s.dst.index, start: s.start, bytes: s.bytes,
                                        finish: finish[i].isNaN ? nil : finish[i], sent: sent[i],
                                        windowRate: span > 1e-9 ? sentInWindow[i] * 8 / span : nil))
        }
        var util = [Double](repeating: 0, count: network.directedLinkCount)
        if window > 0 {
            for i in util.indices { util[i] = linkBytesWindow[i] * 8 / (network.capacities[i] * window) }
        }
        return RunResult(scheduler: scheduler.name, workload: "", seed: 0,
                         normalizedThroughput: throughput,
                         fct: FCTSummary(outcomes),
                         linkUtilization: util, isFabric: network.isFabric,
                         flowTablePeak: tablePeak, controlMessages: controlMessages,
                         flows: outcomes, events: events, recomputations: recomputations)
    }
}
