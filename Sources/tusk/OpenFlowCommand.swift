import ArgumentParser
import Foundation
import NIOCore
import OpenFlow
import Packets

/// `tusk openflow`: decode OpenFlow 1.3 messages from files, print example encodings.
struct OpenFlowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openflow",
        abstract: "Decode and encode OpenFlow 1.3 messages.",
        subcommands: [Decode.self, Examples.self]
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case json, text }

    struct Decode: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decode raw binary OpenFlow messages (one or more per file); one JSON object a line.",
            discussion: """
            A message that frames but does not decode prints {"error": ...} with its xid and the decoder
            goes on with the next one; a framing error (length < 8, past the cap) or a partial message at
            the end of a file ends that file. Exit status 1 if anything failed.
            """
        )
        @Argument(help: "Files of raw OpenFlow bytes.") var files: [String] = []
        @Option(help: "Messages as hex text instead of files (whitespace ignored); repeatable.") var hex: [String] = []
        @Option(help: "Output format.") var format: Format = .json
        @Flag(help: "Also re-encode each decoded message and print its hex and whether it equals the input.")
        var reencode = false

        func validate() throws {
            if files.isEmpty && hex.isEmpty { throw ValidationError("give at least one FILE or --hex") }
        }

        func run() async throws {
            var failed = false
            var inputs: [(String, [UInt8])] = []
            for f in files {
                guard let d = FileManager.default.contents(atPath: f) else { throw ValidationError("cannot read \(f)") }
                inputs.append((f, [UInt8](d)))
            }
            for (i, h) in hex.enumerated() {
                guard let bytes = parseHex(h) else { throw ValidationError("--hex #\(i + 1) is not hex") }
                inputs.append(("hex#\(i + 1)", bytes))
            }
            for (name, bytes) in inputs {
                if bytes.isEmpty {
                    emit(errorJSON(name, OpenFlowError(.truncated, "no message: 0 bytes, an ofp_header needs 8")))
                    failed = true
                    continue
                }
                var buffer = ByteBuffer(bytes: bytes)
                var frames = OpenFlowFrameDecoder()
                while buffer.readableBytes > 0 {
                    let before = buffer
                    let frame: OpenFlowFrame
                    do {
                        guard let f = try frames.nextFrame(from: &buffer) else {
                            emit(errorJSON(name, OpenFlowError(.truncated, "partial message: \(buffer.readableBytes) bytes at the end")))
                            failed = true
                            break
                        }
                        frame = f
                    } catch {
                        emit(errorJSON(name, error))
                        failed = true
                        break
                    }
                    let input = before.getBytes(at: before.readerIndex, length: Int(frame.header.length)) ?? []
                    do {
                        let env = try OpenFlowEnvelope(frame: frame)
                        var obj: [(String, JSON)] = [("file", .str(name))]
                        obj += envelopeJSON(env, length: Int(frame.header.length))
                        if reencode {
                            var out = ByteBuffer()
                            do {
                                try out.writeOpenFlowEnvelope(env)
                                let re = out.readableBytesView.map { $0 }
                                obj.append(("reencoded", .str(hexString(re))))
                                obj.append(("roundtrip", .bool(re == input)))
                                if re != input { failed = true }
                            } catch {
                                obj.append(("reencode_error", .str(error.description)))
                                failed = true
                            }
                        }
                        if format == .json {
                            emit(.obj(obj))
                        } else {
                            print("\(name): \(env.message.type) version=\(env.version) xid=\(env.xid) length=\(frame.header.length)")
                            var text = ""
                            messageJSON(env.message).renderText(into: &text, indent: "  ")
                            if reencode, let rt = obj.first(where: { $0.0 == "roundtrip" }) {
                                text += "  roundtrip: \(rt.1.rendered)\n"
                            }
                            print(text, terminator: "")
                        }
                    } catch {
                        emit(errorJSON(name, error))
                        failed = true
                    }
                }
            }
            if failed { throw ExitCode(1) }
        }

        func emit(_ j: JSON) {
            print(j.rendered)
        }

        func errorJSON(_ file: String, _ e: OpenFlowError) -> JSON {
            var o: [(String, JSON)] = [("code", .str(e.code.description)), ("context", .str(e.context))]
            if let x = e.xid { o.append(("xid", .num(UInt64(x)))) }
            if let t = e.messageType { o.append(("type", .str(t.description))) }
            o.append(("reply", .str(e.suggestedReply.description)))
            return .obj([("file", .str(file)), ("error", .obj(o))])
        }
    }

    struct Examples: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print Tusk's encoding of a representative set of messages: NAME HEX per line.",
            discussion: "Used by Tests/e2e/test-openflow-ofp-print.sh to check the bytes with `ovs-ofctl ofp-print`."
        )
        @Argument(help: "Only these examples (default: all).") var names: [String] = []
        func run() async throws {
            for (name, env) in OpenFlowExamples.all where names.isEmpty || names.contains(name) {
                var b = ByteBuffer()
                try b.writeOpenFlowEnvelope(env)
                print("\(name) \(hexString(b.readableBytesView.map { $0 }))")
            }
        }
    }
}

