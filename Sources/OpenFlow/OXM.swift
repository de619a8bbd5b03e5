// OXM match fields (OF 1.3.5 §7.2.3).
//
// Each TLV is a 32-bit header, then the value, then (when `hasmask` is set) a mask of the same width:
//
//     0               1               2               3
//     +-------------------------------+-------------+-+---------------+
//     |           oxm_class           |  oxm_field  |M|  oxm_length   |
//     +-------------------------------+-------------+-+---------------+
//     |        value (oxm_length bytes, twice the width with a mask)   |
//
// Fields of class OFPXMC_OPENFLOW_BASIC (0x8000) with the width the spec gives decode to a typed
// case. Anything else -- another class (Nicira NXM 0x0000/0x0001, experimenter 0xFFFF), an unknown
// field, or a known field with an unexpected length -- is kept as `.raw` and re-encoded exactly.

import NIOCore
import Packets

/// `ofp_oxm_class` (OF 1.3.5 §7.2.3.2).
public struct OXMClass: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let nxm0 = Self(rawValue: 0x0000)
    public static let nxm1 = Self(rawValue: 0x0001)
    public static let openflowBasic = Self(rawValue: 0x8000)
    public static let experimenter = Self(rawValue: 0xFFFF)
}

/// An OXM TLV the codec does not model: its header and payload (value and mask, and for the
/// experimenter class the leading experimenter id) exactly as they came.
public struct OXMRaw: Hashable, Sendable {
    /// The whole 32-bit header: class, field, hasmask bit, length.
    public var header: UInt32
    /// `oxm_length` bytes.
    public var payload: ByteBuffer

    public init(header: UInt32, payload: ByteBuffer) {
        self.header = header
        self.payload = payload
    }

    public init(oxmClass: OXMClass, field: UInt8, hasMask: Bool, payload: ByteBuffer) {
        header = UInt32(oxmClass.rawValue) << 16 | UInt32(field & 0x7F) << 9
            | (hasMask ? 1 << 8 : 0) | UInt32(UInt8(truncatingIfNeeded: payload.readableBytes))
        self.payload = payload
    }

    public var oxmClass: OXMClass { OXMClass(rawValue: UInt16(header >> 16)) }
    public var field: UInt8 { UInt8(truncatingIfNeeded: header >> 9) & 0x7F }
    public var hasMask: Bool { header & 0x100 != 0 }
    /// For the experimenter class: the experimenter id at the start of the payload.
    public var experimenter: UInt32? {
        oxmClass == .experimenter ? payload.getInteger(at: payload.readerIndex, as: UInt32.self) : nil
    }
}

/// One OXM field. Every typed case may carry a mask (`nil`: exact match); the spec allows masks on
/// only some fields (Table 12), but a peer's masked value is kept rather than refused.
public enum OXMField: Hashable, Sendable {
    case inPort(PortNumber, mask: UInt32? = nil)
    case inPhyPort(PortNumber, mask: UInt32? = nil)
    case metadata(UInt64, mask: UInt64? = nil)
    case ethDst(MACAddress, mask: MACAddress? = nil)
    case ethSrc(MACAddress, mask: MACAddress? = nil)
    case ethType(UInt16, mask: UInt16? = nil)
    /// 12-bit VID plus `OFPVID_PRESENT` (0x1000), OF 1.3.5 §7.2.3.8.
    case vlanVID(UInt16, mask: UInt16? = nil)
    case vlanPCP(UInt8, mask: UInt8? = nil)
    case ipDSCP(UInt8, mask: UInt8? = nil)
    case ipECN(UInt8, mask: UInt8? = nil)
    case ipProto(UInt8, mask: UInt8? = nil)
    case ipv4Src(IPv4Address, mask: IPv4Address? = nil)
    case ipv4Dst(IPv4Address, mask: IPv4Address? = nil)
    case tcpSrc(UInt16, mask: UInt16? = nil)
    case tcpDst(UInt16, mask: UInt16? = nil)
    case udpSrc(UInt16, mask: UInt16? = nil)
    case udpDst(UInt16, mask: UInt16? = nil)
    case sctpSrc(UInt16, mask: UInt16? = nil)
    case sctpDst(UInt16, mask: UInt16? = nil)
    case icmpv4Type(UInt8, mask: UInt8? = nil)
    case icmpv4Code(UInt8, mask: UInt8? = nil)
    case arpOp(UInt16, mask: UInt16? = nil)
    case arpSPA(IPv4Address, mask: IPv4Address? = nil)
    case arpTPA(IPv4Address, mask: IPv4Address? = nil)
    case arpSHA(MACAddress, mask: MACAddress? = nil)
    case arpTHA(MACAddress, mask: MACAddress? = nil)
    case ipv6Src(IPv6Address, mask: IPv6Address? = nil)
    case ipv6Dst(IPv6Address, mask: IPv6Address? = nil)
    case ipv6FLabel(UInt32, mask: UInt32? = nil)
    case icmpv6Type(UInt8, mask: UInt8? = nil)
    case icmpv6Code(UInt8, mask: UInt8? = nil)
    case ipv6NDTarget(IPv6Address, mask: IPv6Address? = nil)
    case ipv6NDSLL(MACAddress, mask: MACAddress? = nil)
    case ipv6NDTLL(MACAddress, mask: MACAddress? = nil)
    case mplsLabel(UInt32, mask: UInt32? = nil)
    case mplsTC(UInt8, mask: UInt8? = nil)
    case mplsBOS(UInt8, mask: UInt8? = nil)
    /// 24-bit I-SID, held in the low bits.
    case pbbISID(UInt32, mask: UInt32? = nil)
    case tunnelID(UInt64, mask: UInt64? = nil)
    case ipv6ExtHdr(UInt16, mask: UInt16? = nil)
    /// Any other TLV, kept as it came.
    case raw(OXMRaw)

