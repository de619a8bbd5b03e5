// Reading message bodies. The caller (the frame decoder) has already cut the message to the
// length its header declared, so every reader here works inside that slice: a malformed body
// throws an `OpenFlowError` carrying the xid and never moves the stream.

import NIOCore
import Packets

extension OpenFlowEnvelope {
    /// Decodes one framed message. Throws with `xid` and `messageType` set, so the session can
    /// answer with `error.suggestedReply`.
    ///
    /// HELLO and ERROR decode whatever the version (their layout is the same in every version since
    /// 1.0 and version negotiation needs them, OF 1.3.5 §6.3.1); any other message must be version 4.
    public init(frame: OpenFlowFrame) throws(OpenFlowError) {
        let h = frame.header
        guard h.version == openFlow13Version || h.type == .hello || h.type == .error else {
            var e = OpenFlowError(.unsupportedVersion, "version \(h.version) is not OpenFlow 1.3", xid: h.xid,
                                  messageType: h.type)
            e.offendingMessage = frame.firstBytes(64)
            throw e
        }
        var body = frame.body
        do {
            let m = try OpenFlowMessage.decode(type: h.type, body: &body)
            try body.ofExpectEnd("message body")
            self.init(version: h.version, xid: h.xid, message: m)
        } catch {
            var e = error
            e.xid = h.xid
            e.messageType = h.type
            e.offendingMessage = frame.firstBytes(64)
            throw e
        }
    }

    /// Decodes exactly one whole message held in `bytes` (header included), e.g. from a file.
    public init(bytes: ByteBuffer) throws(OpenFlowError) {
        var b = bytes
        var decoder = OpenFlowFrameDecoder()
        guard let frame = try decoder.nextFrame(from: &b) else {
            throw OpenFlowError(.truncated, "need \(OpenFlowFrameDecoder.needed(b)) bytes, have \(bytes.readableBytes)")
        }
        guard b.readableBytes == 0 else {
            throw OpenFlowError(.trailingBytes, "\(b.readableBytes) bytes after the message", xid: frame.header.xid,
                                messageType: frame.header.type)
        }
        try self.init(frame: frame)
    }
}

extension OpenFlowFrame {
    /// The first `n` bytes of the message as it came, header included.
    public func firstBytes(_ n: Int) -> ByteBuffer {
        var b = ByteBuffer()
        b.reserveCapacity(n)
        b.writeInteger(header.version)
        b.writeInteger(header.type.rawValue)
        b.writeInteger(header.length)
        b.writeInteger(header.xid)
        if let prefix = body.getSlice(at: body.readerIndex, length: Swift.min(body.readableBytes, Swift.max(0, n - 8))) {
            var p = prefix
            b.writeBuffer(&p)
        }
        return b
    }
}