// MARK: - Example messages

enum OpenFlowExamples {
    static func mac(_ s: String) -> MACAddress { MACAddress(s) ?? MACAddress(0) }
    static func v4(_ s: String) -> IPv4Address { IPv4Address(s) ?? IPv4Address(0) }
    static func v6(_ s: String) -> IPv6Address { IPv6Address(s) ?? IPv6Address(high: 0, low: 0) }

    static var all: [(String, OpenFlowEnvelope)] {
        let elephant = FlowMod(
            command: .add, cookie: 0x7475_736B_0000_0001, tableID: 0, idleTimeout: 30, hardTimeout: 300,
            priority: 40000, flags: [.sendFlowRemoved],
            match: [.inPort(3), .ethType(0x0800), .ipv4Src(v4("10.0.1.2")),
                    .ipv4Dst(v4("10.2.0.0"), mask: v4("255.255.0.0")), .ipProto(6), .tcpSrc(40000), .tcpDst(5201)],
            instructions: [.applyActions([.output(port: 7, maxLength: 0)])])
        let manyFields = FlowMod(
            command: .modifyStrict, cookie: 0x10, cookieMask: 0xFF, tableID: 1, priority: 100,
            match: [.inPort(1), .ethDst(mac("02:00:00:00:00:01")), .ethSrc(mac("02:00:00:00:00:00"), mask: mac("ff:ff:ff:00:00:00")),
                    .ethType(0x0800), .vlanVID(0x1000 | 10), .vlanPCP(3), .ipDSCP(46), .ipProto(17),
                    .ipv4Src(v4("192.168.1.0"), mask: v4("255.255.255.0")), .ipv4Dst(v4("10.0.0.9")),
                    .udpSrc(53), .udpDst(5353)],
            instructions: [.meter(1), .applyActions([.pushVLAN(), .setField(.vlanVID(0x1000 | 20)), .setQueue(2),
                                                       .decNwTTL, .output(port: 2, maxLength: 0)]),
                           .writeMetadata(0xAB, mask: 0xFF), .gotoTable(2)])
        let v6Flow = FlowMod(
            command: .add, tableID: 0, priority: 200,
            match: [.ethType(0x86DD), .ipv6Src(v6("2001:db8::1")), .ipv6Dst(v6("2001:db8::"), mask: v6("ffff:ffff::")),
                    .ipProto(58), .icmpv6Type(128), .icmpv6Code(0)],
            instructions: [.writeActions([.group(5)]), .clearActions])
        let arpFlow = FlowMod(
            command: .add, priority: 300,
            match: [.ethType(0x0806), .arpOp(1), .arpSPA(v4("10.0.0.1")), .arpTPA(v4("10.0.0.2")),
                    .arpSHA(mac("02:00:00:00:00:01")), .arpTHA(mac("00:00:00:00:00:00"))],
            instructions: [.applyActions([.output(port: .controller, maxLength: 128)])])
        let sctpIcmp = FlowMod(
            command: .add, priority: 5,
            match: [.ethType(0x0800), .ipProto(132), .sctpSrc(1000), .sctpDst(2000)],
            instructions: [.applyActions([.output(port: .normal, maxLength: 0)])])
        let icmp4 = FlowMod(
            command: .add, priority: 6,
            match: [.ethType(0x0800), .ipProto(1), .icmpv4Type(8), .icmpv4Code(0)],
            instructions: [.applyActions([.setNwTTL(9), .output(port: 1, maxLength: 0)])])
        let deleteStrict = FlowMod(command: .deleteStrict, tableID: 0, priority: 40000, outPort: 7,
                                   match: [.inPort(3), .ethType(0x0800)])
        let deleteAll = FlowMod(command: .delete, tableID: 0xFF)
        let select = GroupMod(command: .add, type: .select, groupID: 1, buckets: [
            Bucket(weight: 50, actions: [.output(port: 1, maxLength: 0)]),
            Bucket(weight: 30, actions: [.output(port: 2, maxLength: 0)]),
            Bucket(weight: 20, actions: [.setField(.ethDst(mac("02:00:00:00:00:03"))), .output(port: 3, maxLength: 0)]),
        ])
        let ff = GroupMod(command: .add, type: .fastFailover, groupID: 2, buckets: [
            Bucket(watchPort: 1, actions: [.output(port: 1, maxLength: 0)]),
            Bucket(watchPort: 2, actions: [.output(port: 2, maxLength: 0)]),
        ])
        let all = GroupMod(command: .modify, type: .all, groupID: 3, buckets: [
            Bucket(actions: [.output(port: 1, maxLength: 0)]), Bucket(actions: [.output(port: 4, maxLength: 0)]),
        ])
        let indirect = GroupMod(command: .add, type: .indirect, groupID: 4, buckets: [
            Bucket(actions: [.group(1)]),
        ])
        let meter = MeterMod(command: .add, flags: [.kbps, .burst, .stats], meterID: 1, bands: [
            .drop(rate: 10000, burstSize: 1000), .dscpRemark(rate: 5000, burstSize: 500, precLevel: 1),
        ])
        let packetOut = PacketOut(bufferID: openFlowNoBuffer, inPort: .controller, actions: [.output(port: 1, maxLength: 0)],
                                  data: ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 2, 0, 0, 0, 0, 1, 0x88, 0xB5] + [UInt8](repeating: 0, count: 46)))
        func mp(_ b: MultipartRequestBody) -> OpenFlowMessage { .multipartRequest(MultipartRequest(body: b)) }
        let list: [(String, OpenFlowMessage)] = [
            ("hello", .hello(Hello(versions: [4]))),
            ("error", .error(ErrorMessage(kind: .badMatchBadPrereq, data: ByteBuffer(bytes: [4, 20, 0, 8, 0, 0, 0, 1])))),
            ("echo_request", .echoRequest(ByteBuffer(bytes: [1, 2, 3, 4]))),
            ("features_request", .featuresRequest),
            ("set_config", .setConfig(SwitchConfig(flags: .fragNormal, missSendLength: 0xFFFF))),
            ("flow_mod_elephant", .flowMod(elephant)),
            ("flow_mod_many_fields", .flowMod(manyFields)),
            ("flow_mod_ipv6", .flowMod(v6Flow)),
            ("flow_mod_arp", .flowMod(arpFlow)),
            ("flow_mod_sctp", .flowMod(sctpIcmp)),
            ("flow_mod_icmp", .flowMod(icmp4)),
            ("flow_mod_delete_strict", .flowMod(deleteStrict)),
            ("flow_mod_delete_all", .flowMod(deleteAll)),
            ("group_mod_select", .groupMod(select)),
            ("group_mod_ff", .groupMod(ff)),
            ("group_mod_all", .groupMod(all)),
            ("group_mod_indirect", .groupMod(indirect)),
            ("meter_mod", .meterMod(meter)),
            ("packet_out", .packetOut(packetOut)),
            ("mp_desc", mp(.desc)),
            ("mp_flow", mp(.flow(FlowStatsRequest(tableID: 0xFF, match: [.ethType(0x0800)])))),
            ("mp_aggregate", mp(.aggregate(FlowStatsRequest(tableID: 0xFF, outPort: 7)))),
            ("mp_table", mp(.table)),
            ("mp_port_stats", mp(.portStats(.any))),
            ("mp_port_desc", mp(.portDesc)),
            ("mp_group", mp(.group(.all))),
            ("mp_group_desc", mp(.groupDesc)),
            ("mp_group_features", mp(.groupFeatures)),
            ("mp_meter", mp(.meter(.all))),
            ("barrier_request", .barrierRequest),
            ("role_request", .roleRequest(RoleMessage(role: .master, generationID: 7))),
            ("get_async_request", .getAsyncRequest),
            ("set_async", .setAsync(AsyncConfig(packetInMask: AsyncMask(masterOrEqual: 3, slave: 0),
                                                portStatusMask: AsyncMask(masterOrEqual: 7, slave: 7),
                                                flowRemovedMask: AsyncMask(masterOrEqual: 15, slave: 0)))),
        ]
        return list.enumerated().map { (i, e) in (e.0, OpenFlowEnvelope(xid: UInt32(i + 1), message: e.1)) }
    }
}

