// From captured frames to the UDP datagrams they carry: link types Ethernet, Linux cooked
// (SLL, SLL2), raw IP and BSD loopback; IPv4 and IPv6; IP fragments reassembled (RFC 791 §3.2,
// RFC 8200 §4.5) with bounded state. Pure: the capture library only supplies the frames.

/// libpcap `DLT_*` / LINKTYPE_* values this extractor understands.
public struct LinkType: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let null = LinkType(rawValue: 0)
    public static let ethernet = LinkType(rawValue: 1)
    public static let rawIP = LinkType(rawValue: 101)
    public static let rawIPAlt = LinkType(rawValue: 12)  // DLT_RAW on some systems
    public static let loop = LinkType(rawValue: 108)
    public static let linuxSLL = LinkType(rawValue: 113)
    public static let ipv4 = LinkType(rawValue: 228)
    public static let ipv6 = LinkType(rawValue: 229)
    public static let linuxSLL2 = LinkType(rawValue: 276)

    public var isSupported: Bool {
        [.null, .ethernet, .rawIP, .rawIPAlt, .loop, .linuxSLL, .ipv4, .ipv6, .linuxSLL2].contains(self)
    }

    public var description: String {
        switch self {
        case .null: "null"
        case .ethernet: "ethernet"
        case .rawIP, .rawIPAlt: "raw"
        case .loop: "loop"
        case .linuxSLL: "linux-sll"
        case .linuxSLL2: "linux-sll2"
        case .ipv4: "ipv4"
        case .ipv6: "ipv6"
        default: "linktype-\(rawValue)"
        }
    }
}

/// A UDP datagram found in a capture.
public struct UDPDatagram: Sendable, Equatable {
    public var src: IPAddress
    public var dst: IPAddress
    public var srcPort: UInt16
    public var dstPort: UInt16
    public var payload: [UInt8]

    public init(src: IPAddress, dst: IPAddress, srcPort: UInt16, dstPort: UInt16, payload: [UInt8]) {
        self.src = src
        self.dst = dst
        self.srcPort = srcPort
        self.dstPort = dstPort
        self.payload = payload
    }
}

/// What became of one frame.
public enum ExtractResult: Sendable, Equatable {
    case datagram(UDPDatagram)
    /// A fragment was stored; the datagram is not complete yet.
    case fragmentHeld
    /// Not UDP over IP (ARP, TCP, …): not an error, just not ours.
    case notUDP
    /// Malformed at the link or IP layer.
    case malformed(String)
}

public struct UDPExtractor: Sendable {
    struct FragmentKey: Hashable {
        var src: IPAddress
        var dst: IPAddress
        var id: UInt32
        var proto: UInt8
    }

    struct Pending {
        var pieces: [(offset: Int, bytes: [UInt8])] = []
        var totalLength: Int?
        var received = 0
        var firstSeen: UInt64
        var headerless = true
    }

    /// Most reassemblies kept at once; the oldest is dropped beyond it.
    public var maxPending = 1024
    /// A reassembly older than this (in the caller's clock, nanoseconds) is dropped (RFC 791 suggests 15 s).
    public var reassemblyTimeoutNanos: UInt64 = 30_000_000_000
    private var pending: [FragmentKey: Pending] = [:]
    private var order: [FragmentKey] = []
    public private(set) var reassembled = 0
    public private(set) var fragmentsDropped = 0

    public init() {}

    public mutating func extract(linkType: LinkType, frame: [UInt8], now: UInt64 = 0) -> ExtractResult {
        frame.withUnsafeBytes { extract(linkType: linkType, frame: $0, now: now) }
    }

