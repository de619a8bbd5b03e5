import FlowAnalytics
import NIOCore
import SFlowIngest

/// Feeds the datagrams of any number of collector sockets into analytics that live on one event
/// loop: each socket's own thread scans its batch into flow samples (the scanning needs no
/// analytics state), and the loop only applies them, once a batch. One agent's datagrams arrive on
/// one socket, so they are applied in order.
public final class AnalyticsFeed: SFlowDatagramSink, @unchecked Sendable {
    public let loop: EventLoop
    /// Called on `loop` with each batch, scanned, and the batch itself.
    private let apply: (ScannedDatagrams, DatagramBatch) -> Void

    public init(loop: EventLoop, apply: @escaping (ScannedDatagrams, DatagramBatch) -> Void) {
        self.loop = loop
        self.apply = apply
    }

    public func received(_ bytes: UnsafeRawBufferPointer, from: SocketAddress?, timeNanos: UInt64) {
        var b = DatagramBatch()
        b.append(bytes, time: timeNanos, from: from)
        received(b, reader: 0)
    }

    public func received(_ batch: DatagramBatch, reader: Int) {
        var scanned = ScannedDatagrams()
        batch.forEach { bytes, t, _ in scanned.scan(bytes, at: Double(t) / 1e9) }
        if loop.inEventLoop {
            apply(scanned, batch)
        } else {
            let apply = self.apply
            loop.execute { apply(scanned, batch) }
        }
    }
}
