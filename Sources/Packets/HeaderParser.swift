// Layer-by-layer parsing of a sampled packet header (sFlow raw packet header records carry the
// first 128 bytes or so of a frame). A truncated header yields every field it holds and sets
// `truncated`; no input can make the parser read outside the bytes it was given.

/// The IP 5-tuple that names a flow. Ports are 0 for protocols without them (and for non-first
/// fragments); for ICMP, `sport` carries the type and `dport` the code, as flow tools usually do.
public struct FlowKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var src: IPAddress
    public var dst: IPAddress
    public var proto: UInt8
    public var sport: UInt16
    public var dport: UInt16

    @inlinable public init(src: IPAddress, dst: IPAddress, proto: UInt8, sport: UInt16, dport: UInt16) {
        self.src = src
        self.dst = dst
        self.proto = proto
        self.sport = sport
        self.dport = dport
    }

    public var description: String {
        "\(src):\(sport) > \(dst):\(dport) proto \(proto)"
    }

    /// Packs the tuple into two words for IPv4 (the common case): the flow cache hashes millions
    /// of these a second.
    public func hash(into h: inout Hasher) {
        if case .v4(let a) = src, case .v4(let b) = dst {
            h.combine(UInt64(a.value) << 32 | UInt64(b.value))
        } else {
            h.combine(src)
            h.combine(dst)
        }
        h.combine(UInt64(proto) << 32 | UInt64(sport) << 16 | UInt64(dport))
    }

    /// By source, destination, protocol, then ports. (Field by field rather than as a tuple: sorts
    /// of thousands of elephants compare keys, and the tuple's generic comparison was slower.)
    public static func < (a: Self, b: Self) -> Bool {
        if a.src != b.src { return a.src < b.src }
        if a.dst != b.dst { return a.dst < b.dst }
        if a.proto != b.proto { return a.proto < b.proto }
        if a.sport != b.sport { return a.sport < b.sport }
        return a.dport < b.dport
    }
}

/// IP protocol numbers used by the parser.
public enum IPProtocolNumber {
    public static let icmp: UInt8 = 1
    public static let tcp: UInt8 = 6
    public static let udp: UInt8 = 17
    public static let sctp: UInt8 = 132
    public static let icmpv6: UInt8 = 58
    // IPv6 extension headers (RFC 8200 §4) walked to reach the upper layer.
    public static let hopByHop: UInt8 = 0
    public static let routing: UInt8 = 43
    public static let fragment: UInt8 = 44
    public static let destinationOptions: UInt8 = 60
    public static let authentication: UInt8 = 51
    public static let mobility: UInt8 = 135
    public static let noNextHeader: UInt8 = 59
}

public enum EtherType {
    public static let ipv4: UInt16 = 0x0800
    public static let arp: UInt16 = 0x0806
    public static let vlan: UInt16 = 0x8100
    public static let qinq: UInt16 = 0x88A8
    public static let qinqOld: UInt16 = 0x9100
    public static let ipv6: UInt16 = 0x86DD
}

/// Everything the parser found in a sampled header.
public struct ParsedHeader: Sendable, Equatable {
    public var ethSrc: MACAddress?
    public var ethDst: MACAddress?
    /// Outer VLAN id (802.1Q, or the 802.1ad service tag of a QinQ frame).
    public var vlan: UInt16?
    /// Inner VLAN id of a QinQ frame.
    public var innerVlan: UInt16?
    public var vlanPCP: UInt8?
    public var etherType: UInt16?
    public var ipVersion: UInt8 = 0
    public var src: IPAddress?
    public var dst: IPAddress?
    public var proto: UInt8?
    public var tos: UInt8?
    public var ttl: UInt8?
    /// Total length of the IP packet as its header states (not what was sampled).
    public var ipLength: Int?
    /// True for any fragment; `firstFragment` says whether it can carry ports.
    public var isFragment = false
    public var firstFragment = true
    public var sport: UInt16?
    public var dport: UInt16?
    public var tcpFlags: UInt8?
    public var icmpType: UInt8?
    public var icmpCode: UInt8?
    /// The header ended before a layer that it announced was complete.
    public var truncated = false

