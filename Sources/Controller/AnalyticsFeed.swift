import FlowAnalytics
import NIOConcurrencyHelpers
import NIOCore
import SFlowIngest

/// Feeds the datagrams of any number of collector sockets into analytics that live on one event
/// loop: each socket's own thread scans its batch into flow samples (the scanning needs no
/// analytics state), and the loop only applies them, once a batch. One agent's datagrams arrive on
/// one socket, so they are applied in order.
///
/// The hand-off is a bounded queue: when the loop is more than `maxQueuedDatagrams` behind, a
/// reader drops the new batch (counted in `droppedDatagrams`, as the kernel counts its own drops)
/// rather than let the queue, the memory and the rounds' lateness grow without bound.
public final class AnalyticsFeed: SFlowDatagramSink, @unchecked Sendable {
    public let loop: EventLoop
    public let maxQueuedDatagrams: Int
    /// Called on `loop` with each batch, scanned, and the batch itself.
    private let apply: (ScannedDatagrams, DatagramBatch) -> Void
    private struct Queue { var queued = 0; var dropped: UInt64 = 0 }
    private let queue = NIOLockedValueBox(Queue())

    public init(loop: EventLoop, maxQueuedDatagrams: Int = 32_768, apply: @escaping (ScannedDatagrams, DatagramBatch) -> Void) {
        self.loop = loop
        self.maxQueuedDatagrams = maxQueuedDatagrams
        self.apply = apply
    }

    /// Datagrams dropped because the analytics loop was too far behind.
    public var droppedDatagrams: UInt64 { queue.withLockedValue { $0.dropped } }

    public func received(_ bytes: UnsafeRawBufferPointer, from: SocketAddress?, timeNanos: UInt64) {
        var b = DatagramBatch()
        b.append(bytes, time: timeNanos, from: from)
        received(b, reader: 0)
    }

    public func received(_ batch: DatagramBatch, reader: Int) {
        if loop.inEventLoop {
            apply(Self.scan(batch), batch)
            return
        }
        let n = batch.count
        let max = maxQueuedDatagrams
        let admitted = queue.withLockedValue { q -> Bool in
            guard q.queued + n <= max else { q.dropped += UInt64(n); return false }
            q.queued += n
            return true
        }
        guard admitted else { return }
        let scanned = Self.scan(batch)
        let apply = self.apply
        let queue = self.queue
        loop.execute {
            apply(scanned, batch)
            queue.withLockedValue { $0.queued -= n }
        }
    }

    /// Scans every datagram of a batch, in order.
    public static func scan(_ batch: DatagramBatch) -> ScannedDatagrams {
        var scanned = ScannedDatagrams()
        batch.forEach { bytes, t, _ in scanned.scan(bytes, at: Double(t) / 1e9) }
        return scanned
    }
}
