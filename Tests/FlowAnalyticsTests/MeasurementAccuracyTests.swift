import Foundation
import Testing
@testable import FlowAnalytics
import Packets
import SFlow

/// One flow of known rate crossing several switches, each sampling it independently 1-in-N and
/// exporting its samples as real sFlow datagrams (the project's encoder), with datagrams lost and
/// agents restarted as a case asks.
struct MultiPointFlow {
    var points: [SampledSource]
    var bps: Double
    var frame = 1500
    var flow = key(1, 3, sport: 41001, dport: 5201)
    /// Whether datagram `index` (1-based, per point) of point `point` is lost.
    var lost: (_ point: Int, _ index: Int) -> Bool = { _, _ in false }
    /// A point whose agent restarts at `restartAt` seconds (its numbering and uptime start over).
    var restartPoint: Int?
    var restartAt = 5.0
    /// When each point stops seeing the flow (it moved away), seconds.
    var leaves: [Double]

    init(seed: UInt64, rates: [UInt32], bps: Double) {
        points = rates.enumerated().map { i, n in
            var s = SampledSource(seed: seed &* 7919 &+ UInt64(i) &+ 1)
            s.agent = .v4(IPv4Address(192, 0, 2, UInt8(i + 1)))
            s.samplingRate = n
            s.input = UInt32(10 + i)
            s.output = UInt32(20 + i)
            s.sourceIndex = 1000 + UInt32(i)
            return s
        }
        self.bps = bps
        leaves = Array(repeating: .infinity, count: rates.count)
    }

    /// Feeds the flow from 0 to `end` seconds into `a`. Returns the datagrams lost.
    @discardableResult
    mutating func run(into a: inout FlowAnalytics, end: Double) -> Int {
        let pps = bps / Double(frame * 8)
        var next = points.indices.map { points[$0].nextGap(pps: pps) }
        var restarted = false
        var dropped = 0
        var sent = Array(repeating: 0, count: points.count)
        while true {
            guard let i = next.indices.min(by: { next[$0] < next[$1] }), next[i] <= end else { break }
            let t = next[i]
            next[i] += points[i].nextGap(pps: pps)
            if t > leaves[i] { next[i] = .infinity; continue }
            var uptime = t
            if let r = restartPoint, i == r, t >= restartAt {
                if !restarted {
                    restarted = true
                    points[i].sequence = 0
                    points[i].sampleSequence = 0
                    points[i].pool = 0
                }
                uptime = t - restartAt
            }
            let bytes = points[i].datagram(key: flow, frameLength: frame, uptimeMs: UInt32(uptime * 1000) + 1)
            sent[i] += 1
            if lost(i, sent[i]) { dropped += 1; continue }
            bytes.withUnsafeBytes { _ = a.ingest(datagram: $0, at: t) }
        }
        _ = a.evaluate(at: end)
        return dropped
    }
}

/// The 95 % bound the evidence allows: 196·√(1/n) % for the samples all points together are
/// expected to deliver over the estimator's window (rate·τ per point at steady state).
func idealBoundPercent(bps: Double, frame: Int, rates: [UInt32], kept: Double = 1, tau: Double = 2) -> Double {
    let pps = bps / Double(frame * 8)
    let n = rates.reduce(0.0) { $0 + pps / Double($1) * kept * tau }
    return 196 / n.squareRoot()
}

@Suite struct MeasurementAccuracyTests {
    static let rates: [UInt32] = [100, 200, 400]

    /// Runs 100 seeded trials; returns how many estimates lay within their own 95 % bound, the
    /// median stated bound, and the mean relative error.
    static func trials(_ configure: (inout MultiPointFlow) -> Void, bps: Double = 20e6, end: Double = 10)
        -> (within: Int, medianBound: Double, meanError: Double) {
        var within = 0
        var bounds: [Double] = []
        var errors: [Double] = []
        for seed in 1...100 {
            var a = FlowAnalytics(config: AnalyticsConfig())
            var m = MultiPointFlow(seed: UInt64(seed), rates: rates, bps: bps)
            configure(&m)
            m.run(into: &a, end: end)
            guard let f = a.flow(m.flow, at: end) else { continue }
            let err = (f.bps - bps) / bps
            errors.append(err)
            bounds.append(f.errorPercent)
            if abs(err) * 100 <= f.errorPercent { within += 1 }
        }
        bounds.sort()
        return (within, bounds.isEmpty ? .infinity : bounds[bounds.count / 2], errors.reduce(0, +) / Double(max(1, errors.count)))
    }

    @Test func threePointsWithDifferentSamplingRatesCombineIntoOneTighterEstimate() {
        let r = Self.trials { _ in }
        let ideal = idealBoundPercent(bps: 20e6, frame: 1500, rates: Self.rates)
        #expect(r.within >= 93, "\(r.within) of 100 estimates within their bound")
        // The bound shrinks with all three points' samples, not only the best-sampled point's.
        #expect(r.medianBound <= ideal * 1.1, "median bound \(r.medianBound) %, all points' evidence allows \(ideal) %")
        #expect(abs(r.meanError) < 0.03, "mean error \(r.meanError)")
    }

