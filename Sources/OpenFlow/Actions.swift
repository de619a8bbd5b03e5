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
        try withRawReader { (r: inout RawReader) throws(OpenFlowError) -> OpenFlowAction in try r.action() }
    }

    /// Reads actions until `self` is empty.
    public mutating func readActions() throws(OpenFlowError) -> [OpenFlowAction] {
        try withRawReader { (r: inout RawReader) throws(OpenFlowError) -> [OpenFlowAction] in try r.actions() }
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
        try withRawReader { (r: inout RawReader) throws(OpenFlowError) -> OpenFlowInstruction in try r.instruction() }
    }

    public mutating func readInstructions() throws(OpenFlowError) -> [OpenFlowInstruction] {
        try withRawReader { (r: inout RawReader) throws(OpenFlowError) -> [OpenFlowInstruction] in try r.instructions() }
    }
}
