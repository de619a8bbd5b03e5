import Packets
import Testing
@testable import SFlow

// sFlow v5: datagram sequence numbers count per sub-agent; sample sequence numbers count per data
// source (flow and counter samples separately); all are 32-bit and wrap. sample_pool counts every
// packet that could have been sampled, so Δpool / Δsequence is the rate actually in force.
@Suite("Sequence tracking")
struct SequenceTrackerTests {
    let agent = IPAddress.v4(IPv4Address(192, 0, 2, 1))
    var key: SubAgentKey { SubAgentKey(agent: agent, subAgentId: 0) }

    func datagrams(_ seqs: [UInt32], uptimes: [UInt32]? = nil) -> SequenceTracker {
        var t = SequenceTracker()
        for (i, s) in seqs.enumerated() {
            t.observeDatagram(agent: agent, subAgentId: 0, sequence: s, uptime: uptimes?[i] ?? UInt32(1000 + i * 1000))
        }
        return t
    }

    func counts(_ seqs: [UInt32]) -> SequenceCounts? { datagrams(seqs).datagramCounts(key) }

    @Test("in order: nothing lost")
    func inOrder() throws {
        let c = try #require(counts([1, 2, 3, 4, 5]))
        #expect(c.received == 5 && c.lost == 0 && c.outOfOrder == 0 && c.duplicates == 0 && c.resets == 0)
    }

    @Test("a late arrival is told from a duplicate by the last 64 numbers remembered")
    func recentWindow() throws {
        // 1...100 in order, then 50 again (remembered: a duplicate), then 30 (behind the 64
        // remembered, within the reorder window: late, not a duplicate), then 100 (the newest).
        let c = try #require(counts(Array(1...100) + [50, 30, 100]))
        #expect(c.received == 103 && c.lost == 0 && c.duplicates == 2 && c.outOfOrder == 1 && c.resets == 0)
        // After wrapping the ring several times the same holds.
        let d = try #require(counts(Array(1...1000).filter { $0 != 990 } + [990, 990, 900]))
        #expect(d.lost == 0 && d.outOfOrder == 2 && d.duplicates == 1)
    }

    @Test("a gap counts the numbers skipped")
    func gaps() throws {
        let c = try #require(counts([1, 2, 5, 6, 10]))
        #expect(c.received == 5 && c.lost == 2 + 3 && c.outOfOrder == 0)
    }

    @Test("a late arrival takes one back off lost")
    func lateArrival() throws {
        let c = try #require(counts([1, 2, 5, 4]))
        #expect(c.received == 4 && c.lost == 1 && c.outOfOrder == 1 && c.duplicates == 0)
        let both = try #require(counts([1, 2, 5, 4, 3]))
        #expect(both.lost == 0 && both.outOfOrder == 2)
        // After the late arrival the newest number is still 5: 6 is next, nothing more lost.
        let next = try #require(counts([1, 2, 5, 4, 6]))
        #expect(next.lost == 1)
    }

    @Test("duplicates of the newest and of older numbers are counted, not lost or late")
    func duplicates() throws {
        let c = try #require(counts([1, 2, 2, 3, 2]))
        #expect(c.received == 5 && c.duplicates == 2 && c.lost == 0 && c.outOfOrder == 0)
        // A late arrival seen twice is one late arrival and one duplicate.
        let d = try #require(counts([1, 3, 2, 2]))
        #expect(d.outOfOrder == 1 && d.duplicates == 1 && d.lost == 0)
    }

    @Test("32-bit wrap is not loss or a restart")
    func wrap() throws {
        let c = try #require(counts([0xFFFF_FFFE, 0xFFFF_FFFF, 0, 1]))
        #expect(c.lost == 0 && c.resets == 0 && c.outOfOrder == 0)
        let gap = try #require(counts([0xFFFF_FFFE, 2]))
        #expect(gap.lost == 3 && gap.resets == 0)
        let late = try #require(counts([0xFFFF_FFFF, 1, 0]))
        #expect(late.lost == 0 && late.outOfOrder == 1)
    }

    @Test("an agent restart shows as uptime going back")
    func restart() throws {
        var t = SequenceTracker()
        let r1 = t.observeDatagram(agent: agent, subAgentId: 0, sequence: 500, uptime: 10_000_000)
        #expect(!r1)
        t.observeFlowSample(subAgent: key, source: DataSource(type: 0, index: 1), sequence: 900, samplePool: 900_000)
        let r2 = t.observeDatagram(agent: agent, subAgentId: 0, sequence: 501, uptime: 10_001_000)
        #expect(!r2)
        // A datagram a little late (uptime slightly behind) is reordering, not a restart.
        let r3 = t.observeDatagram(agent: agent, subAgentId: 0, sequence: 502, uptime: 10_000_500)
        #expect(!r3)
        // The agent rebooted: uptime small again and sequence numbers start over.
        let r4 = t.observeDatagram(agent: agent, subAgentId: 0, sequence: 1, uptime: 2_000)
        #expect(r4)
        let r5 = t.observeDatagram(agent: agent, subAgentId: 0, sequence: 2, uptime: 3_000)
        #expect(!r5)
        let c = try #require(t.datagramCounts(key))
        #expect(c.resets == 1 && c.lost == 0 && c.received == 5)
        // The data sources of the restarted sub-agent start afresh: sample 1 is not "late".
        let src = SourceKey(subAgent: key, source: DataSource(type: 0, index: 1), isFlow: true)
        #expect(t.sampleCounts(src) == nil)
        t.observeFlowSample(subAgent: key, source: DataSource(type: 0, index: 1), sequence: 1, samplePool: 100)
        #expect(t.sampleCounts(src)?.outOfOrder == 0 && t.sampleCounts(src)?.received == 1)
    }