    @inlinable public init() {}

    /// The 5-tuple, when both addresses were read. Missing ports count as 0.
    @inlinable public var flowKey: FlowKey? {
        guard let src, let dst, let proto else { return nil }
        if let icmpType, proto == IPProtocolNumber.icmp || proto == IPProtocolNumber.icmpv6 {
            return FlowKey(src: src, dst: dst, proto: proto, sport: UInt16(icmpType), dport: UInt16(icmpCode ?? 0))
        }
        return FlowKey(src: src, dst: dst, proto: proto, sport: sport ?? 0, dport: dport ?? 0)
    }
}

public enum HeaderParser {
    /// Parses an Ethernet II frame (with up to two VLAN tags kept; more are skipped).
    public static func parseEthernet(_ bytes: UnsafeRawBufferPointer) -> ParsedHeader {
        var h = ParsedHeader()
        parseEthernet(bytes, into: &h)
        return h
    }

    /// `parseEthernet(_:)` into a header that is still `ParsedHeader()`: a scanner that keeps the
    /// header inside a larger record parses it in place rather than copying it there.
    public static func parseEthernet(_ bytes: UnsafeRawBufferPointer, into h: inout ParsedHeader) {
        var r = WireReader(bytes)
        // Field by field, so that a cut header still yields the addresses and tags it holds.
        guard let dst = r.readMAC() else { h.truncated = true; return }
        h.ethDst = dst
        guard let src = r.readMAC() else { h.truncated = true; return }
        h.ethSrc = src
        guard var type = r.readUInt16() else { h.truncated = true; return }
        var tags = 0
        while type == EtherType.vlan || type == EtherType.qinq || type == EtherType.qinqOld {
            guard let tci = r.readUInt16() else {
                h.etherType = type
                h.truncated = true
                return
            }
            if tags == 0 { h.vlan = tci & 0x0FFF } else if tags == 1 { h.innerVlan = tci & 0x0FFF }
            if tags == 0 { h.vlanPCP = UInt8(tci >> 13) }
            guard let next = r.readUInt16() else {
                h.etherType = type
                h.truncated = true
                return
            }
            tags += 1
            type = next
            if tags > 8 { break } // A stack that deep is nonsense; stop walking it.
        }
        h.etherType = type
        switch type {
        case EtherType.ipv4: parseIPv4(&r, into: &h)
        case EtherType.ipv6: parseIPv6(&r, into: &h)
        default: break
        }
    }

    /// Parses a bare IPv4 packet (sFlow header_protocol 11).
    public static func parseIPv4Packet(_ bytes: UnsafeRawBufferPointer) -> ParsedHeader {
        var h = ParsedHeader()
        var r = WireReader(bytes)
        h.etherType = EtherType.ipv4
        parseIPv4(&r, into: &h)
        return h
    }

    /// Parses a bare IPv6 packet (sFlow header_protocol 12).
    public static func parseIPv6Packet(_ bytes: UnsafeRawBufferPointer) -> ParsedHeader {
        var h = ParsedHeader()
        var r = WireReader(bytes)
        h.etherType = EtherType.ipv6
        parseIPv6(&r, into: &h)
        return h
    }

    public static func parseEthernet(_ bytes: [UInt8]) -> ParsedHeader {
        bytes.withUnsafeBytes { parseEthernet($0) }
    }