extension OpenFlowMessage {
    /// Decodes the body of a message of type `type`; `body` holds exactly that body.
    public static func decode(type: OpenFlowMessageType, body b: inout ByteBuffer) throws(OpenFlowError) -> OpenFlowMessage {
        switch type {
        case .hello: return .hello(try b.readHello())
        case .error:
            let t = OpenFlowErrorType(try b.ofRead(UInt16.self, "error type"))
            let code = try b.ofRead(UInt16.self, "error code")
            if t == .experimenter {
                let exp = try b.ofRead(UInt32.self, "error experimenter")
                return .error(ErrorMessage(experimenter: exp, expType: code, data: b.readSlice(length: b.readableBytes) ?? ByteBuffer()))
            }
            return .error(ErrorMessage(kind: OpenFlowErrorKind(type: t, code: code), data: b.readRest()))
        case .echoRequest: return .echoRequest(b.readRest())
        case .echoReply: return .echoReply(b.readRest())
        case .experimenter:
            let e = try b.ofRead(UInt32.self, "experimenter")
            let t = try b.ofRead(UInt32.self, "exp_type")
            return .experimenter(ExperimenterMessage(experimenter: e, expType: t, data: b.readRest()))
        case .featuresRequest: return .featuresRequest
        case .featuresReply:
            let dpid = try b.ofRead(UInt64.self, "datapath_id")
            let nb = try b.ofRead(UInt32.self, "n_buffers")
            let nt = try b.ofRead(UInt8.self, "n_tables")
            let aux = try b.ofRead(UInt8.self, "auxiliary_id")
            try b.ofSkip(2, "features pad")
            let caps = try b.ofRead(UInt32.self, "capabilities")
            let res = try b.ofRead(UInt32.self, "reserved")
            return .featuresReply(FeaturesReply(datapathID: dpid, nBuffers: nb, nTables: nt, auxiliaryID: aux,
                                                capabilities: caps, reserved: res))
        case .getConfigRequest: return .getConfigRequest
        case .getConfigReply: return .getConfigReply(try b.readSwitchConfig())
        case .setConfig: return .setConfig(try b.readSwitchConfig())
        case .packetIn:
            let buf = try b.ofRead(UInt32.self, "buffer_id")
            let total = try b.ofRead(UInt16.self, "total_len")
            let reason = PacketInReason(rawValue: try b.ofRead(UInt8.self, "reason"))
            let table = try b.ofRead(UInt8.self, "table_id")
            let cookie = try b.ofRead(UInt64.self, "cookie")
            let match = try b.readMatch()
            try b.ofSkip(2, "packet_in pad")
            return .packetIn(PacketIn(bufferID: buf, totalLength: total, reason: reason, tableID: table, cookie: cookie,
                                      match: match, data: b.readRest()))
        case .flowRemoved:
            let cookie = try b.ofRead(UInt64.self, "cookie")
            let prio = try b.ofRead(UInt16.self, "priority")
            let reason = FlowRemovedReason(rawValue: try b.ofRead(UInt8.self, "reason"))
            let table = try b.ofRead(UInt8.self, "table_id")
            let ds = try b.ofRead(UInt32.self, "duration_sec"), dn = try b.ofRead(UInt32.self, "duration_nsec")
            let idle = try b.ofRead(UInt16.self, "idle_timeout"), hard = try b.ofRead(UInt16.self, "hard_timeout")
            let pc = try b.ofRead(UInt64.self, "packet_count"), bc = try b.ofRead(UInt64.self, "byte_count")
            let match = try b.readMatch()
            return .flowRemoved(FlowRemoved(cookie: cookie, priority: prio, reason: reason, tableID: table,
                                            durationSec: ds, durationNsec: dn, idleTimeout: idle, hardTimeout: hard,
                                            packetCount: pc, byteCount: bc, match: match))
        case .portStatus:
            let reason = PortStatusReason(rawValue: try b.ofRead(UInt8.self, "reason"))
            try b.ofSkip(7, "port_status pad")
            return .portStatus(PortStatus(reason: reason, port: try b.readPort()))
        case .packetOut:
            let buf = try b.ofRead(UInt32.self, "buffer_id")
            let inPort = PortNumber(try b.ofRead(UInt32.self, "in_port"))
            let alen = Int(try b.ofRead(UInt16.self, "actions_len"))
            try b.ofSkip(6, "packet_out pad")
            guard b.readableBytes >= alen else {
                throw OpenFlowError(.badLength, "actions_len \(alen) past the end (\(b.readableBytes) left)")
            }
            var actions = try b.ofReadSlice(alen, "packet_out actions")
            return .packetOut(PacketOut(bufferID: buf, inPort: inPort, actions: try actions.readActions(),
                                        data: b.readRest()))
        case .flowMod: return .flowMod(try b.readFlowModBody())
        case .groupMod:
            let cmd = GroupModCommand(rawValue: try b.ofRead(UInt16.self, "command"))
            let t = GroupType(rawValue: try b.ofRead(UInt8.self, "type"))
            try b.ofSkip(1, "group_mod pad")
            let gid = GroupID(try b.ofRead(UInt32.self, "group_id"))
            return .groupMod(GroupMod(command: cmd, type: t, groupID: gid, buckets: try b.readBuckets()))
        case .portMod:
            let port = PortNumber(try b.ofRead(UInt32.self, "port_no"))
            try b.ofSkip(4, "port_mod pad")
            let mac = try b.ofReadMAC("hw_addr")
            try b.ofSkip(2, "port_mod pad2")
            let config = try b.ofRead(UInt32.self, "config"), mask = try b.ofRead(UInt32.self, "mask")
            let adv = try b.ofRead(UInt32.self, "advertise")
            try b.ofSkip(4, "port_mod pad3")
            return .portMod(PortMod(portNumber: port, hardwareAddress: mac, config: config, mask: mask, advertise: adv))
        case .tableMod:
            let t = try b.ofRead(UInt8.self, "table_id")
            try b.ofSkip(3, "table_mod pad")
            return .tableMod(TableMod(tableID: t, config: try b.ofRead(UInt32.self, "config")))
        case .multipartRequest: return .multipartRequest(try b.readMultipartRequest())
        case .multipartReply: return .multipartReply(try b.readMultipartReply())
        case .barrierRequest: return .barrierRequest
        case .barrierReply: return .barrierReply
        case .queueGetConfigRequest:
            let port = PortNumber(try b.ofRead(UInt32.self, "port"))
            try b.ofSkip(4, "queue_get_config pad")
            return .queueGetConfigRequest(port: port)
        case .queueGetConfigReply:
            let port = PortNumber(try b.ofRead(UInt32.self, "port"))
            try b.ofSkip(4, "queue_get_config pad")
            return .queueGetConfigReply(QueueGetConfigReply(port: port, queues: b.readRest()))
        case .roleRequest: return .roleRequest(try b.readRole())
        case .roleReply: return .roleReply(try b.readRole())
        case .getAsyncRequest: return .getAsyncRequest
        case .getAsyncReply: return .getAsyncReply(try b.readAsyncConfig())
        case .setAsync: return .setAsync(try b.readAsyncConfig())
        case .meterMod:
            let cmd = MeterModCommand(rawValue: try b.ofRead(UInt16.self, "command"))
            let flags = MeterFlags(rawValue: try b.ofRead(UInt16.self, "flags"))
            let id = MeterID(try b.ofRead(UInt32.self, "meter_id"))
            return .meterMod(MeterMod(command: cmd, flags: flags, meterID: id, bands: try b.readMeterBands()))
        default:
            return .unknown(type: type, body: b.readRest())
        }
    }
}