    @Test("the 32-bit uptime wraps after 49.7 days: with the sequence carrying on, that is no restart")
    func uptimeWrap() throws {
        var t = SequenceTracker()
        let s = DataSource(type: 0, index: 1)
        let k = SourceKey(subAgent: key, source: s, isFlow: true)
        let r0 = t.observeDatagram(agent: agent, subAgentId: 0, sequence: 70_000, uptime: 0xFFFF_F000)
        t.observeFlowSample(subAgent: key, source: s, sequence: 9, samplePool: 9000)
        t.observeFlowSample(subAgent: key, source: s, sequence: 10, samplePool: 10_000)
        // Four seconds later the millisecond counter has wrapped; the datagram numbers go on.
        let r1 = t.observeDatagram(agent: agent, subAgentId: 0, sequence: 70_001, uptime: 0x0000_0F00)
        let r2 = t.observeDatagram(agent: agent, subAgentId: 0, sequence: 70_002, uptime: 0x0010_0000)
        #expect(!r0 && !r1 && !r2)
        let c = try #require(t.datagramCounts(key))
        #expect(c.resets == 0 && c.lost == 0 && c.received == 3)
        // The data sources keep their state: the sampling rate is still known.
        #expect(t.effectiveSamplingRate(k) == 1000)
        // A real restart (17 minutes after the wrap) is still seen: uptime back, sequence numbers start over.
        let r3 = t.observeDatagram(agent: agent, subAgentId: 0, sequence: 1, uptime: 500)
        #expect(r3)
        #expect(t.datagramCounts(key)?.resets == 1)
    }

    @Test("a sequence number far behind with no uptime change is counted as a reset")
    func farBehind() throws {
        let c = try #require(counts([100_000, 100_001, 5]))
        #expect(c.resets == 1 && c.outOfOrder == 0 && c.lost == 0)
        // And counting goes on from the new number.
        let more = try #require(counts([100_000, 100_001, 5, 6, 8]))
        #expect(more.lost == 1)
    }

    @Test("sub-agents and data sources are tracked separately")
    func separateSpaces() throws {
        var t = SequenceTracker()
        let other = SubAgentKey(agent: agent, subAgentId: 1)
        for s: UInt32 in [1, 2, 3] { t.observeDatagram(agent: agent, subAgentId: 0, sequence: s, uptime: s * 1000) }
        for s: UInt32 in [10, 12] { t.observeDatagram(agent: agent, subAgentId: 1, sequence: s, uptime: s * 1000) }
        #expect(t.datagramCounts(key)?.lost == 0)
        #expect(t.datagramCounts(other)?.lost == 1)
        #expect(t.subAgents == [key, other])
    }

    @Test("per-source sample loss, flow and counter sequence spaces apart")
    func perSourceLoss() throws {
        var t = SequenceTracker()
        let a = DataSource(type: 0, index: 1), b = DataSource(type: 0, index: 2)
        for (s, p) in [(1, 100), (2, 200), (5, 500)] as [(UInt32, UInt32)] {
            t.observeFlowSample(subAgent: key, source: a, sequence: s, samplePool: p)
        }
        for (s, p) in [(7, 700), (8, 800)] as [(UInt32, UInt32)] {
            t.observeFlowSample(subAgent: key, source: b, sequence: s, samplePool: p)
        }
        // Counter sample numbers of source a are their own space: 1, 3 loses one.
        t.observeCounterSample(subAgent: key, source: a, sequence: 1)
        t.observeCounterSample(subAgent: key, source: a, sequence: 3)
        #expect(t.sampleCounts(SourceKey(subAgent: key, source: a, isFlow: true))?.lost == 2)
        #expect(t.sampleCounts(SourceKey(subAgent: key, source: b, isFlow: true))?.lost == 0)
        #expect(t.sampleCounts(SourceKey(subAgent: key, source: a, isFlow: false))?.lost == 1)
        #expect(t.lostSamples(key) == 3)
        #expect(t.lostSamples(SubAgentKey(agent: agent, subAgentId: 9)) == 0)
    }

