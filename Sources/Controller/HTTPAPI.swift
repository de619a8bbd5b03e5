// The operator's view of the running controller: a REST API (JSON), Server-Sent Event feeds,
// Prometheus metrics and a live web page, served by Hummingbird as one more service of the daemon's
// ServiceGroup. Routes are thin: each parses and checks its parameters, hops onto the elephant
// loop's event loop for a snapshot (`ElephantLoop+API.swift`), and returns it. Reads are open;
// the only write (PUT /policy) needs the bearer token, and exists only when a token file was given.
import FlowAnalytics
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Packets
import PathSelection
import Prometheus
import ServiceLifecycle

/// `--http`, `--http-token-file`.
public struct HTTPAPIOptions: Sendable {
    public var host: String
    public var port: Int
    /// The bearer token writes need; nil: no write endpoint at all.
    public var token: String?
    /// What `/metrics` serves (the registry behind the process's MetricsSystem); nil: an empty one.
    public var registry: PrometheusCollectorRegistry?

    public init(host: String = "127.0.0.1", port: Int = 8008, token: String? = nil, registry: PrometheusCollectorRegistry? = nil) {
        self.host = host
        self.port = port
        self.token = token
        self.registry = registry
    }

    /// `[HOST:]PORT` or `[V6]:PORT`; the host defaults to loopback.
    public static func parse(_ text: String) -> (host: String, port: Int)? {
        var host = "127.0.0.1"
        var portText = Substring(text)
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            portText = text[text.index(close, offsetBy: 2)...]
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port) else { return nil }
        return (host, port)
    }

    /// Reads a token file: its first line, trimmed; at least 16 characters.
    public static func readToken(_ path: String) throws -> String {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let token = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard token.count >= 16 else { throw HTTPAPIError("\(path): the token must be at least 16 characters") }
        return token
    }
}

public struct HTTPAPIError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// Limits of the API: request sizes, result sizes, waits.
enum APILimits {
    static let maxBody = 1 << 20
    static let maxFlows = 100_000
    static let maxDecisions = 10_000
    static let maxEvents = 10_000
    static let maxTimeout = 60.0
    /// An SSE stream sends a comment after this long without events (and notices shutdown).
    static let keepalive = TimeAmount.seconds(5)
}

public struct HTTPAPI: Sendable {
    public let elephants: ElephantLoop
    public let options: HTTPAPIOptions
    public let logger: Logger

    public init(elephants: ElephantLoop, options: HTTPAPIOptions, logger: Logger) {
        self.elephants = elephants
        self.options = options
        var l = logger
        l[metadataKey: "component"] = "http"
        self.logger = l
    }

    /// The Hummingbird application.
    public func application(onServerRunning: (@Sendable (any Channel) async -> Void)? = nil) -> some ApplicationProtocol {
        let logger = logger
        return Application(router: router(), configuration: .init(address: .hostname(options.host, port: options.port), serverName: "tusk"),
                           onServerRunning: onServerRunning ?? { ch in
                               logger.info("HTTP API listening", metadata: ["address": "\(ch.localAddress.map { "\($0)" } ?? "?")"])
                           }, eventLoopGroupProvider: .shared(Self.group), logger: logger)
    }

    /// The API's own threads: HTTP connections never run on the elephant loop's event loop, where a
    /// request would wait behind a control round.
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    /// The API as a service of the daemon: a port it cannot bind is logged, and the controller goes on
    /// without its view (the control loop matters more) until it is stopped.
    public func service() -> some Service {
        HTTPAPIService(app: application(), elephants: elephants, logger: logger, address: "\(options.host):\(options.port)")
    }
}

struct HTTPAPIService<App: ApplicationProtocol>: Service {
    let app: App
    let elephants: ElephantLoop
    let logger: Logger
    let address: String

