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
///
/// The loop drains the queue in slices of at most `sliceNanos` of work (at least one batch), each
/// slice a task of its own: a control round, a timer or a switch's message that falls due while a
/// backlog waits runs after the current slice, not after the whole backlog. Under overload the
/// rounds stay on time and the backlog is what gives (it fills and the readers drop).
public final class AnalyticsFeed: SFlowDatagramSink, @unchecked Sendable {
    public let loop: EventLoop
    public let maxQueuedDatagrams: Int
    /// Work a drain slice does before it lets the loop's other tasks in (at least one batch).
    public let sliceNanos: UInt64
    /// Called on `loop` with each batch, scanned, and the batch itself.
    private let apply: (ScannedDatagrams, DatagramBatch) -> Void
    private struct Queue {
        var pending = CircularBuffer<(ScannedDatagrams, DatagramBatch)>()
        var queued = 0
        var dropped: UInt64 = 0
        var draining = false
    }
    private let queue = NIOLockedValueBox(Queue())

    public init(loop: EventLoop, maxQueuedDatagrams: Int = 32_768, sliceNanos: UInt64 = 2_000_000,
                apply: @escaping (ScannedDatagrams, DatagramBatch) -> Void) {
        self.loop = loop
        self.maxQueuedDatagrams = maxQueuedDatagrams
        self.sliceNanos = sliceNanos
        self.apply = apply
    }

    /// Datagrams dropped because the analytics loop was too far behind.
    public var droppedDatagrams: UInt64 { queue.withLockedValue { $0.dropped } }
    /// Datagrams handed over and not yet applied.
    public var queuedDatagrams: Int { queue.withLockedValue { $0.queued } }

    public func received(_ bytes: UnsafeRawBufferPointer, from: SocketAddress?, timeNanos: UInt64) {
        var b = DatagramBatch()
        b.append(bytes, time: timeNanos, from: from)
        received(b, reader: 0)
    }

    public func received(_ batch: DatagramBatch, reader: Int) {
        let n = batch.count
        let max = maxQueuedDatagrams
        let admitted = queue.withLockedValue { q -> Bool in
            guard q.queued + n <= max else { q.dropped += UInt64(n); return false }
            q.queued += n
            return true
        }
        guard admitted else { return }
        let scanned = Self.scan(batch)
        let startDrain = queue.withLockedValue { q -> Bool in
            q.pending.append((scanned, batch))
            if q.draining { return false }
            q.draining = true
            return true
        }
        if startDrain { loop.execute { self.drain() } }
    }

    /// One slice of the backlog, on the loop; schedules the next slice behind whatever else is due.
    private func drain() {
        let start = monotonicNanos()
        while true {
            let next = queue.withLockedValue { q -> (ScannedDatagrams, DatagramBatch)? in
                guard let item = q.pending.popFirst() else {
                    q.draining = false
                    return nil
                }
                return item
            }
            guard let (scanned, batch) = next else { return }
            apply(scanned, batch)
            queue.withLockedValue { $0.queued -= batch.count }
            if monotonicNanos() &- start >= sliceNanos {
                loop.execute { self.drain() }
                return
            }
        }
    }

    /// Scans every datagram of a batch, in order.
    public static func scan(_ batch: DatagramBatch) -> ScannedDatagrams {
        var scanned = ScannedDatagrams()
        batch.forEach { bytes, t, _ in scanned.scan(bytes, at: Double(t) / 1e9) }
        return scanned
    }
}
