import Packets
import Testing

// Sampled headers written byte by byte from the protocol layouts (IEEE 802.3/802.1Q/802.1ad,
// RFC 791, RFC 8200, RFC 9293, RFC 768, RFC 792, RFC 4443).
enum Frames {
    /// Ethernet / 802.1Q (PCP 5, VID 100) / IPv4 (TOS 0xb8, TTL 64) / TCP 50000 > 5201 PSH|ACK: 58 bytes.
    static let vlanTCP = hex("""
    020000000002 020000000001         # destination, source MAC
    8100 a064                         # 802.1Q TPID, TCI: PCP 5 VID 100
    0800                              # IPv4
    45 b8 05dc 1c46 4000 40 06 0000   # IHL 5, TOS, total 1500, id, DF, TTL 64, TCP, checksum
    0a000001 0a000002                 # 10.0.0.1 > 10.0.0.2
    c350 1451 00000001 00000000       # ports 50000 > 5201, seq, ack
    50 18 ffff 0000 0000              # data offset 5, PSH|ACK, window, checksum, urgent
    """)

    /// Ethernet II / IPv4 / UDP 54321 > 53 with 4 bytes of payload.
    static let udp = hex("""
    020000000002 020000000001 0800
    45 00 0020 0001 0000 40 11 0000   # total 32, TTL 64, UDP
    c0000201 c0000202                 # 192.0.2.1 > 192.0.2.2
    d431 0035 000c 0000               # UDP 54321 > 53, length 12
    deadbeef
    """)

    /// QinQ: 802.1ad S-tag (0x88a8, VID 200) then 802.1Q C-tag (0x8100, PCP 5, VID 10) / IPv4 / UDP.
    static let qinq = hex("""
    020000000002 020000000001
    88a8 00c8                         # S-tag: PCP 0, VID 200
    8100 a00a                         # C-tag: PCP 5, VID 10
    0800
    45 00 001c 0001 0000 40 11 0000
    0a000101 0a000102                 # 10.0.1.1 > 10.0.1.2
    1000 2000 0008 0000               # UDP 4096 > 8192
    """)

    /// IPv4 with 8 bytes of options (IHL 7) / TCP SYN 40000 > 443.
    static let ipv4Options = hex("""
    020000000002 020000000001 0800
    47 00 0030 0002 0000 40 06 0000   # IHL 7
    0a000001 0a000002
    01 01 01 00 00000000              # options: NOP NOP NOP EOL, padding
    9c40 01bb 00000000 00000000       # TCP 40000 > 443
    50 02 ffff 0000 0000              # SYN
    """)

    /// The first IPv4 fragment (MF, offset 0) of a UDP datagram: it carries the UDP header.
    static let firstFragment = hex("""
    020000000002 020000000001 0800
    45 00 05dc 1234 2000 40 11 0000   # MF set, offset 0
    0a000001 0a000002
    0fa1 17c1 0fa0 0000               # UDP 4001 > 6081, length 4000
    """)

    /// A later fragment (offset 1480, last): its first bytes are data, not a UDP header.
    static let laterFragment = hex("""
    020000000002 020000000001 0800
    45 00 05dc 1234 00b9 40 11 0000   # MF clear, offset 185 * 8 = 1480
    0a000001 0a000002
    0fa1 17c1 0fa0 0000               # payload bytes that look like ports
    """)

    /// IPv6 with hop-by-hop, routing and fragment (first, M=1) extension headers / TCP 80 > 50000 ACK.
    static let ipv6Ext = hex("""
    020000000002 020000000001 86dd
    6 00 00000 0050 00 40             # version 6, class 0, flow 0, payload 80, next hop-by-hop, hop limit 64
    20010db8000000000000000000000001  # source 2001:db8::1
    20010db8000000000000000000000002  # destination 2001:db8::2
    2b 00 01 04 00000000              # hop-by-hop: next routing, 8 bytes, PadN
    2c 02 00 01 00000000              # routing: next fragment, 24 bytes, segments left 1
    20010db80000000000000000000000ff  #   address
    06 00 0001 12345678               # fragment: next TCP, offset 0, M=1, id
    0050 c350 00000000 00000000       # TCP 80 > 50000
    50 10 ffff 0000 0000              # ACK
    """)

