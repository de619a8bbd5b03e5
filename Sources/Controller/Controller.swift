// The controller daemon: OpenFlow switch sessions (listeners and outbound connectors) programming
// the proactive ECMP fabric of a topology, and the elephant loop (sFlow collector, analytics, control
// rounds, placements), run as services under one ServiceGroup (graceful shutdown on SIGTERM/SIGINT).
// Also the flow-mod programming benchmark.
import ElephantControl
import FabricProgramming
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import OpenFlow
import Packets
import ServiceLifecycle
import Topology

/// What `tusk controller` runs.
public struct ControllerOptions: Sendable {
    public var topology: Topology?
    public var listen: [OpenFlowEndpoint]
    public var tlsListen: [OpenFlowEndpoint]
    public var tls: OpenFlowTLSFiles?
    public var connect: [OpenFlowEndpoint]
    public var session: SwitchSessionConfiguration
    /// The elephant loop (sFlow in, placements out); nil: the proactive fabric only.
    public var elephants: ElephantLoopOptions?
    /// The HTTP API, web page and /metrics (needs the elephant loop); nil: off.
    public var http: HTTPAPIOptions? = nil

    public init(topology: Topology?, listen: [OpenFlowEndpoint], tlsListen: [OpenFlowEndpoint] = [],
                tls: OpenFlowTLSFiles? = nil, connect: [OpenFlowEndpoint] = [], session: SwitchSessionConfiguration = .init(),
                elephants: ElephantLoopOptions? = nil) {
        self.topology = topology
        self.listen = listen
        self.tlsListen = tlsListen
        self.tls = tls
        self.connect = connect
        self.session = session
        self.elephants = elephants
    }
}

public enum TuskController {
    /// Runs until SIGTERM/SIGINT.
    public static func run(_ options: ControllerOptions, logger: Logger) async throws {
        let desired = options.topology.map { ProactiveFabric(topology: $0).desiredState() } ?? FabricState()
        let group = MultiThreadedEventLoopGroup.singleton
        // The fabric follows the links that are up (recomputed on port status, coalesced).
        let keeper = options.topology.map { FabricKeeper(topology: $0, logger: logger, loop: group.next()) }
        if let t = options.topology {
            logger.info("fabric computed", metadata: [
                "topology": "\(t.name)", "switches": "\(desired.switches.count)", "flows": "\(desired.flowCount)",
                "groups": "\(desired.groupCount)",
            ])
        }
        var services: [any Service] = []
        // The elephant loop: one event loop holds the collector, the analytics and the rounds.
        var elephants: ElephantLoop?
        if let t = options.topology, let e = options.elephants {
            let loop = try ElephantLoop(topology: t, options: e, loop: group.next(), logger: logger)
            elephants = loop
            services.append(ElephantLoopService(elephants: loop, sflow: e.sflow, logger: logger))
            logger.info("elephant loop", metadata: [
                "algorithm": "\(e.policy.algorithm.rawValue)", "controlInterval": "\(e.policy.controlInterval)",
                "policy": "\(e.policyFile ?? "(built-in defaults)")", "dryRun": "\(e.dryRun)",
            ])
        }
        if let h = options.http, let e = elephants { services.append(HTTPAPI(elephants: e, options: h, logger: logger).service()) }
        let session = SwitchSessionHandler.Context(
            configuration: options.session,
            desired: { dpid in keeper?.desired(dpid) ?? desired[dpid] },
            onEvent: { [elephants] e in
                keeper?.handle(e)
                elephants?.handle(e)
            },
            logger: logger)
        var listeners = options.listen.map { OpenFlowServer.Listener(endpoint: $0) }
        if !options.tlsListen.isEmpty {
            guard let files = options.tls else { throw SessionClosedError(reason: "TLS listener without certificate files") }
            let ctx = try files.makeServerContext()
            listeners += options.tlsListen.map { OpenFlowServer.Listener(endpoint: $0, tls: ctx) }
        }
        if !listeners.isEmpty {
            services.append(OpenFlowServer(group: group, listeners: listeners, session: session, logger: logger))
        }
        for e in options.connect {
            services.append(SwitchConnector(group: group, endpoint: e, session: session, logger: logger))
        }
        let serviceGroup = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await serviceGroup.run()
        logger.info("controller stopped")
    }
}

// MARK: - Programming benchmark

