import ArgumentParser
import Controller
import FlowAnalytics
import NIOCore
import NIOPosix
import NIOConcurrencyHelpers
import Packets
import SFlow
import SFlowIngest
import Topology
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct FlowsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flows",
        abstract: "Per-flow rates, link utilization and elephant events from sFlow.",
        discussion: """
        From a capture (--pcap, or live from --interface), replays it with its own timestamps as the clock and prints the state \
        at --at seconds from the first packet (default: the end). Live (--listen), shows a table \
        sorted by rate every second, or JSON lines of elephant events with --format json (and, when \
        the run ends, the final state as one last line).
        """
    )

    // --pcap, --listen, --interface, --port, --duration, --receive-buffer: as for `tusk sflow`.
    @OptionGroup var input: SFlowInputOptions

    @Option(name: .long, help: "Speed of every link (e.g. 100mbit, 1g), instead of the ifSpeed the switches report.")
    var linkSpeed: String?

    @Option(name: .long, help: "Topology file: link speeds, and ifIndex mapping for switches that send no OpenFlow port records.")
    var topology: String?

    @Option(name: .long, help: "Elephant threshold: a share of the entry link's speed (10%) or a rate (100mbit).")
    var threshold: String = "10%"

    @Option(name: .long, help: "Report the state this many seconds after the capture's first packet.")
    var at: Double?

    @Option(name: .long, help: "json or table (default: json for --pcap, table for --listen).")
    var format: FlowsFormat?

    @Option(name: .long, help: "Flow key: 5tuple, ippair, or a list of src,dst,proto,sport,dport.")
    var key: String = "5tuple"

    @Option(name: .long, help: "Smoothing time constant of the rate estimates, seconds.")
    var timeConstant: Double = 2

    @Option(name: .long, help: "Most flows tracked (least recently seen are evicted beyond it).")
    var maxFlows: Int = 1_000_000

    @Option(name: .long, help: "Flows listed (highest rate first).")
    var top: Int = 50

    enum FlowsFormat: String, ExpressibleByArgument { case json, table }

    func validate() throws {
        if let linkSpeed {
            guard case .bitsPerSecond(let v)? = RateSpec.parse(linkSpeed), v > 0 else {
                throw ValidationError("--link-speed '\(linkSpeed)' is not a rate (e.g. 100mbit, 1g)")
            }
        }
        guard RateSpec.parse(threshold) != nil else { throw ValidationError("--threshold '\(threshold)' is not a rate or a percentage (e.g. 10%, 50mbit)") }
        guard FlowKeySpec.parse(key) != nil else { throw ValidationError("--key '\(key)' is not 5tuple, ippair or a list of src,dst,proto,sport,dport") }
        guard timeConstant > 0 else { throw ValidationError("--time-constant must be positive") }
        guard maxFlows > 0 else { throw ValidationError("--max-flows must be positive") }
        if let at, at < 0 { throw ValidationError("--at must not be negative") }
    }

    func analyticsConfig() -> AnalyticsConfig {
        var c = AnalyticsConfig()
        if let linkSpeed, case .bitsPerSecond(let v)? = RateSpec.parse(linkSpeed) { c.linkSpeedOverride = v }
        if let t = RateSpec.parse(threshold) { c.threshold = t }
        if let k = FlowKeySpec.parse(key) { c.keySpec = k }
        c.timeConstant = timeConstant
        c.maxFlows = maxFlows
        return c
    }

    /// A new analytics engine, with the topology file applied when one is given.
    func makeAnalytics() throws -> FlowAnalytics {
        var a = FlowAnalytics(config: analyticsConfig())
        if let topology {
            // The loader `tusk controller` uses. (Reading the file and parsing it inside one
            // do/catch, untyped and typed throws mixed, made the Swift 6.3 optimiser crash.)
            do {
                a.apply(topology: try ControllerCommand.loadTopology(topology))
            } catch {
                exitWith(CommandFailure(message: "\(error)"))
            }
        }
        return a
    }

    func run() async throws {
        if input.pcap != nil || input.interface != nil {
            try replay()
        } else {
            try await live()
        }
    }

    /// Replays a capture: evaluation every 100 ms of capture time, so events carry their time to
    /// within a tenth of a second.
    func replay() throws {
        let path = input.pcap ?? input.interface ?? ""
        var analytics = try makeAnalytics()
        let reader: SFlowCaptureReader
        do {
            reader = input.pcap != nil ? try SFlowCaptureReader(file: path, port: UInt16(input.port))
                                       : try SFlowCaptureReader(interface: path, port: UInt16(input.port))
        } catch { exitWith(CommandFailure(message: "\(error)")) }
        let deadline = input.duration.map { monotonicNanos() + UInt64($0 * 1e9) }
        var start: Double?
        var nextEval = 0.0
        var events: [ElephantEvent] = []
        var bad = 0
        var last = 0.0
        let warnings = Warnings()
        do {
            try reader.forEach { item in
                switch item {
                case .datagram(let d, let time, _):
                    if start == nil { start = time; nextEval = time + 0.1 }
                    guard let s = start else { return true }
                    if let at, time - s > at { return false }
                    while time >= nextEval {
                        events += analytics.evaluate(at: nextEval)
                        nextEval += 0.1
                    }
                    let ok = d.payload.withUnsafeBytes { analytics.ingest(datagram: $0, at: time) }
                    if !ok { bad += 1; warnings.warn("datagram from \(d.src) is not sFlow v5") }
                    last = time
                    if let deadline, monotonicNanos() >= deadline { return false }
                case .malformed(let why, _):
                    bad += 1
                    warnings.warn("\(path): \(why)")
                }
                return true
            }
        } catch {
            exitWith(CommandFailure(message: "\(error)"))
        }
        warnings.finish()
        guard let s = start else {
            exitWith(CommandFailure(message: "\(path): no sFlow datagrams (UDP port \(input.port)) in the capture"))
        }
        let t = at.map { s + $0 } ?? last
        events += analytics.evaluate(at: t)
        let out = Output()
        switch format ?? .json {
        case .json:
            var w = JSONWriter(capacity: 1 << 16)
            FlowsRendering.writeState(analytics, at: t, start: s, events: events, top: top, into: &w)
            out.write(w.bytes + [0x0A])
        case .table:
            out.write(FlowsRendering.table(analytics, at: t, start: s, top: top))
            for e in events { out.write(FlowsRendering.eventLine(e, start: s) + "\n") }
        }
        out.flush()
        if bad > 0 { throw ExitCode(1) }
    }

    func live() async throws {
        guard let listen = input.listen, var cfg = SFlowCollectorConfig.parse(listen: listen) else { return }
        cfg.receiveBufferBytes = input.receiveBuffer
        cfg.sockets = input.receiveSockets ?? SFlowCollectorConfig.defaultSockets
        let sink = LiveAnalyticsSink(analytics: try makeAnalytics())
        // Socket 0 reads on the analytics' own loop; the others scan on theirs and hand it samples.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: cfg.sockets)
        let loop = group.next()
        let feed = AnalyticsFeed(loop: loop) { scanned, _ in sink.ingest(scanned) }
        let collector: SFlowCollector
        do {
            collector = try await SFlowCollector.start(config: cfg, group: group, sink: feed, clock: { wallClockNanos() })
        } catch {
            try? await group.shutdownGracefully()
            exitWith(CommandFailure(message: "cannot listen on \(listen): \(error)"))
        }
        FileHandleStderr.write("tusk: listening for sFlow on \(collector.localAddress.map { "\($0)" } ?? listen)\(cfg.sockets > 1 ? " (\(cfg.sockets) sockets)" : "")\n")
        if let note = collector.receiveBufferNote { FileHandleStderr.write("tusk: warning: \(note)\n") }
        if let note = collector.shardNote { FileHandleStderr.write("tusk: warning: \(note)\n") }
        let stop = StopFlag()
        let signals = installStopSignals(stop)
        let deadline = input.duration.map { monotonicNanos() + UInt64($0 * 1e9) }
        let out = Output()
        let asJSON = (format ?? .table) == .json
        let start = Double(wallClockNanos()) / 1e9
        var nextTick = monotonicNanos() + 1_000_000_000
        while !stop.isSet {
            if let deadline, monotonicNanos() >= deadline { break }
            if monotonicNanos() >= nextTick {
                nextTick += 1_000_000_000
                let top = self.top
                let text: String = try await loop.submit {
                    let now = Double(wallClockNanos()) / 1e9
                    let events = sink.analytics.evaluate(at: now)
                    if asJSON {
                        return events.map { e in
                            var w = JSONWriter()
                            FlowsRendering.writeEvent(e, start: 0, into: &w)
                            return String(decoding: w.bytes, as: UTF8.self) + "\n"
                        }.joined()
                    }
                    // A top-like screen: clear, then the table.
                    return "\u{1B}[H\u{1B}[2J" + FlowsRendering.table(sink.analytics, at: now, start: start, top: top)
                        + events.map { FlowsRendering.eventLine($0, start: start) + "\n" }.joined()
                }.get()
                out.write(text)
                out.flush()
            }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        signals.forEach { $0.cancel() }
        if asJSON {
            // The final state as one last JSON line (the same object `--pcap` prints).
            let top = self.top
            let last: [UInt8]? = try? await loop.submit {
                let now = Double(wallClockNanos()) / 1e9
                let events = sink.analytics.evaluate(at: now)
                var w = JSONWriter(capacity: 1 << 16)
                FlowsRendering.writeState(sink.analytics, at: now, start: start, events: events, top: top, into: &w)
                return w.bytes + [0x0A]
            }.get()
            if let last { out.write(last); out.flush() }
        }
        let drops = collector.kernelDrops
        try? await collector.close()
        try? await group.shutdownGracefully()
        let c = collector.counters
        let spread = cfg.sockets > 1 ? " (per socket: \(collector.perSocketDatagrams.map(String.init).joined(separator: ", ")))" : ""
        FileHandleStderr.write("tusk: received \(c.datagrams) datagrams, \(c.bytes) bytes\(spread); \(sink.bad) not sFlow; \(feed.droppedDatagrams) dropped behind the analytics; kernel drops \(drops.map(String.init) ?? "unknown")\n")
    }
}