    /// A later IPv6 fragment: no transport header in it.
    static let ipv6LaterFragment = hex("""
    020000000002 020000000001 86dd
    60000000 0010 2c 40               # next header: fragment
    20010db8000000000000000000000001
    20010db8000000000000000000000002
    11 00 05c8 12345678               # fragment: next UDP, offset 185 (1480 bytes), M=0
    0035 0035 00000000                # payload bytes
    """)

    /// IPv6 / UDP 8080 > 53.
    static let ipv6UDP = hex("""
    020000000002 020000000001 86dd
    60000000 0008 11 40
    20010db8000000000000000000000001
    20010db8000000000000000000000002
    1f90 0035 0008 0000
    """)

    static let icmp = hex("""
    020000000002 020000000001 0800
    45 00 0038 0003 0000 40 01 0000   # ICMP
    c0000201 c0000202
    03 03 0000 00000000               # destination unreachable, port unreachable
    """)

    static let icmpv6 = hex("""
    020000000002 020000000001 86dd
    60000000 0008 3a 40               # next header 58 (ICMPv6)
    fe800000000000000000000000000001
    ff020000000000000000000000000001
    80 00 0000 00010001               # echo request
    """)

    static let arp = hex("""
    ffffffffffff 020000000001 0806
    0001 0800 06 04 0001
    """)
}

@Suite("Sampled header parsing")
struct HeaderParserTests {
    @Test("Ethernet II / IPv4 / UDP")
    func ethernetUDP() {
        let p = HeaderParser.parseEthernet(Frames.udp)
        #expect(p.ethDst == MACAddress(0x0200_0000_0002) && p.ethSrc == MACAddress(0x0200_0000_0001))
        #expect(p.vlan == nil && p.innerVlan == nil && p.etherType == EtherType.ipv4)
        #expect(p.ipVersion == 4 && p.ttl == 64 && p.tos == 0 && p.ipLength == 32 && p.proto == 17)
        #expect(p.flowKey == FlowKey(src: v4("192.0.2.1"), dst: v4("192.0.2.2"), proto: 17, sport: 54321, dport: 53))
        #expect(p.tcpFlags == nil && !p.truncated && !p.isFragment)
    }

    @Test("802.1Q tag: VLAN id and priority")
    func dot1q() {
        let p = HeaderParser.parseEthernet(Frames.vlanTCP)
        #expect(p.vlan == 100 && p.vlanPCP == 5 && p.innerVlan == nil)
        #expect(p.etherType == EtherType.ipv4 && p.tos == 0xB8 && p.ipLength == 1500)
        #expect(p.flowKey == FlowKey(src: v4("10.0.0.1"), dst: v4("10.0.0.2"), proto: 6, sport: 50000, dport: 5201))
        #expect(p.tcpFlags == 0x18 && !p.truncated)
    }

    @Test("QinQ: 802.1ad service tag outside, 802.1Q customer tag inside")
    func qinq() {
        let p = HeaderParser.parseEthernet(Frames.qinq)
        #expect(p.vlan == 200 && p.innerVlan == 10 && p.vlanPCP == 0)
        #expect(p.etherType == EtherType.ipv4)
        #expect(p.flowKey == FlowKey(src: v4("10.0.1.1"), dst: v4("10.0.1.2"), proto: 17, sport: 4096, dport: 8192))
    }

    @Test("IPv4 options are skipped by IHL")
    func ipv4Options() {
        let p = HeaderParser.parseEthernet(Frames.ipv4Options)
        #expect(p.flowKey == FlowKey(src: v4("10.0.0.1"), dst: v4("10.0.0.2"), proto: 6, sport: 40000, dport: 443))
        #expect(p.tcpFlags == 0x02 && !p.truncated)
        // Options announced but cut: truncated, addresses kept, no ports.
        let cut = HeaderParser.parseEthernet(Array(Frames.ipv4Options.prefix(14 + 24)))
        #expect(cut.truncated && cut.src == v4("10.0.0.1") && cut.sport == nil)
        // IHL below 5 is not a header.
        var bad = Frames.udp
        bad[14] = 0x44
        #expect(HeaderParser.parseEthernet(bad).truncated && HeaderParser.parseEthernet(bad).src == nil)
        // Version field disagreeing with the EtherType.
        bad[14] = 0x65
        #expect(HeaderParser.parseEthernet(bad).src == nil)
    }