    public mutating func extract(linkType: LinkType, frame: UnsafeRawBufferPointer, now: UInt64 = 0) -> ExtractResult {
        var r = WireReader(frame)
        var etherType: UInt16
        switch linkType {
        case .ethernet:
            guard r.skip(12), let t = r.readUInt16() else { return .malformed("Ethernet header cut short") }
            etherType = t
            var tags = 0
            while etherType == EtherType.vlan || etherType == EtherType.qinq || etherType == EtherType.qinqOld {
                guard tags < 4, r.skip(2), let t2 = r.readUInt16() else { return .malformed("VLAN tag cut short") }
                etherType = t2
                tags += 1
            }
        case .linuxSLL:
            // packet type, ARPHRD, address length, 8-byte address, protocol (16 bytes).
            guard r.skip(14), let t = r.readUInt16() else { return .malformed("Linux cooked header cut short") }
            etherType = t
        case .linuxSLL2:
            // protocol first, then reserved, ifindex, ARPHRD, packet type, address length, address (20 bytes).
            guard let t = r.readUInt16(), r.skip(18) else { return .malformed("Linux cooked v2 header cut short") }
            etherType = t
        case .null, .loop:
            // A 4-byte address family in host (null) or network (loop) order.
            guard let fam = r.readUInt32() else { return .malformed("loopback header cut short") }
            let f = linkType == .null ? fam.byteSwapped : fam
            let family = f < 256 ? f : fam
            etherType = family == 2 ? EtherType.ipv4 : (family == 24 || family == 28 || family == 30) ? EtherType.ipv6 : 0
        case .rawIP, .rawIPAlt, .ipv4, .ipv6:
            guard let v = r.peekUInt8() else { return .malformed("empty frame") }
            etherType = v >> 4 == 4 ? EtherType.ipv4 : v >> 4 == 6 ? EtherType.ipv6 : 0
        default:
            return .malformed("link type \(linkType) is not supported")
        }
        switch etherType {
        case EtherType.ipv4: return ipv4(&r, now: now)
        case EtherType.ipv6: return ipv6(&r, now: now)
        default: return .notUDP
        }
    }

    mutating func ipv4(_ r: inout WireReader, now: UInt64) -> ExtractResult {
        guard let vihl = r.peekUInt8(), vihl >> 4 == 4 else { return .malformed("not IPv4") }
        let ihl = Int(vihl & 0x0F) * 4
        guard ihl >= 20, var h = r.readSlice(ihl) else { return .malformed("IPv4 header cut short") }
        _ = h.skip(2)
        guard let total = h.readUInt16(), let id = h.readUInt16(), let frag = h.readUInt16(), h.skip(1),
              let proto = h.readUInt8(), h.skip(2), let src = h.readIPv4(), let dst = h.readIPv4()
        else { return .malformed("IPv4 header cut short") }
        guard Int(total) >= ihl else { return .malformed("IPv4 total length \(total) below header length") }
        // Trust the IP length over the frame (Ethernet pads short frames), but never past the frame.
        let payloadLength = min(Int(total) - ihl, r.remaining)
        guard let payload = r.readSlice(payloadLength) else { return .malformed("IPv4 payload cut short") }
        guard proto == IPProtocolNumber.udp else { return .notUDP }
        let offset = Int(frag & 0x1FFF) * 8
        let more = frag & 0x2000 != 0
        if offset == 0 && !more {
            return udp(payload.remainingBytes, src: .v4(src), dst: .v4(dst))
        }
        let key = FragmentKey(src: .v4(src), dst: .v4(dst), id: UInt32(id), proto: proto)
        return fragment(key, offset: offset, more: more, bytes: payload.remainingBytes, now: now)
    }

    mutating func ipv6(_ r: inout WireReader, now: UInt64) -> ExtractResult {
        guard let first = r.readUInt32(), first >> 28 == 6, let plen = r.readUInt16(), var next = r.readUInt8(),
              r.skip(1), let src = r.readIPv6(), let dst = r.readIPv6()
        else { return .malformed("IPv6 header cut short") }
        guard var p = r.readSlice(min(Int(plen), r.remaining)) else { return .malformed("IPv6 payload cut short") }
        var fragInfo: (offset: Int, more: Bool, id: UInt32)?
        var hops = 0
        while hops < 16 {
            hops += 1
            switch next {
            case IPProtocolNumber.hopByHop, IPProtocolNumber.routing, IPProtocolNumber.destinationOptions:
                guard let nh = p.readUInt8(), let len = p.readUInt8(), p.skip(Int(len) * 8 + 6) else {
                    return .malformed("IPv6 extension header cut short")
                }
                next = nh
            case IPProtocolNumber.fragment:
                guard let nh = p.readUInt8(), p.skip(1), let off = p.readUInt16(), let id = p.readUInt32() else {
                    return .malformed("IPv6 fragment header cut short")
                }
                fragInfo = (Int(off >> 3) * 8, off & 1 != 0, id)
                next = nh
            case IPProtocolNumber.udp:
                if let f = fragInfo {
                    let key = FragmentKey(src: .v6(src), dst: .v6(dst), id: f.id, proto: next)
                    return fragment(key, offset: f.offset, more: f.more, bytes: p.remainingBytes, now: now)
                }
                return udp(p.remainingBytes, src: .v6(src), dst: .v6(dst))
            default:
                if let f = fragInfo, f.offset != 0 {
                    // A later fragment: its next header names the protocol of the first.
                    let key = FragmentKey(src: .v6(src), dst: .v6(dst), id: f.id, proto: IPProtocolNumber.udp)
                    guard pending[key] != nil else { return .notUDP }
                    return fragment(key, offset: f.offset, more: f.more, bytes: p.remainingBytes, now: now)
                }
                return .notUDP
            }
        }
        return .malformed("too many IPv6 extension headers")
    }