// MARK: - JSON

/// A small JSON value that keeps key order (so output is stable and diffable).
indirect enum JSON {
    case obj([(String, JSON)])
    case arr([JSON])
    case str(String)
    case num(UInt64)
    case bool(Bool)
    case null

    /// An indented, YAML-like view for `--format text`: one `key: value` a line, nested
    /// objects and lists indented, small flat objects kept on one line.
    func renderText(into s: inout String, indent: String) {
        switch self {
        case .obj(let kv):
            for (k, v) in kv {
                if v.isFlat {
                    s += "\(indent)\(k): \(v.inline)\n"
                } else {
                    s += "\(indent)\(k):\n"
                    v.renderText(into: &s, indent: indent + "  ")
                }
            }
        case .arr(let a):
            for v in a {
                if v.isFlat {
                    s += "\(indent)- \(v.inline)\n"
                } else {
                    s += "\(indent)-\n"
                    v.renderText(into: &s, indent: indent + "  ")
                }
            }
        default:
            s += "\(indent)\(inline)\n"
        }
    }

    /// Scalars, and objects/lists of scalars short enough for one line.
    var isFlat: Bool {
        switch self {
        case .obj(let kv): kv.allSatisfy { $0.1.isScalar } && inline.count <= 100
        case .arr(let a): a.allSatisfy(\.isScalar) && inline.count <= 100
        default: true
        }
    }

    var isScalar: Bool {
        switch self {
        case .obj, .arr: false
        default: true
        }
    }

    var inline: String {
        switch self {
        case .obj(let kv): "{" + kv.map { "\($0.0)=\($0.1.inline)" }.joined(separator: " ") + "}"
        case .arr(let a): "[" + a.map(\.inline).joined(separator: ", ") + "]"
        case .str(let t): t.isEmpty ? "\"\"" : t
        case .num(let n): String(n)
        case .bool(let b): b ? "true" : "false"
        case .null: "-"
        }
    }

    var rendered: String {
        var s = ""
        render(into: &s)
        return s
    }

    func render(into s: inout String) {
        switch self {
        case .obj(let kv):
            s += "{"
            for (i, (k, v)) in kv.enumerated() {
                if i > 0 { s += "," }
                JSON.str(k).render(into: &s)
                s += ":"
                v.render(into: &s)
            }
            s += "}"
        case .arr(let a):
            s += "["
            for (i, v) in a.enumerated() {
                if i > 0 { s += "," }
                v.render(into: &s)
            }
            s += "]"
        case .str(let t):
            s += "\""
            for u in t.unicodeScalars {
                switch u {
                case "\"": s += "\\\""
                case "\\": s += "\\\\"
                case "\n": s += "\\n"
                case "\r": s += "\\r"
                case "\t": s += "\\t"
                default:
                    if u.value < 0x20 {
                        let h = String(u.value, radix: 16)
                        s += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                    } else {
                        s.unicodeScalars.append(u)
                    }
                }
            }
            s += "\""
        case .num(let n): s += String(n)
        case .bool(let b): s += b ? "true" : "false"
        case .null: s += "null"
        }
    }
}

