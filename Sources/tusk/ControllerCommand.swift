import ArgumentParser
import Controller
import FabricProgramming
import Foundation
import Logging
import OpenFlow
import PathSelection
import SFlowIngest
import Topology

/// `tusk controller`: the OpenFlow 1.3 controller that programs a topology's ECMP fabric.
struct ControllerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controller",
        abstract: "Run the OpenFlow 1.3 controller: program a topology's proactive ECMP fabric.",
        subcommands: [Run.self, ShowFabric.self, BenchProgramCommand.self],
        defaultSubcommand: Run.self
    )

    enum Level: String, ExpressibleByArgument, CaseIterable { case trace, debug, info, notice, warning, error }

    static func bootstrapLogging(_ level: Level) -> Logger {
        let l = Logger.Level(rawValue: level.rawValue) ?? .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = l
            return h
        }
        return Logger(label: "tusk.controller")
    }

    static func loadTopology(_ path: String) throws -> Topology {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ValidationError("cannot read \(path): \(error.localizedDescription)")
        }
        do { return try Topology(yaml: text) } catch {
            throw ValidationError("\(path):\(error.line.map { "\($0):" } ?? "") \(error.message)")
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Listen for switches and sFlow; program the fabric and move elephants (the default).",
            discussion: """
            Every switch whose datapath id is in the topology is reconciled when it connects: Tusk reads its
            flows and groups, adds what is missing, deletes stale entries it owns (cookie 0x5446...), and
            leaves the rest. sFlow from the switches (--sflow, default UDP 6343) feeds the elephant loop:
            every selector.control-interval a round detects elephants, moves each onto the equal-cost path
            with the most headroom by measured link utilization, and installs exact-match entries (cookie
            0x5453..., the policy's priority and idle timeout) where the path has a choice, each batch
            confirmed by a barrier. Entries a switch still holds after a restart are adopted. SIGHUP (or a
            change to the --policy file) reloads the policy. Stops on SIGTERM/SIGINT.
            """
        )
        @Option(help: "Topology file (YAML).") var topology: String
        @Option(help: "TCP listener, [HOST:]PORT or [V6]:PORT; repeatable. Default: 0.0.0.0:6653 and [::]:6653.")
        var listen: [String] = []
        @Option(name: .customLong("tls-listen"), help: "TLS listener, [HOST:]PORT; repeatable (needs --cert, --key, --ca).")
        var tlsListen: [String] = []
        @Option(help: "Controller certificate (PEM).") var cert: String?
        @Option(help: "Controller private key (PEM).") var key: String?
        @Option(help: "CA certificate that signs switch certificates (PEM).") var ca: String?
        @Option(help: "Connect to a listening switch, tcp:HOST:PORT; repeatable.") var connect: [String] = []
        @Option(help: "Echo interval in seconds.") var echoInterval: Double = 5
        @Option(help: "Unanswered echo requests before a session is closed.") var echoMisses: Int = 3
        @Option(help: "Policy file (YAML); reloaded on SIGHUP and when it changes. Default: the built-in policy.")
        var policy: String?
        @Option(help: "Listen for sFlow on UDP [HOST:]PORT, or `off` (the fabric only, no elephant loop).")
        var sflow: String = "6343"
        @Option(name: .customLong("sflow-sockets"), help: "UDP sockets for sFlow (SO_REUSEPORT), each read and scanned on its own thread; agents are spread over them (default: one per two cores, at most 4).")
        var sflowSockets: Int?
        @Option(help: "Decision log as JSON Lines: a file (appended to), or - for standard output.")
        var decisions: String?
        @Flag(name: .customLong("dry-run"), help: "Decide and log, but install no elephant entry.")
        var dryRun = false
        @Option(help: "Seed of the selector's local search.") var seed: UInt64 = 1
        @Option(help: "HTTP API, web page and /metrics on [HOST:]PORT (host default 127.0.0.1), or `off`.") var http: String = "127.0.0.1:8008"
        @Option(name: .customLong("http-token-file"), help: "File holding the bearer token that HTTP writes (PUT /policy) need; without it there are none.")
        var httpTokenFile: String?
        @Option(help: "Log level.") var logLevel: Level = .info

        func validate() throws {
            if sflow != "off", SFlowCollectorConfig.parse(listen: sflow) == nil {
                throw ValidationError("--sflow takes [HOST:]PORT or off, got \(sflow)")
            }
            if !tlsListen.isEmpty && (cert == nil || key == nil || ca == nil) {
                throw ValidationError("--tls-listen needs --cert, --key and --ca")
            }
            for l in listen + tlsListen where OpenFlowEndpoint(parsing: l, defaultHost: "0.0.0.0") == nil {
                throw ValidationError("not [HOST:]PORT: \(l)")
            }
            for c in connect where !c.hasPrefix("tcp:") || OpenFlowEndpoint(parsing: c, defaultHost: "127.0.0.1") == nil {
                throw ValidationError("--connect takes tcp:HOST:PORT, got \(c)")
            }
            if let sflowSockets, !(1...64).contains(sflowSockets) { throw ValidationError("--sflow-sockets must be 1...64") }
            if http != "off", HTTPAPIOptions.parse(http) == nil { throw ValidationError("--http takes [HOST:]PORT or off, got \(http)") }
            guard echoInterval > 0, echoMisses > 0 else { throw ValidationError("--echo-interval and --echo-misses must be positive") }
        }

        func run() async throws {
            let logger = ControllerCommand.bootstrapLogging(logLevel)
            let topo = try ControllerCommand.loadTopology(topology)
            let pol = try PolicyCommand.load(policy)
            var elephants: ElephantLoopOptions?
            if sflow != "off", var cfg = SFlowCollectorConfig.parse(listen: sflow) {
                cfg.sockets = sflowSockets ?? SFlowCollectorConfig.defaultSockets
                elephants = ElephantLoopOptions(policy: pol, policyFile: policy, sflow: cfg, decisions: decisions, dryRun: dryRun, seed: seed)
            }
            var listeners = listen.compactMap { OpenFlowEndpoint(parsing: $0, defaultHost: "0.0.0.0") }
            if listen.isEmpty && tlsListen.isEmpty && connect.isEmpty {
                listeners = [OpenFlowEndpoint(host: "0.0.0.0", port: 6653), OpenFlowEndpoint(host: "::", port: 6653)]
            }
            let tls = tlsListen.isEmpty ? nil : OpenFlowTLSFiles(certificateFile: cert!, privateKeyFile: key!, caFile: ca!)
            var options = ControllerOptions(
                topology: topo, listen: listeners,
                tlsListen: tlsListen.compactMap { OpenFlowEndpoint(parsing: $0, defaultHost: "0.0.0.0") },
                tls: tls,
                connect: connect.compactMap { OpenFlowEndpoint(parsing: $0, defaultHost: "127.0.0.1") },
                session: SwitchSessionConfiguration(echoInterval: .nanoseconds(Int64(echoInterval * 1e9)),
                                                    echoMissLimit: echoMisses),
                elephants: elephants)
            if http != "off", let (host, port) = HTTPAPIOptions.parse(http) {
                let token = try httpTokenFile.map { f in do { return try HTTPAPIOptions.readToken(f) } catch { throw ValidationError("--http-token-file: \(error)") } }
                options.http = HTTPAPIOptions(host: host, port: port, token: token, registry: TuskMetrics.bootstrapPrometheus())
            }
            try await TuskController.run(options, logger: logger)
        }
    }

    struct ShowFabric: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show-fabric",
            abstract: "Print the entries Tusk programs for a topology: one line per flow or group.",
            discussion: "Lines: `flow SWITCH DPID COOKIE PRIORITY MATCH ACTION` and `group SWITCH DPID GROUP_ID TYPE PORTS`."
        )
        @Option(help: "Topology file (YAML).") var topology: String
        @Option(help: "Only this switch.") var `switch`: String?

        func run() async throws {
            let t = try ControllerCommand.loadTopology(topology)
            let state = ProactiveFabric(topology: t).desiredState()
            for s in t.switches where self.switch == nil || self.switch == s.name {
                guard let table = state[s.dpid] else { continue }
                for g in table.groups.values.sorted(by: { $0.groupID.rawValue < $1.groupID.rawValue }) {
                    let ports = g.buckets.flatMap(\.actions).compactMap { a -> String? in
                        if case .output(let p, _) = a { return "\(p.rawValue)" }
                        return nil
                    }
                    print("group \(s.name) \(s.dpid) \(g.groupID.rawValue) \(g.type == .select ? "select" : "\(g.type.rawValue)") \(ports.joined(separator: ","))")
                }
                for f in table.flows.values.sorted(by: { $0.cookie < $1.cookie }) {
                    let match = f.match.fields.map(Self.describe).joined(separator: ",")
                    let action = f.instructions.flatMap { i -> [OpenFlowAction] in
                        if case .applyActions(let a) = i { return a }
                        return []
                    }.map { a -> String in
                        if case .output(let p, _) = a { return "output:\(p.rawValue)" }
                        if case .group(let g) = a { return "group:\(g.rawValue)" }
                        return "\(a)"
                    }.joined(separator: ",")
                    print("flow \(s.name) \(s.dpid) \(f.cookie) \(f.priority) \(match) \(action)")
                }
            }
        }

        static func describe(_ f: OXMField) -> String {
            switch f {
            case .ethType(let t, _): return "eth_type=0x" + String(t, radix: 16)
            case .ipv4Dst(let a, _): return "nw_dst=\(a)"
            case .arpTPA(let a, _): return "arp_tpa=\(a)"
            case .ipv6Dst(let a, _): return "ipv6_dst=\(a)"
            case .ipProto(let p, _): return "ip_proto=\(p)"
            case .icmpv6Type(let t, _): return "icmpv6_type=\(t)"
            case .ipv6NDTarget(let a, _): return "nd_target=\(a)"
            default: return "\(f)"
            }
        }
    }

    struct BenchProgramCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench-program",
            abstract: "Push N flow-mods into one switch, barrier-confirmed, and print the rate as JSON.",
            discussion: """
            Waits for a switch on --listen (ovs-vsctl set-controller BR tcp:127.0.0.1:PORT) or connects to one
            (--connect tcp:HOST:PORT for a ptcp: switch), deletes earlier benchmark entries (cookie 0x5442...),
            then writes N entries `ip,nw_dst=10.0.0.1+i actions=output:PORT` in barrier-terminated batches,
            pipelined, and times from the first write to the last barrier reply. --ofctl-file writes the same
            entries for `ovs-ofctl add-flows`.
            """
        )
        @Option(help: "Number of flow-mods.") var flows: Int = 10_000
        @Option(help: "Flow-mods per barrier.") var batch: Int = 1_000
        @Option(help: "Output port of the entries.") var outputPort: UInt32 = 1
        @Option(help: "Listen for the switch on [HOST:]PORT.") var listen: String?
        @Option(help: "Connect to the switch at tcp:HOST:PORT.") var connect: String?
        @Option(help: "Seconds to wait for the switch.") var timeout: Double = 30
        @Option(help: "Write the entries in ovs-ofctl syntax to this file and exit (no switch needed).")
        var ofctlFile: String?
        @Option(help: "Log level.") var logLevel: Level = .warning

        func validate() throws {
            guard flows > 0, batch > 0 else { throw ValidationError("--flows and --batch must be positive") }
            guard flows < 1 << 24 else { throw ValidationError("--flows must be below 16777216") }
            if ofctlFile == nil && (listen == nil) == (connect == nil) {
                throw ValidationError("give exactly one of --listen and --connect (or --ofctl-file)")
            }
        }

        func run() async throws {
            let entries = BenchProgramEntries(count: flows, outputPort: outputPort)
            if let ofctlFile {
                try entries.ofctlLines().write(toFile: ofctlFile, atomically: true, encoding: .utf8)
                return
            }
            let logger = ControllerCommand.bootstrapLogging(logLevel)
            let l = listen.flatMap { OpenFlowEndpoint(parsing: $0, defaultHost: "127.0.0.1") }
            let c = connect.flatMap { OpenFlowEndpoint(parsing: $0, defaultHost: "127.0.0.1") }
            let r = try await BenchProgram.run(entries: entries, batchSize: batch, listen: l, connect: c,
                                               timeout: .milliseconds(Int64(timeout * 1000)), logger: logger)
            print("""
            {"flows":\(r.flows),"batches":\(r.batches),"seconds":\(r.seconds),"flowModsPerSecond":\(Int(r.flowModsPerSecond)),\
            "failures":\(r.failures),"dpid":\(r.datapathID)}
            """)
            if r.failures > 0 { throw ExitCode.failure }
        }
    }
}