    // RFC 791 §3.1.
    static func parseIPv4(_ r: inout WireReader, into h: inout ParsedHeader) {
        h.ipVersion = 4
        guard let verIHL = r.peekUInt8() else { h.truncated = true; return }
        guard verIHL >> 4 == 4 else { h.truncated = true; return }
        let ihl = Int(verIHL & 0x0F) * 4
        guard ihl >= 20 else { h.truncated = true; return }
        guard var ip = r.readSlice(min(ihl, r.remaining)), ip.remaining >= 20,
              let _ = ip.readUInt8(), let tos = ip.readUInt8(), let total = ip.readUInt16(),
              let _ = ip.readUInt16(), let frag = ip.readUInt16(), let ttl = ip.readUInt8(),
              let proto = ip.readUInt8(), let _ = ip.readUInt16(),
              let src = ip.readIPv4(), let dst = ip.readIPv4()
        else {
            h.truncated = true
            return
        }
        h.tos = tos
        h.ipLength = Int(total)
        h.ttl = ttl
        h.proto = proto
        h.src = .v4(src)
        h.dst = .v4(dst)
        let offset = frag & 0x1FFF
        let more = frag & 0x2000 != 0
        h.isFragment = offset != 0 || more
        h.firstFragment = offset == 0
        if ip.remaining < ihl - 20 { h.truncated = true; return } // options cut short
        guard h.firstFragment else { return }
        parseTransport(proto, &r, into: &h)
    }

    // RFC 8200 §3, §4: walk extension headers to the upper-layer protocol.
    static func parseIPv6(_ r: inout WireReader, into h: inout ParsedHeader) {
        h.ipVersion = 6
        guard let first = r.readUInt32(), first >> 28 == 6,
              let payload = r.readUInt16(), var next = r.readUInt8(), let hops = r.readUInt8(),
              let src = r.readIPv6(), let dst = r.readIPv6()
        else {
            h.truncated = true
            return
        }
        h.tos = UInt8(truncatingIfNeeded: first >> 20)
        h.ttl = hops
        h.ipLength = Int(payload) + 40
        h.src = .v6(src)
        h.dst = .v6(dst)
        var walked = 0
        while walked < 16 {
            walked += 1
            switch next {
            case IPProtocolNumber.hopByHop, IPProtocolNumber.routing, IPProtocolNumber.destinationOptions,
                 IPProtocolNumber.mobility:
                guard let nh = r.readUInt8(), let len = r.readUInt8(), r.skip(Int(len) * 8 + 6) else {
                    h.proto = next
                    h.truncated = true
                    return
                }
                next = nh
            case IPProtocolNumber.authentication:
                // RFC 4302 §2.2: length in 4-octet units, minus 2.
                guard let nh = r.readUInt8(), let len = r.readUInt8(), r.skip((Int(len) + 2) * 4 - 2) else {
                    h.proto = next
                    h.truncated = true
                    return
                }
                next = nh
            case IPProtocolNumber.fragment:
                guard let nh = r.readUInt8(), r.skip(1), let off = r.readUInt16(), r.skip(4) else {
                    h.proto = next
                    h.truncated = true
                    return
                }
                h.isFragment = true
                h.firstFragment = off >> 3 == 0
                next = nh
            default:
                h.proto = next
                if next == IPProtocolNumber.noNextHeader || !h.firstFragment { return }
                parseTransport(next, &r, into: &h)
                return
            }
        }
        h.proto = next
    }

    static func parseTransport(_ proto: UInt8, _ r: inout WireReader, into h: inout ParsedHeader) {
        switch proto {
        case IPProtocolNumber.tcp:
            guard let s = r.readUInt16(), let d = r.readUInt16() else { h.truncated = true; return }
            h.sport = s
            h.dport = d
            // Flags sit at byte 13 of the TCP header (RFC 9293 §3.1).
            guard r.skip(9), let flags = r.readUInt8() else { h.truncated = true; return }
            h.tcpFlags = flags
        case IPProtocolNumber.udp, IPProtocolNumber.sctp:
            guard let s = r.readUInt16(), let d = r.readUInt16() else { h.truncated = true; return }
            h.sport = s
            h.dport = d
        case IPProtocolNumber.icmp, IPProtocolNumber.icmpv6:
            guard let t = r.readUInt8(), let c = r.readUInt8() else { h.truncated = true; return }
            h.icmpType = t
            h.icmpCode = c
        default:
            break
        }
    }
}
