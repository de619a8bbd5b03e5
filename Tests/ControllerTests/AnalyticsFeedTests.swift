import Controller
import FlowAnalytics
import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import Packets
import SFlow
import SFlowIngest
import Testing

/// The hand-off from the sFlow reader threads to the analytics loop is bounded: while the loop is
/// busy, batches beyond the bound are dropped and counted, never queued without limit, and what was
/// admitted is applied in order once the loop runs again.
@Suite struct AnalyticsFeedTests {
    func batch(_ first: Int, _ n: Int) -> DatagramBatch {
        var c = SyntheticSFlow.Config()
        c.agents = 1
        c.flows = 10
        var g = SyntheticSFlow(config: c)
        var b = DatagramBatch()
        for i in 0..<n {
            let bytes = SFlowEncoder.encode(g.nextDatagram(agent: 0, uptimeMs: UInt32(1000 + first + i)))
            bytes.withUnsafeBytes { b.append($0, time: UInt64(first + i), from: nil) }
        }
        return b
    }

    /// Waits until the loop has applied every admitted batch.
    func drained(_ feed: AnalyticsFeed) async throws {
        while feed.queuedDatagrams > 0 { try await feed.loop.submit {}.get() }
    }

    @Test("a backlog is applied in slices: a task that falls due while it waits runs before the backlog is through")
    func backlogYieldsToTheLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let applied = NIOLockedValueBox<[UInt64]>([])
        // A slice of no time at all: one batch a slice.
        let feed = AnalyticsFeed(loop: loop, maxQueuedDatagrams: 1_000, sliceNanos: 0) { _, b in
            applied.withLockedValue { $0 += b.times }
        }
        let release = NIOLockedValueBox(false)
        let blocked = loop.submit {
            while !release.withLockedValue({ $0 }) { usleep(1_000) }
        }
        for k in 0..<10 { feed.received(batch(k * 30, 30), reader: 0) }
        // Stands for a control round that falls due while the backlog waits.
        let seenByRound = loop.submit { applied.withLockedValue { $0.count } }
        release.withLockedValue { $0 = true }
        try await blocked.get()
        #expect(try await seenByRound.get() == 30)
        try await drained(feed)
        #expect(applied.withLockedValue { $0 } == (0..<300).map(UInt64.init))
        #expect(feed.droppedDatagrams == 0)
        try await group.shutdownGracefully()
    }

    @Test("a busy analytics loop: batches past the bound are dropped and counted, the rest applied in order")
    func boundedHandOff() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let applied = NIOLockedValueBox<[UInt64]>([])
        let feed = AnalyticsFeed(loop: loop, maxQueuedDatagrams: 100) { scanned, b in
            #expect(scanned.datagrams == b.count)
            #expect(scanned.rejected.isEmpty)
            applied.withLockedValue { $0 += b.times }
        }
        // Hold the loop until every batch has been offered.
        let release = NIOLockedValueBox(false)
        let blocked = loop.submit {
            while !release.withLockedValue({ $0 }) { usleep(1_000) }
        }
        for k in 0..<10 { feed.received(batch(k * 30, 30), reader: 1) }   // 300 offered, 100 may wait
        #expect(feed.droppedDatagrams == 210)                             // 3 batches of 30 fit
        release.withLockedValue { $0 = true }
        try await blocked.get()
        try await drained(feed)
        let times = applied.withLockedValue { $0 }
        #expect(times == (0..<90).map(UInt64.init))
        // Room again: the next batch is admitted.
        feed.received(batch(300, 30), reader: 1)
        try await drained(feed)
        #expect(applied.withLockedValue { $0.count } == 120)
        #expect(feed.droppedDatagrams == 210)
        try await group.shutdownGracefully()
    }
}