func hexString(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef")
    var s = ""
    for b in bytes {
        s.append(digits[Int(b >> 4)])
        s.append(digits[Int(b & 0xF)])
    }
    return s
}

func parseHex(_ text: String) -> [UInt8]? {
    let chars = text.filter { !$0.isWhitespace }
    guard chars.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    var i = chars.startIndex
    while i < chars.endIndex {
        let j = chars.index(i, offsetBy: 2)
        guard let b = UInt8(chars[i..<j], radix: 16) else { return nil }
        out.append(b)
        i = j
    }
    return out
}

private func n<T: BinaryInteger>(_ v: T) -> JSON { .num(UInt64(v)) }
private func hx(_ b: ByteBuffer) -> JSON { .str(hexString(b.readableBytesView)) }

func envelopeJSON(_ env: OpenFlowEnvelope, length: Int) -> [(String, JSON)] {
    [("version", n(env.version)), ("type", .str(env.message.type.description)), ("type_code", n(env.message.type.rawValue)),
     ("xid", n(env.xid)), ("length", n(length)), ("msg", messageJSON(env.message))]
}

func messageJSON(_ m: OpenFlowMessage) -> JSON {
    switch m {
    case .hello(let h):
        return .obj([("elements", .arr(h.elements.map { e in
            switch e {
            case .versionBitmap(let words):
                var versions: [JSON] = []
                for (i, w) in words.enumerated() {
                    for bit in 0..<32 where w & (1 << UInt32(bit)) != 0 { versions.append(n(i * 32 + bit)) }
                }
                return .obj([("type", n(1)), ("bitmaps", .arr(words.map(n))), ("versions", .arr(versions))])
            case .unknown(let t, let b): return .obj([("type", n(t)), ("body", hx(b))])
            }
        }))])
    case .error(let e):
        var o: [(String, JSON)] = [("type", n(e.type.rawValue)), ("code", n(e.code))]
        if let x = e.experimenter { o.append(("experimenter", n(x))) } else { o.append(("name", .str(e.kind.description))) }
        o.append(("data", hx(e.data)))
        return .obj(o)
    case .echoRequest(let d), .echoReply(let d): return .obj([("data", hx(d))])
    case .experimenter(let x):
        return .obj([("experimenter", n(x.experimenter)), ("exp_type", n(x.expType)), ("data", hx(x.data))])
    case .featuresRequest, .getConfigRequest, .barrierRequest, .barrierReply, .getAsyncRequest: return .obj([])
    case .featuresReply(let f):
        return .obj([("datapath_id", n(f.datapathID)), ("n_buffers", n(f.nBuffers)), ("n_tables", n(f.nTables)),
                     ("auxiliary_id", n(f.auxiliaryID)), ("capabilities", n(f.capabilities)), ("reserved", n(f.reserved))])
    case .getConfigReply(let c), .setConfig(let c):
        return .obj([("flags", n(c.flags.rawValue)), ("miss_send_len", n(c.missSendLength))])
    case .packetIn(let p):
        return .obj([("buffer_id", n(p.bufferID)), ("total_len", n(p.totalLength)), ("reason", n(p.reason.rawValue)),
                     ("table_id", n(p.tableID)), ("cookie", n(p.cookie)), ("match", matchJSON(p.match)), ("data", hx(p.data))])
    case .flowRemoved(let f):
        return .obj([("cookie", n(f.cookie)), ("priority", n(f.priority)), ("reason", n(f.reason.rawValue)),
                     ("table_id", n(f.tableID)), ("duration_sec", n(f.durationSec)), ("duration_nsec", n(f.durationNsec)),
                     ("idle_timeout", n(f.idleTimeout)), ("hard_timeout", n(f.hardTimeout)),
                     ("packet_count", n(f.packetCount)), ("byte_count", n(f.byteCount)), ("match", matchJSON(f.match))])
    case .portStatus(let s): return .obj([("reason", n(s.reason.rawValue)), ("desc", portJSON(s.port))])
    case .packetOut(let p):
        return .obj([("buffer_id", n(p.bufferID)), ("in_port", n(p.inPort.rawValue)),
                     ("actions", .arr(p.actions.map(actionJSON))), ("data", hx(p.data))])
    case .flowMod(let f):
        return .obj([("cookie", n(f.cookie)), ("cookie_mask", n(f.cookieMask)), ("table_id", n(f.tableID)),
                     ("command", n(f.command.rawValue)), ("idle_timeout", n(f.idleTimeout)),
                     ("hard_timeout", n(f.hardTimeout)), ("priority", n(f.priority)), ("buffer_id", n(f.bufferID)),
                     ("out_port", n(f.outPort.rawValue)), ("out_group", n(f.outGroup.rawValue)),
                     ("flags", n(f.flags.rawValue)), ("match", matchJSON(f.match)),
                     ("instructions", .arr(f.instructions.map(instructionJSON)))])
    case .groupMod(let g):
        return .obj([("command", n(g.command.rawValue)), ("type", n(g.type.rawValue)), ("group_id", n(g.groupID.rawValue)),
                     ("buckets", .arr(g.buckets.map(bucketJSON)))])
    case .portMod(let p):
        return .obj([("port_no", n(p.portNumber.rawValue)), ("hw_addr", .str(p.hardwareAddress.description)),
                     ("config", n(p.config)), ("mask", n(p.mask)), ("advertise", n(p.advertise))])
    case .tableMod(let t): return .obj([("table_id", n(t.tableID)), ("config", n(t.config))])
    case .multipartRequest(let r):
        return .obj([("mp_type", n(r.body.type.rawValue)), ("mp_name", .str(r.body.type.description)),
                     ("flags", n(r.flags.rawValue)), ("body", mpRequestJSON(r.body))])
    case .multipartReply(let r):
        return .obj([("mp_type", n(r.body.type.rawValue)), ("mp_name", .str(r.body.type.description)),
                     ("flags", n(r.flags.rawValue)), ("body", mpReplyJSON(r.body))])
    case .queueGetConfigRequest(let p): return .obj([("port", n(p.rawValue))])
    case .queueGetConfigReply(let r): return .obj([("port", n(r.port.rawValue)), ("queues_raw", hx(r.queues))])
    case .roleRequest(let r), .roleReply(let r):
        return .obj([("role", n(r.role.rawValue)), ("generation_id", n(r.generationID))])
    case .getAsyncReply(let a), .setAsync(let a):
        func pair(_ m: AsyncMask) -> JSON { .arr([n(m.masterOrEqual), n(m.slave)]) }
        return .obj([("packet_in_mask", pair(a.packetInMask)), ("port_status_mask", pair(a.portStatusMask)),
                     ("flow_removed_mask", pair(a.flowRemovedMask))])
    case .meterMod(let m):
        return .obj([("command", n(m.command.rawValue)), ("flags", n(m.flags.rawValue)), ("meter_id", n(m.meterID.rawValue)),
                     ("bands", .arr(m.bands.map(bandJSON)))])
    case .unknown(_, let b): return .obj([("body_raw", hx(b))])
    }
}