    @Test("IPv4 fragments: the first carries ports, later ones do not")
    func ipv4Fragments() {
        let first = HeaderParser.parseEthernet(Frames.firstFragment)
        #expect(first.isFragment && first.firstFragment)
        #expect(first.sport == 4001 && first.dport == 6081)
        let later = HeaderParser.parseEthernet(Frames.laterFragment)
        #expect(later.isFragment && !later.firstFragment)
        #expect(later.sport == nil && later.dport == nil && !later.truncated)
        #expect(later.flowKey == FlowKey(src: v4("10.0.0.1"), dst: v4("10.0.0.2"), proto: 17, sport: 0, dport: 0))
    }

    @Test("IPv6 hop-by-hop, routing and fragment extension headers are walked to TCP")
    func ipv6Extensions() {
        let p = HeaderParser.parseEthernet(Frames.ipv6Ext)
        #expect(p.ipVersion == 6 && p.etherType == EtherType.ipv6 && p.ttl == 64 && p.ipLength == 120)
        #expect(p.isFragment && p.firstFragment)
        #expect(p.flowKey == FlowKey(src: v6("2001:db8::1"), dst: v6("2001:db8::2"), proto: 6, sport: 80, dport: 50000))
        #expect(p.tcpFlags == 0x10 && !p.truncated)

        let later = HeaderParser.parseEthernet(Frames.ipv6LaterFragment)
        #expect(later.isFragment && !later.firstFragment && later.proto == 17)
        #expect(later.sport == nil && later.dport == nil)

        // Cut inside the routing header: the protocol named is the extension header, and truncated.
        let cut = HeaderParser.parseEthernet(Array(Frames.ipv6Ext.prefix(14 + 40 + 8 + 10)))
        #expect(cut.truncated && cut.proto == 43 && cut.src == v6("2001:db8::1") && cut.sport == nil)
    }

    @Test("IPv6 traffic class")
    func ipv6TrafficClass() {
        var f = Frames.ipv6UDP
        f[14] = 0x6B; f[15] = 0x80  // traffic class 0xb8
        let p = HeaderParser.parseEthernet(f)
        #expect(p.tos == 0xB8)
        #expect(p.flowKey == FlowKey(src: v6("2001:db8::1"), dst: v6("2001:db8::2"), proto: 17, sport: 8080, dport: 53))
    }

    @Test("TCP flags are byte 13 of the TCP header", arguments: [UInt8(0x02), 0x12, 0x11, 0x04, 0xC2, 0xFF])
    func tcpFlags(_ flags: UInt8) {
        var f = Frames.vlanTCP
        f[18 + 20 + 13] = flags
        #expect(HeaderParser.parseEthernet(f).tcpFlags == flags)
    }

    @Test("ICMP and ICMPv6: type and code stand in for the ports")
    func icmp() {
        let p = HeaderParser.parseEthernet(Frames.icmp)
        #expect(p.icmpType == 3 && p.icmpCode == 3 && p.sport == nil)
        #expect(p.flowKey == FlowKey(src: v4("192.0.2.1"), dst: v4("192.0.2.2"), proto: 1, sport: 3, dport: 3))
        let q = HeaderParser.parseEthernet(Frames.icmpv6)
        #expect(q.icmpType == 128 && q.icmpCode == 0)
        #expect(q.flowKey == FlowKey(src: v6("fe80::1"), dst: v6("ff02::1"), proto: 58, sport: 128, dport: 0))
    }

    @Test("non-IP frames keep their link layer only")
    func arp() {
        let p = HeaderParser.parseEthernet(Frames.arp)
        #expect(p.etherType == EtherType.arp && p.ethDst == MACAddress(0xFFFF_FFFF_FFFF))
        #expect(p.src == nil && p.flowKey == nil && !p.truncated)
    }

