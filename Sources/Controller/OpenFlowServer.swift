// Where switch sessions come from: listeners (TCP and TLS, IPv4 and IPv6) that switches with an
// active `tcp:`/`ssl:` controller target connect to, and an outbound connector for switches that
// listen themselves (`ptcp:`). Each connection gets its own pipeline and state machine, so a switch
// that misbehaves only ever closes its own session.
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import OpenFlow
import ServiceLifecycle

/// `[HOST:]PORT`, `[V6]:PORT`, `tcp:HOST:PORT`: a host and port.
public struct OpenFlowEndpoint: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `PORT`, `HOST:PORT`, `[V6]:PORT`, optionally after `tcp:` or `ssl:`. `defaultHost` is
    /// used when only a port is given.
    public init?(parsing text: String, defaultHost: String) {
        var t = Substring(text)
        for scheme in ["tcp:", "ssl:"] where t.hasPrefix(scheme) { t = t.dropFirst(scheme.count) }
        if t.hasPrefix("[") {
            guard let close = t.firstIndex(of: "]") else { return nil }
            let host = t[t.index(after: t.startIndex)..<close]
            let rest = t[t.index(after: close)...]
            guard rest.hasPrefix(":"), let p = Int(rest.dropFirst()), (0...65535).contains(p) else { return nil }
            self.init(host: String(host), port: p)
            return
        }
        if let p = Int(t), (0...65535).contains(p) {
            self.init(host: defaultHost, port: p)
            return
        }
        guard let colon = t.lastIndex(of: ":"), let p = Int(t[t.index(after: colon)...]), (0...65535).contains(p) else {
            return nil
        }
        let host = t[..<colon]
        guard !host.isEmpty, !host.contains(":") else { return nil }
        self.init(host: String(host), port: p)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// TLS settings for mutual authentication, as Open vSwitch's `ssl:` targets use: the controller shows
/// its certificate and requires the switch's, both signed by `caFile`'s CA.
public struct OpenFlowTLSFiles: Hashable, Sendable {
    public var certificateFile: String
    public var privateKeyFile: String
    public var caFile: String
    public init(certificateFile: String, privateKeyFile: String, caFile: String) {
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
        self.caFile = caFile
    }

    /// Server side: require a client certificate signed by the CA (no host name check: switches
    /// have no names to check against).
    public func makeServerContext() throws -> NIOSSLContext {
        var c = TLSConfiguration.makeServerConfigurationWithMTLS(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: privateKeyFile, format: .pem)),
            trustRoots: .file(caFile))
        c.certificateVerification = .noHostnameVerification
        c.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: c)
    }

    /// Client side (the fake switch in tests, or connecting out to an `pssl:` switch).
    public func makeClientContext() throws -> NIOSSLContext {
        var c = TLSConfiguration.makeClientConfiguration()
        c.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) }
        c.privateKey = .privateKey(try NIOSSLPrivateKey(file: privateKeyFile, format: .pem))
        c.trustRoots = .file(caFile)
        c.certificateVerification = .noHostnameVerification
        c.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: c)
    }
}

public enum OpenFlowPipeline {
    /// Adds the OpenFlow codec and a session handler (after a TLS handler when `tls` is set).
    public static func configure(_ channel: any Channel, tls: NIOSSLContext?, isServer: Bool,
                                 session: SwitchSessionHandler.Context) throws {
        try addCodec(channel, tls: tls, isServer: isServer)
        try channel.pipeline.syncOperations.addHandler(SwitchSessionHandler(session))
    }

    /// TLS (optional) and the OpenFlow framing codec: what both ends of a connection need.
    public static func addCodec(_ channel: any Channel, tls: NIOSSLContext?, isServer: Bool) throws {
        let ops = channel.pipeline.syncOperations
        if let tls {
            if isServer {
                try ops.addHandler(NIOSSLServerHandler(context: tls))
            } else {
                try ops.addHandler(NIOSSLClientHandler(context: tls, serverHostname: nil))
            }
        }
        try ops.addHandler(ByteToMessageHandler(OpenFlowMessageDecoder()))
        try ops.addHandler(MessageToByteHandler(OpenFlowMessageEncoder()))
    }
}

