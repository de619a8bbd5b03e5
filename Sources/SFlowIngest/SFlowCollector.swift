#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix
import NIOConcurrencyHelpers
import CTuskSys
import Packets
import SFlow

/// Datagrams of one read burst, copied out of the socket's receive buffer in arrival order.
public struct DatagramBatch: Sendable {
    public private(set) var storage: [UInt8] = []
    /// End offset of each datagram in `storage`.
    public private(set) var ends: [Int] = []
    /// When each datagram was read (the collector's clock, nanoseconds).
    public private(set) var times: [UInt64] = []
    public private(set) var sources: [SocketAddress?] = []

    public init() {}

    public var count: Int { ends.count }
    public var isEmpty: Bool { ends.isEmpty }
    public var byteCount: Int { storage.count }

    public mutating func append(_ bytes: UnsafeRawBufferPointer, time: UInt64, from: SocketAddress?) {
        storage.append(contentsOf: bytes)
        ends.append(storage.count)
        times.append(time)
        sources.append(from)
    }

    /// Calls `body` with each datagram's bytes (valid only during the call), time and sender.
    public func forEach(_ body: (UnsafeRawBufferPointer, UInt64, SocketAddress?) -> Void) {
        storage.withUnsafeBytes { all in
            var start = 0
            for i in ends.indices {
                body(UnsafeRawBufferPointer(rebasing: all[start..<ends[i]]), times[i], sources[i])
                start = ends[i]
            }
        }
    }
}

/// Where the collector delivers datagrams.
public protocol SFlowDatagramSink: AnyObject, Sendable {
    /// One datagram; `bytes` is valid only during the call.
    func received(_ bytes: UnsafeRawBufferPointer, from: SocketAddress?, timeNanos: UInt64)
    /// The datagrams of one read burst of socket `reader` (0 ..< sockets), called on that socket's
    /// event loop, in arrival order. The default hands each datagram to `received(_:from:timeNanos:)`
    /// there; a sink whose state lives on another event loop overrides it to hop there once a batch.
    func received(_ batch: DatagramBatch, reader: Int)
}

extension SFlowDatagramSink {
    public func received(_ batch: DatagramBatch, reader: Int) {
        batch.forEach { received($0, from: $2, timeNanos: $1) }
    }
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
    /// SO_RCVBUF in bytes, per socket: large enough to ride out bursts while the decoder catches up.
    public var receiveBufferBytes: Int = 16 << 20
    /// Datagrams read per system call (recvmmsg).
    public var vectorReadCount: Int = 32
    /// Largest datagram accepted (bigger ones are truncated by the kernel and counted malformed).
    /// Agents keep datagrams within the path MTU; 16 KiB leaves room for jumbo frames.
    public var maxDatagramBytes: Int = 16_384
    /// UDP sockets bound to the port with SO_REUSEPORT, each read on its own event loop (pass a
    /// group with at least as many threads). Datagrams are spread over them by agent address and
    /// sub-agent, so one sub-agent's datagrams always arrive in order on one socket.
    public var sockets: Int = 1
    /// Most datagrams handed to the sink in one batch.
    public var batchLimit: Int = 256

    public init(host: String = "0.0.0.0", port: Int = 6343) {
        self.host = host
        self.port = port
    }

    /// One socket for every two cores, at most four: what the default command lines use. Each
    /// socket's reader needs a core, and so do the kernel's receive path and the analytics loop:
    /// on a 2-core machine a second reader slowed the whole ingest (measured with a local sender:
    /// zero drops at 200,000 datagrams/s with one socket, up to 3.4 % with two).
    public static var defaultSockets: Int { max(1, min(4, System.coreCount / 2)) }

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

public struct CollectorError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// The sFlow UDP collector: binds IPv4 or IPv6 with one or more SO_REUSEPORT sockets, reads each
/// with recvmmsg on its own event loop, and hands each read burst to the sink as one batch.
public final class SFlowCollector: Sendable {
    public let config: SFlowCollectorConfig
    private let channels: [Channel]
    private let counts: [NIOLockedValueBox<CollectorCounts>]
    /// The receive buffer the kernel granted per socket, bytes (Linux reports twice the usable
    /// size, for its bookkeeping; this is the usable size), when it could be read.
    public let receiveBufferBytesGranted: Int?
    /// Whether datagrams are spread over the sockets by agent (a note says why not, when not).
    public let shardNote: String?