/// The entries `bench-program` pushes: `ip,nw_dst=<i-th address from 10.0.0.1>` → `output:port`.
public struct BenchProgramEntries: Sendable {
    public var count: Int
    public var priority: UInt16
    public var outputPort: UInt32
    public init(count: Int, priority: UInt16 = 100, outputPort: UInt32 = 1) {
        self.count = count
        self.priority = priority
        self.outputPort = outputPort
    }

    public func address(_ i: Int) -> IPv4Address { IPv4Address(0x0A00_0001 &+ UInt32(truncatingIfNeeded: i)) }
    public func cookie(_ i: Int) -> FabricCookie { FabricCookie(owner: .benchmark, kind: .benchmark, id: UInt64(i)) }

    public func flowMod(_ i: Int) -> FlowMod {
        FlowMod(command: .add, cookie: cookie(i).rawValue, priority: priority,
                match: [.ethType(0x0800), .ipv4Dst(address(i))],
                instructions: [.applyActions([.output(port: PortNumber(outputPort), maxLength: 0)])])
    }

    /// The same entries in `ovs-ofctl add-flows` syntax, one a line.
    public func ofctlLines() -> String {
        var s = ""
        s.reserveCapacity(count * 80)
        for i in 0..<count {
            s += "cookie=\(cookie(i)),table=0,priority=\(priority),ip,nw_dst=\(address(i)),actions=output:\(outputPort)\n"
        }
        return s
    }

    /// Removes every benchmark entry (cookie owner "TB").
    public var deleteAll: FlowMod {
        FlowMod(command: .delete, cookie: UInt64(FabricCookie.Owner.benchmark.rawValue) << 48,
                cookieMask: FabricCookie.ownerMask, tableID: 0xFF)
    }
}

public struct BenchProgramResult: Sendable {
    public var flows: Int
    public var batches: Int
    public var seconds: Double
    public var failures: Int
    public var datapathID: UInt64
    public var flowModsPerSecond: Double { seconds > 0 ? Double(flows) / seconds : 0 }
}

public enum BenchProgram {
    /// Waits for one switch (listening on `listen`, or connecting to `connect`), clears the previous
    /// benchmark entries, then writes `entries` in batches of `batchSize`, all pipelined, and times
    /// from the first write to the last barrier reply.
    public static func run(entries: BenchProgramEntries, batchSize: Int, listen: OpenFlowEndpoint?,
                           connect: OpenFlowEndpoint?, timeout: Duration, logger: Logger) async throws -> BenchProgramResult {
        let (events, continuation) = AsyncStream<SessionEvent>.makeStream()
        let session = SwitchSessionHandler.Context(onEvent: { continuation.yield($0) }, logger: logger)
        let group = MultiThreadedEventLoopGroup.singleton
        var channel: (any Channel)?
        if let listen {
            let server = OpenFlowServer(group: group, listeners: [.init(endpoint: listen)], session: session, logger: logger)
            channel = try await server.bind(.init(endpoint: listen))
            logger.info("waiting for a switch", metadata: ["address": "\(channel?.localAddress.map { "\($0)" } ?? "?")"])
        } else if let connect {
            _ = try await SwitchConnector(group: group, endpoint: connect, session: session, logger: logger).connect()
        }
        defer { channel?.close(promise: nil) }

        let sw: SwitchSession? = try await withThrowingTaskGroup(of: SwitchSession?.self) { g in
            g.addTask {
                for await e in events { if case .active(let s) = e { return s } }
                return nil
            }
            g.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await g.next() ?? nil
            g.cancelAll()
            return first
        }
        continuation.finish()
        guard let sw else { throw SessionClosedError(reason: "no switch became active within \(timeout)") }
        defer { sw.close() }

        _ = try await sw.submit([.flowMod(entries.deleteAll)])
        // Build the messages before the clock starts.
        var batches: [[OpenFlowMessage]] = []
        var i = 0
        while i < entries.count {
            let n = min(batchSize, entries.count - i)
            batches.append((i..<(i + n)).map { .flowMod(entries.flowMod($0)) })
            i += n
        }
        let clock = ContinuousClock()
        let start = clock.now
        let futures = batches.map { sw.submit($0) }
        var failures = 0
        for f in futures { failures += try await f.get().failures.count }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return BenchProgramResult(flows: entries.count, batches: batches.count, seconds: seconds, failures: failures,
                                  datapathID: sw.info.datapathID)
    }
}
