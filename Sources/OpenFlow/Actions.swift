// Actions (OF 1.3.5 §7.2.5) and instructions (OF 1.3.5 §7.2.4).
//
// Every action and instruction starts with `type` (16 bits) and `len` (16 bits, the whole
// structure including padding to a multiple of 8). A `len` below 8, not a multiple of 8, or past
// the end of the list is refused (OFPBAC_BAD_LEN / OFPBIC_BAD_LEN): a zero `len` would otherwise
// make a decoder spin on the same bytes forever. Experimenter and unknown types are kept raw.

import NIOCore
import Packets

/// One action.
public enum OpenFlowAction: Hashable, Sendable {
    /// `ofp_action_output`: `maxLength` is the bytes to send to the controller
    /// (`0xFFFF` = `OFPCML_NO_BUFFER`, the whole packet).
    case output(port: PortNumber, maxLength: UInt16 = 0xFFFF)
    case copyTTLOut
    case copyTTLIn
    case setMPLSTTL(UInt8)
    case decMPLSTTL
    case pushVLAN(ethertype: UInt16 = 0x8100)
    case popVLAN
    case pushMPLS(ethertype: UInt16 = 0x8847)
    case popMPLS(ethertype: UInt16)
    case setQueue(UInt32)
    case group(GroupID)
    case setNwTTL(UInt8)
    case decNwTTL
    /// `ofp_action_set_field`: one OXM TLV, padded to 8 bytes.
    case setField(OXMField)
    case pushPBB(ethertype: UInt16 = 0x88E7)
    case popPBB
    /// `ofp_action_experimenter_header` (Nicira, ONF...): `data` is everything after the
    /// experimenter id, padding included, kept as it came.
    case experimenter(id: UInt32, data: ByteBuffer)
    /// A type the codec does not know: the body after `type` and `len`.
    case unknown(type: ActionType, body: ByteBuffer)

    /// `len` of this action on the wire.
    @inlinable public var encodedLength: Int {
        switch self {
        case .output: 16
        case .setField(let f): (4 + f.encodedLength + 7) / 8 * 8
        case .experimenter(_, let d): 8 + d.readableBytes
        case .unknown(_, let b): 4 + b.readableBytes
        default: 8
        }
    }
}

extension ByteBuffer {
    @inlinable
    public mutating func writeAction(_ action: OpenFlowAction) {
        writeRaw(length: action.encodedLength) { $0.action(action) }
    }

    @inlinable
    public mutating func writeActions(_ actions: [OpenFlowAction]) {
        writeRaw(length: actions.reduce(0) { $0 + $1.encodedLength }) { w in
            for a in actions { w.action(a) }
        }
    }

    /// Reads one action; `self` must be the action list, so `len` is checked against the list.
    public mutating func readAction() throws(OpenFlowError) -> OpenFlowAction {
        let type = ActionType(rawValue: try ofRead(UInt16.self, "action type"))
        let len = Int(try ofRead(UInt16.self, "action len"))
        guard len >= 8, len % 8 == 0 else {
            throw OpenFlowError(.badAction, "action len \(len) (type \(type.rawValue)) must be a multiple of 8, at least 8")
        }
        guard readableBytes >= len - 4 else {
            throw OpenFlowError(.badAction, "action len \(len) past the end of the list (\(readableBytes + 4) left)")
        }
        var b = try ofReadSlice(len - 4, "action")
        func expect(_ n: Int) throws(OpenFlowError) {
            if len != n { throw OpenFlowError(.badAction, "action type \(type.rawValue) len \(len), expected \(n)") }
        }
        switch type {
        case .output:
            try expect(16)
            let port = try b.ofRead(UInt32.self, "output port"), maxLen = try b.ofRead(UInt16.self, "output max_len")
            return .output(port: PortNumber(port), maxLength: maxLen)
        case .copyTTLOut: try expect(8); return .copyTTLOut
        case .copyTTLIn: try expect(8); return .copyTTLIn
        case .decMPLSTTL: try expect(8); return .decMPLSTTL
        case .popVLAN: try expect(8); return .popVLAN
        case .decNwTTL: try expect(8); return .decNwTTL
        case .popPBB: try expect(8); return .popPBB
        case .setMPLSTTL: try expect(8); return .setMPLSTTL(try b.ofRead(UInt8.self, "mpls_ttl"))
        case .setNwTTL: try expect(8); return .setNwTTL(try b.ofRead(UInt8.self, "nw_ttl"))
        case .pushVLAN: try expect(8); return .pushVLAN(ethertype: try b.ofRead(UInt16.self, "ethertype"))
        case .pushMPLS: try expect(8); return .pushMPLS(ethertype: try b.ofRead(UInt16.self, "ethertype"))
        case .popMPLS: try expect(8); return .popMPLS(ethertype: try b.ofRead(UInt16.self, "ethertype"))
        case .pushPBB: try expect(8); return .pushPBB(ethertype: try b.ofRead(UInt16.self, "ethertype"))
        case .setQueue: try expect(8); return .setQueue(try b.ofRead(UInt32.self, "queue_id"))
        case .group: try expect(8); return .group(GroupID(try b.ofRead(UInt32.self, "group_id")))
        case .setField:
            let whole = b
            let field: OXMField
            do { field = try b.readOXM() } catch {
                throw OpenFlowError(.badAction, "set_field: \(error.context)")
            }
            // Keep the action raw unless re-encoding it would give the same bytes (a peer may pad
            // more than needed, or put a second TLV in; both are kept, not rewritten).
            if OpenFlowAction.setField(field).encodedLength == len, b.readableBytesView.allSatisfy({ $0 == 0 }) {
                return .setField(field)
            }
            return .unknown(type: type, body: whole)
        case .experimenter:
            let id = try b.ofRead(UInt32.self, "experimenter")
            return .experimenter(id: id, data: b)
        default:
            return .unknown(type: type, body: b)
        }
    }

