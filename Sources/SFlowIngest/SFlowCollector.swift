#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix
import NIOConcurrencyHelpers
import Packets
import SFlow

/// Where the collector delivers datagrams. Called on the collector's event loop only, one
/// datagram at a time, so an implementation needs no locking for state only it touches.
public protocol SFlowDatagramSink: AnyObject, Sendable {
    /// `bytes` is valid only during the call.
    func received(_ bytes: UnsafeRawBufferPointer, from: SocketAddress?, timeNanos: UInt64)
}

/// Collector counters (read from any thread).
public struct CollectorCounts: Sendable, Equatable {
    public var datagrams: UInt64 = 0
    public var bytes: UInt64 = 0
    public init() {}
}

public struct SFlowCollectorConfig: Sendable {
    public var host: String = "0.0.0.0"
    public var port: Int = 6343
    /// SO_RCVBUF in bytes: large enough to ride out bursts while the decoder catches up.
    public var receiveBufferBytes: Int = 16 << 20
    /// Datagrams read per system call (recvmmsg).
    public var vectorReadCount: Int = 32
    /// Largest datagram accepted (bigger ones are truncated by the kernel and counted malformed).
    /// Agents keep datagrams within the path MTU; 16 KiB leaves room for jumbo frames.
    public var maxDatagramBytes: Int = 16_384

    public init(host: String = "0.0.0.0", port: Int = 6343) {
        self.host = host
        self.port = port
    }

    /// Parses `[HOST:]PORT`, `[v6addr]:PORT` or `HOST` (port 6343).
    public static func parse(listen: String) -> SFlowCollectorConfig? {
        guard let (h, p) = parseHostPort(listen, defaultHost: "0.0.0.0", defaultPort: 6343) else { return nil }
        return SFlowCollectorConfig(host: h, port: p)
    }
}

/// Parses `HOST:PORT`, `[V6]:PORT`, `PORT` or `HOST`.
public func parseHostPort(_ s: String, defaultHost: String, defaultPort: Int) -> (String, Int)? {
    if s.hasPrefix("[") {
        guard let close = s.firstIndex(of: "]") else { return nil }
        let host = String(s[s.index(after: s.startIndex)..<close])
        let rest = s[s.index(after: close)...]
        if rest.isEmpty { return (host, defaultPort) }
        guard rest.hasPrefix(":"), let p = Int(rest.dropFirst()), (0...65535).contains(p) else { return nil }
        return (host, p)
    }
    if let p = Int(s) { return (0...65535).contains(p) ? (defaultHost, p) : nil }
    let colons = s.filter { $0 == ":" }.count
    if colons == 1, let i = s.lastIndex(of: ":") {
        guard let p = Int(s[s.index(after: i)...]), (0...65535).contains(p) else { return nil }
        let host = String(s[..<i])
        return (host.isEmpty ? defaultHost : host, p)
    }
    guard !s.isEmpty else { return nil }
    return (s, defaultPort) // a bare host name, or an IPv6 address without brackets
}

/// The sFlow UDP collector: binds IPv4 or IPv6, reads with recvmmsg into a fixed buffer, and
/// hands each datagram to the sink on the event loop.
public final class SFlowCollector: Sendable {
    public let config: SFlowCollectorConfig
    private let channel: Channel
    private let counts: NIOLockedValueBox<CollectorCounts>
    /// The receive buffer the kernel granted, bytes (Linux reports twice the usable size, for its
    /// bookkeeping; this is the usable size), when it could be read.
    public let receiveBufferBytesGranted: Int?

    /// The bound address (useful when the port was 0).
    public var localAddress: SocketAddress? { channel.localAddress }

    private init(config: SFlowCollectorConfig, channel: Channel, counts: NIOLockedValueBox<CollectorCounts>, granted: Int?) {
        self.config = config
        self.channel = channel
        self.counts = counts
        receiveBufferBytesGranted = granted
    }