    func run() async throws {
        let e = elephants
        do {
            // At shutdown, open streams and long polls are woken so that they end now, not at their
            // next keepalive.
            try await withGracefulShutdownHandler {
                try await app.run()
            } onGracefulShutdown: {
                e.loop.execute { e.api.events.wakeAll() }
            }
        } catch is CancellationError {
            return
        } catch {
            logger.error("HTTP API not available; the controller runs without it", metadata: ["address": "\(address)", "error": "\(error)"])
            try? await gracefulShutdown()
        }
    }
}

extension HTTPAPI {

    public func router() -> Router<BasicRequestContext> {
        let r = Router()
        r.add(middleware: JSONErrorMiddleware(logger: logger))
        let e = elephants
        let loop = e.loop
        let registry = options.registry ?? PrometheusCollectorRegistry()

        r.get("/") { _, _ in Self.respond(Array(WebPage.html.utf8), type: "text/html; charset=utf-8") }
        r.get("/tusk.js") { _, _ in Self.respond(Array(WebPage.script.utf8), type: "text/javascript; charset=utf-8") }
        r.get("/version") { _, _ in Self.json(try await loop.submit { e.versionJSON() }.get()) }
        r.get("/agents/json") { _, _ in Self.json(try await loop.submit { e.agentsJSON() }.get()) }
        r.get("/metric/:agents/:metrics/json") { _, ctx in
            let agents = try Self.agents(ctx.parameters.get("agents") ?? "")
            let metrics = try Self.metrics(ctx.parameters.get("metrics") ?? "")
            return Self.json(try await loop.submit { e.metricJSON(agents: agents, metrics: metrics) }.get())
        }
        r.get("/activeflows/:agents/:metric/json") { req, ctx in
            let agents = try Self.agents(ctx.parameters.get("agents") ?? "")
            guard ctx.parameters.get("metric") == "elephants" else {
                throw HTTPError(.notFound, message: "unknown flow metric: only `elephants` is defined")
            }
            let maxFlows = try Self.int(req, "maxFlows", default: 20, 1...APILimits.maxFlows)
            let minValue = try Self.double(req, "minValue", default: 0, 0...1e15)
            return Self.json(try await Self.activeFlows(e, agents: agents, maxFlows: maxFlows, minValue: minValue))
        }
        r.get("/links/json") { _, _ in Self.json(try await loop.submit { e.linksJSON() }.get()) }
        r.get("/links/history/json") { req, _ in
            guard let name = req.uri.queryParameters.get("link").map({ $0.removingPercentEncoding ?? $0 }), !name.isEmpty else {
                throw HTTPError(.badRequest, message: "link: missing (a directed link name such as l1>s1)")
            }
            guard let body = try await loop.submit({ e.historyJSON(link: name) }).get() else {
                throw HTTPError(.notFound, message: "no such link: \(name)")
            }
            return Self.json(body)
        }
        r.get("/elephants/json") { _, _ in Self.json(try await loop.submit { e.elephantsJSON() }.get()) }
        r.get("/decisions/json") { req, _ in
            let after = try Self.int(req, "after", default: 0, 0...Int.max)
            let n = try Self.int(req, "maxDecisions", default: 100, 1...APILimits.maxDecisions)
            return Self.json(try await loop.submit { e.decisionsJSON(after: after, max: n) }.get())
        }
        r.get("/events/json") { req, _ in
            let after = try Self.int(req, "eventID", default: 0, 0...Int.max)
            let n = try Self.int(req, "maxEvents", default: 100, 1...APILimits.maxEvents)
            let timeout = try Self.double(req, "timeout", default: 0, 0...APILimits.maxTimeout)
            return Self.json(try await Self.longPoll(e, after: after, max: n, timeout: timeout))
        }
        r.get("/events/sse") { req, _ in try await Self.eventStream(e, req) }
        r.get("/flows/sse") { req, _ in
            let n = try Self.int(req, "maxFlows", default: 20, 1...1000)
            return try await Self.flowStream(e, maxFlows: n)
        }
        r.get("/topology/json") { _, _ in Self.json(try await loop.submit { e.topologyJSON() }.get()) }
        r.get("/policy") { _, _ in Self.respond(Array(try await loop.submit { e.policyYAML() }.get().utf8), type: "application/yaml") }
        if let token = options.token {
            r.put("/policy") { req, _ in
                try Self.authorize(req, token: token)
                var req = req
                let body = try await req.collectBody(upTo: APILimits.maxBody)
                let text = String(buffer: body)
                let policy: Policy
                do { policy = try Policy(yaml: text) } catch let error as PolicyError {
                    let message = "policy:\(error.line.map { "\($0):" } ?? "") \(error.message)"
                    try? await loop.submit { e.apiPolicy(ok: false, source: "PUT /policy", error: message) }.get()
                    throw HTTPError(.badRequest, message: message)
                }
                let yaml = try await loop.submit { e.applyFromAPI(policy); return e.policyYAML() }.get()
                return Self.json(ElephantLoop.json { w in
                    w.beginObject()
                    w.field("applied", true)
                    w.field("algorithm", policy.algorithm.rawValue)
                    w.field("policy", yaml)
                    w.endObject()
                })
            }
        }
        r.get("/metrics") { _, _ in
            var buf: [UInt8] = []
            buf.reserveCapacity(16_384)
            registry.emit(into: &buf)
            return Self.respond(buf, type: "text/plain; version=0.0.4; charset=utf-8")
        }
        return r
    }