extension ByteBuffer {
    mutating func readRest() -> ByteBuffer {
        readSlice(length: readableBytes) ?? ByteBuffer()
    }

    mutating func readHello() throws(OpenFlowError) -> Hello {
        var elements: [HelloElement] = []
        while readableBytes > 0 {
            guard elements.count < OpenFlowLimits.maximumListEntries else {
                throw OpenFlowError(.tooMany, "too many hello elements")
            }
            let type = try ofRead(UInt16.self, "hello element type")
            let length = Int(try ofRead(UInt16.self, "hello element length"))
            guard length >= 4, readableBytes >= length - 4 else {
                throw OpenFlowError(.badLength, "hello element length \(length) (\(readableBytes + 4) left)")
            }
            var body = try ofReadSlice(length - 4, "hello element")
            // The last element's padding may be missing in the wild; accept what is there.
            try ofSkip(Swift.min(paddingTo8(length), readableBytes), "hello element pad")
            if type == 1, body.readableBytes % 4 == 0 {
                var words: [UInt32] = []
                while body.readableBytes >= 4 { words.append(try body.ofRead(UInt32.self, "bitmap")) }
                elements.append(.versionBitmap(words))
            } else {
                elements.append(.unknown(type: type, body: body))
            }
        }
        return Hello(elements: elements)
    }

    mutating func readSwitchConfig() throws(OpenFlowError) -> SwitchConfig {
        let flags = SwitchConfigFlags(rawValue: try ofRead(UInt16.self, "flags"))
        return SwitchConfig(flags: flags, missSendLength: try ofRead(UInt16.self, "miss_send_len"))
    }

    mutating func readRole() throws(OpenFlowError) -> RoleMessage {
        let role = ControllerRole(rawValue: try ofRead(UInt32.self, "role"))
        try ofSkip(4, "role pad")
        return RoleMessage(role: role, generationID: try ofRead(UInt64.self, "generation_id"))
    }

    mutating func readAsyncConfig() throws(OpenFlowError) -> AsyncConfig {
        func mask(_ b: inout ByteBuffer) throws(OpenFlowError) -> AsyncMask {
            AsyncMask(masterOrEqual: try b.ofRead(UInt32.self, "async mask"), slave: try b.ofRead(UInt32.self, "async mask"))
        }
        let p = try mask(&self), s = try mask(&self), f = try mask(&self)
        return AsyncConfig(packetInMask: p, portStatusMask: s, flowRemovedMask: f)
    }