    /// A line for the log when the kernel granted a smaller receive buffer than configured (SO_RCVBUF
    /// is capped by net.core.rmem_max; only root's SO_RCVBUFFORCE passes the cap): bursts that the
    /// buffer cannot hold are dropped in the kernel. Nil when the buffer is as asked.
    public var receiveBufferNote: String? {
        guard let g = receiveBufferBytesGranted, g < config.receiveBufferBytes else { return nil }
        let how = geteuid() == 0 ? "SO_RCVBUFFORCE was refused" : "not root, so SO_RCVBUF is capped by net.core.rmem_max; raise it (sysctl -w net.core.rmem_max=\(config.receiveBufferBytes)) or run as root"
        return "receive buffer is \(g / 1024) KiB, not the \(config.receiveBufferBytes / 1024) KiB asked for (\(how)): bursts beyond it are dropped in the kernel"
    }

    public static func start(config: SFlowCollectorConfig, group: EventLoopGroup, sink: SFlowDatagramSink,
                             clock: @escaping @Sendable () -> UInt64) async throws -> SFlowCollector {
        let counts = NIOLockedValueBox(CollectorCounts())
        // SO_RCVBUF is capped by net.core.rmem_max (often only 208 KiB: a few milliseconds of a
        // busy exporter); as root, SO_RCVBUFFORCE gets the size asked for.
        let rcvbuf: NIOBSDSocket.Option = geteuid() == 0 ? NIOBSDSocket.Option(rawValue: 33 /* SO_RCVBUFFORCE */) : .so_rcvbuf
        let bootstrap = DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.socketOption(rcvbuf), value: SocketOptionValue(config.receiveBufferBytes))
            .channelOption(.datagramVectorReadMessageCount, value: config.vectorReadCount)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: config.vectorReadCount * min(config.maxDatagramBytes, 65_535)))
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(CollectorHandler(sink: sink, counts: counts, clock: clock))
                }
            }
        let ch = try await bootstrap.bind(host: config.host, port: config.port).get()
        let granted = try? await ch.getOption(.socketOption(.so_rcvbuf)).get()
        #if os(Linux)
        let usable = granted.map { Int($0) / 2 }
        #else
        let usable = granted.map { Int($0) }
        #endif
        return SFlowCollector(config: config, channel: ch, counts: counts, granted: usable)
    }

    public var counters: CollectorCounts { counts.withLockedValue { $0 } }

    /// Datagrams the kernel dropped for this socket (receive buffer overflow), from /proc/net/udp*.
    public var kernelDrops: UInt64? {
        guard let port = localAddress?.port else { return nil }
        return udpSocketDrops(localPort: port)
    }

    public func close() async throws { try await channel.close() }

    /// Completes when the channel closes.
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }
}

private final class CollectorHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let sink: SFlowDatagramSink
    let counts: NIOLockedValueBox<CollectorCounts>
    let clock: @Sendable () -> UInt64

    init(sink: SFlowDatagramSink, counts: NIOLockedValueBox<CollectorCounts>, clock: @escaping @Sendable () -> UInt64) {
        self.sink = sink
        self.counts = counts
        self.clock = clock
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let env = unwrapInboundIn(data)
        let n = env.data.readableBytes
        counts.withLockedValue { $0.datagrams += 1; $0.bytes += UInt64(n) }
        let now = clock()
        env.data.withUnsafeReadableBytes { sink.received($0, from: env.remoteAddress, timeNanos: now) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A read error on a UDP socket (e.g. ICMP-triggered) must not close the collector.
    }
}

/// Reads the per-socket drop counter that Linux keeps in /proc/net/udp and /proc/net/udp6.
public func udpSocketDrops(localPort: Int) -> UInt64? {
    var total: UInt64?
    let portHex = String(localPort, radix: 16, uppercase: true)
    let padded = String(repeating: "0", count: max(0, 4 - portHex.count)) + portHex
    for file in ["/proc/net/udp", "/proc/net/udp6"] {
        guard let text = readSmallFile(file) else { continue }
        for line in text.split(separator: "\n").dropFirst() {
            let cols = line.split(separator: " ", omittingEmptySubsequences: true)
            guard cols.count >= 13, cols[1].hasSuffix(":" + padded), let d = UInt64(cols[cols.count - 1]) else { continue }
            total = (total ?? 0) + d
        }
    }
    return total
}

func readSmallFile(_ path: String) -> String? {
    guard let f = fopen(path, "r") else { return nil }
    defer { fclose(f) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buf, 1, buf.count, f)
        if n <= 0 { break }
        out.append(contentsOf: buf[0..<n])
        if out.count > 16 << 20 { break }
    }
    return String(decoding: out, as: UTF8.self)
}