    // MARK: Parameters

    static func int(_ req: Request, _ name: String, default d: Int, _ range: ClosedRange<Int>) throws -> Int {
        guard let s = req.uri.queryParameters.get(name) else { return d }
        guard let v = Int(s), range.contains(v) else {
            throw HTTPError(.badRequest, message: "\(name): expected an integer in \(range.lowerBound)...\(range.upperBound), got \(s.prefix(40))")
        }
        return v
    }

    static func double(_ req: Request, _ name: String, default d: Double, _ range: ClosedRange<Double>) throws -> Double {
        guard let s = req.uri.queryParameters.get(name) else { return d }
        guard let v = Double(s), v.isFinite, range.contains(v) else {
            throw HTTPError(.badRequest, message: "\(name): expected a number in \(range.lowerBound)...\(range.upperBound), got \(s.prefix(40))")
        }
        return v
    }

    /// `ALL` or a comma list of agent addresses.
    static func agents(_ text: String) throws -> Set<String>? {
        if text == "ALL" { return nil }
        let list = text.split(separator: ",").map(String.init)
        guard !list.isEmpty, list.count <= 4096, list.allSatisfy({ IPAddressText.valid($0) }) else {
            throw HTTPError(.badRequest, message: "agents: ALL or a comma list of IP addresses, got \(text.prefix(60))")
        }
        return Set(list)
    }