/// Listens for switches: one or more TCP listeners, each optionally TLS.
public struct OpenFlowServer: Service {
    public struct Listener: Sendable {
        public var endpoint: OpenFlowEndpoint
        public var tls: NIOSSLContext?
        public init(endpoint: OpenFlowEndpoint, tls: NIOSSLContext? = nil) {
            self.endpoint = endpoint
            self.tls = tls
        }
    }

    public let group: any EventLoopGroup
    public let listeners: [Listener]
    public let session: SwitchSessionHandler.Context
    public let logger: Logger
    /// Called with the bound addresses once every listener is up (ports are known then, even for 0).
    public let onBound: @Sendable ([SocketAddress]) -> Void

    public init(group: any EventLoopGroup, listeners: [Listener], session: SwitchSessionHandler.Context, logger: Logger,
                onBound: @escaping @Sendable ([SocketAddress]) -> Void = { _ in }) {
        self.group = group
        self.listeners = listeners
        self.session = session
        self.logger = logger
        self.onBound = onBound
    }

    /// Binds one listener.
    public func bind(_ l: Listener) async throws -> any Channel {
        let session = self.session
        var b = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
        if l.endpoint.host.contains(":") {
            // An IPv6 listener takes IPv6 only, so that an IPv4 listener can share the port.
            b = b.serverChannelOption(ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only), value: 1)
        }
        let tls = l.tls
        return try await b.childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try OpenFlowPipeline.configure(channel, tls: tls, isServer: true, session: session)
            }
        }
        .bind(host: l.endpoint.host, port: l.endpoint.port).get()
    }

    public func run() async throws {
        var channels: [any Channel] = []
        for l in listeners {
            do {
                let c = try await bind(l)
                logger.info("listening for switches", metadata: [
                    "address": "\(c.localAddress.map { "\($0)" } ?? l.endpoint.description)",
                    "transport": "\(l.tls == nil ? "tcp" : "tls")",
                ])
                channels.append(c)
            } catch {
                // An IPv6 listener on a host without IPv6 must not stop the IPv4 one.
                logger.error("cannot listen", metadata: ["address": "\(l.endpoint)", "error": "\(error)"])
                if listeners.count == 1 { throw error }
            }
        }
        guard !channels.isEmpty else { throw SessionClosedError(reason: "no listener could be bound") }
        onBound(channels.compactMap(\.localAddress))
        let all = channels
        await withGracefulShutdownHandler {
            for c in all { try? await c.closeFuture.get() }
        } onGracefulShutdown: {
            for c in all { c.close(promise: nil) }
        }
    }
}

/// Connects out to a switch that listens (`ovs-vsctl set-controller BR ptcp:PORT`), and again after
/// the connection drops (backoff 0.5 s doubling to 8 s), until shutdown.
public struct SwitchConnector: Service {
    public let group: any EventLoopGroup
    public let endpoint: OpenFlowEndpoint
    public let tls: NIOSSLContext?
    public let session: SwitchSessionHandler.Context
    public let logger: Logger

    public init(group: any EventLoopGroup, endpoint: OpenFlowEndpoint, tls: NIOSSLContext? = nil,
                session: SwitchSessionHandler.Context, logger: Logger) {
        self.group = group
        self.endpoint = endpoint
        self.tls = tls
        self.session = session
        var l = logger
        l[metadataKey: "switchAddress"] = "\(endpoint)"
        self.logger = l
    }

    public func connect() async throws -> any Channel {
        let session = self.session
        let tls = self.tls
        return try await ClientBootstrap(group: group)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try OpenFlowPipeline.configure(channel, tls: tls, isServer: false, session: session)
                }
            }
            .connect(host: endpoint.host, port: endpoint.port).get()
    }

    public func run() async throws {
        var backoff: Duration = .milliseconds(500)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let c = try await connect()
                backoff = .milliseconds(500)
                await withGracefulShutdownHandler {
                    try? await c.closeFuture.get()
                } onGracefulShutdown: {
                    c.close(promise: nil)
                }
            } catch {
                logger.notice("cannot connect to switch; retrying", metadata: ["error": "\(error)", "in": "\(backoff)"])
            }
            guard !Task.isShuttingDownGracefully else { return }
            do {
                let wait = backoff
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
            } catch {
                return
            }
            backoff = min(backoff * 2, .seconds(8))
        }
    }
}