    func udp(_ bytes: UnsafeRawBufferPointer, src: IPAddress, dst: IPAddress) -> ExtractResult {
        var u = WireReader(bytes)
        guard let sp = u.readUInt16(), let dp = u.readUInt16(), let len = u.readUInt16(), u.skip(2) else {
            return .malformed("UDP header cut short")
        }
        // RFC 768: length covers header and data. 0 is allowed for IPv6 jumbograms; use what is there.
        let dataLength = len == 0 ? u.remaining : Int(len) - 8
        guard dataLength >= 0 else { return .malformed("UDP length \(len) below 8") }
        guard let data = u.readBytes(min(dataLength, u.remaining)) else { return .malformed("UDP payload cut short") }
        if dataLength > data.count { return .malformed("UDP payload cut short: \(data.count) of \(dataLength) bytes captured") }
        return .datagram(UDPDatagram(src: src, dst: dst, srcPort: sp, dstPort: dp, payload: data))
    }

    mutating func fragment(_ key: FragmentKey, offset: Int, more: Bool, bytes: UnsafeRawBufferPointer, now: UInt64) -> ExtractResult {
        expire(now: now)
        guard offset + bytes.count <= 65_535 + 8 else {
            fragmentsDropped += 1
            return .malformed("fragment past 64 KiB")
        }
        var p = pending[key] ?? {
            order.append(key)
            return Pending(firstSeen: now)
        }()
        // Overlapping fragments are a classic attack and never legitimate here: drop the datagram.
        for piece in p.pieces where offset < piece.offset + piece.bytes.count && piece.offset < offset + bytes.count {
            pending[key] = nil
            fragmentsDropped += p.pieces.count + 1
            return .malformed("overlapping IP fragments")
        }
        p.pieces.append((offset, [UInt8](bytes)))
        p.received += bytes.count
        if !more { p.totalLength = offset + bytes.count }
        // A piece past the end that the last fragment gives cannot belong to the datagram; with it
        // counted, `received == total` could also hide a hole. Drop the datagram (never assemble it).
        if let total = p.totalLength, p.pieces.contains(where: { $0.offset + $0.bytes.count > total }) {
            pending[key] = nil
            order.removeAll { $0 == key }
            fragmentsDropped += p.pieces.count
            return .malformed("IP fragment past the end of the datagram")
        }
        if let total = p.totalLength, p.received == total {
            pending[key] = nil
            order.removeAll { $0 == key }
            var whole = [UInt8](repeating: 0, count: total)
            for piece in p.pieces { whole.replaceSubrange(piece.offset..<(piece.offset + piece.bytes.count), with: piece.bytes) }
            reassembled += 1
            return whole.withUnsafeBytes { udp($0, src: key.src, dst: key.dst) }
        }
        pending[key] = p
        if pending.count > maxPending, let oldest = order.first {
            order.removeFirst()
            fragmentsDropped += pending[oldest]?.pieces.count ?? 0
            pending[oldest] = nil
        }
        return .fragmentHeld
    }

    mutating func expire(now: UInt64) {
        while let k = order.first, let p = pending[k], now > p.firstSeen, now - p.firstSeen > reassemblyTimeoutNanos {
            order.removeFirst()
            fragmentsDropped += p.pieces.count
            pending[k] = nil
        }
        while let k = order.first, pending[k] == nil { order.removeFirst() }
    }

    /// Fragments still waiting for the rest of their datagram.
    public var pendingReassemblies: Int { pending.count }
}