    /// `max:ifinutilization,avg:ifoututilization`; a name without a reducer means `max`.
    static func metrics(_ text: String) throws -> [(reducer: String, name: String, text: String)] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard !items.isEmpty, items.count <= 64 else { throw HTTPError(.badRequest, message: "metrics: 1 to 64 metrics") }
        return try items.map { item in
            let parts = item.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            let (reducer, name) = parts.count == 2 ? (parts[0], parts[1]) : ("max", item)
            guard parts.count <= 2, Summary.names.contains(reducer) else {
                throw HTTPError(.badRequest, message: "metrics: unknown reducer in \(item.prefix(40)); use one of \(Summary.names.joined(separator: ", "))")
            }
            guard ElephantLoop.interfaceMetrics.contains(name) else {
                throw HTTPError(.badRequest, message: "metrics: unknown metric \(name.prefix(40)); known: \(ElephantLoop.interfaceMetrics.joined(separator: ", "))")
            }
            return (reducer, name, item)
        }
    }

    static func authorize(_ req: Request, token: String) throws {
        guard let h = req.headers[.authorization] else {
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"], message: "this endpoint needs Authorization: Bearer TOKEN")
        }
        let given = h.hasPrefix("Bearer ") ? String(h.dropFirst(7)) : ""
        // Compared in time independent of where they differ.
        let a = Array(given.utf8), b = Array(token.utf8)
        var diff = a.count ^ b.count
        for i in 0..<max(a.count, b.count) { diff |= Int((i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)) }
        guard diff == 0 else { throw HTTPError(.forbidden, message: "wrong token") }
    }

    // MARK: Responses

    static func respond(_ bytes: [UInt8], type: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: type, .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func json(_ bytes: [UInt8]) -> Response { respond(bytes, type: "application/json") }

    /// Events after `after`; when there are none, waits for one up to `timeout` seconds.
    static func longPoll(_ e: ElephantLoop, after: Int, max n: Int, timeout: Double) async throws -> [UInt8] {
        let loop = e.loop
        let first = try await loop.submit { e.eventsSnapshot(after: after, max: n) }.get()
        guard first.count == 0, timeout > 0 else { return first.json }
        let wait = TimeAmount.nanoseconds(Int64(timeout * 1e9))
        let queued = try await loop.flatSubmit { () -> EventLoopFuture<Bool> in
            guard let f = e.api.events.wait(after: first.latest > after ? first.latest : after, timeout: wait, on: loop) else {
                return loop.makeSucceededFuture(false)
            }
            return f.map { true }
        }.get()
        guard queued else { throw HTTPError(.serviceUnavailable, message: "too many waiting clients") }
        return try await loop.submit { e.eventsSnapshot(after: after, max: n) }.get().json
    }

    /// The largest flows: from what the loop published at its last round when that covers the
    /// request, else computed on the loop (and published for the next requests).
    static func activeFlows(_ e: ElephantLoop, agents: Set<String>?, maxFlows: Int, minValue: Double) async throws -> [UInt8] {
        if maxFlows <= PublishedFlows.depth, let rows = e.published.fresh(at: ElephantLoop.wallClock()) {
            let picked = Array(rows.lazy.filter { r in r.bps >= minValue && (agents.map { a in r.agents.contains { a.contains($0) } } ?? true) }.prefix(maxFlows))
            // Complete unless the published list was cut at its depth before enough matched.
            if picked.count == maxFlows || rows.count < PublishedFlows.depth { return ElephantLoop.activeFlowsJSON(picked) }
        }
        return try await e.loop.submit {
            if agents == nil, minValue == 0, maxFlows <= PublishedFlows.depth { e.publishFlows() }
            return ElephantLoop.activeFlowsJSON(e.activeFlowRows(agents: agents, maxFlows: maxFlows, minValue: minValue))
        }.get()
    }

    static func sseHeaders() -> HTTPFields {
        [.contentType: "text/event-stream", .cacheControl: "no-store", HTTPField.Name("X-Accel-Buffering")!: "no"]
    }

    /// Claims a stream slot on the loop (nil when all are taken); the slot is given back when the
    /// stream ends.
    static func openStream(_ e: ElephantLoop) async throws {
        let ok = try await e.loop.submit { () -> Bool in
            guard e.api.streams < LoopAPIState.maxStreams else { return false }
            e.api.streams += 1
            return true
        }.get()
        guard ok else { throw HTTPError(.serviceUnavailable, message: "too many open streams") }
    }

    /// `/events/sse`: the event ring as Server-Sent Events, from `Last-Event-ID` (or `eventID`, or
    /// now). The stream reads the ring at its own cursor: nothing is queued per client, and a client
    /// that falls more than the ring's length behind is sent `dropped` and closed.
    static func eventStream(_ e: ElephantLoop, _ req: Request) async throws -> Response {
        let lastID: String? = req.headers[HTTPField.Name("Last-Event-ID")!]
        let given: String? = lastID ?? req.uri.queryParameters.get("eventID").map { String($0) }
        let start: Int
        if let g = given {
            guard let v = Int(g), v >= 0 else { throw HTTPError(.badRequest, message: "eventID: expected a non-negative integer") }
            start = v
        } else {
            start = try await e.loop.submit { e.api.events.latestID }.get()
        }
        try await openStream(e)
        let loop = e.loop
        return Response(status: .ok, headers: sseHeaders(), body: ResponseBody { writer in
            defer { loop.execute { e.api.streams -= 1 } }
            var cursor = start
            try await writer.write(ByteBuffer(string: "retry: 2000\n: tusk events\n\n"))
            do {
                while !Task.isCancelled, await !Task.isShuttingDownGracefully {
                    let (evs, missed) = try await loop.submit { e.api.events.events(after: cursor, max: 200) }.get()
                    if missed {
                        try await writer.write(ByteBuffer(string: "event: dropped\ndata: {\"reason\":\"the client fell behind the event ring\"}\n\n"))
                        return
                    }
                    if evs.isEmpty {
                        let c = cursor
                        let f = try await loop.submit { e.api.events.wait(after: c, timeout: APILimits.keepalive, on: loop) }.get()
                        guard let f else { return }
                        try await f.get()
                        if try await loop.submit({ e.api.events.closing }).get() { break }
                        let latest = try await loop.submit { e.api.events.latestID }.get()
                        if latest == cursor { try await writer.write(ByteBuffer(string: ": keepalive\n\n")) }
                        continue
                    }
                    var out = ""
                    for ev in evs { out += "id: \(ev.id)\nevent: \(ev.type)\ndata: \(ev.json)\n\n" }
                    cursor = evs.last!.id
                    try await writer.write(ByteBuffer(string: out))
                }
            }
            try await writer.finish(nil)
        })
    }

    /// `/flows/sse`: every control interval (at least 0.5 s), the largest flows (`event: flows`)
    /// and every link's utilization (`event: links`).
    static func flowStream(_ e: ElephantLoop, maxFlows: Int) async throws -> Response {
        try await openStream(e)
        let loop = e.loop
        return Response(status: .ok, headers: sseHeaders(), body: ResponseBody { writer in
            defer { loop.execute { e.api.streams -= 1 } }
            try await writer.write(ByteBuffer(string: "retry: 2000\n: tusk flows\n\n"))
            do {
                while !Task.isCancelled, await !Task.isShuttingDownGracefully {
                    let (links, interval) = try await loop.submit { (e.linkUtilizationJSON(), e.control.interval) }.get()
                    let flows = try await Self.activeFlows(e, agents: nil, maxFlows: maxFlows, minValue: 0)
                    var b = ByteBuffer(string: "event: flows\ndata: ")
                    b.writeBytes(flows)
                    b.writeString("\n\nevent: links\ndata: ")
                    b.writeBytes(links)
                    b.writeString("\n\n")
                    try await writer.write(b)
                    try await Task.sleep(for: .milliseconds(Int(max(0.5, min(interval, 10)) * 1000)))
                }
            }
            try await writer.finish(nil)
        })
    }
}