    /// Reads an `ofp_flow_mod` body (after the header).
    public mutating func readFlowModBody() throws(OpenFlowError) -> FlowMod {
        try withRawReader { (r: inout RawReader) throws(OpenFlowError) -> FlowMod in try r.flowModBody() }
    }

    /// Reads `ofp_bucket`s until `self` is empty.
    mutating func readBuckets() throws(OpenFlowError) -> [Bucket] {
        var out: [Bucket] = []
        while readableBytes > 0 {
            guard out.count < OpenFlowLimits.maximumListEntries else { throw OpenFlowError(.tooMany, "too many buckets") }
            let len = Int(try ofRead(UInt16.self, "bucket len"))
            guard len >= 16, readableBytes >= len - 2 else {
                throw OpenFlowError(.badLength, "bucket len \(len) (\(readableBytes + 2) left)")
            }
            var b = try ofReadSlice(len - 2, "bucket")
            let weight = try b.ofRead(UInt16.self, "weight")
            let wp = PortNumber(try b.ofRead(UInt32.self, "watch_port"))
            let wg = GroupID(try b.ofRead(UInt32.self, "watch_group"))
            try b.ofSkip(4, "bucket pad")
            out.append(Bucket(weight: weight, watchPort: wp, watchGroup: wg, actions: try b.readActions()))
        }
        return out
    }

    mutating func readMeterBands() throws(OpenFlowError) -> [MeterBand] {
        var out: [MeterBand] = []
        while readableBytes > 0 {
            guard out.count < OpenFlowLimits.maximumListEntries else { throw OpenFlowError(.tooMany, "too many bands") }
            let type = MeterBandType(rawValue: try ofRead(UInt16.self, "band type"))
            let len = Int(try ofRead(UInt16.self, "band len"))
            guard len >= 4, readableBytes >= len - 4 else {
                throw OpenFlowError(.badLength, "meter band len \(len) (\(readableBytes + 4) left)")
            }
            var b = try ofReadSlice(len - 4, "meter band")
            switch type {
            case .drop where len == 16:
                let rate = try b.ofRead(UInt32.self, "rate"), burst = try b.ofRead(UInt32.self, "burst_size")
                out.append(.drop(rate: rate, burstSize: burst))
            case .dscpRemark where len == 16:
                let rate = try b.ofRead(UInt32.self, "rate"), burst = try b.ofRead(UInt32.self, "burst_size")
                out.append(.dscpRemark(rate: rate, burstSize: burst, precLevel: try b.ofRead(UInt8.self, "prec_level")))
            case .experimenter where len >= 16:
                let rate = try b.ofRead(UInt32.self, "rate"), burst = try b.ofRead(UInt32.self, "burst_size")
                let exp = try b.ofRead(UInt32.self, "experimenter")
                out.append(.experimenter(rate: rate, burstSize: burst, experimenter: exp, data: b.readRest()))
            default:
                out.append(.unknown(type: type, body: b))
            }
        }
        return out
    }

    mutating func readPort() throws(OpenFlowError) -> SwitchPort {
        let no = PortNumber(try ofRead(UInt32.self, "port_no"))
        try ofSkip(4, "port pad")
        let mac = try ofReadMAC("hw_addr")
        try ofSkip(2, "port pad2")
        let name = FixedString(wireBytes: try ofReadBytes(16, "port name"))
        var v: [UInt32] = []
        v.reserveCapacity(8)
        for _ in 0..<8 { v.append(try ofRead(UInt32.self, "port field")) }
        var p = SwitchPort(portNumber: no, hardwareAddress: mac, name: "", config: v[0], state: v[1], current: v[2],
                     advertised: v[3], supported: v[4], peer: v[5], currentSpeed: v[6], maxSpeed: v[7])
        p.name = name
        return p
    }

    mutating func readFlowStatsRequest() throws(OpenFlowError) -> FlowStatsRequest {
        let table = try ofRead(UInt8.self, "table_id")
        try ofSkip(3, "pad")
        let op = PortNumber(try ofRead(UInt32.self, "out_port"))
        let og = GroupID(try ofRead(UInt32.self, "out_group"))
        try ofSkip(4, "pad")
        let c = try ofRead(UInt64.self, "cookie"), cm = try ofRead(UInt64.self, "cookie_mask")
        return FlowStatsRequest(tableID: table, outPort: op, outGroup: og, cookie: c, cookieMask: cm, match: try readMatch())
    }

