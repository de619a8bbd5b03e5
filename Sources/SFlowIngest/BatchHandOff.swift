import NIOConcurrencyHelpers
import NIOCore

/// Hands the batches that collector sockets read on their own threads to work that lives on one
/// event loop, so that reading the socket never waits for that work: each reader prepares its batch
/// (whatever needs no shared state, on the reader's thread), the loop applies it. One agent's
/// datagrams arrive on one socket, so they are applied in order.
///
/// The hand-off is a bounded queue: when the loop is more than `maxQueuedDatagrams` behind, a
/// reader drops the new batch (counted in `droppedDatagrams`, as the kernel counts its own drops)
/// rather than let the queue and the memory grow without bound.
///
/// The loop drains the queue in slices of at most `sliceNanos` of work (at least one batch), each
/// slice a task of its own: a timer or any other task that falls due while a backlog waits runs
/// after the current slice, not after the whole backlog.
public final class BatchHandOff<Prepared>: SFlowDatagramSink, @unchecked Sendable {
    public let loop: EventLoop
    public let maxQueuedDatagrams: Int
    /// Work a drain slice does before it lets the loop's other tasks in (at least one batch).
    public let sliceNanos: UInt64
    private let prepare: (DatagramBatch) -> Prepared
    private let apply: (Prepared, DatagramBatch, Int) -> Void
    private struct Item {
        var prepared: Prepared
        var batch: DatagramBatch
        var reader: Int
    }
    private struct Queue {
        var pending = CircularBuffer<Item>()
        var queued = 0
        var dropped: UInt64 = 0
        var draining = false
    }
    private let queue = NIOLockedValueBox(Queue())

    /// - Parameters:
    ///   - prepare: called on the reader's thread with each admitted batch.
    ///   - apply: called on `loop` with each batch, prepared, in order, and the reader it came from.
    public init(loop: EventLoop, maxQueuedDatagrams: Int = 32_768, sliceNanos: UInt64 = 2_000_000,
                prepare: @escaping (DatagramBatch) -> Prepared,
                apply: @escaping (Prepared, DatagramBatch, Int) -> Void) {
        self.loop = loop
        self.maxQueuedDatagrams = maxQueuedDatagrams
        self.sliceNanos = sliceNanos
        self.prepare = prepare
        self.apply = apply
    }

    /// Datagrams dropped because the loop was too far behind.
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
        let item = Item(prepared: prepare(batch), batch: batch, reader: reader)
        let startDrain = queue.withLockedValue { q -> Bool in
            q.pending.append(item)
            if q.draining { return false }
            q.draining = true
            return true
        }
        if startDrain { loop.execute { self.drain() } }
    }

    /// Completes once every batch admitted so far has been applied.
    public func drained() async throws {
        while queuedDatagrams > 0 { try await loop.submit {}.get() }
    }

    /// One slice of the backlog, on the loop; schedules the next slice behind whatever else is due.
    private func drain() {
        let start = monotonicNanos()
        while true {
            let next = queue.withLockedValue { q -> Item? in
                guard let item = q.pending.popFirst() else {
                    q.draining = false
                    return nil
                }
                return item
            }
            guard let item = next else { return }
            apply(item.prepared, item.batch, item.reader)
            queue.withLockedValue { $0.queued -= item.batch.count }
            if monotonicNanos() &- start >= sliceNanos {
                loop.execute { self.drain() }
                return
            }
        }
    }
}