    @Test func everyOtherDatagramLostIsCompensated() {
        let r = Self.trials { m in m.lost = { _, index in index % 2 == 0 } }
        let ideal = idealBoundPercent(bps: 20e6, frame: 1500, rates: Self.rates, kept: 0.5)
        #expect(r.within >= 93, "\(r.within) of 100 estimates within their bound")
        // The bound is that of the samples actually received: wider than without loss.
        #expect(r.medianBound >= ideal * 0.9 && r.medianBound <= ideal * 1.1, "median bound \(r.medianBound) %, expected about \(ideal) %")
        #expect(abs(r.meanError) < 0.04, "mean error \(r.meanError)")
    }

    @Test func anAgentRestartInTheMiddleIsNotALoss() {
        let r = Self.trials { m in
            m.lost = { _, index in index % 2 == 0 }
            m.restartPoint = 0
            m.restartAt = 5
        }
        #expect(r.within >= 93, "\(r.within) of 100 estimates within their bound")
        #expect(abs(r.meanError) < 0.04, "mean error \(r.meanError)")

        // The restart is counted as one, and no sample is taken for lost because of it.
        var a = FlowAnalytics(config: AnalyticsConfig())
        var m = MultiPointFlow(seed: 5, rates: [100], bps: 20e6)
        m.restartPoint = 0
        m.lost = { _, index in index % 4 == 0 }
        let dropped = m.run(into: &a, end: 10)
        let s = a.sourceReports
        #expect(s.count == 1)
        #expect(s.first?.resets == 1)
        #expect(s.first?.lost == UInt64(dropped) || s.first?.lost == UInt64(dropped - 1), "lost \(s.first?.lost ?? 0) of \(dropped) dropped")
        #expect(abs((s.first?.lossShare ?? 0) - 0.25) < 0.1, "loss share \(s.first?.lossShare ?? 0)")
    }

    /// Measured as the issue asks: is the rule the estimate had before (the best-sampled point)
    /// biased? Three points at 1-in-100, a 20 Mbit/s flow, 100 trials: the best-sampled point's
    /// estimate is the largest of three noisy ones and reads high on average; the combined one
    /// does not.
    @Test func theBestSampledPointReadsHighAndTheCombinedEstimateDoesNot() {
        var best: [Double] = []
        var combined: [Double] = []
        for seed in 1...100 {
            var a = FlowAnalytics(config: AnalyticsConfig())
            var m = MultiPointFlow(seed: UInt64(seed), rates: [100, 100, 100], bps: 20e6)
            m.run(into: &a, end: 9)
            guard let f = a.flow(m.flow, at: 9), let b = a.points(m.flow, at: 9).max(by: { $0.samples < $1.samples }) else { continue }
            combined.append(f.bps / 20e6 - 1)
            best.append(b.bps / 20e6 - 1)
        }
        let meanBest = best.reduce(0, +) / Double(best.count)
        let meanCombined = combined.reduce(0, +) / Double(combined.count)
        #expect(combined.count == 100)
        #expect(meanBest > 0.05, "best-sampled point: mean error \(meanBest)")
        #expect(abs(meanCombined) < 0.025, "combined: mean error \(meanCombined)")
    }

    @Test func eachPointKeepsItsOwnEstimate() {
        var a = FlowAnalytics(config: AnalyticsConfig())
        var m = MultiPointFlow(seed: 11, rates: Self.rates, bps: 20e6)
        m.run(into: &a, end: 10)
        let points = a.points(m.flow, at: 10)
        #expect(points.map(\.samplingRate) == [100, 200, 400])
        #expect(points.allSatisfy { $0.current })
        for p in points {
            #expect(abs(p.bps - 20e6) / 20e6 * 100 <= p.errorPercent * 1.5, "\(p.point): \(p.bps)")
        }
        // The combined count is the sum of the points' samples; each point's loss is nil.
        if let f = a.flow(m.flow, at: 10) {
            #expect(abs(f.samples - points.reduce(0) { $0 + $1.samples }) < 1e-6)
        }
        #expect(points.allSatisfy { $0.lossShare == 0 && $0.lossFactor == 1 })
    }

    @Test func aPointTheFlowLeftStopsCountingAndTheEstimateHoldsUp() {
        // Points 0 and 1 see the flow throughout; point 2 only until 6 s (the flow moved away).
        var within = 0
        for seed in 1...50 {
            var a = FlowAnalytics(config: AnalyticsConfig())
            var m = MultiPointFlow(seed: UInt64(seed), rates: [100, 100, 100], bps: 20e6)
            m.leaves[2] = 6
            m.run(into: &a, end: 10)
            let points = a.points(m.flow, at: 10)
            #expect(points.map(\.current) == [true, true, false])
            if let f = a.flow(m.flow, at: 10), abs(f.bps - 20e6) / 20e6 * 100 <= f.errorPercent { within += 1 }
        }
        #expect(within >= 45, "\(within) of 50 within their bound")
    }

    @Test func portLoadsFromSamplesAreCompensatedToo() {
        var a = FlowAnalytics(config: AnalyticsConfig())
        var m = MultiPointFlow(seed: 3, rates: [10], bps: 50e6)
        m.lost = { _, index in index % 2 == 0 }
        m.run(into: &a, end: 10)
        let load = a.portLoads[AgentPort(agent: .v4(IPv4Address(192, 0, 2, 1)), ifIndex: 10)]
        let bps = load?.bps(input: true, at: 10, cfg: a.config) ?? 0
        #expect(abs(bps - 50e6) / 50e6 < 0.15, "port load \(bps)")
    }
}