/// The live analytics, touched only on their event loop (batches come through an `AnalyticsFeed`).
final class LiveAnalyticsSink: @unchecked Sendable {
    var analytics: FlowAnalytics
    var bad = 0

    init(analytics: FlowAnalytics) { self.analytics = analytics }

    /// A batch scanned on a reader thread (called on the analytics' loop).
    func ingest(_ scanned: ScannedDatagrams) {
        analytics.ingest(scanned)
        bad += scanned.rejected.count
    }
}

enum FlowsRendering {
    static func writeKey<W: StructuredWriter>(_ k: FlowKey, _ w: inout W) {
        w.field("src", k.src.description)
        w.field("dst", k.dst.description)
        w.field("proto", k.proto)
        w.field("sport", k.sport)
        w.field("dport", k.dport)
    }

    static func writeLinks<W: StructuredWriter>(_ links: [FlowLink], _ a: FlowAnalytics, _ w: inout W) {
        w.beginArray()
        for l in links {
            w.beginObject()
            let id = a.ports[l.port]
            if let d = id?.datapathId { w.field("dpid", d) }
            if let p = id?.portNo { w.field("port", p) }
            if let n = id?.name { w.field("name", n) }
            w.field("agent", l.port.agent.description)
            w.field("ifIndex", l.port.ifIndex)
            w.field("direction", l.input ? "in" : "out")
            w.endObject()
        }
        w.endArray()
    }