/// Every error leaves as JSON: `{"error":"...","status":404}`; unexpected ones are logged.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as HTTPError {
            return Self.response(e.status, e.body ?? Self.defaultMessage(e.status, request), headers: e.headers)
        } catch let e as any HTTPResponseError {
            return Self.response(e.status, e.status == .contentTooLarge ? "request body too large (at most \(APILimits.maxBody) bytes)" : e.status.reasonPhrase)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return Self.response(.internalServerError, "\(error)")
        }
    }

    static func defaultMessage(_ s: HTTPResponse.Status, _ r: Request) -> String {
        s == .notFound ? "no such endpoint: \(r.method) \(r.uri.path.prefix(100))" : s.reasonPhrase
    }

    static func response(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> Response {
        var w = JSONWriter(capacity: 128)
        w.beginObject()
        w.field("error", message)
        w.field("status", Int(status.code))
        w.endObject()
        var h = headers
        h[.contentType] = "application/json"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: w.bytes)))
    }
}

/// Address syntax check for agent lists (no lookups).
enum IPAddressText {
    static func valid(_ s: String) -> Bool {
        var a4 = in_addr(), a6 = in6_addr()
        return inet_pton(AF_INET, s, &a4) == 1 || inet_pton(AF_INET6, s, &a6) == 1
    }
}
