// The hot decoders (OXM, match, actions, instructions, the flow-mod body) read through one raw
// pointer over the message slice instead of one ByteBuffer call per field. Every read is checked
// against `end` first and throws `truncated`; a structure's reader is cut to the length the
// structure declared (`sub`), so it can never read into its neighbour.

import NIOCore
import Packets

@usableFromInline
struct RawReader {
    @usableFromInline let base: UnsafeRawBufferPointer
    /// The buffer `base` views, for slicing raw payloads without copying.
    @usableFromInline let buffer: ByteBuffer
    @usableFromInline var offset: Int
    @usableFromInline let end: Int

    @inlinable init(base: UnsafeRawBufferPointer, buffer: ByteBuffer, offset: Int, end: Int) {
        self.base = base
        self.buffer = buffer
        self.offset = offset
        self.end = end
    }

    @inlinable var remaining: Int { end - offset }

    @inlinable func need(_ n: Int, _ context: StaticString) throws(OpenFlowError) {
        guard n >= 0, end - offset >= n else {
            throw OpenFlowError(.truncated, "\(context): needs \(n) bytes, \(end - offset) left")
        }
    }

    @inlinable mutating func u8(_ c: StaticString) throws(OpenFlowError) -> UInt8 {
        try need(1, c)
        defer { offset += 1 }
        return base.load(fromByteOffset: offset, as: UInt8.self)
    }