    /// Where each field of `Frames.vlanTCP` ends: it must be there from that length on.
    /// (The IPv4 fixed header is taken as one unit: its fields are only read together.)
    @Test("Ethernet/802.1Q/IPv4/TCP cut at every length keeps what it holds")
    func cutEveryLength() {
        let full = HeaderParser.parseEthernet(Frames.vlanTCP)
        for n in 0...Frames.vlanTCP.count {
            let p = HeaderParser.parseEthernet(Array(Frames.vlanTCP.prefix(n)))
            #expect((p.ethDst != nil) == (n >= 6), "length \(n)")
            #expect((p.ethSrc != nil) == (n >= 12), "length \(n)")
            #expect((p.vlan != nil) == (n >= 16), "length \(n)")
            if n >= 6 { #expect(p.ethDst == full.ethDst) }
            if n >= 12 { #expect(p.ethSrc == full.ethSrc) }
            if n >= 16 { #expect(p.vlan == 100 && p.vlanPCP == 5) }
            if n >= 18 { #expect(p.etherType == EtherType.ipv4) }
            #expect((p.src != nil) == (n >= 38), "length \(n)")
            if n >= 38 { #expect(p.src == full.src && p.dst == full.dst && p.proto == 6 && p.ttl == 64 && p.tos == 0xB8) }
            #expect((p.sport != nil) == (n >= 42), "length \(n)")
            if n >= 42 { #expect(p.flowKey == full.flowKey) }
            #expect((p.tcpFlags != nil) == (n >= 52), "length \(n)")
            if n < 52 { #expect(p.truncated, "length \(n)") }
        }
        #expect(!full.truncated)
    }

    @Test("IPv6/UDP cut at every length keeps what it holds")
    func cutEveryLengthIPv6() {
        for n in 0...Frames.ipv6UDP.count {
            let p = HeaderParser.parseEthernet(Array(Frames.ipv6UDP.prefix(n)))
            #expect((p.src != nil) == (n >= 54), "length \(n)")
            #expect((p.dport != nil) == (n >= 58), "length \(n)")
            #expect(p.truncated == (n < 58), "length \(n)")
            if n >= 58 { #expect(p.flowKey?.dport == 53 && p.flowKey?.sport == 8080) }
        }
        // Every other frame, cut anywhere, never reports a wrong value.
        for frame in [Frames.ipv6Ext, Frames.qinq, Frames.ipv4Options, Frames.icmp, Frames.icmpv6, Frames.firstFragment] {
            let full = HeaderParser.parseEthernet(frame)
            for n in 0..<frame.count {
                let p = HeaderParser.parseEthernet(Array(frame.prefix(n)))
                if p.src != nil { #expect(p.src == full.src && p.dst == full.dst) }
                if let s = p.sport { #expect(s == full.sport) }
                if let v = p.vlan { #expect(v == full.vlan) }
                if let t = p.icmpType { #expect(t == full.icmpType) }
            }
        }
    }

    @Test("raw IPv4 and IPv6 packets (no link layer)")
    func rawIP() {
        let p4 = HeaderParser.parseIPv4Packet(UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(p4.truncated && p4.src == nil)
        let ip4 = Array(Frames.udp.dropFirst(14))
        let q4 = ip4.withUnsafeBytes { HeaderParser.parseIPv4Packet($0) }
        #expect(q4.ethSrc == nil && q4.flowKey?.dport == 53)
        let ip6 = Array(Frames.ipv6UDP.dropFirst(14))
        let q6 = ip6.withUnsafeBytes { HeaderParser.parseIPv6Packet($0) }
        #expect(q6.flowKey?.sport == 8080)
    }

    @Test("a stack of many VLAN tags ends without reading past the bytes")
    func manyTags() {
        var f = Array(Frames.udp.prefix(12))
        for _ in 0..<20 { f += [0x81, 0x00, 0x00, 0x05] }
        f += [0x08, 0x00]
        let p = HeaderParser.parseEthernet(f)
        #expect(p.vlan == 5 && p.innerVlan == 5)
        #expect(p.src == nil)
    }
}
