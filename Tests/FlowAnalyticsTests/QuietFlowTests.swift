import Foundation
import Testing
@testable import FlowAnalytics
import Packets
import SFlow

/// `evaluate(at:)` skips flows that were not sampled since their last evaluation and cannot become
/// elephants. These runs feed the same seeded samples into two analytics, one that skips and one
/// that estimates every flow every time, and compare everything they report.
@Suite struct QuietFlowTests {
    /// Flows that come and go: mice sampled now and then, flows that go quiet and come back as
    /// elephants, elephants that stop, several switches per flow, and sources that lose runs of
    /// samples now and then (their loss factor moves every quiet flow's estimate up).
    struct Workload {
        var rng = SeededGenerator(seed: 3)
        var sequence: [Int: UInt32] = [:]
        var sample = FlowSampleSummary(
            agent: .v4(IPv4Address(192, 0, 2, 1)), subAgentId: 0, datagramSequence: 1, uptime: 1,
            sample: SFlowDecoder.FlowSampleHeader(expanded: false, sequence: 1, source: DataSource(type: 0, index: 1),
                                                  samplingRate: 1000, samplePool: 1000, drops: 0, input: .ifIndex(1), output: .ifIndex(2)),
            frameLength: 1500, header: ParsedHeader(), hasHeader: true)

        mutating func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }

        /// One sample of flow `f` at switch `sw`, into both analytics.
        mutating func feed(_ f: Int, switch sw: Int, at t: Double, into a: inout FlowAnalytics, _ b: inout FlowAnalytics) {
            let source = sw * 4 + f % 4
            // Source 0..3 of switch 1 lose runs of samples from time to time.
            let lost: UInt32 = sw == 1 && uniform() < 0.2 ? UInt32(1 + rng.next() % 6) : 0
            let seq = (sequence[source] ?? 0) + 1 + lost
            sequence[source] = seq
            sample.agent = .v4(IPv4Address(UInt32(0xC000_0200 + sw)))
            sample.sample.sequence = seq
            sample.sample.source = DataSource(type: 0, index: UInt32(1000 + f % 4))
            sample.sample.input = .ifIndex(UInt32(1 + f % 4))
            sample.sample.output = .ifIndex(UInt32(5 + f % 4))
            sample.uptime = UInt32(t * 1000)
            sample.header.src = .v4(IPv4Address(UInt32(0x0A00_0000 + f)))
            sample.header.dst = .v4(IPv4Address(0x0B00_0001))
            sample.header.proto = 6
            sample.header.sport = UInt16(truncatingIfNeeded: 20000 + f)
            sample.header.dport = 443
            a.ingestFlowSample(sample, at: t)
            b.ingestFlowSample(sample, at: t)
        }
    }

    /// Samples a second a flow sends at time `t`: flow f's rate changes with its phase.
    static func samplesPerSecond(_ f: Int, at t: Double) -> Double {
        switch f % 5 {
        case 0: return 0.3                                        // a mouse
        case 1: return Int(t / 4) % 2 == 0 ? 0 : 12               // quiet 4 s, then about 140 Mbit/s
        case 2: return t < 6 ? 10 : 0                             // an elephant that stops
        case 3: return 7 + Double(f % 7) * 0.4                    // around the threshold (100 Mbit/s)
        default: return Int(t / 3) % 3 == 0 ? 9 : 1              // bursts
        }
    }

    @Test func skippingQuietFlowsChangesNothing() {
        var skipping = FlowAnalytics(config: AnalyticsConfig())
        var every = FlowAnalytics(config: AnalyticsConfig())
        every.evaluatesEveryFlow = true
        var w = Workload()
        var skippedAny = 0
        var events = 0
        var t = 0.0
        let flows = 400, movers = 40
        for round in 0..<60 {
            let t0 = t
            for f in 0..<flows {
                // Each of the flow's three switches samples it (the last one only every other round).
                for hop in 0..<(round % 2 == 0 ? 3 : 2) {
                    let n = Self.samplesPerSecond(f, at: t0) * 0.5
                    // The whole part, plus one more with the fractional chance.
                    let k = Int(n) + (w.uniform() < n - n.rounded(.down) ? 1 : 0)
                    for _ in 0..<k {
                        w.feed(f, switch: (f + hop * 5) % 13, at: t0 + w.uniform() * 0.5, into: &skipping, &every)
                    }
                }
            }
            // Flows that change path: sampled lightly at one switch, then heavily at another for a
            // while, then not at all. Once the first switch's samples are old enough for it to stop
            // counting, the estimate rises to the second's alone, with no new sample: these flows
            // become elephants in a round that brings them nothing.
            for m in 0..<movers {
                let end = 3 + Double(m % 10) * 2.5
                for (sw, from, to, perSecond) in [(0, end - 5, end - 1.2, 2.0), (12, end - 1.5, end, 11.0 + Double(m % 4))] {
                    let n = (min(to, t0 + 0.5) - max(from, t0)) * perSecond
                    guard n > 0 else { continue }
                    let k = Int(n) + (w.uniform() < n - n.rounded(.down) ? 1 : 0)
                    for _ in 0..<k {
                        w.feed(flows + m, switch: sw, at: max(from, t0) + w.uniform() * (min(to, t0 + 0.5) - max(from, t0)), into: &skipping, &every)
                    }
                }
            }
            t = t0 + 0.5
            // Halfway, a lower threshold: every flow is looked at again.
            if round == 40 {
                skipping.config.threshold = .shareOfLink(0.08)
                every.config.threshold = .shareOfLink(0.08)
            }
            let a = skipping.evaluate(at: t), b = every.evaluate(at: t)
            #expect(a == b, "round \(round)")
            events += a.count
            skippedAny += skipping.lastSkipped
            #expect(every.lastSkipped == 0)
            let ea = skipping.elephants(at: t), eb = every.elephants(at: t)
            #expect(ea.map(\.key) == eb.map(\.key))
            #expect(ea.map(\.bps) == eb.map(\.bps))
            let fa = skipping.flows(at: t), fb = every.flows(at: t)
            #expect(fa.map(\.key) == fb.map(\.key) && fa.map(\.links) == fb.map(\.links) && fa.map(\.bps) == fb.map(\.bps))
        }
        // The run exercises both: flows skipped, and elephants starting and ending.
        #expect(skippedAny > 1000)
        #expect(events > 50)
    }
}
