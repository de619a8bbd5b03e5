import ArgumentParser
import Dispatch
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Packets
import SFlow
import SFlowIngest
#if canImport(Glibc)
import Glibc
#endif

struct SFlowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sflow",
        abstract: "Decode, count and replay sFlow v5.",
        subcommands: [SFlowDecode.self, SFlowStats.self, SFlowSend.self, SFlowGenerate.self]
    )
}

/// Where samples come from: a capture file, a UDP port, or a live interface.
struct SFlowInputOptions: ParsableArguments {
    @Option(name: .long, help: "A pcap or pcapng capture to read (its timestamps are the clock).")
    var pcap: String?

    @Option(name: .long, help: "Listen for sFlow on UDP [HOST:]PORT (IPv4 or IPv6; default port 6343).")
    var listen: String?

    @Option(name: .long, help: "Capture live from a network interface through libpcap.")
    var interface: String?

    @Option(name: .long, help: "UDP destination port of sFlow in captures (0: any).")
    var port: Int = 6343

    @Option(name: .long, help: "Stop after this many seconds (live input).")
    var duration: Double?

    @Option(name: .long, help: "Socket receive buffer for --listen, in bytes (per socket).")
    var receiveBuffer: Int = 16 << 20

    @Option(name: .long, help: "UDP sockets for --listen (SO_REUSEPORT), each read on its own thread; agents are spread over them (default: one per two cores, at most 4; decode uses one).")
    var receiveSockets: Int?

