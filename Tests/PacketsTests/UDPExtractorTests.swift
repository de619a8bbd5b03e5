import Packets
import Testing

// Captured frames to UDP datagrams: link layers as libpcap delivers them, IPv4 reassembly per
// RFC 791 §3.2 with bounded state.
enum UDPFrames {
    /// An IPv4 packet: 192.0.2.1:40000 > 192.0.2.2:6343 carrying "sflow!!!".
    static let ipv4 = hex("""
    45 00 0024 abcd 0000 40 11 0000   # total 36, id 0xabcd, UDP
    c0000201 c0000202
    9c40 18c7 0010 0000               # UDP 40000 > 6343, length 16
    73666c6f77212121                  # "sflow!!!"
    """)
    static let payload = Array("sflow!!!".utf8)
    static let expected = UDPDatagram(src: v4("192.0.2.1"), dst: v4("192.0.2.2"), srcPort: 40000, dstPort: 6343, payload: payload)

    static let ethernet = hex("020000000002 020000000001 0800") + ipv4
    static let vlan = hex("020000000002 020000000001 8100 0064 0800") + ipv4
    static let qinq = hex("020000000002 020000000001 88a8 00c8 8100 000a 0800") + ipv4
    /// Linux cooked v1: packet type, ARPHRD_ETHER, address length, address (8), protocol.
    static let sll = hex("0000 0001 0006 020000000001 0000 0800") + ipv4
    /// Linux cooked v2: protocol, reserved, ifindex, ARPHRD_ETHER, packet type, address length, address (8).
    static let sll2 = hex("0800 0000 00000002 0001 00 06 020000000001 0000") + ipv4
    /// BSD loopback: AF_INET (2) in host byte order (little-endian here).
    static let null = hex("02000000") + ipv4

    static let ipv6 = hex("""
    60000000 0010 11 40               # payload 16, UDP, hop limit 64
    20010db8000000000000000000000001
    20010db8000000000000000000000002
    9c40 18c7 0010 0000               # UDP 40000 > 6343, length 16
    73666c6f77212121
    """)
    static let expected6 = UDPDatagram(src: v6("2001:db8::1"), dst: v6("2001:db8::2"), srcPort: 40000, dstPort: 6343, payload: payload)

    /// One IPv4 fragment of a UDP datagram (the IP payload bytes `[offset, offset+bytes.count)`).
    static func fragment(id: UInt16, offset: Int, more: Bool, _ bytes: [UInt8]) -> [UInt8] {
        FrameBuilder.ethernetHeader(src: MACAddress(1), dst: MACAddress(2), etherType: EtherType.ipv4)
            + FrameBuilder.ipv4Header(src: IPv4Address(10, 0, 0, 1), dst: IPv4Address(10, 0, 0, 2), proto: IPProtocolNumber.udp,
                                      payloadLength: bytes.count, id: id, fragmentOffset: offset, moreFragments: more)
            + bytes
    }

    /// The IP payload (UDP header + data) of a datagram with `n` bytes of data.
    static func udpPayload(_ n: Int, port: UInt16 = 6343) -> [UInt8] {
        FrameBuilder.udpHeader(srcPort: 5000, dstPort: port, payloadLength: n) + (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    }
}

@Suite("UDP extraction from captured frames")
struct UDPExtractorTests {
    @Test("link layers", arguments: [
        ("ethernet", LinkType.ethernet, UDPFrames.ethernet), ("802.1Q", .ethernet, UDPFrames.vlan), ("QinQ", .ethernet, UDPFrames.qinq),
        ("SLL", .linuxSLL, UDPFrames.sll), ("SLL2", .linuxSLL2, UDPFrames.sll2), ("raw", .rawIP, UDPFrames.ipv4),
        ("raw (12)", .rawIPAlt, UDPFrames.ipv4), ("ipv4 (228)", .ipv4, UDPFrames.ipv4), ("null", .null, UDPFrames.null),
    ])
    func linkLayers(_ name: String, _ link: LinkType, _ frame: [UInt8]) {
        var x = UDPExtractor()
        #expect(x.extract(linkType: link, frame: frame) == .datagram(UDPFrames.expected), "\(name)")
        #expect(link.isSupported)
    }