    mutating func readMultipartRequest() throws(OpenFlowError) -> MultipartRequest {
        let type = MultipartType(rawValue: try ofRead(UInt16.self, "multipart type"))
        let flags = MultipartFlags(rawValue: try ofRead(UInt16.self, "multipart flags"))
        try ofSkip(4, "multipart pad")
        let body: MultipartRequestBody
        switch type {
        case .desc: body = .desc
        case .table: body = .table
        case .groupDesc: body = .groupDesc
        case .groupFeatures: body = .groupFeatures
        case .meterFeatures: body = .meterFeatures
        case .portDesc: body = .portDesc
        case .flow: body = .flow(try readFlowStatsRequest())
        case .aggregate: body = .aggregate(try readFlowStatsRequest())
        case .portStats:
            body = .portStats(PortNumber(try ofRead(UInt32.self, "port_no")))
            try ofSkip(4, "pad")
        case .queue:
            let p = PortNumber(try ofRead(UInt32.self, "port_no"))
            body = .queue(port: p, queueID: try ofRead(UInt32.self, "queue_id"))
        case .group:
            body = .group(GroupID(try ofRead(UInt32.self, "group_id")))
            try ofSkip(4, "pad")
        case .meter, .meterConfig:
            let m = MeterID(try ofRead(UInt32.self, "meter_id"))
            try ofSkip(4, "pad")
            body = type == .meter ? .meter(m) : .meterConfig(m)
        case .experimenter:
            let e = try ofRead(UInt32.self, "experimenter"), t = try ofRead(UInt32.self, "exp_type")
            body = .experimenter(experimenter: e, expType: t, data: readRest())
        default:
            body = .other(type: type, body: readRest())
        }
        return MultipartRequest(flags: flags, body: body)
    }

    /// Cuts a list entry that starts with a 16-bit length covering itself: checks the length
    /// against `minimum` and what remains.
    mutating func readLengthPrefixed(minimum: Int, _ context: StaticString) throws(OpenFlowError) -> ByteBuffer {
        guard let len = getInteger(at: readerIndex, as: UInt16.self) else {
            throw OpenFlowError(.truncated, "\(context): length missing")
        }
        guard Int(len) >= minimum, Int(len) <= readableBytes else {
            throw OpenFlowError(.badLength, "\(context) length \(len) (minimum \(minimum), \(readableBytes) left)")
        }
        var s = try ofReadSlice(Int(len), context)
        s.moveReaderIndex(forwardBy: 2)
        return s
    }

    mutating func readList<T>(_ body: (inout ByteBuffer) throws(OpenFlowError) -> T) throws(OpenFlowError) -> [T] {
        var out: [T] = []
        while readableBytes > 0 {
            guard out.count < OpenFlowLimits.maximumListEntries else { throw OpenFlowError(.tooMany, "too many entries") }
            out.append(try body(&self))
        }
        return out
    }