func portJSON(_ p: SwitchPort) -> JSON {
    .obj([("port_no", n(p.portNumber.rawValue)), ("hw_addr", .str(p.hardwareAddress.description)),
          ("name", .str(p.name.string)), ("config", n(p.config)), ("state", n(p.state)), ("curr", n(p.current)),
          ("advertised", n(p.advertised)), ("supported", n(p.supported)), ("peer", n(p.peer)),
          ("curr_speed", n(p.currentSpeed)), ("max_speed", n(p.maxSpeed))])
}

func bucketJSON(_ b: Bucket) -> JSON {
    .obj([("weight", n(b.weight)), ("watch_port", n(b.watchPort.rawValue)), ("watch_group", n(b.watchGroup.rawValue)),
          ("actions", .arr(b.actions.map(actionJSON)))])
}

func bandJSON(_ b: MeterBand) -> JSON {
    switch b {
    case .drop(let r, let bs): return .obj([("band", .str("drop")), ("type", n(1)), ("rate", n(r)), ("burst_size", n(bs))])
    case .dscpRemark(let r, let bs, let p):
        return .obj([("band", .str("dscp_remark")), ("type", n(2)), ("rate", n(r)), ("burst_size", n(bs)), ("prec_level", n(p))])
    case .experimenter(let r, let bs, let e, let d):
        return .obj([("band", .str("experimenter")), ("type", n(0xFFFF)), ("rate", n(r)), ("burst_size", n(bs)),
                     ("experimenter", n(e)), ("data", hx(d))])
    case .unknown(let t, let body): return .obj([("band", .str("unknown")), ("type", n(t.rawValue)), ("body", hx(body))])
    }
}

