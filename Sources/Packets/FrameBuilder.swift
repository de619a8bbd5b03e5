// Builds Ethernet/IP/UDP frames around a payload: for writing captures (tests, benchmarks, the
// default run) and for synthesising sampled packet headers in the simulator.

public enum FrameBuilder {
    /// RFC 1071 Internet checksum over `bytes`.
    public static func internetChecksum(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var sum: UInt32 = 0
        var i = bytes.startIndex
        while i + 1 < bytes.endIndex {
            sum &+= UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.endIndex { sum &+= UInt32(bytes[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    /// An IPv4 header (no options) for `payloadLength` bytes of `proto`.
    public static func ipv4Header(src: IPv4Address, dst: IPv4Address, proto: UInt8, payloadLength: Int,
                                  id: UInt16 = 0, fragmentOffset: Int = 0, moreFragments: Bool = false,
                                  ttl: UInt8 = 64, tos: UInt8 = 0) -> [UInt8] {
        var w = WireWriter(capacity: 20)
        w.write(UInt8(0x45)); w.write(tos); w.write(UInt16(truncatingIfNeeded: 20 + payloadLength))
        w.write(id)
        w.write(UInt16(truncatingIfNeeded: (moreFragments ? 0x2000 : 0) | (fragmentOffset / 8)))
        w.write(ttl); w.write(proto); w.write(UInt16(0)); w.write(src); w.write(dst)
        let c = internetChecksum(w.bytes[...])
        w.patchUInt16(at: 10, c)
        return w.bytes
    }

    public static func udpHeader(srcPort: UInt16, dstPort: UInt16, payloadLength: Int) -> [UInt8] {
        var w = WireWriter(capacity: 8)
        // Checksum 0: "no checksum" is valid for UDP over IPv4 (RFC 768).
        w.write(srcPort); w.write(dstPort); w.write(UInt16(truncatingIfNeeded: 8 + payloadLength)); w.write(UInt16(0))
        return w.bytes
    }

    public static func ethernetHeader(src: MACAddress, dst: MACAddress, etherType: UInt16, vlan: UInt16? = nil) -> [UInt8] {
        var w = WireWriter(capacity: 18)
        w.write(dst); w.write(src)
        if let vlan { w.write(EtherType.vlan); w.write(vlan & 0x0FFF) }
        w.write(etherType)
        return w.bytes
    }

    /// A whole Ethernet + IPv4 + UDP frame.
    public static func udpOverIPv4(src: IPv4Address, dst: IPv4Address, srcPort: UInt16, dstPort: UInt16,
                                   payload: [UInt8], id: UInt16 = 0,
                                   srcMac: MACAddress = MACAddress(0x0200_0000_0001),
                                   dstMac: MACAddress = MACAddress(0x0200_0000_0002)) -> [UInt8] {
        ethernetHeader(src: srcMac, dst: dstMac, etherType: EtherType.ipv4)
            + ipv4Header(src: src, dst: dst, proto: IPProtocolNumber.udp, payloadLength: 8 + payload.count, id: id)
            + udpHeader(srcPort: srcPort, dstPort: dstPort, payloadLength: payload.count)
            + payload
    }

    /// The same datagram split into IPv4 fragments of at most `mtu` bytes of IP packet each.
    public static func fragmentedUDPOverIPv4(src: IPv4Address, dst: IPv4Address, srcPort: UInt16, dstPort: UInt16,
                                             payload: [UInt8], id: UInt16, mtu: Int) -> [[UInt8]] {
        let ipPayload = udpHeader(srcPort: srcPort, dstPort: dstPort, payloadLength: payload.count) + payload
        let chunk = max(8, (mtu - 20) / 8 * 8)
        var frames: [[UInt8]] = []
        var off = 0
        while off < ipPayload.count {
            let end = min(off + chunk, ipPayload.count)
            let piece = Array(ipPayload[off..<end])
            frames.append(ethernetHeader(src: MACAddress(0x0200_0000_0001), dst: MACAddress(0x0200_0000_0002), etherType: EtherType.ipv4)
                + ipv4Header(src: src, dst: dst, proto: IPProtocolNumber.udp, payloadLength: piece.count, id: id,
                             fragmentOffset: off, moreFragments: end < ipPayload.count)
                + piece)
            off = end
        }
        return frames
    }

    /// The first bytes of a TCP or UDP packet as a switch would sample them: Ethernet, IPv4,
    /// and a transport header (used to synthesise sampled headers).
    public static func sampledIPv4Header(srcMac: MACAddress, dstMac: MACAddress, src: IPv4Address, dst: IPv4Address,
                                         proto: UInt8, srcPort: UInt16, dstPort: UInt16, ipLength: Int,
                                         vlan: UInt16? = nil) -> [UInt8] {
        var transport = WireWriter(capacity: 20)
        transport.write(srcPort); transport.write(dstPort)
        if proto == IPProtocolNumber.tcp {
            transport.write(UInt32(1)); transport.write(UInt32(0))
            transport.write(UInt8(0x50)); transport.write(UInt8(0x10)); transport.write(UInt16(65535))
            transport.write(UInt16(0)); transport.write(UInt16(0))
        } else {
            transport.write(UInt16(truncatingIfNeeded: max(8, ipLength - 20))); transport.write(UInt16(0))
        }
        return ethernetHeader(src: srcMac, dst: dstMac, etherType: EtherType.ipv4, vlan: vlan)
            + ipv4Header(src: src, dst: dst, proto: proto, payloadLength: max(0, ipLength - 20))
            + transport.bytes
    }
}
