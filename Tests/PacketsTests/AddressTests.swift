import Packets
import Testing

@Suite("Addresses")
struct AddressTests {
    @Test("IPv4 dotted quad parses and prints", arguments: [
        ("0.0.0.0", UInt32(0)), ("10.0.0.1", 0x0A00_0001), ("192.0.2.255", 0xC000_02FF), ("255.255.255.255", 0xFFFF_FFFF),
    ])
    func ipv4(_ text: String, _ value: UInt32) throws {
        let a = try #require(IPv4Address(text))
        #expect(a.value == value)
        #expect(a.description == text)
        #expect(IPv4Address(value) == a)
    }

    @Test("bad IPv4 text is rejected", arguments: [
        "", "1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-4", "1..2.3", ".1.2.3", "1.2.3.", "a.b.c.d", "1.2.3.4 ",
        " 1.2.3.4", "1.2.3.4/24", "0x1.2.3.4", "1234.1.1.1", "+1.2.3.4", "1.+2.3.4", "1.2.3.٤",
    ])
    func badIPv4(_ text: String) {
        #expect(IPv4Address(text) == nil, "\(text)")
    }

    @Test("IPv6 text parses to the right bytes", arguments: [
        ("::", "00000000000000000000000000000000"),
        ("::1", "00000000000000000000000000000001"),
        ("1::", "00010000000000000000000000000000"),
        ("2001:db8::1", "20010db8000000000000000000000001"),
        ("2001:DB8:0:0:8:800:200C:417A", "20010db8000000000008080020 0c417a"),
        ("fe80::1:2", "fe800000000000000000000000010002"),
        ("::ffff:192.0.2.1", "00000000000000000000ffffc0000201"),
        ("2001:db8:1:2:3:4:5:6", "20010db8000100020003000400050006"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "20010db8000000000000000000000001"),
    ])
    func ipv6Parse(_ text: String, _ bytesHex: String) throws {
        let a = try #require(IPv6Address(text))
        #expect(a.bytes == hex(bytesHex))
        #expect(IPv6Address(bytes: hex(bytesHex)) == a)
    }

    @Test("IPv6 prints in RFC 5952 form", arguments: [
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),   // §4.1 leading zeros dropped, §4.2.1 longest run
        ("2001:db8:0:0:0:0:2:1", "2001:db8::2:1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),             // §4.2.2 one 16-bit 0 field is not compressed
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),                      // §4.2.3 the longest run
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),                // §4.2.3 the first of equal runs
        ("2001:DB8::ABCD", "2001:db8::abcd"),                         // §4.3 lowercase
        ("0:0:0:0:0:0:0:0", "::"),
        ("0:0:0:0:0:0:0:1", "::1"),
        ("1:0:0:0:0:0:0:0", "1::"),
        ("1:0:0:0:0:0:0:1", "1::1"),
        ("fe80:0:0:0:0:0:0:0", "fe80::"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
    ])
    func ipv6Print(_ text: String, _ canonical: String) throws {
        let a = try #require(IPv6Address(text))
        #expect(a.description == canonical)
        #expect(IPv6Address(canonical) == a)
    }

    @Test("bad IPv6 text is rejected", arguments: [
        "", ":", ":::", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "g::", "1:2:3:4:5:6:7:8::",
        "::1:2:3:4:5:6:7:8", ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:", "1.2.3.4::", "::1.2.3", "::1.2.3.4.5", "::256.1.1.1",
        "1::2:3:4:5:6:7:8", "fe80::1%eth0", "[::1]", "+1::", "::+ff", "1: :2",
        "0000000000000000000000000000000000000000000000000:1",
    ])
    func badIPv6(_ text: String) {
        #expect(IPv6Address(text) == nil, "\(text)")
    }

    @Test("IPAddress picks the family and orders v4 before v6")
    func ipAddress() {
        #expect(IPAddress("10.1.2.3") == .v4(IPv4Address(10, 1, 2, 3)))
        #expect(IPAddress("::1") == .v6(IPv6Address(high: 0, low: 1)))
        #expect(IPAddress("nonsense") == nil)
        #expect(IPAddress("255.255.255.255")! < IPAddress("::")!)
        #expect(IPAddress("10.0.0.1")! < IPAddress("10.0.0.2")!)
        #expect(IPv6Address(bytes: [1, 2, 3]) == nil)
    }

    @Test("MAC addresses parse with colons or dashes and print with colons")
    func mac() throws {
        let m = try #require(MACAddress("02:00:5E:10:00:FF"))
        #expect(m.value == 0x0200_5E10_00FF)
        #expect(m.description == "02:00:5e:10:00:ff")
        #expect(MACAddress("02-00-5e-10-00-ff") == m)
        #expect(m.bytes == [0x02, 0x00, 0x5E, 0x10, 0x00, 0xFF])
        #expect(MACAddress(bytes: m.bytes) == m)
        #expect(MACAddress(bytes: [1, 2, 3, 4, 5]) == nil)
        #expect(MACAddress(0xFFFF_0000_0000_0001).value == 0x0000_0000_0001) // only 48 bits are kept
    }

    @Test("bad MAC text is rejected", arguments: [
        "", "02:00:00:00:00", "02:00:00:00:00:00:00", "2:0:0:0:0:1", "02:00:00:00:00:0g", "0200.0000.0001",
        "02:00:00:00:00:001", "+2:00:00:00:00:01", "02:00:00:00:00:+1", "02:00:00:00:00:-1", "02::00:00:00:00",
    ])
    func badMAC(_ text: String) {
        #expect(MACAddress(text) == nil, "\(text)")
    }
}