    /// The bound address (useful when the port was 0).
    public var localAddress: SocketAddress? { channels.first?.localAddress }
    public var socketCount: Int { channels.count }

    private init(config: SFlowCollectorConfig, channels: [Channel], counts: [NIOLockedValueBox<CollectorCounts>], granted: Int?, shardNote: String?) {
        self.config = config
        self.channels = channels
        self.counts = counts
        receiveBufferBytesGranted = granted
        self.shardNote = shardNote
    }

    /// A line for the log when the kernel granted a smaller receive buffer than configured (SO_RCVBUF
    /// is capped by net.core.rmem_max; only root's SO_RCVBUFFORCE passes the cap): bursts that the
    /// buffer cannot hold are dropped in the kernel. Nil when the buffer is as asked.
    public var receiveBufferNote: String? {
        guard let g = receiveBufferBytesGranted, g < config.receiveBufferBytes else { return nil }
        let how = geteuid() == 0 ? "SO_RCVBUFFORCE was refused" : "not root, so SO_RCVBUF is capped by net.core.rmem_max; raise it (sysctl -w net.core.rmem_max=\(config.receiveBufferBytes)) or run as root"
        return "receive buffer is \(g / 1024) KiB, not the \(config.receiveBufferBytes / 1024) KiB asked for (\(how)): bursts beyond it are dropped in the kernel"
    }