    /// `OFPXMT_OFB_*` numbers (OF 1.3.5 §7.2.3.7).
    public enum BasicField {
        public static let inPort: UInt8 = 0, inPhyPort: UInt8 = 1, metadata: UInt8 = 2
        public static let ethDst: UInt8 = 3, ethSrc: UInt8 = 4, ethType: UInt8 = 5
        public static let vlanVID: UInt8 = 6, vlanPCP: UInt8 = 7, ipDSCP: UInt8 = 8, ipECN: UInt8 = 9
        public static let ipProto: UInt8 = 10, ipv4Src: UInt8 = 11, ipv4Dst: UInt8 = 12
        public static let tcpSrc: UInt8 = 13, tcpDst: UInt8 = 14, udpSrc: UInt8 = 15, udpDst: UInt8 = 16
        public static let sctpSrc: UInt8 = 17, sctpDst: UInt8 = 18
        public static let icmpv4Type: UInt8 = 19, icmpv4Code: UInt8 = 20
        public static let arpOp: UInt8 = 21, arpSPA: UInt8 = 22, arpTPA: UInt8 = 23
        public static let arpSHA: UInt8 = 24, arpTHA: UInt8 = 25
        public static let ipv6Src: UInt8 = 26, ipv6Dst: UInt8 = 27, ipv6FLabel: UInt8 = 28
        public static let icmpv6Type: UInt8 = 29, icmpv6Code: UInt8 = 30
        public static let ipv6NDTarget: UInt8 = 31, ipv6NDSLL: UInt8 = 32, ipv6NDTLL: UInt8 = 33
        public static let mplsLabel: UInt8 = 34, mplsTC: UInt8 = 35, mplsBOS: UInt8 = 36
        public static let pbbISID: UInt8 = 37, tunnelID: UInt8 = 38, ipv6ExtHdr: UInt8 = 39
    }

    /// Value width in bytes of each basic field, indexed by field number (OF 1.3.5 Table 12).
    @usableFromInline static let basicWidths: [Int] = [
        4, 4, 8, 6, 6, 2, 2, 1, 1, 1,
        1, 4, 4, 2, 2, 2, 2, 2, 2, 1,
        1, 2, 4, 4, 6, 6, 16, 16, 4, 1,
        1, 16, 6, 6, 4, 1, 1, 3, 8, 2,
    ]

    /// Bytes this TLV takes on the wire, header included.
    @inlinable public var encodedLength: Int {
        if case .raw(let r) = self { return 4 + r.payload.readableBytes }
        let (field, hasMask) = basicFieldAndMask
        return 4 + Self.basicWidths[Int(field)] * (hasMask ? 2 : 1)
    }

