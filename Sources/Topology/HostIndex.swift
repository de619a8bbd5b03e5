// Hosts by address: the topology's index, which the control round reads for both ends of every
// elephant, every round (16,384 lookups at k=32, 131,072 at k=64).
import Packets

/// Hosts by IPv4 address in an open-addressed table of its own (IPv6 addresses in a dictionary).
/// Each entry is one word, the address and the host's index, and a lookup is a multiplication and,
/// almost always, one read: a dictionary keyed by `IPAddress` hashed each address with SipHash and
/// read its keys and values from separate arrays, two or three cache misses in a table of 8,192
/// hosts. The same answers as a dictionary filled in the same order (a later host with an address
/// takes it).
public struct HostIndex: Sendable {
    /// Per slot, the address in the high half and the host index in the low half; `empty` for none.
    private let slots: [UInt64]
    private let shift: UInt64
    private let v6: [IPv6Address: HostID]
    private static let empty = UInt64.max

    public init(_ hosts: [Host]) {
        // At most half full: probes stay short.
        var bits: UInt64 = 4
        while (1 << bits) < 2 * hosts.count { bits += 1 }
        var slots = [UInt64](repeating: Self.empty, count: 1 << bits)
        shift = 64 - bits
        var v6: [IPv6Address: HostID] = [:]
        for (i, h) in hosts.enumerated() {
            let a = h.ipv4.value
            var s = Self.slot(a, shift: shift)
            while slots[s] != Self.empty && UInt32(truncatingIfNeeded: slots[s] >> 32) != a { s = (s + 1) & (slots.count - 1) }
            slots[s] = UInt64(a) << 32 | UInt64(UInt32(i))
            if let b = h.ipv6 { v6[b] = HostID(i) }
        }
        self.slots = slots
        self.v6 = v6
    }

    @inline(__always) private static func slot(_ a: UInt32, shift: UInt64) -> Int {
        Int(truncatingIfNeeded: (UInt64(a) &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The host with address `ip`, if any.
    @inline(__always) public subscript(_ ip: IPAddress) -> HostID? {
        switch ip {
        case .v4(let a): return host(a.value)
        case .v6(let b): return v6[b]
        }
    }

    @inline(__always) private func host(_ a: UInt32) -> HostID? {
        slots.withUnsafeBufferPointer { t in
            let mask = t.count - 1
            var s = Self.slot(a, shift: shift)
            while true {
                let e = t[s]
                if e == Self.empty { return nil }
                if UInt32(truncatingIfNeeded: e >> 32) == a { return HostID(Int(UInt32(truncatingIfNeeded: e))) }
                s = (s + 1) & mask
            }
        }
    }
}