    @inlinable mutating func u16(_ c: StaticString) throws(OpenFlowError) -> UInt16 {
        try need(2, c)
        defer { offset += 2 }
        return UInt16(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inlinable mutating func u32(_ c: StaticString) throws(OpenFlowError) -> UInt32 {
        try need(4, c)
        defer { offset += 4 }
        return UInt32(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inlinable mutating func u64(_ c: StaticString) throws(OpenFlowError) -> UInt64 {
        try need(8, c)
        defer { offset += 8 }
        return UInt64(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inlinable mutating func mac(_ c: StaticString) throws(OpenFlowError) -> MACAddress {
        let hi = try u16(c), lo = try u32(c)
        return MACAddress(UInt64(hi) << 32 | UInt64(lo))
    }

    @inlinable mutating func ipv6(_ c: StaticString) throws(OpenFlowError) -> IPv6Address {
        let hi = try u64(c), lo = try u64(c)
        return IPv6Address(high: hi, low: lo)
    }

    @inlinable mutating func skip(_ n: Int, _ c: StaticString) throws(OpenFlowError) {
        try need(n, c)
        offset += n
    }

    /// The next `n` bytes as a ByteBuffer slice (shares storage, no copy).
    @inlinable mutating func slice(_ n: Int, _ c: StaticString) throws(OpenFlowError) -> ByteBuffer {
        try need(n, c)
        let s = buffer.getSlice(at: buffer.readerIndex + offset, length: n) ?? ByteBuffer()
        offset += n
        return s
    }

    /// A reader over the next `n` bytes; this reader moves past them.
    @inlinable mutating func sub(_ n: Int, _ c: StaticString) throws(OpenFlowError) -> RawReader {
        try need(n, c)
        let r = RawReader(base: base, buffer: buffer, offset: offset, end: offset + n)
        offset += n
        return r
    }

    @inlinable func allZero() -> Bool {
        var i = offset
        while i < end {
            if base.load(fromByteOffset: i, as: UInt8.self) != 0 { return false }
            i += 1
        }
        return true
    }

    // MARK: OXM (OF 1.3.5 §7.2.3.2)

    @inlinable mutating func oxm() throws(OpenFlowError) -> OXMField {
        let header = try u32("oxm header")
        let length = Int(header & 0xFF)
        guard remaining >= length else {
            throw OpenFlowError(.badMatch, "oxm length \(length) past the end (\(remaining) left)")
        }
        let cls = UInt16(header >> 16)
        let field = UInt8(truncatingIfNeeded: header >> 9) & 0x7F
        let hasMask = header & 0x100 != 0
        guard cls == 0x8000, Int(field) < OXMField.basicWidths.count,
              OXMField.basicWidths[Int(field)] * (hasMask ? 2 : 1) == length
        else { return .raw(OXMRaw(header: header, payload: try slice(length, "oxm payload"))) }
        typealias F = OXMField.BasicField
        switch field {
        case F.inPort, F.inPhyPort:
            let v = try u32("oxm"), m = hasMask ? try u32("oxm") : nil
            return field == F.inPort ? .inPort(PortNumber(v), mask: m) : .inPhyPort(PortNumber(v), mask: m)
        case F.metadata, F.tunnelID:
            let v = try u64("oxm"), m = hasMask ? try u64("oxm") : nil
            return field == F.metadata ? .metadata(v, mask: m) : .tunnelID(v, mask: m)
        case F.ethDst, F.ethSrc, F.arpSHA, F.arpTHA, F.ipv6NDSLL, F.ipv6NDTLL:
            let v = try mac("oxm"), m = hasMask ? try mac("oxm") : nil
            switch field {
            case F.ethDst: return .ethDst(v, mask: m)
            case F.ethSrc: return .ethSrc(v, mask: m)
            case F.arpSHA: return .arpSHA(v, mask: m)
            case F.arpTHA: return .arpTHA(v, mask: m)
            case F.ipv6NDSLL: return .ipv6NDSLL(v, mask: m)
            default: return .ipv6NDTLL(v, mask: m)
            }
        case F.ethType, F.vlanVID, F.tcpSrc, F.tcpDst, F.udpSrc, F.udpDst, F.sctpSrc, F.sctpDst, F.arpOp, F.ipv6ExtHdr:
            let v = try u16("oxm"), m = hasMask ? try u16("oxm") : nil
            switch field {
            case F.ethType: return .ethType(v, mask: m)
            case F.vlanVID: return .vlanVID(v, mask: m)
            case F.tcpSrc: return .tcpSrc(v, mask: m)
            case F.tcpDst: return .tcpDst(v, mask: m)
            case F.udpSrc: return .udpSrc(v, mask: m)
            case F.udpDst: return .udpDst(v, mask: m)
            case F.sctpSrc: return .sctpSrc(v, mask: m)
            case F.sctpDst: return .sctpDst(v, mask: m)
            case F.arpOp: return .arpOp(v, mask: m)
            default: return .ipv6ExtHdr(v, mask: m)
            }
        case F.vlanPCP, F.ipDSCP, F.ipECN, F.ipProto, F.icmpv4Type, F.icmpv4Code, F.icmpv6Type, F.icmpv6Code,
             F.mplsTC, F.mplsBOS:
            let v = try u8("oxm"), m = hasMask ? try u8("oxm") : nil
            switch field {
            case F.vlanPCP: return .vlanPCP(v, mask: m)
            case F.ipDSCP: return .ipDSCP(v, mask: m)
            case F.ipECN: return .ipECN(v, mask: m)
            case F.ipProto: return .ipProto(v, mask: m)
            case F.icmpv4Type: return .icmpv4Type(v, mask: m)
            case F.icmpv4Code: return .icmpv4Code(v, mask: m)
            case F.icmpv6Type: return .icmpv6Type(v, mask: m)
            case F.icmpv6Code: return .icmpv6Code(v, mask: m)
            case F.mplsTC: return .mplsTC(v, mask: m)
            default: return .mplsBOS(v, mask: m)
            }
        case F.ipv4Src, F.ipv4Dst, F.arpSPA, F.arpTPA:
            let v = IPv4Address(try u32("oxm"))
            let m = hasMask ? IPv4Address(try u32("oxm")) : nil
            switch field {
            case F.ipv4Src: return .ipv4Src(v, mask: m)
            case F.ipv4Dst: return .ipv4Dst(v, mask: m)
            case F.arpSPA: return .arpSPA(v, mask: m)
            default: return .arpTPA(v, mask: m)
            }
        case F.ipv6Src, F.ipv6Dst, F.ipv6NDTarget:
            let v = try ipv6("oxm"), m = hasMask ? try ipv6("oxm") : nil
            switch field {
            case F.ipv6Src: return .ipv6Src(v, mask: m)
            case F.ipv6Dst: return .ipv6Dst(v, mask: m)
            default: return .ipv6NDTarget(v, mask: m)
            }
        case F.ipv6FLabel, F.mplsLabel:
            let v = try u32("oxm"), m = hasMask ? try u32("oxm") : nil
            return field == F.ipv6FLabel ? .ipv6FLabel(v, mask: m) : .mplsLabel(v, mask: m)
        default: // F.pbbISID, the only 24-bit field
            let v = UInt32(try u8("oxm")) << 16 | UInt32(try u16("oxm"))
            let m: UInt32? = hasMask ? UInt32(try u8("oxm")) << 16 | UInt32(try u16("oxm")) : nil
            return .pbbISID(v, mask: m)
        }
    }

    // MARK: ofp_match (OF 1.3.5 §7.2.2)

    @inlinable mutating func match() throws(OpenFlowError) -> OpenFlowMatch {
        let type = try u16("ofp_match.type")
        let length = Int(try u16("ofp_match.length"))
        guard type == 1 else { throw OpenFlowError(.badMatch, "ofp_match.type \(type) is not OFPMT_OXM") }
        guard length >= 4 else { throw OpenFlowError(.badMatch, "ofp_match.length \(length) < 4") }
        guard remaining >= length - 4 + paddingTo8(length) else {
            throw OpenFlowError(.badMatch, "ofp_match.length \(length) past the end (\(remaining + 4) left)")
        }
        var tlvs = try sub(length - 4, "ofp_match")
        try skip(paddingTo8(length), "ofp_match pad")
        // Every TLV takes at least 4 bytes.
        return OpenFlowMatch(try tlvs.list("OXM fields", minimumSize: 4, reserve: 64) { (r: inout RawReader) throws(OpenFlowError) in try r.oxm() })
    }

    /// Reads entries with `element` until the reader is empty, at most
    /// `OpenFlowLimits.maximumListEntries` of them. Reserving up front (entries of at least
    /// `minimumSize` bytes, `reserve` at most) avoids regrowth on the hot path.
    @inlinable mutating func list<T>(_ what: StaticString, minimumSize: Int, reserve: Int,
                                     _ element: (inout RawReader) throws(OpenFlowError) -> T) throws(OpenFlowError) -> [T] {
        var out: [T] = []
        out.reserveCapacity(Swift.min(remaining / minimumSize, reserve))
        while remaining > 0 {
            guard out.count < OpenFlowLimits.maximumListEntries else {
                throw OpenFlowError(.tooMany, "more than \(OpenFlowLimits.maximumListEntries) \(what)")
            }
            out.append(try element(&self))
        }
        return out
    }

    // MARK: Actions (OF 1.3.5 §7.2.5)

    @inlinable mutating func action() throws(OpenFlowError) -> OpenFlowAction {
        let type = ActionType(rawValue: try u16("action type"))
        let len = Int(try u16("action len"))
        guard len >= 8, len % 8 == 0 else {
            throw OpenFlowError(.badAction, "action len \(len) (type \(type.rawValue)) must be a multiple of 8, at least 8")
        }
        guard remaining >= len - 4 else {
            throw OpenFlowError(.badAction, "action len \(len) past the end of the list (\(remaining + 4) left)")
        }
        var b = try sub(len - 4, "action")
        func expect(_ n: Int) throws(OpenFlowError) {
            if len != n { throw OpenFlowError(.badAction, "action type \(type.rawValue) len \(len), expected \(n)") }
        }
        switch type {
        case .output:
            try expect(16)
            let port = try b.u32("output port"), maxLen = try b.u16("output max_len")
            return .output(port: PortNumber(port), maxLength: maxLen)
        case .copyTTLOut: try expect(8); return .copyTTLOut
        case .copyTTLIn: try expect(8); return .copyTTLIn
        case .decMPLSTTL: try expect(8); return .decMPLSTTL
        case .popVLAN: try expect(8); return .popVLAN
        case .decNwTTL: try expect(8); return .decNwTTL
        case .popPBB: try expect(8); return .popPBB
        case .setMPLSTTL: try expect(8); return .setMPLSTTL(try b.u8("mpls_ttl"))
        case .setNwTTL: try expect(8); return .setNwTTL(try b.u8("nw_ttl"))
        case .pushVLAN: try expect(8); return .pushVLAN(ethertype: try b.u16("ethertype"))
        case .pushMPLS: try expect(8); return .pushMPLS(ethertype: try b.u16("ethertype"))
        case .popMPLS: try expect(8); return .popMPLS(ethertype: try b.u16("ethertype"))
        case .pushPBB: try expect(8); return .pushPBB(ethertype: try b.u16("ethertype"))
        case .setQueue: try expect(8); return .setQueue(try b.u32("queue_id"))
        case .group: try expect(8); return .group(GroupID(try b.u32("group_id")))
        case .setField:
            let start = b.offset
            let field: OXMField
            do { field = try b.oxm() } catch {
                throw OpenFlowError(.badAction, "set_field: \(error.context)")
            }
            // Keep the action raw unless re-encoding it would give the same bytes (a peer may pad
            // more than needed, or put a second TLV in; both are kept, not rewritten).
            if OpenFlowAction.setField(field).encodedLength == len, b.allZero() {
                return .setField(field)
            }
            b.offset = start
            return .unknown(type: type, body: try b.slice(b.remaining, "set_field"))
        case .experimenter:
            let id = try b.u32("experimenter")
            return .experimenter(id: id, data: try b.slice(b.remaining, "experimenter data"))
        default:
            return .unknown(type: type, body: try b.slice(b.remaining, "action body"))
        }
    }

    @inlinable mutating func actions() throws(OpenFlowError) -> [OpenFlowAction] {
        try list("actions", minimumSize: 8, reserve: 32) { (r: inout RawReader) throws(OpenFlowError) in try r.action() }
    }

    // MARK: Instructions (OF 1.3.5 §7.2.4)

    @inlinable mutating func instruction() throws(OpenFlowError) -> OpenFlowInstruction {
        let type = InstructionType(rawValue: try u16("instruction type"))
        let len = Int(try u16("instruction len"))
        guard len >= 8, len % 8 == 0 else {
            throw OpenFlowError(.badInstruction, "instruction len \(len) (type \(type.rawValue)) must be a multiple of 8, at least 8")
        }
        guard remaining >= len - 4 else {
            throw OpenFlowError(.badInstruction, "instruction len \(len) past the end of the list (\(remaining + 4) left)")
        }
        var b = try sub(len - 4, "instruction")
        func expect(_ n: Int) throws(OpenFlowError) {
            if len != n { throw OpenFlowError(.badInstruction, "instruction type \(type.rawValue) len \(len), expected \(n)") }
        }
        switch type {
        case .gotoTable: try expect(8); return .gotoTable(try b.u8("table_id"))
        case .writeMetadata:
            try expect(24)
            try b.skip(4, "write_metadata pad")
            return .writeMetadata(try b.u64("metadata"), mask: try b.u64("metadata_mask"))
        case .writeActions, .applyActions:
            try b.skip(4, "instruction_actions pad")
            let actions = try b.actions()
            return type == .writeActions ? .writeActions(actions) : .applyActions(actions)
        case .clearActions: try expect(8); return .clearActions
        case .meter: try expect(8); return .meter(MeterID(try b.u32("meter_id")))
        case .experimenter:
            let id = try b.u32("experimenter")
            return .experimenter(id: id, data: try b.slice(b.remaining, "experimenter data"))
        default:
            return .unknown(type: type, body: try b.slice(b.remaining, "instruction body"))
        }
    }

    @inlinable mutating func instructions() throws(OpenFlowError) -> [OpenFlowInstruction] {
        try list("instructions", minimumSize: 8, reserve: 8) { (r: inout RawReader) throws(OpenFlowError) in try r.instruction() }
    }

    // MARK: ofp_flow_mod body (OF 1.3.5 §7.3.4.1)

    @inlinable mutating func flowModBody() throws(OpenFlowError) -> FlowMod {
        let cookie = try u64("cookie"), cookieMask = try u64("cookie_mask")
        let table = try u8("table_id")
        let cmd = FlowModCommand(rawValue: try u8("command"))
        let idle = try u16("idle_timeout"), hard = try u16("hard_timeout"), prio = try u16("priority")
        let buf = try u32("buffer_id")
        let outPort = PortNumber(try u32("out_port")), outGroup = GroupID(try u32("out_group"))
        let flags = FlowModFlags(rawValue: try u16("flags"))
        try skip(2, "flow_mod pad")
        let match = try self.match()
        let instructions = try self.instructions()
        return FlowMod(command: cmd, cookie: cookie, cookieMask: cookieMask, tableID: table, idleTimeout: idle,
                       hardTimeout: hard, priority: prio, bufferID: buf, outPort: outPort, outGroup: outGroup,
                       flags: flags, match: match, instructions: instructions)
    }
}

extension ByteBuffer {
    /// Runs `body` on a RawReader over the readable bytes, then consumes what it read.
    @inlinable
    mutating func withRawReader<T>(_ body: (inout RawReader) throws(OpenFlowError) -> T) throws(OpenFlowError) -> T {
        let view = self
        let result: Result<(T, Int), OpenFlowError> = view.withUnsafeReadableBytes { raw in
            var r = RawReader(base: raw, buffer: view, offset: 0, end: raw.count)
            do throws(OpenFlowError) {
                let v = try body(&r)
                return .success((v, r.offset))
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let (v, n)):
            moveReaderIndex(forwardBy: n)
            return v
        case .failure(let e):
            throw e
        }
    }
}