func matchJSON(_ m: OpenFlowMatch) -> JSON {
    .obj([("length", n(m.length)), ("oxm_fields", .arr(m.fields.map(oxmJSON)))])
}

func oxmJSON(_ f: OXMField) -> JSON {
    func o(_ name: String, _ v: JSON, _ m: JSON?) -> JSON { .obj([("field", .str(name)), ("value", v), ("mask", m ?? .null)]) }
    func i<T: BinaryInteger>(_ name: String, _ v: T, _ m: T?) -> JSON { o(name, n(v), m.map(n)) }
    func s<T: CustomStringConvertible>(_ name: String, _ v: T, _ m: T?) -> JSON { o(name, .str(v.description), m.map { .str($0.description) }) }
    switch f {
    case .inPort(let v, let m): return i("in_port", v.rawValue, m)
    case .inPhyPort(let v, let m): return i("in_phy_port", v.rawValue, m)
    case .metadata(let v, let m): return i("metadata", v, m)
    case .ethDst(let v, let m): return s("eth_dst", v, m)
    case .ethSrc(let v, let m): return s("eth_src", v, m)
    case .ethType(let v, let m): return i("eth_type", v, m)
    case .vlanVID(let v, let m): return i("vlan_vid", v, m)
    case .vlanPCP(let v, let m): return i("vlan_pcp", v, m)
    case .ipDSCP(let v, let m): return i("ip_dscp", v, m)
    case .ipECN(let v, let m): return i("ip_ecn", v, m)
    case .ipProto(let v, let m): return i("ip_proto", v, m)
    case .ipv4Src(let v, let m): return s("ipv4_src", v, m)
    case .ipv4Dst(let v, let m): return s("ipv4_dst", v, m)
    case .tcpSrc(let v, let m): return i("tcp_src", v, m)
    case .tcpDst(let v, let m): return i("tcp_dst", v, m)
    case .udpSrc(let v, let m): return i("udp_src", v, m)
    case .udpDst(let v, let m): return i("udp_dst", v, m)
    case .sctpSrc(let v, let m): return i("sctp_src", v, m)
    case .sctpDst(let v, let m): return i("sctp_dst", v, m)
    case .icmpv4Type(let v, let m): return i("icmpv4_type", v, m)
    case .icmpv4Code(let v, let m): return i("icmpv4_code", v, m)
    case .arpOp(let v, let m): return i("arp_op", v, m)
    case .arpSPA(let v, let m): return s("arp_spa", v, m)
    case .arpTPA(let v, let m): return s("arp_tpa", v, m)
    case .arpSHA(let v, let m): return s("arp_sha", v, m)
    case .arpTHA(let v, let m): return s("arp_tha", v, m)
    case .ipv6Src(let v, let m): return s("ipv6_src", v, m)
    case .ipv6Dst(let v, let m): return s("ipv6_dst", v, m)
    case .ipv6FLabel(let v, let m): return i("ipv6_flabel", v, m)
    case .icmpv6Type(let v, let m): return i("icmpv6_type", v, m)
    case .icmpv6Code(let v, let m): return i("icmpv6_code", v, m)
    case .ipv6NDTarget(let v, let m): return s("ipv6_nd_target", v, m)
    case .ipv6NDSLL(let v, let m): return s("ipv6_nd_sll", v, m)
    case .ipv6NDTLL(let v, let m): return s("ipv6_nd_tll", v, m)
    case .mplsLabel(let v, let m): return i("mpls_label", v, m)
    case .mplsTC(let v, let m): return i("mpls_tc", v, m)
    case .mplsBOS(let v, let m): return i("mpls_bos", v, m)
    case .pbbISID(let v, let m): return i("pbb_isid", v, m)
    case .tunnelID(let v, let m): return i("tunnel_id", v, m)
    case .ipv6ExtHdr(let v, let m): return i("ipv6_exthdr", v, m)
    case .raw(let r):
        var o: [(String, JSON)] = [("field", .str("raw")), ("oxm_class", n(r.oxmClass.rawValue)), ("oxm_field", n(r.field)),
                                   ("hasmask", .bool(r.hasMask)), ("payload", hx(r.payload))]
        if let e = r.experimenter { o.append(("experimenter", n(e))) }
        return .obj(o)
    }
}