    /// Reads actions until `self` is empty.
    public mutating func readActions() throws(OpenFlowError) -> [OpenFlowAction] {
        var out: [OpenFlowAction] = []
        while readableBytes > 0 {
            guard out.count < OpenFlowLimits.maximumListEntries else {
                throw OpenFlowError(.tooMany, "more than \(OpenFlowLimits.maximumListEntries) actions")
            }
            out.append(try readAction())
        }
        return out
    }
}

/// One instruction (OF 1.3.5 §7.2.4).
public enum OpenFlowInstruction: Hashable, Sendable {
    case gotoTable(UInt8)
    case writeMetadata(UInt64, mask: UInt64)
    case writeActions([OpenFlowAction])
    case applyActions([OpenFlowAction])
    case clearActions
    case meter(MeterID)
    /// `ofp_instruction_experimenter`: `data` is everything after the experimenter id.
    case experimenter(id: UInt32, data: ByteBuffer)
    /// A type the codec does not know: the body after `type` and `len`.
    case unknown(type: InstructionType, body: ByteBuffer)
}

extension ByteBuffer {
    @inlinable
    public mutating func writeInstruction(_ instruction: OpenFlowInstruction) {
        writeRaw(length: instruction.encodedLength) { $0.instruction(instruction) }
    }

    @inlinable
    public mutating func writeInstructions(_ instructions: [OpenFlowInstruction]) {
        writeRaw(length: instructions.reduce(0) { $0 + $1.encodedLength }) { w in
            for i in instructions { w.instruction(i) }
        }
    }

    public mutating func readInstruction() throws(OpenFlowError) -> OpenFlowInstruction {
        let type = InstructionType(rawValue: try ofRead(UInt16.self, "instruction type"))
        let len = Int(try ofRead(UInt16.self, "instruction len"))
        guard len >= 8, len % 8 == 0 else {
            throw OpenFlowError(.badInstruction, "instruction len \(len) (type \(type.rawValue)) must be a multiple of 8, at least 8")
        }
        guard readableBytes >= len - 4 else {
            throw OpenFlowError(.badInstruction, "instruction len \(len) past the end of the list (\(readableBytes + 4) left)")
        }
        var b = try ofReadSlice(len - 4, "instruction")
        func expect(_ n: Int) throws(OpenFlowError) {
            if len != n { throw OpenFlowError(.badInstruction, "instruction type \(type.rawValue) len \(len), expected \(n)") }
        }
        switch type {
        case .gotoTable: try expect(8); return .gotoTable(try b.ofRead(UInt8.self, "table_id"))
        case .writeMetadata:
            try expect(24)
            try b.ofSkip(4, "write_metadata pad")
            return .writeMetadata(try b.ofRead(UInt64.self, "metadata"), mask: try b.ofRead(UInt64.self, "metadata_mask"))
        case .writeActions, .applyActions:
            try b.ofSkip(4, "instruction_actions pad")
            let actions = try b.readActions()
            return type == .writeActions ? .writeActions(actions) : .applyActions(actions)
        case .clearActions: try expect(8); return .clearActions
        case .meter: try expect(8); return .meter(MeterID(try b.ofRead(UInt32.self, "meter_id")))
        case .experimenter:
            let id = try b.ofRead(UInt32.self, "experimenter")
            return .experimenter(id: id, data: b)
        default:
            return .unknown(type: type, body: b)
        }
    }

    public mutating func readInstructions() throws(OpenFlowError) -> [OpenFlowInstruction] {
        var out: [OpenFlowInstruction] = []
        while readableBytes > 0 {
            guard out.count < OpenFlowLimits.maximumListEntries else {
                throw OpenFlowError(.tooMany, "more than \(OpenFlowLimits.maximumListEntries) instructions")
            }
            out.append(try readInstruction())
        }
        return out
    }
}