    @Test("IPv6 UDP over Ethernet, raw and link type 229")
    func ipv6() {
        var x = UDPExtractor()
        let eth = hex("020000000002 020000000001 86dd") + UDPFrames.ipv6
        #expect(x.extract(linkType: .ethernet, frame: eth) == .datagram(UDPFrames.expected6))
        #expect(x.extract(linkType: .rawIP, frame: UDPFrames.ipv6) == .datagram(UDPFrames.expected6))
        #expect(x.extract(linkType: .ipv6, frame: UDPFrames.ipv6) == .datagram(UDPFrames.expected6))
        // Behind a hop-by-hop options header.
        var withHBH = UDPFrames.ipv6
        withHBH[6] = 0          // next header: hop-by-hop
        withHBH[5] = 0x18       // payload 24
        withHBH.insert(contentsOf: hex("11 00 01 04 00000000"), at: 40)
        #expect(x.extract(linkType: .rawIP, frame: withHBH) == .datagram(UDPFrames.expected6))
    }

    @Test("Ethernet padding after a short IP packet is not payload")
    func ethernetPadding() {
        var x = UDPExtractor()
        let padded = UDPFrames.ethernet + [UInt8](repeating: 0, count: 60 - UDPFrames.ethernet.count)
        #expect(x.extract(linkType: .ethernet, frame: padded) == .datagram(UDPFrames.expected))
    }

    @Test("not UDP is not an error")
    func notUDP() {
        var x = UDPExtractor()
        var tcp = UDPFrames.ipv4
        tcp[9] = 6
        #expect(x.extract(linkType: .rawIP, frame: tcp) == .notUDP)
        #expect(x.extract(linkType: .ethernet, frame: hex("ffffffffffff 020000000001 0806 0001 0800 0604 0001")) == .notUDP)
    }

    @Test("truncated or broken frames are malformed", arguments: [
        ("short Ethernet", LinkType.ethernet, hex("0200000000020200")),
        ("VLAN tag cut", .ethernet, hex("020000000002 020000000001 8100 00")),
        ("IPv4 header cut", .ethernet, hex("020000000002 020000000001 0800") + Array(UDPFrames.ipv4.prefix(12))),
        ("IHL below 5", .rawIP, [0x44] + Array(UDPFrames.ipv4.dropFirst())),
        ("total length below IHL", .rawIP, Array(UDPFrames.ipv4.prefix(2)) + [0, 10] + Array(UDPFrames.ipv4.dropFirst(4))),
        ("UDP header cut", .rawIP, Array(UDPFrames.ipv4.prefix(24))),
        ("UDP length past the data", .rawIP, Array(UDPFrames.ipv4.prefix(24)) + [0x00, 0x40] + Array(UDPFrames.ipv4.dropFirst(26))),
        ("UDP length below 8", .rawIP, Array(UDPFrames.ipv4.prefix(24)) + [0x00, 0x04] + Array(UDPFrames.ipv4.dropFirst(26))),
        ("SLL header cut", .linuxSLL, hex("0000 0001 0006 0200")),
        ("SLL2 header cut", .linuxSLL2, hex("0800 0000 0000")),
        ("loopback header cut", .null, hex("0200")),
        ("empty raw frame", .rawIP, []),
        ("IPv6 header cut", .rawIP, Array(UDPFrames.ipv6.prefix(30))),
        ("IPv6 extension header cut", .rawIP, Array(UDPFrames.ipv6.prefix(4)) + [0, 4, 0, 64] + Array(UDPFrames.ipv6[8..<40]) + [17, 0, 1, 4]),
        ("unsupported link type", LinkType(rawValue: 147), UDPFrames.ipv4),
    ])
    func malformed(_ name: String, _ link: LinkType, _ frame: [UInt8]) {
        var x = UDPExtractor()
        let r = x.extract(linkType: link, frame: frame)
        guard case .malformed = r else { Issue.record("\(name): \(r)"); return }
    }

    @Test("every truncation of good frames is malformed or, below the IP layer, not UDP; never a datagram")
    func truncations() {
        for (link, frame) in [(LinkType.ethernet, UDPFrames.ethernet), (.linuxSLL2, UDPFrames.sll2), (.rawIP, UDPFrames.ipv6)] {
            for n in 0..<frame.count {
                var x = UDPExtractor()
                let r = x.extract(linkType: link, frame: Array(frame.prefix(n)))
                if case .datagram = r { Issue.record("\(link) cut at \(n) gave a datagram") }
            }
        }
    }