    mutating func readMultipartReply() throws(OpenFlowError) -> MultipartReply {
        let type = MultipartType(rawValue: try ofRead(UInt16.self, "multipart type"))
        let flags = MultipartFlags(rawValue: try ofRead(UInt16.self, "multipart flags"))
        try ofSkip(4, "multipart pad")
        let body: MultipartReplyBody
        switch type {
        case .desc:
            var s: [FixedString] = []
            for w in [256, 256, 256, 32, 256] { s.append(FixedString(wireBytes: try ofReadBytes(w, "ofp_desc"))) }
            body = .desc(SwitchDescription(wire: s[0], s[1], s[2], s[3], s[4]))
        case .flow:
            body = .flow(try readList { (b: inout ByteBuffer) throws(OpenFlowError) -> FlowStats in
                var s = try b.readLengthPrefixed(minimum: 56, "ofp_flow_stats")
                let table = try s.ofRead(UInt8.self, "table_id")
                try s.ofSkip(1, "pad")
                let ds = try s.ofRead(UInt32.self, "duration_sec"), dn = try s.ofRead(UInt32.self, "duration_nsec")
                let prio = try s.ofRead(UInt16.self, "priority")
                let idle = try s.ofRead(UInt16.self, "idle_timeout"), hard = try s.ofRead(UInt16.self, "hard_timeout")
                let flags = FlowModFlags(rawValue: try s.ofRead(UInt16.self, "flags"))
                try s.ofSkip(4, "pad")
                let cookie = try s.ofRead(UInt64.self, "cookie")
                let pc = try s.ofRead(UInt64.self, "packet_count"), bc = try s.ofRead(UInt64.self, "byte_count")
                let match = try s.readMatch()
                return FlowStats(tableID: table, durationSec: ds, durationNsec: dn, priority: prio, idleTimeout: idle,
                                 hardTimeout: hard, flags: flags, cookie: cookie, packetCount: pc, byteCount: bc,
                                 match: match, instructions: try s.readInstructions())
            })
        case .aggregate:
            let pc = try ofRead(UInt64.self, "packet_count"), bc = try ofRead(UInt64.self, "byte_count")
            let fc = try ofRead(UInt32.self, "flow_count")
            try ofSkip(4, "pad")
            body = .aggregate(AggregateStats(packetCount: pc, byteCount: bc, flowCount: fc))
        case .table:
            body = .table(try readList { (b: inout ByteBuffer) throws(OpenFlowError) -> TableStats in
                let t = try b.ofRead(UInt8.self, "table_id")
                try b.ofSkip(3, "pad")
                let a = try b.ofRead(UInt32.self, "active_count")
                let l = try b.ofRead(UInt64.self, "lookup_count"), m = try b.ofRead(UInt64.self, "matched_count")
                return TableStats(tableID: t, activeCount: a, lookupCount: l, matchedCount: m)
            })
        case .portStats:
            body = .portStats(try readList { (b: inout ByteBuffer) throws(OpenFlowError) -> PortStats in
                let p = PortNumber(try b.ofRead(UInt32.self, "port_no"))
                try b.ofSkip(4, "pad")
                var c: [UInt64] = []
                c.reserveCapacity(12)
                for _ in 0..<12 { c.append(try b.ofRead(UInt64.self, "port counter")) }
                let ds = try b.ofRead(UInt32.self, "duration_sec"), dn = try b.ofRead(UInt32.self, "duration_nsec")
                return PortStats(portNumber: p, rxPackets: c[0], txPackets: c[1], rxBytes: c[2], txBytes: c[3],
                                 rxDropped: c[4], txDropped: c[5], rxErrors: c[6], txErrors: c[7], rxFrameErrors: c[8],
                                 rxOverErrors: c[9], rxCRCErrors: c[10], collisions: c[11], durationSec: ds,
                                 durationNsec: dn)
            })
        case .queue:
            body = .queue(try readList { (b: inout ByteBuffer) throws(OpenFlowError) -> QueueStats in
                let p = PortNumber(try b.ofRead(UInt32.self, "port_no")), q = try b.ofRead(UInt32.self, "queue_id")
                let tb = try b.ofRead(UInt64.self, "tx_bytes"), tp = try b.ofRead(UInt64.self, "tx_packets")
                let te = try b.ofRead(UInt64.self, "tx_errors")
                let ds = try b.ofRead(UInt32.self, "duration_sec"), dn = try b.ofRead(UInt32.self, "duration_nsec")
                return QueueStats(portNumber: p, queueID: q, txBytes: tb, txPackets: tp, txErrors: te, durationSec: ds,
                                  durationNsec: dn)
            })
        case .group:
            body = .group(try readList { (b: inout ByteBuffer) throws(OpenFlowError) -> GroupStats in
                var s = try b.readLengthPrefixed(minimum: 40, "ofp_group_stats")
                try s.ofSkip(2, "pad")
                let g = GroupID(try s.ofRead(UInt32.self, "group_id")), rc = try s.ofRead(UInt32.self, "ref_count")
                try s.ofSkip(4, "pad")
                let pc = try s.ofRead(UInt64.self, "packet_count"), bc = try s.ofRead(UInt64.self, "byte_count")
                let ds = try s.ofRead(UInt32.self, "duration_sec"), dn = try s.ofRead(UInt32.self, "duration_nsec")
                let buckets = try s.readList { (c: inout ByteBuffer) throws(OpenFlowError) -> GroupStats.BucketCounter in
                    GroupStats.BucketCounter(packetCount: try c.ofRead(UInt64.self, "bucket packet_count"),
                                             byteCount: try c.ofRead(UInt64.self, "bucket byte_count"))
                }
                return GroupStats(groupID: g, refCount: rc, packetCount: pc, byteCount: bc, durationSec: ds,
                                  durationNsec: dn, bucketStats: buckets)
            })
        case .groupDesc:
            body = .groupDesc(try readList { (b: inout ByteBuffer) throws(OpenFlowError) -> GroupDescription in
                var s = try b.readLengthPrefixed(minimum: 8, "ofp_group_desc")
                let t = GroupType(rawValue: try s.ofRead(UInt8.self, "type"))
                try s.ofSkip(1, "pad")
                let g = GroupID(try s.ofRead(UInt32.self, "group_id"))
                return GroupDescription(type: t, groupID: g, buckets: try s.readBuckets())
            })
        case .groupFeatures:
            let t = try ofRead(UInt32.self, "types"), c = try ofRead(UInt32.self, "capabilities")
            var mg: [UInt32] = [], ac: [UInt32] = []
            for _ in 0..<4 { mg.append(try ofRead(UInt32.self, "max_groups")) }
            for _ in 0..<4 { ac.append(try ofRead(UInt32.self, "actions")) }
            body = .groupFeatures(GroupFeatures(types: t, capabilities: c, maxGroups: mg, actions: ac))
        case .meter:
            body = .meter(try readList { (b: inout ByteBuffer) throws(OpenFlowError) -> MeterStats in
                // ofp_meter_stats: meter_id(32) len(16) pad[6] ... (len counts from meter_id)
                guard let len = b.getInteger(at: b.readerIndex + 4, as: UInt16.self) else {
                    throw OpenFlowError(.truncated, "ofp_meter_stats header")
                }
                guard len >= 40, Int(len) <= b.readableBytes else {
                    throw OpenFlowError(.badLength, "ofp_meter_stats len \(len) (\(b.readableBytes) left)")
                }
                var s = try b.ofReadSlice(Int(len), "ofp_meter_stats")
                let id = MeterID(try s.ofRead(UInt32.self, "meter_id"))
                try s.ofSkip(8, "len and pad")
                let fc = try s.ofRead(UInt32.self, "flow_count")
                let pc = try s.ofRead(UInt64.self, "packet_in_count"), bc = try s.ofRead(UInt64.self, "byte_in_count")
                let ds = try s.ofRead(UInt32.self, "duration_sec"), dn = try s.ofRead(UInt32.self, "duration_nsec")
                let bands = try s.readList { (c: inout ByteBuffer) throws(OpenFlowError) -> MeterStats.BandStats in
                    MeterStats.BandStats(packetBandCount: try c.ofRead(UInt64.self, "packet_band_count"),
                                         byteBandCount: try c.ofRead(UInt64.self, "byte_band_count"))
                }
                return MeterStats(meterID: id, flowCount: fc, packetInCount: pc, byteInCount: bc, durationSec: ds,
                                  durationNsec: dn, bandStats: bands)
            })
        case .meterConfig:
            body = .meterConfig(try readList { (b: inout ByteBuffer) throws(OpenFlowError) -> MeterConfig in
                var s = try b.readLengthPrefixed(minimum: 8, "ofp_meter_config")
                let flags = MeterFlags(rawValue: try s.ofRead(UInt16.self, "flags"))
                let id = MeterID(try s.ofRead(UInt32.self, "meter_id"))
                return MeterConfig(flags: flags, meterID: id, bands: try s.readMeterBands())
            })
        case .meterFeatures:
            let mm = try ofRead(UInt32.self, "max_meter"), bt = try ofRead(UInt32.self, "band_types")
            let c = try ofRead(UInt32.self, "capabilities")
            let mb = try ofRead(UInt8.self, "max_bands"), mc = try ofRead(UInt8.self, "max_color")
            try ofSkip(2, "pad")
            body = .meterFeatures(MeterFeatures(maxMeter: mm, bandTypes: bt, capabilities: c, maxBands: mb, maxColor: mc))
        case .portDesc:
            body = .portDesc(try readList { (b: inout ByteBuffer) throws(OpenFlowError) -> SwitchPort in try b.readPort() })
        case .experimenter:
            let e = try ofRead(UInt32.self, "experimenter"), t = try ofRead(UInt32.self, "exp_type")
            body = .experimenter(experimenter: e, expType: t, data: readRest())
        default:
            body = .other(type: type, body: readRest())
        }
        return MultipartReply(flags: flags, body: body)
    }
}