    @inlinable var basicFieldAndMask: (UInt8, Bool) {
        switch self {
        case .inPort(_, let m): (0, m != nil)
        case .inPhyPort(_, let m): (1, m != nil)
        case .metadata(_, let m): (2, m != nil)
        case .ethDst(_, let m): (3, m != nil)
        case .ethSrc(_, let m): (4, m != nil)
        case .ethType(_, let m): (5, m != nil)
        case .vlanVID(_, let m): (6, m != nil)
        case .vlanPCP(_, let m): (7, m != nil)
        case .ipDSCP(_, let m): (8, m != nil)
        case .ipECN(_, let m): (9, m != nil)
        case .ipProto(_, let m): (10, m != nil)
        case .ipv4Src(_, let m): (11, m != nil)
        case .ipv4Dst(_, let m): (12, m != nil)
        case .tcpSrc(_, let m): (13, m != nil)
        case .tcpDst(_, let m): (14, m != nil)
        case .udpSrc(_, let m): (15, m != nil)
        case .udpDst(_, let m): (16, m != nil)
        case .sctpSrc(_, let m): (17, m != nil)
        case .sctpDst(_, let m): (18, m != nil)
        case .icmpv4Type(_, let m): (19, m != nil)
        case .icmpv4Code(_, let m): (20, m != nil)
        case .arpOp(_, let m): (21, m != nil)
        case .arpSPA(_, let m): (22, m != nil)
        case .arpTPA(_, let m): (23, m != nil)
        case .arpSHA(_, let m): (24, m != nil)
        case .arpTHA(_, let m): (25, m != nil)
        case .ipv6Src(_, let m): (26, m != nil)
        case .ipv6Dst(_, let m): (27, m != nil)
        case .ipv6FLabel(_, let m): (28, m != nil)
        case .icmpv6Type(_, let m): (29, m != nil)
        case .icmpv6Code(_, let m): (30, m != nil)
        case .ipv6NDTarget(_, let m): (31, m != nil)
        case .ipv6NDSLL(_, let m): (32, m != nil)
        case .ipv6NDTLL(_, let m): (33, m != nil)
        case .mplsLabel(_, let m): (34, m != nil)
        case .mplsTC(_, let m): (35, m != nil)
        case .mplsBOS(_, let m): (36, m != nil)
        case .pbbISID(_, let m): (37, m != nil)
        case .tunnelID(_, let m): (38, m != nil)
        case .ipv6ExtHdr(_, let m): (39, m != nil)
        case .raw(let r): (r.field, r.hasMask)
        }
    }
}

// MARK: - Encoding

extension ByteBuffer {
    /// Writes one OXM TLV (OF 1.3.5 §7.2.3.2); the length byte is computed from the value width.
    @inlinable
    public mutating func writeOXM(_ f: OXMField) {
        writeRaw(length: f.encodedLength) { $0.oxm(f) }
    }
}

// MARK: - Decoding

extension ByteBuffer {
    /// Reads one OXM TLV; the TLV's length is checked against what remains before anything else.
    @inlinable
    public mutating func readOXM() throws(OpenFlowError) -> OXMField {
        try withRawReader { (r: inout RawReader) throws(OpenFlowError) -> OXMField in try r.oxm() }
    }
}

/// `ofp_match` with `type = OFPMT_OXM` (OF 1.3.5 §7.2.2): a list of OXM TLVs, padded to 8 bytes.
public struct OpenFlowMatch: Hashable, Sendable, ExpressibleByArrayLiteral {
    public var fields: [OXMField]

    public init(_ fields: [OXMField] = []) { self.fields = fields }
    public init(arrayLiteral elements: OXMField...) { fields = elements }

    /// `ofp_match.length`: header and TLVs, without the trailing padding.
    @inlinable public var length: Int {
        var n = 4
        for f in fields { n += f.encodedLength }
        return n
    }
}

extension ByteBuffer {
    /// Writes `ofp_match` (OF 1.3.5 §7.2.2): type 1 (OXM), length without padding, TLVs, pad to 8.
    @inlinable
    public mutating func writeMatch(_ match: OpenFlowMatch) {
        writeRaw(length: match.encodedLength) { $0.match(match) }
    }

    /// Reads `ofp_match` and its padding; the length is checked against what remains.
    @inlinable
    public mutating func readMatch() throws(OpenFlowError) -> OpenFlowMatch {
        try withRawReader { (r: inout RawReader) throws(OpenFlowError) -> OpenFlowMatch in try r.match() }
    }
}