func actionJSON(_ a: OpenFlowAction) -> JSON {
    func named(_ name: String, _ type: ActionType, _ extra: [(String, JSON)] = []) -> JSON {
        .obj([("action", .str(name)), ("type", n(type.rawValue)), ("len", n(a.encodedLength))] + extra)
    }
    switch a {
    case .output(let p, let m): return named("output", .output, [("port", n(p.rawValue)), ("max_len", n(m))])
    case .copyTTLOut: return named("copy_ttl_out", .copyTTLOut)
    case .copyTTLIn: return named("copy_ttl_in", .copyTTLIn)
    case .setMPLSTTL(let t): return named("set_mpls_ttl", .setMPLSTTL, [("mpls_ttl", n(t))])
    case .decMPLSTTL: return named("dec_mpls_ttl", .decMPLSTTL)
    case .pushVLAN(let e): return named("push_vlan", .pushVLAN, [("ethertype", n(e))])
    case .popVLAN: return named("pop_vlan", .popVLAN)
    case .pushMPLS(let e): return named("push_mpls", .pushMPLS, [("ethertype", n(e))])
    case .popMPLS(let e): return named("pop_mpls", .popMPLS, [("ethertype", n(e))])
    case .setQueue(let q): return named("set_queue", .setQueue, [("queue_id", n(q))])
    case .group(let g): return named("group", .group, [("group_id", n(g.rawValue))])
    case .setNwTTL(let t): return named("set_nw_ttl", .setNwTTL, [("nw_ttl", n(t))])
    case .decNwTTL: return named("dec_nw_ttl", .decNwTTL)
    case .setField(let f): return named("set_field", .setField, [("field", oxmJSON(f))])
    case .pushPBB(let e): return named("push_pbb", .pushPBB, [("ethertype", n(e))])
    case .popPBB: return named("pop_pbb", .popPBB)
    case .experimenter(let id, let d): return named("experimenter", .experimenter, [("experimenter", n(id)), ("data", hx(d))])
    case .unknown(let t, let b): return named("unknown", t, [("body", hx(b))])
    }
}

func instructionJSON(_ i: OpenFlowInstruction) -> JSON {
    switch i {
    case .gotoTable(let t): return .obj([("instruction", .str("goto_table")), ("type", n(1)), ("table_id", n(t))])
    case .writeMetadata(let v, let m):
        return .obj([("instruction", .str("write_metadata")), ("type", n(2)), ("metadata", n(v)), ("metadata_mask", n(m))])
    case .writeActions(let a): return .obj([("instruction", .str("write_actions")), ("type", n(3)), ("actions", .arr(a.map(actionJSON)))])
    case .applyActions(let a): return .obj([("instruction", .str("apply_actions")), ("type", n(4)), ("actions", .arr(a.map(actionJSON)))])
    case .clearActions: return .obj([("instruction", .str("clear_actions")), ("type", n(5))])
    case .meter(let m): return .obj([("instruction", .str("meter")), ("type", n(6)), ("meter_id", n(m.rawValue))])
    case .experimenter(let id, let d):
        return .obj([("instruction", .str("experimenter")), ("type", n(0xFFFF)), ("experimenter", n(id)), ("data", hx(d))])
    case .unknown(let t, let b): return .obj([("instruction", .str("unknown")), ("type", n(t.rawValue)), ("body", hx(b))])
    }
}

func flowStatsRequestJSON(_ f: FlowStatsRequest) -> JSON {
    .obj([("table_id", n(f.tableID)), ("out_port", n(f.outPort.rawValue)), ("out_group", n(f.outGroup.rawValue)),
          ("cookie", n(f.cookie)), ("cookie_mask", n(f.cookieMask)), ("match", matchJSON(f.match))])
}

func mpRequestJSON(_ b: MultipartRequestBody) -> JSON {
    switch b {
    case .desc, .table, .groupDesc, .groupFeatures, .meterFeatures, .portDesc: return .obj([])
    case .flow(let f), .aggregate(let f): return flowStatsRequestJSON(f)
    case .portStats(let p): return .obj([("port_no", n(p.rawValue))])
    case .queue(let p, let q): return .obj([("port_no", n(p.rawValue)), ("queue_id", n(q))])
    case .group(let g): return .obj([("group_id", n(g.rawValue))])
    case .meter(let m), .meterConfig(let m): return .obj([("meter_id", n(m.rawValue))])
    case .experimenter(let e, let t, let d): return .obj([("experimenter", n(e)), ("exp_type", n(t)), ("data", hx(d))])
    case .other(_, let body): return .obj([("body_raw", hx(body))])
    }
}