    @Test("whole datagrams feed both the datagram and the sample spaces")
    func observeDatagrams() throws {
        var t = SequenceTracker()
        func d(_ seq: UInt32, _ sampleSeqs: [UInt32]) -> SFlowDatagram {
            SFlowDatagram(agent: agent, subAgentId: 0, sequence: seq, uptime: seq * 1000, samples: sampleSeqs.map {
                .flow(FlowSample(sequence: $0, source: DataSource(type: 0, index: 4), samplingRate: 10,
                                 samplePool: $0 * 10, drops: 0, input: .ifIndex(4), output: .ifIndex(5), records: []))
            })
        }
        t.observe(d(1, [1, 2, 3]))
        t.observe(d(3, [7, 8]))
        #expect(t.datagramCounts(key)?.lost == 1)
        let src = SourceKey(subAgent: key, source: DataSource(type: 0, index: 4), isFlow: true)
        #expect(t.sampleCounts(src)?.lost == 3)
        #expect(t.effectiveSamplingRate(src) == 10)
    }

    @Test("effective sampling rate is Δpool / Δsequence, following a change of rate")
    func effectiveRate() throws {
        var t = SequenceTracker()
        let s = DataSource(type: 0, index: 3)
        let k = SourceKey(subAgent: key, source: s, isFlow: true)
        let r6 = t.observeFlowSample(subAgent: key, source: s, sequence: 1, samplePool: 1000)
        #expect(r6 == nil)
        let r7 = t.observeFlowSample(subAgent: key, source: s, sequence: 2, samplePool: 2000)
        #expect(r7 == 1000)
        // Two samples lost: the pool still grew by 1000 per sample.
        let r8 = t.observeFlowSample(subAgent: key, source: s, sequence: 5, samplePool: 5000)
        #expect(r8 == 1000)
        // The switch is reconfigured to 1-in-250.
        let r9 = t.observeFlowSample(subAgent: key, source: s, sequence: 6, samplePool: 5250)
        #expect(r9 == 250)
        let r10 = t.observeFlowSample(subAgent: key, source: s, sequence: 8, samplePool: 5750)
        #expect(r10 == 250)
        // A late sample does not move the estimate.
        let r11 = t.observeFlowSample(subAgent: key, source: s, sequence: 7, samplePool: 5500)
        #expect(r11 == 250)
        #expect(t.effectiveSamplingRate(k) == 250)
        // A duplicate neither.
        let r12 = t.observeFlowSample(subAgent: key, source: s, sequence: 8, samplePool: 5750)
        #expect(r12 == 250)
        // The pool is a 32-bit counter and wraps.
        let r13 = t.observeFlowSample(subAgent: key, source: s, sequence: 9, samplePool: 0xFFFF_FF00)
        #expect(r13 != nil)
        var w = SequenceTracker()
        w.observeFlowSample(subAgent: key, source: s, sequence: 1, samplePool: 0xFFFF_FF00)
        let r14 = w.observeFlowSample(subAgent: key, source: s, sequence: 3, samplePool: 0x0000_0100)
        #expect(r14 == 256)
        // A rate that does not divide evenly (sampling is random) is kept as a fraction.
        var f = SequenceTracker()
        f.observeFlowSample(subAgent: key, source: s, sequence: 10, samplePool: 0)
        let r15 = f.observeFlowSample(subAgent: key, source: s, sequence: 13, samplePool: 1000)
        #expect(r15 == 1000.0 / 3.0)
    }

    @Test("after a data source's sequence starts over, the rate follows the new numbers")
    func rateAfterSourceReset() throws {
        // A restart the uptime did not show (the agent came back within the reordering slack):
        // the source's numbers start over far behind, and the switch now samples 1-in-500.
        var t = SequenceTracker()
        let s = DataSource(type: 0, index: 2)
        let k = SourceKey(subAgent: key, source: s, isFlow: true)
        t.observeFlowSample(subAgent: key, source: s, sequence: 5000, samplePool: 5_000_000)
        let before = t.observeFlowSample(subAgent: key, source: s, sequence: 5001, samplePool: 5_001_000)
        #expect(before == 1000)
        t.observeFlowSample(subAgent: key, source: s, sequence: 1, samplePool: 500)
        let after = t.observeFlowSample(subAgent: key, source: s, sequence: 2, samplePool: 1000)
        #expect(after == 500)
        #expect(t.sampleCounts(k)?.resets == 1 && t.sampleCounts(k)?.lost == 0)
    }

    @Test("ingest statistics carry the tracker's counts per sub-agent")
    func ingestStats() throws {
        var stats = IngestStats()
        for seq: UInt32 in [1, 2, 4, 3, 3] {
            let d = SFlowDatagram(agent: agent, subAgentId: 0, sequence: seq, uptime: 1000 * seq, samples: [])
            stats.record(DecodedDatagram(datagram: d, issues: [], malformedSamples: 0))
        }
        stats.recordRejected()
        let s = try #require(stats.perSubAgent[key])
        #expect(s.datagrams == 5 && s.lostDatagrams == 0 && s.outOfOrder == 1 && s.duplicates == 1)
        #expect(stats.notSFlow == 1 && stats.sawBadInput)
    }
}