    func validate() throws {
        let n = [pcap, listen, interface].compactMap { $0 }.count
        guard n == 1 else { throw ValidationError("give exactly one of --pcap FILE, --listen [HOST:]PORT, --interface IF") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        if let listen, SFlowCollectorConfig.parse(listen: listen) == nil {
            throw ValidationError("--listen '\(listen)' is not [HOST:]PORT")
        }
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive") }
        if let receiveSockets, !(1...64).contains(receiveSockets) { throw ValidationError("--receive-sockets must be 1...64") }
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case json, text
}

/// Buffered writes to a file descriptor (stdout by default).
final class Output: @unchecked Sendable {
    private var buffer: [UInt8] = []
    private let fd: Int32

    init(fd: Int32 = 1) {
        self.fd = fd
        buffer.reserveCapacity(1 << 17)
    }

    func write(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    func write(_ s: String) { write(Array(s.utf8)) }

    func flush() {
        var off = 0
        while off < buffer.count {
            let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
            if n <= 0 { if errno == EINTR { continue }; break }
            off += n
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Rate-limited warnings to stderr: a malformed input says why, but a flood of them cannot
/// drown the terminal or slow the collector.
final class Warnings: @unchecked Sendable {
    private var printed = 0
    private var suppressed = 0
    let limit: Int

    init(limit: Int = 20) { self.limit = limit }

    func warn(_ s: String) {
        if printed < limit {
            printed += 1
            FileHandleStderr.write("tusk: \(s)\n")
        } else {
            suppressed += 1
        }
    }

    func finish() {
        if suppressed > 0 { FileHandleStderr.write("tusk: \(suppressed) more warnings not shown\n") }
    }
}

enum FileHandleStderr {
    static func write(_ s: String) {
        let b = Array(s.utf8)
        _ = b.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}

/// Decodes datagrams and renders or counts them; shared by `decode` and `stats` and by both
/// capture and UDP input.
final class SFlowProcessor: SFlowDatagramSink, @unchecked Sendable {
    enum Mode { case decodeJSON, decodeText, stats }

    let mode: Mode
    let out: Output
    let warnings = Warnings()
    var stats = IngestStats()
    private var json = JSONWriter(capacity: 4096)
    private var text = TextWriter()
    /// The agent's source port/address for messages about datagrams without a usable header.
    var samplesWritten = 0

    init(mode: Mode, out: Output) {
        self.mode = mode
        self.out = out
    }

    func received(_ bytes: UnsafeRawBufferPointer, from: SocketAddress?, timeNanos: UInt64) {
        process(bytes, time: Double(timeNanos) / 1e9, source: from.map { "\($0)" } ?? "?")
    }

    /// `source` names the sender in messages; it is only formatted when a message needs it.
    func process(_ bytes: UnsafeRawBufferPointer, time: Double, source: @autoclosure () -> String) {
        let decoded: DecodedDatagram
        do {
            decoded = try SFlowDecoder.decode(bytes)
        } catch {
            stats.recordRejected()
            warnings.warn("datagram from \(source()) (\(bytes.count) bytes) is not sFlow v5: \(error)")
            return
        }
        stats.record(decoded)
        for issue in decoded.issues {
            warnings.warn("malformed datagram from agent \(decoded.datagram.agent) seq \(decoded.datagram.sequence): \(issue)")
        }
        switch mode {
        case .stats:
            return
        case .decodeJSON:
            for s in decoded.datagram.samples {
                json.reset()
                SFlowRendering.writeSample(s, of: decoded.datagram, time: time, into: &json)
                json.bytes.append(0x0A)
                out.write(json.bytes)
                samplesWritten += 1
            }
        case .decodeText:
            for s in decoded.datagram.samples {
                text.reset()
                SFlowRendering.writeSample(s, of: decoded.datagram, time: time, into: &text)
                out.write(text.bytes)
                samplesWritten += 1
            }
        }
    }
}

/// Runs a processor over the chosen input until it ends (file), or until --duration or a signal
/// (live). Returns the capture-layer counts for files.
func runInput(_ input: SFlowInputOptions, processor: SFlowProcessor) async throws -> CaptureCounts? {
    if let path = input.pcap ?? input.interface {
        let reader: SFlowCaptureReader
        do {
            reader = input.pcap != nil ? try SFlowCaptureReader(file: path, port: UInt16(input.port))
                                       : try SFlowCaptureReader(interface: path, port: UInt16(input.port))
        } catch {
            throw CommandFailure(message: "\(error)")
        }
        let deadline = input.duration.map { monotonicNanos() + UInt64($0 * 1e9) }
        let stop = StopFlag()
        let signals = installStopSignals(stop)
        defer { signals.forEach { $0.cancel() } }
        do {
            try reader.forEach { item in
                switch item {
                case .datagram(let d, let time, _):
                    d.payload.withUnsafeBytes { processor.process($0, time: time, source: "\(d.src):\(d.srcPort)") }
                case .malformed(let why, _):
                    processor.warnings.warn("\(path): \(why)")
                }
                if let deadline, monotonicNanos() >= deadline { return false }
                return !stop.isSet
            }
        } catch {
            processor.warnings.warn("\(error)")
            processor.out.flush()
            throw CommandFailure(message: "\(error)")
        }
        processor.out.flush()
        return reader.counts
    }
    guard let listen = input.listen, var config = SFlowCollectorConfig.parse(listen: listen) else { return nil }
    config.receiveBufferBytes = input.receiveBuffer
    // Counting shards cleanly by agent; decoded output keeps one stream in arrival order.
    config.sockets = processor.mode == .stats ? (input.receiveSockets ?? SFlowCollectorConfig.defaultSockets) : 1
    let shards = [processor] + (1..<config.sockets).map { _ in SFlowProcessor(mode: processor.mode, out: processor.out) }
    let group = MultiThreadedEventLoopGroup(numberOfThreads: config.sockets)
    // Decoding runs on a thread of its own, behind a bounded hand-off: the readers only take the
    // datagrams off the sockets, so a burst of decoding work never leaves a socket unread.
    let decoder = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let sharded = ShardedProcessors(shards)
    let handOff = BatchHandOff<Void>(loop: decoder.next(), prepare: { _ in }) { _, batch, reader in
        sharded.received(batch, reader: reader)
    }
    let collector: SFlowCollector
    do {
        collector = try await SFlowCollector.start(config: config, group: group, sink: handOff, clock: { wallClockNanos() })
    } catch {
        try? await group.shutdownGracefully()
        try? await decoder.shutdownGracefully()
        throw CommandFailure(message: "cannot listen on \(listen): \(error)")
    }
    let socketsNote = config.sockets > 1 ? " (\(config.sockets) sockets)" : ""
    FileHandleStderr.write("tusk: listening for sFlow on \(collector.localAddress.map { "\($0)" } ?? listen)\(socketsNote)\n")
    if let note = collector.receiveBufferNote { FileHandleStderr.write("tusk: warning: \(note)\n") }
    if let note = collector.shardNote { FileHandleStderr.write("tusk: warning: \(note)\n") }
    let stop = StopFlag()
    let signals = installStopSignals(stop)
    let deadline = input.duration.map { monotonicNanos() + UInt64($0 * 1e9) }
    while !stop.isSet {
        if let deadline, monotonicNanos() >= deadline { break }
        try? await Task.sleep(nanoseconds: 50_000_000)
    }
    signals.forEach { $0.cancel() }
    let drops = collector.kernelDrops
    try? await collector.close()
    try? await group.shutdownGracefully()
    // The shards run on the decoder's loop: finish there so nothing races the last datagrams.
    try? await handOff.drained()
    try? await decoder.shutdownGracefully()
    for extra in shards.dropFirst() {
        processor.stats.merge(extra.stats)
        extra.warnings.finish()
    }
    processor.out.flush()
    let c = collector.counters
    let spread = config.sockets > 1 ? " (per socket: \(collector.perSocketDatagrams.map(String.init).joined(separator: ", ")))" : ""
    FileHandleStderr.write("tusk: received \(c.datagrams) datagrams, \(c.bytes) bytes\(spread); \(handOff.droppedDatagrams) dropped behind the decoder; kernel drops \(drops.map(String.init) ?? "unknown")\n")
    return nil
}

/// Hands each socket's batches to its own processor (on the decoder's event loop).
final class ShardedProcessors: SFlowDatagramSink, @unchecked Sendable {
    let shards: [SFlowProcessor]
    init(_ shards: [SFlowProcessor]) { self.shards = shards }
    func received(_ bytes: UnsafeRawBufferPointer, from: SocketAddress?, timeNanos: UInt64) {
        shards[0].received(bytes, from: from, timeNanos: timeNanos)
    }
    func received(_ batch: DatagramBatch, reader: Int) {
        let p = shards[reader % shards.count]
        batch.forEach { p.received($0, from: $2, timeNanos: $1) }
    }
}

final class StopFlag: @unchecked Sendable {
    private let lock = NIOLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

func installStopSignals(_ flag: StopFlag) -> [DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { sig in
        signal(sig, SIG_IGN)
        let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        s.setEventHandler { flag.set() }
        s.resume()
        return s
    }
}

/// A failure with a message for the user and exit status 2 (1 means "ran, but saw bad input").
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

func exitWith(_ failure: CommandFailure) -> Never {
    FileHandleStderr.write("tusk: \(failure.message)\n")
    exit(2)
}

struct SFlowDecode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Print every sample: one JSON object a line, or a text layout (--format text).",
        discussion: "Exit status: 0 when every datagram decoded cleanly, 1 when some input was bad, 2 when the input could not be read."
    )

    @OptionGroup var input: SFlowInputOptions

    @Option(name: .long, help: "json (one object a line) or text.")
    var format: OutputFormat = .json

    func run() async throws {
        let p = SFlowProcessor(mode: format == .json ? .decodeJSON : .decodeText, out: Output())
        do {
            let counts = try await runInput(input, processor: p)
            p.warnings.finish()
            if let counts, counts.malformedFrames > 0 {
                FileHandleStderr.write("tusk: \(counts.malformedFrames) malformed frames in the capture\n")
            }
            if p.stats.sawBadInput || (counts?.malformedFrames ?? 0) > 0 { throw ExitCode(1) }
        } catch let f as CommandFailure {
            exitWith(f)
        }
    }
}

struct SFlowStats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Count datagrams, samples, losses and malformed input per agent and sub-agent.",
        discussion: "Exit status: 0 when every datagram decoded cleanly, 1 when some input was bad, 2 when the input could not be read."
    )

    @OptionGroup var input: SFlowInputOptions

    @Option(name: .long, help: "text (a table) or json.")
    var format: OutputFormat = .text

    func run() async throws {
        let out = Output()
        let p = SFlowProcessor(mode: .stats, out: out)
        let counts: CaptureCounts?
        do {
            counts = try await runInput(input, processor: p)
        } catch let f as CommandFailure {
            exitWith(f)
        }
        p.warnings.finish()
        switch format {
        case .json:
            var w = JSONWriter()
            p.stats.write(into: &w)
            out.write(w.bytes + [0x0A])
        case .text:
            out.write(Self.table(p.stats, counts: counts))
        }
        out.flush()
        if p.stats.sawBadInput || (counts?.malformedFrames ?? 0) > 0 { throw ExitCode(1) }
    }

    static func table(_ s: IngestStats, counts: CaptureCounts?) -> String {
        let headers = ["agent", "subAgent", "datagrams", "flowSamples", "counterSamples", "lostDatagrams",
                       "lostSamples", "outOfOrder", "resets", "malformed", "unknownRecords"]
        var rows: [[String]] = []
        func row(_ agent: String, _ sub: String, _ v: SubAgentStats) -> [String] {
            [agent, sub, "\(v.datagrams)", "\(v.flowSamples)", "\(v.counterSamples)", "\(v.lostDatagrams)",
             "\(v.lostSamples)", "\(v.outOfOrder)", "\(v.resets)", "\(v.malformed)", "\(v.unknownRecords)"]
        }
        for (k, v) in s.perSubAgent.sorted(by: { $0.key < $1.key }) { rows.append(row(k.agent.description, "\(k.subAgentId)", v)) }
        rows.append(row("total", "", s.totals))
        var widths = headers.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        func fmt(_ r: [String]) -> String {
            r.enumerated().map { i, c in
                i < 2 ? c + String(repeating: " ", count: widths[i] - c.count)
                      : String(repeating: " ", count: widths[i] - c.count) + c
            }.joined(separator: "  ")
        }
        var lines = [fmt(headers)] + rows.map(fmt)
        lines.append("not sFlow: \(s.notSFlow)")
        if let c = counts {
            lines.append("capture: \(c.frames) frames, \(c.udpDatagrams) UDP datagrams, \(c.reassembled) reassembled from fragments, \(c.malformedFrames) malformed frames, \(c.ignored) ignored")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

struct SFlowSend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Replay the sFlow datagrams of a capture to a collector at a chosen rate."
    )

    @Option(name: .long, help: "Capture holding sFlow datagrams.")
    var pcap: String

    @Option(name: .long, help: "Collector HOST:PORT (IPv6 as [ADDR]:PORT).")
    var to: String

    @Option(name: .long, help: "Datagrams per second (default: the capture's own timing).")
    var rate: Double?

    @Option(name: .long, help: "Send the capture this many times.")
    var loop: Int = 1

    @Option(name: .long, help: "UDP destination port of sFlow in the capture (0: any).")
    var port: Int = 6343

    func validate() throws {
        guard parseHostPort(to, defaultHost: "127.0.0.1", defaultPort: 6343) != nil else {
            throw ValidationError("--to '\(to)' is not HOST:PORT")
        }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        guard loop >= 1 else { throw ValidationError("--loop must be at least 1") }
    }

    func run() async throws {
        var datagrams: [[UInt8]] = []
        var times: [UInt64] = []
        do {
            let reader = try SFlowCaptureReader(file: pcap, port: UInt16(port))
            try reader.forEach { item in
                if case .datagram(let d, _, let t) = item {
                    datagrams.append(d.payload)
                    times.append(t)
                }
                return true
            }
        } catch {
            exitWith(CommandFailure(message: "\(error)"))
        }
        guard !datagrams.isEmpty else { exitWith(CommandFailure(message: "\(pcap): no sFlow datagrams (UDP port \(port)) in the capture")) }
        guard let (host, p) = parseHostPort(to, defaultHost: "127.0.0.1", defaultPort: 6343) else { return }
        let sender: UDPSender
        do { sender = try UDPSender(host: host, port: p) } catch { exitWith(CommandFailure(message: "\(error)")) }

        let start = monotonicNanos()
        var sentTotal = 0
        let renumber = SequenceRenumbering(datagrams)
        // Pace in slices of 1 ms: at 200,000/s that is 200 datagrams a slice.
        for pass in 0..<loop {
            // Each pass continues every sub-agent's sequence and uptime, so a collector sees one
            // long loss-free stream rather than restarts.
            if pass > 0 { renumber.advance(&datagrams) }
            if let rate {
                let perSlice = max(1, Int((rate / 1000).rounded(.up)))
                var i = 0
                while i < datagrams.count {
                    let end = min(i + perSlice, datagrams.count)
                    sender.send(datagrams[i..<end])
                    sentTotal += end - i
                    i = end
                    sleepUntil(start + UInt64(Double(sentTotal) / rate * 1e9))
                }
            } else {
                let t0 = times[0]
                let loopStart = monotonicNanos()
                for (k, d) in datagrams.enumerated() {
                    sleepUntil(loopStart + (times[k] >= t0 ? times[k] - t0 : 0))
                    sender.send([d][...])
                    sentTotal += 1
                }
            }
        }
        let secs = Double(monotonicNanos() - start) / 1e9
        FileHandleStderr.write("tusk: sent \(sender.sent) datagrams (\(sender.failed) failed) in \(String(format2(secs))) s, \(Int(Double(sender.sent) / max(secs, 1e-9))) per second\n")
        if sender.failed > 0 { throw ExitCode(1) }
    }
}

/// Moves the datagram sequence numbers and uptimes of a capture forward by one capture's span
/// per sub-agent (sFlow v5 datagram header: version, agent address, sub-agent, sequence, uptime).
struct SequenceRenumbering {
    struct Span { var seq: UInt32; var uptime: UInt32 }
    private var spans: [SubAgentKey: Span] = [:]

    init(_ datagrams: [[UInt8]]) {
        var lo: [SubAgentKey: (UInt32, UInt32, UInt32, UInt32)] = [:]
        for d in datagrams {
            guard let (key, seq, up, _) = Self.header(d) else { continue }
            let cur = lo[key] ?? (seq, seq, up, up)
            lo[key] = (min(cur.0, seq), max(cur.1, seq), min(cur.2, up), max(cur.3, up))
        }
        for (k, v) in lo { spans[k] = Span(seq: v.1 &- v.0 &+ 1, uptime: v.3 &- v.2 &+ 1000) }
    }

    static func header(_ d: [UInt8]) -> (SubAgentKey, UInt32, UInt32, Int)? {
        d.withUnsafeBytes { raw -> (SubAgentKey, UInt32, UInt32, Int)? in
            var r = WireReader(raw)
            guard let h = try? SFlowDecoder.readDatagramHeader(&r) else { return nil }
            let seqOffset = h.agent.isV4 ? 16 : 28
            return (SubAgentKey(agent: h.agent, subAgentId: h.subAgentId), h.sequence, h.uptime, seqOffset)
        }
    }

    func advance(_ datagrams: inout [[UInt8]]) {
        for i in datagrams.indices {
            guard let (key, seq, up, off) = Self.header(datagrams[i]), let span = spans[key] else { continue }
            var w = WireWriter(capacity: 8)
            w.write(seq &+ span.seq)
            w.write(up &+ span.uptime)
            datagrams[i].replaceSubrange(off..<(off + 8), with: w.bytes)
        }
    }
}

func format2(_ v: Double) -> String {
    let r = (v * 100).rounded() / 100
    return "\(r)"
}

struct SFlowGenerate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a seeded synthetic sFlow capture (pcap): flow samples of many flows and interface counters."
    )

    @Option(name: .long, help: "Capture file to write.")
    var out: String

    @Option(name: .long, help: "Datagrams to write.")
    var datagrams: Int = 10_000

    @Option(name: .long, help: "Exporting agents.")
    var agents: Int = 4

    @Option(name: .long, help: "Distinct flows.")
    var flows: Int = 10_000

    @Option(name: .long, help: "Flow samples per datagram.")
    var samplesPerDatagram: Int = 7

    @Option(name: .long, help: "Datagrams per second of capture time.")
    var rate: Double = 1000

    @Option(name: .long, help: "Random seed.")
    var seed: UInt64 = 1

    func validate() throws {
        guard datagrams > 0, agents > 0, agents < 255, flows > 0, samplesPerDatagram > 0, samplesPerDatagram < 200, rate > 0 else {
            throw ValidationError("counts must be positive (agents < 255, samples per datagram < 200)")
        }
    }

    func run() async throws {
        var cfg = SyntheticSFlow.Config()
        cfg.agents = agents
        cfg.flows = flows
        cfg.samplesPerDatagram = samplesPerDatagram
        cfg.seed = seed
        var gen = SyntheticSFlow(config: cfg)
        let writer: PcapWriter
        do { writer = try PcapWriter(path: out) } catch { exitWith(CommandFailure(message: "\(error)")) }
        let t0: UInt64 = 1_767_225_600_000_000_000 // 2026-01-01T00:00:00Z: fixed, so output is reproducible
        for i in 0..<datagrams {
            let agent = i % agents
            let tn = t0 + UInt64(Double(i) / rate * 1e9)
            let d = gen.nextDatagram(agent: agent, uptimeMs: UInt32(truncatingIfNeeded: (tn - t0) / 1_000_000 + 1000))
            let payload = SFlowEncoder.encode(d)
            let frame = FrameBuilder.udpOverIPv4(src: IPv4Address(192, 0, 2, UInt8(agent + 1)), dst: IPv4Address(192, 0, 2, 254),
                                                 srcPort: 50_000, dstPort: 6343, payload: payload, id: UInt16(truncatingIfNeeded: i))
            writer.write(frame, timeNanos: tn)
        }
        writer.close()
        FileHandleStderr.write("tusk: wrote \(datagrams) datagrams to \(out)\n")
    }
}