    static func writePoint<W: StructuredWriter>(_ p: ObservationPoint, _ a: FlowAnalytics, _ w: inout W) {
        w.field("agent", p.agent.description)
        w.field("subAgentId", p.subAgentId)
        w.field("source", p.sourceIndex)
    }

    static func writeEvent<W: StructuredWriter>(_ e: ElephantEvent, start: Double, into w: inout W) {
        w.beginObject()
        w.field("type", e.type.rawValue)
        w.field("time", e.time - start)
        w.key("flow")
        w.beginObject()
        writeKey(e.flow, &w)
        w.endObject()
        w.field("bps", e.bps.rounded())
        w.key("links")
        w.beginArray()
        for l in e.links { w.string("\(l.port)\(l.input ? "<" : ">")") }
        w.endArray()
        w.endObject()
    }

    static func writeState<W: StructuredWriter>(_ a: FlowAnalytics, at t: Double, start: Double, events: [ElephantEvent], top: Int, into w: inout W) {
        w.beginObject()
        w.field("time", t - start)
        w.field("captureTime", t)
        let agentLoss = a.agentLossShares
        w.key("flows")
        w.beginArray()
        for f in a.flows(at: t, limit: top) {
            w.beginObject()
            writeKey(f.key, &w)
            w.field("bps", f.bps.rounded())
            w.field("pps", (f.pps * 10).rounded() / 10)
            w.field("samples", (f.samples * 10).rounded() / 10)
            w.field("errorPercent", (f.errorPercent * 10).rounded() / 10)
            w.field("elephant", f.elephant)
            w.key("links")
            writeLinks(f.links, a, &w)
            // Each observation point's own estimate, and its data source's sample loss.
            w.key("points")
            w.beginArray()
            for p in a.points(f.key, at: t) {
                w.beginObject()
                writePoint(p.point, a, &w)
                if let e = p.entry, let id = a.ports[e], let d = id.datapathId, let n = id.portNo {
                    w.field("entryDpid", d)
                    w.field("entryPort", n)
                }
                w.field("bps", p.bps.rounded())
                w.field("samples", (p.samples * 10).rounded() / 10)
                w.field("errorPercent", (p.errorPercent * 10).rounded() / 10)
                w.field("samplingRate", p.samplingRate)
                w.field("lossPercent", (p.lossShare * 1000).rounded() / 10)
                w.field("agentLossPercent", ((agentLoss[SubAgentKey(agent: p.point.agent, subAgentId: p.point.subAgentId)] ?? 0) * 1000).rounded() / 10)
                w.field("current", p.current)
                w.endObject()
            }
            w.endArray()
            w.endObject()
        }
        w.endArray()
        // Sample loss per flow-sample data source (from its sequence numbers); flow rates are
        // compensated by n / (n − k) of their source.
        w.key("sources")
        w.beginArray()
        for r in a.sourceReports {
            w.beginObject()
            writePoint(r.point, a, &w)
            w.field("samplingRate", r.samplingRate)
            w.field("received", r.received)
            w.field("lost", r.lost)
            w.field("resets", r.resets)
            w.field("lossPercent", (r.lossShare * 1000).rounded() / 10)
            w.field("agentLossPercent", ((agentLoss[SubAgentKey(agent: r.point.agent, subAgentId: r.point.subAgentId)] ?? 0) * 1000).rounded() / 10)
            w.endObject()
        }
        w.endArray()
        w.key("links")
        w.beginArray()
        for l in a.links(at: t) {
            w.beginObject()
            if let d = l.identity?.datapathId { w.field("dpid", d) } else { w.key("dpid"); w.null() }
            if let p = l.identity?.portNo { w.field("port", p) } else { w.key("port"); w.null() }
            if let n = l.identity?.name { w.field("name", n) } else { w.key("name"); w.null() }
            w.field("agent", l.port.agent.description)
            w.field("ifIndex", l.port.ifIndex)
            w.field("speedBps", l.speedBps.rounded())
            w.field("bps", l.bps.rounded())
            w.field("inBps", l.inBps.rounded())
            w.field("outBps", l.outBps.rounded())
            w.field("utilization", (l.utilization * 10_000).rounded() / 10_000)
            w.endObject()
        }
        w.endArray()
        w.key("events")
        w.beginArray()
        for e in events { writeEvent(e, start: start, into: &w) }
        w.endArray()
        // Summary statistics across ports and flows (max, min, sum, avg, var, sdev, med, q1..q3, iqr).
        let links = a.links(at: t)
        let flows = a.flows(at: t)
        w.key("summary")
        w.beginObject()
        for (name, values) in [("utilization", links.map(\.utilization)), ("linkBps", links.map(\.bps)),
                               ("flowBps", flows.map(\.bps))] {
            w.key(name)
            if let s = Summary(values) {
                w.beginObject()
                w.field("count", s.count)
                for n in Summary.names { w.field(n, ((s.value(n) ?? 0) * 10_000).rounded() / 10_000) }
                w.endObject()
            } else {
                w.null()
            }
        }
        w.endObject()
        w.endObject()
    }