func mpReplyJSON(_ b: MultipartReplyBody) -> JSON {
    switch b {
    case .desc(let d):
        return .obj([("mfr_desc", .str(d.manufacturer.string)), ("hw_desc", .str(d.hardware.string)),
                     ("sw_desc", .str(d.software.string)), ("serial_num", .str(d.serialNumber.string)),
                     ("dp_desc", .str(d.datapath.string))])
    case .flow(let stats):
        return .arr(stats.map { s in
            .obj([("table_id", n(s.tableID)), ("duration_sec", n(s.durationSec)), ("duration_nsec", n(s.durationNsec)),
                  ("priority", n(s.priority)), ("idle_timeout", n(s.idleTimeout)), ("hard_timeout", n(s.hardTimeout)),
                  ("flags", n(s.flags.rawValue)), ("cookie", n(s.cookie)), ("packet_count", n(s.packetCount)),
                  ("byte_count", n(s.byteCount)), ("match", matchJSON(s.match)),
                  ("instructions", .arr(s.instructions.map(instructionJSON)))])
        })
    case .aggregate(let a):
        return .obj([("packet_count", n(a.packetCount)), ("byte_count", n(a.byteCount)), ("flow_count", n(a.flowCount))])
    case .table(let stats):
        return .arr(stats.map { s in
            .obj([("table_id", n(s.tableID)), ("active_count", n(s.activeCount)), ("lookup_count", n(s.lookupCount)),
                  ("matched_count", n(s.matchedCount))])
        })
    case .portStats(let stats):
        return .arr(stats.map { s in
            .obj([("port_no", n(s.portNumber.rawValue)), ("rx_packets", n(s.rxPackets)), ("tx_packets", n(s.txPackets)),
                  ("rx_bytes", n(s.rxBytes)), ("tx_bytes", n(s.txBytes)), ("rx_dropped", n(s.rxDropped)),
                  ("tx_dropped", n(s.txDropped)), ("rx_errors", n(s.rxErrors)), ("tx_errors", n(s.txErrors)),
                  ("rx_frame_err", n(s.rxFrameErrors)), ("rx_over_err", n(s.rxOverErrors)), ("rx_crc_err", n(s.rxCRCErrors)),
                  ("collisions", n(s.collisions)), ("duration_sec", n(s.durationSec)), ("duration_nsec", n(s.durationNsec))])
        })
    case .queue(let stats):
        return .arr(stats.map { s in
            .obj([("port_no", n(s.portNumber.rawValue)), ("queue_id", n(s.queueID)), ("tx_bytes", n(s.txBytes)),
                  ("tx_packets", n(s.txPackets)), ("tx_errors", n(s.txErrors)), ("duration_sec", n(s.durationSec)),
                  ("duration_nsec", n(s.durationNsec))])
        })
    case .group(let stats):
        return .arr(stats.map { s in
            .obj([("group_id", n(s.groupID.rawValue)), ("ref_count", n(s.refCount)), ("packet_count", n(s.packetCount)),
                  ("byte_count", n(s.byteCount)), ("duration_sec", n(s.durationSec)), ("duration_nsec", n(s.durationNsec)),
                  ("bucket_stats", .arr(s.bucketStats.map { .obj([("packet_count", n($0.packetCount)), ("byte_count", n($0.byteCount))]) }))])
        })
    case .groupDesc(let descs):
        return .arr(descs.map { d in
            .obj([("type", n(d.type.rawValue)), ("group_id", n(d.groupID.rawValue)), ("buckets", .arr(d.buckets.map(bucketJSON)))])
        })
    case .groupFeatures(let f):
        return .obj([("types", n(f.types)), ("capabilities", n(f.capabilities)), ("max_groups", .arr(f.maxGroups.map(n))),
                     ("actions", .arr(f.actions.map(n)))])
    case .meter(let stats):
        return .arr(stats.map { s in
            .obj([("meter_id", n(s.meterID.rawValue)), ("flow_count", n(s.flowCount)), ("packet_in_count", n(s.packetInCount)),
                  ("byte_in_count", n(s.byteInCount)), ("duration_sec", n(s.durationSec)), ("duration_nsec", n(s.durationNsec)),
                  ("band_stats", .arr(s.bandStats.map { .obj([("packet_band_count", n($0.packetBandCount)), ("byte_band_count", n($0.byteBandCount))]) }))])
        })
    case .meterConfig(let configs):
        return .arr(configs.map { c in
            .obj([("flags", n(c.flags.rawValue)), ("meter_id", n(c.meterID.rawValue)), ("bands", .arr(c.bands.map(bandJSON)))])
        })
    case .meterFeatures(let f):
        return .obj([("max_meter", n(f.maxMeter)), ("band_types", n(f.bandTypes)), ("capabilities", n(f.capabilities)),
                     ("max_bands", n(f.maxBands)), ("max_color", n(f.maxColor))])
    case .portDesc(let ports): return .arr(ports.map(portJSON))
    case .experimenter(let e, let t, let d): return .obj([("experimenter", n(e)), ("exp_type", n(t)), ("data", hx(d))])
    case .other(_, let body): return .obj([("body_raw", hx(body))])
    }
}
