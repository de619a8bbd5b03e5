import FlowAnalytics
import NIOCore
import SFlowIngest

/// Feeds the datagrams of any number of collector sockets into analytics that live on one event
/// loop: each socket's own thread scans its batch into flow samples (the scanning needs no
/// analytics state), and the loop only applies them, once a batch, in slices (`BatchHandOff`: a
/// bounded queue, drops counted, at most `sliceNanos` of work before a due round or timer runs).
/// Under overload the rounds stay on time and the backlog is what gives.
public final class AnalyticsFeed: SFlowDatagramSink, Sendable {
    private let handOff: BatchHandOff<ScannedDatagrams>

    public init(loop: EventLoop, maxQueuedDatagrams: Int = 32_768, sliceNanos: UInt64 = 2_000_000,
                apply: @escaping (ScannedDatagrams, DatagramBatch) -> Void) {
        handOff = BatchHandOff(loop: loop, maxQueuedDatagrams: maxQueuedDatagrams, sliceNanos: sliceNanos,
                               prepare: Self.scan, apply: { scanned, batch, _ in apply(scanned, batch) })
    }

    public var loop: EventLoop { handOff.loop }
    public var maxQueuedDatagrams: Int { handOff.maxQueuedDatagrams }
    /// Datagrams dropped because the analytics loop was too far behind.
    public var droppedDatagrams: UInt64 { handOff.droppedDatagrams }
    /// Datagrams handed over and not yet applied.
    public var queuedDatagrams: Int { handOff.queuedDatagrams }

    public func received(_ bytes: UnsafeRawBufferPointer, from: SocketAddress?, timeNanos: UInt64) {
        handOff.received(bytes, from: from, timeNanos: timeNanos)
    }

    public func received(_ batch: DatagramBatch, reader: Int) { handOff.received(batch, reader: reader) }

    /// Scans every datagram of a batch, in order.
    public static func scan(_ batch: DatagramBatch) -> ScannedDatagrams {
        var scanned = ScannedDatagrams()
        batch.forEach { bytes, t, _ in scanned.scan(bytes, at: Double(t) / 1e9) }
        return scanned
    }
}