    @Test("IPv4 fragments reassemble in order and out of order")
    func reassembly() {
        let ip = UDPFrames.udpPayload(3000)
        let frames = FrameBuilder.fragmentedUDPOverIPv4(src: IPv4Address(10, 0, 0, 1), dst: IPv4Address(10, 0, 0, 2),
                                                        srcPort: 5000, dstPort: 6343, payload: Array(ip.dropFirst(8)),
                                                        id: 77, mtu: 1500)
        #expect(frames.count == 3)
        let want = UDPDatagram(src: v4("10.0.0.1"), dst: v4("10.0.0.2"), srcPort: 5000, dstPort: 6343, payload: Array(ip.dropFirst(8)))
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]] {
            var x = UDPExtractor()
            let results = order.map { x.extract(linkType: .ethernet, frame: frames[$0]) }
            #expect(results.dropLast().allSatisfy { $0 == .fragmentHeld }, "\(order)")
            #expect(results.last == .datagram(want), "\(order)")
            #expect(x.reassembled == 1 && x.pendingReassemblies == 0 && x.fragmentsDropped == 0)
        }
        // Fragments of two datagrams interleaved.
        var x = UDPExtractor()
        let other = UDPFrames.udpPayload(16)
        let a0 = UDPFrames.fragment(id: 1, offset: 0, more: true, Array(other[0..<16]))
        let a1 = UDPFrames.fragment(id: 1, offset: 16, more: false, Array(other[16...]))
        #expect(x.extract(linkType: .ethernet, frame: frames[0]) == .fragmentHeld)
        #expect(x.extract(linkType: .ethernet, frame: a1) == .fragmentHeld)
        #expect(x.extract(linkType: .ethernet, frame: frames[2]) == .fragmentHeld)
        #expect(x.extract(linkType: .ethernet, frame: a0) == .datagram(UDPDatagram(
            src: v4("10.0.0.1"), dst: v4("10.0.0.2"), srcPort: 5000, dstPort: 6343, payload: Array(other.dropFirst(8)))))
        #expect(x.extract(linkType: .ethernet, frame: frames[1]) == .datagram(want))
        #expect(x.pendingReassemblies == 0)
    }

    @Test("overlapping fragments are rejected")
    func overlap() {
        let ip = UDPFrames.udpPayload(40)
        var x = UDPExtractor()
        #expect(x.extract(linkType: .ethernet, frame: UDPFrames.fragment(id: 9, offset: 0, more: true, Array(ip[0..<24]))) == .fragmentHeld)
        let r = x.extract(linkType: .ethernet, frame: UDPFrames.fragment(id: 9, offset: 16, more: false, Array(ip[16...])))
        guard case .malformed = r else { Issue.record("overlap gave \(r)"); return }
        #expect(x.pendingReassemblies == 0 && x.fragmentsDropped == 2)
        // The same fragment twice overlaps itself.
        var y = UDPExtractor()
        let f = UDPFrames.fragment(id: 3, offset: 0, more: true, Array(ip[0..<24]))
        #expect(y.extract(linkType: .ethernet, frame: f) == .fragmentHeld)
        guard case .malformed = y.extract(linkType: .ethernet, frame: f) else { Issue.record("duplicate accepted"); return }
    }

    @Test("a fragment lying past the final fragment's end is rejected, not assembled")
    func pastTheEnd() {
        let ip = UDPFrames.udpPayload(16)  // 24 bytes of IP payload
        var x = UDPExtractor()
        // Bytes 16..<24 first, then a "last" fragment 8..<16 that says the datagram ends at 16:
        // the byte count matches, but 0..<8 was never seen and 16..<24 lies outside the datagram.
        #expect(x.extract(linkType: .ethernet, frame: UDPFrames.fragment(id: 5, offset: 16, more: true, Array(ip[16..<24]))) == .fragmentHeld)
        let r = x.extract(linkType: .ethernet, frame: UDPFrames.fragment(id: 5, offset: 8, more: false, Array(ip[8..<16])))
        guard case .malformed = r else { Issue.record("inconsistent fragments gave \(r)"); return }
        #expect(x.pendingReassemblies == 0)
        // Two different "last" fragments: the datagram cannot end twice.
        var y = UDPExtractor()
        #expect(y.extract(linkType: .ethernet, frame: UDPFrames.fragment(id: 6, offset: 16, more: false, Array(ip[16..<24]))) == .fragmentHeld)
        let r2 = y.extract(linkType: .ethernet, frame: UDPFrames.fragment(id: 6, offset: 8, more: false, Array(ip[8..<16])))
        guard case .malformed = r2 else { Issue.record("two last fragments gave \(r2)"); return }
    }

    @Test("the number of pending reassemblies is capped; the oldest goes first")
    func pendingCap() {
        let ip = UDPFrames.udpPayload(16)
        var x = UDPExtractor()
        x.maxPending = 2
        for id: UInt16 in 1...3 {
            #expect(x.extract(linkType: .ethernet, frame: UDPFrames.fragment(id: id, offset: 0, more: true, Array(ip[0..<16]))) == .fragmentHeld)
        }
        #expect(x.pendingReassemblies == 2 && x.fragmentsDropped == 1)
        // id 1 was dropped: its last fragment alone cannot complete it; id 3 still completes.
        #expect(x.extract(linkType: .ethernet, frame: UDPFrames.fragment(id: 3, offset: 16, more: false, Array(ip[16...])))
                    == .datagram(UDPDatagram(src: v4("10.0.0.1"), dst: v4("10.0.0.2"), srcPort: 5000, dstPort: 6343,
                                             payload: Array(ip.dropFirst(8)))))
        #expect(x.extract(linkType: .ethernet, frame: UDPFrames.fragment(id: 1, offset: 16, more: false, Array(ip[16...]))) == .fragmentHeld)
        #expect(x.pendingReassemblies <= 2)
    }

    @Test("a datagram dropped for overlap leaves nothing behind that defeats the cap")
    func capAfterOverlap() {
        let ip = UDPFrames.udpPayload(40)
        var x = UDPExtractor()
        x.maxPending = 2
        let f = UDPFrames.fragment(id: 100, offset: 0, more: true, Array(ip[0..<24]))
        _ = x.extract(linkType: .ethernet, frame: f)
        _ = x.extract(linkType: .ethernet, frame: f)  // overlap: dropped
        for id: UInt16 in 1...5 {
            _ = x.extract(linkType: .ethernet, frame: UDPFrames.fragment(id: id, offset: 0, more: true, Array(ip[0..<24])))
            #expect(x.pendingReassemblies <= 2, "after id \(id)")
        }
    }

    @Test("a reassembly older than the timeout is dropped")
    func timeout() {
        let ip = UDPFrames.udpPayload(16)
        let first = UDPFrames.fragment(id: 8, offset: 0, more: true, Array(ip[0..<16]))
        let last = UDPFrames.fragment(id: 8, offset: 16, more: false, Array(ip[16...]))
        let second: UInt64 = 1_000_000_000
        var x = UDPExtractor()
        #expect(x.extract(linkType: .ethernet, frame: first, now: 5 * second) == .fragmentHeld)
        #expect(x.extract(linkType: .ethernet, frame: last, now: 5 * second + x.reassemblyTimeoutNanos + 1) == .fragmentHeld)
        #expect(x.fragmentsDropped == 1 && x.pendingReassemblies == 1 && x.reassembled == 0)
        // Within the timeout it completes.
        var y = UDPExtractor()
        #expect(y.extract(linkType: .ethernet, frame: first, now: 5 * second) == .fragmentHeld)
        if case .datagram = y.extract(linkType: .ethernet, frame: last, now: 5 * second + y.reassemblyTimeoutNanos - 1) {} else {
            Issue.record("did not complete within the timeout")
        }
    }

    @Test("IPv6 fragments reassemble")
    func ipv6Fragments() {
        let ip = UDPFrames.udpPayload(24)  // 32 bytes: UDP header + 24 data
        // The fragment header keeps the offset in 8-byte units in its top 13 bits: `off` itself, for multiples of 8.
        func frag(_ off: Int, more: Bool, _ bytes: [UInt8]) -> [UInt8] {
            var w = WireWriter()
            w.write(UInt32(0x6000_0000)); w.write(UInt16(8 + bytes.count)); w.write(UInt8(44)); w.write(UInt8(64))
            w.write(IPv6Address("2001:db8::1")!); w.write(IPv6Address("2001:db8::2")!)
            w.write(UInt8(17)); w.write(UInt8(0)); w.write(UInt16(off | (more ? 1 : 0))); w.write(UInt32(0xCAFE))
            w.write(bytes: bytes)
            return w.bytes
        }
        var x = UDPExtractor()
        #expect(x.extract(linkType: .rawIP, frame: frag(16, more: false, Array(ip[16...]))) == .fragmentHeld)
        #expect(x.extract(linkType: .rawIP, frame: frag(0, more: true, Array(ip[0..<16])))
                    == .datagram(UDPDatagram(src: v6("2001:db8::1"), dst: v6("2001:db8::2"), srcPort: 5000, dstPort: 6343,
                                             payload: Array(ip.dropFirst(8)))))
    }

    @Test("FrameBuilder headers carry a valid Internet checksum")
    func checksum() {
        let h = FrameBuilder.ipv4Header(src: IPv4Address(10, 0, 0, 1), dst: IPv4Address(10, 0, 0, 2), proto: 17, payloadLength: 100)
        #expect(FrameBuilder.internetChecksum(h[...]) == 0)
        // RFC 1071 §3 example words 0001 f203 f4f5 f6f7 sum to ddf2; the checksum is its complement.
        #expect(FrameBuilder.internetChecksum(hex("0001f203f4f5f6f7")[...]) == ~UInt16(0xDDF2))
    }
}