    static func table(_ a: FlowAnalytics, at t: Double, start: Double, top: Int) -> String {
        var lines = ["time \(format2(t - start)) s, \(a.flowCount) flows tracked"]
        lines.append(pad(["src", "dst", "proto", "sport", "dport", "bps", "pps", "±%", "pts", "loss%", "elephant", "links"],
                         [16, 16, 5, 6, 6, 9, 9, 5, 3, 5, 8, 0]))
        for f in a.flows(at: t, limit: top) {
            let links = f.links.map { l -> String in
                if let id = a.ports[l.port], let d = id.datapathId, let p = id.portNo { return "\(d):\(p)" }
                return "\(l.port)"
            }.joined(separator: ",")
            // Points that count, and the highest sample loss among their sources.
            let points = a.points(f.key, at: t)
            let loss = points.filter(\.current).map(\.lossShare).max() ?? 0
            lines.append(pad([f.key.src.description, f.key.dst.description, "\(f.key.proto)", "\(f.key.sport)", "\(f.key.dport)",
                              formatRate(f.bps), formatRate(f.pps), "\(Int(f.errorPercent.rounded()))",
                              "\(points.filter(\.current).count)", "\(Int((loss * 100).rounded()))", f.elephant ? "yes" : "", links],
                             [16, 16, 5, 6, 6, 9, 9, 5, 3, 5, 8, 0]))
        }
        lines.append("")
        lines.append(pad(["dpid", "port", "name", "speed", "in", "out", "util%"], [6, 5, 16, 8, 9, 9, 6]))
        for l in a.links(at: t) {
            lines.append(pad([l.identity?.datapathId.map { "\($0)" } ?? "-", l.identity?.portNo.map { "\($0)" } ?? "-",
                              l.identity?.name ?? "\(l.port)", formatRate(l.speedBps), formatRate(l.inBps), formatRate(l.outBps),
                              "\(format2(l.utilization * 100))"], [6, 5, 16, 8, 9, 9, 6]))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func eventLine(_ e: ElephantEvent, start: Double) -> String {
        "\(format2(e.time - start)) s \(e.type.rawValue) \(e.flow) \(formatRate(e.bps))bit/s"
    }

    static func pad(_ cols: [String], _ widths: [Int]) -> String {
        zip(cols, widths).map { c, w in c.count >= w ? c : c + String(repeating: " ", count: w - c.count) }.joined(separator: " ")
    }
}