    /// Binds `config.sockets` sockets and starts reading: socket i on the group's i-th `next()` loop.
    public static func start(config: SFlowCollectorConfig, group: EventLoopGroup, sink: SFlowDatagramSink,
                             clock: @escaping @Sendable () -> UInt64) async throws -> SFlowCollector {
        let n = max(1, config.sockets)
        let address: SocketAddress
        do {
            address = try SocketAddress.makeAddressResolvingHost(config.host, port: config.port)
        } catch {
            throw CollectorError(description: "cannot resolve \(config.host): \(error)")
        }
        // Bind every socket first (the first fixes the port when it was 0), then attach the
        // agent-sharding program to the group.
        var fds: [CInt] = []
        var bound = address
        do {
            for _ in 0..<n {
                let fd = try bindSocket(bound, reusePort: n > 1, receiveBuffer: config.receiveBufferBytes)
                fds.append(fd)
                if bound.port == 0, let p = localPort(fd) { bound = try SocketAddress.makeAddressResolvingHost(config.host, port: p) }
            }
        } catch {
            for fd in fds { Glibc.close(fd) }
            throw error
        }
        var shardNote: String?
        if n > 1, tusk_attach_agent_shard(fds[0], UInt32(n)) != 0 {
            shardNote = "cannot spread datagrams by agent (\(String(cString: strerror(errno)))): the kernel spreads them by sender address and port"
        }
        var granted: Int?
        var size: CInt = 0
        var len = socklen_t(MemoryLayout<CInt>.size)
        if getsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &size, &len) == 0 {
            #if os(Linux)
            granted = Int(size) / 2
            #else
            granted = Int(size)
            #endif
        }
        var channels: [Channel] = []
        var counters: [NIOLockedValueBox<CollectorCounts>] = []
        do {
            for (i, fd) in fds.enumerated() {
                let box = NIOLockedValueBox(CollectorCounts())
                let bootstrap = DatagramBootstrap(group: group.next())
                    .channelOption(.datagramVectorReadMessageCount, value: config.vectorReadCount)
                    .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: config.vectorReadCount * min(config.maxDatagramBytes, 65_535)))
                    .channelInitializer { ch in
                        ch.eventLoop.makeCompletedFuture {
                            try ch.pipeline.syncOperations.addHandler(CollectorHandler(sink: sink, reader: i, counts: box, clock: clock,
                                                                                       batchLimit: max(1, config.batchLimit)))
                        }
                    }
                channels.append(try await bootstrap.withBoundSocket(descriptor: fd).get())
                counters.append(box)
            }
        } catch {
            for c in channels { try? await c.close() }
            for fd in fds.dropFirst(channels.count) { Glibc.close(fd) }
            throw error
        }
        return SFlowCollector(config: config, channels: channels, counts: counters, granted: granted, shardNote: shardNote)
    }

    private static func bindSocket(_ address: SocketAddress, reusePort: Bool, receiveBuffer: Int) throws -> CInt {
        let family: CInt
        switch address {
        case .v4: family = AF_INET
        case .v6: family = AF_INET6
        default: throw CollectorError(description: "\(address): not an IP address")
        }
        #if os(Linux)
        let fd = socket(family, CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        #else
        let fd = socket(family, SOCK_DGRAM, 0)
        #endif
        guard fd >= 0 else { throw CollectorError(description: "socket: \(String(cString: strerror(errno)))") }
        var one: CInt = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<CInt>.size))
        if reusePort { _ = setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<CInt>.size)) }
        // SO_RCVBUF is capped by net.core.rmem_max (often only 208 KiB: a few milliseconds of a
        // busy exporter); as root, SO_RCVBUFFORCE gets the size asked for.
        var size = CInt(clamping: receiveBuffer)
        if geteuid() != 0 || setsockopt(fd, SOL_SOCKET, 33 /* SO_RCVBUFFORCE */, &size, socklen_t(MemoryLayout<CInt>.size)) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<CInt>.size))
        }
        let rc = address.withSockAddr { bind(fd, $0, socklen_t($1)) }
        guard rc == 0 else {
            let why = String(cString: strerror(errno))
            Glibc.close(fd)
            throw CollectorError(description: "cannot bind \(address): \(why)")
        }
        return fd
    }

    private static func localPort(_ fd: CInt) -> Int? {
        var ss = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &ss) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        guard rc == 0 else { return nil }
        return withUnsafeBytes(of: ss) { raw -> Int in
            // sin_port and sin6_port sit at the same offset, in network order.
            Int(raw[2]) << 8 | Int(raw[3])
        }
    }

    public var counters: CollectorCounts {
        counts.reduce(into: CollectorCounts()) { t, box in
            let c = box.withLockedValue { $0 }
            t.datagrams += c.datagrams
            t.bytes += c.bytes
        }
    }

    /// Datagrams per socket (how the agents were spread).
    public var perSocketDatagrams: [UInt64] { counts.map { $0.withLockedValue { $0.datagrams } } }

    /// Datagrams the kernel dropped for this port's sockets (receive buffer overflow), from /proc/net/udp*.
    public var kernelDrops: UInt64? {
        guard let port = localAddress?.port else { return nil }
        return udpSocketDrops(localPort: port)
    }

    public func close() async throws {
        for c in channels { try? await c.close() }
    }

    /// Completes when every socket has closed.
    public var closeFuture: EventLoopFuture<Void> {
        EventLoopFuture.andAllComplete(channels.map(\.closeFuture), on: channels[0].eventLoop)
    }
}

private final class CollectorHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let sink: SFlowDatagramSink
    let reader: Int
    let counts: NIOLockedValueBox<CollectorCounts>
    let clock: @Sendable () -> UInt64
    let batchLimit: Int
    // Touched on the channel's event loop only.
    private var batch = DatagramBatch()
    private var pendingBytes: UInt64 = 0

    init(sink: SFlowDatagramSink, reader: Int, counts: NIOLockedValueBox<CollectorCounts>, clock: @escaping @Sendable () -> UInt64, batchLimit: Int) {
        self.sink = sink
        self.reader = reader
        self.counts = counts
        self.clock = clock
        self.batchLimit = batchLimit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let env = unwrapInboundIn(data)
        pendingBytes += UInt64(env.data.readableBytes)
        let now = clock()
        env.data.withUnsafeReadableBytes { batch.append($0, time: now, from: env.remoteAddress) }
        if batch.count >= batchLimit { flush() }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush()
    }

    private func flush() {
        guard !batch.isEmpty else { return }
        let b = batch
        batch = DatagramBatch()
        let bytes = pendingBytes
        pendingBytes = 0
        counts.withLockedValue { $0.datagrams += UInt64(b.count); $0.bytes += bytes }
        sink.received(b, reader: reader)
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
