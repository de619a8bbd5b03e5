// Cookies say what an entry is, so that reconciliation can tell Tusk's entries from anyone else's
// and, among Tusk's, the proactive fabric from elephant placements (OF 1.3.5 §7.3.4.1: the cookie is
// opaque to the switch and can restrict flow-mod deletes and flow-stats requests via cookie_mask).
//
//   63            48 47        40 39                                   0
//  +----------------+------------+--------------------------------------+
//  | owner ("TF"..) |   kind     |  id (host index, flow hash, ...)     |
//  +----------------+------------+--------------------------------------+
//
// The owner prefix of elephant entries is the elephant programmer's `cookiePrefix` ("TS", 0x5453).

/// A Tusk flow cookie: owner in the top 16 bits, entry kind in the next 8, an id below.
public struct FabricCookie: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Who owns an entry: the top 16 bits of its cookie.
    public struct Owner: RawRepresentable, Hashable, Sendable {
        public var rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        /// "TF": the proactive ECMP fabric (per-destination entries).
        public static let fabric = Owner(rawValue: 0x5446)
        /// "TS": elephant placements (exact 5-tuple entries with an idle timeout).
        public static let elephant = Owner(rawValue: 0x5453)
        /// "TB": entries pushed by `tusk controller bench-program`.
        public static let benchmark = Owner(rawValue: 0x5442)
    }

    /// What a fabric entry forwards.
    public struct Kind: RawRepresentable, Hashable, Sendable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// IPv4 packets to one host (`ip,nw_dst=`).
        public static let ipv4 = Kind(rawValue: 1)
        /// ARP to one host, by target protocol address (`arp,arp_tpa=`).
        public static let arp = Kind(rawValue: 2)
        /// IPv6 packets to one host (`ipv6,ipv6_dst=`).
        public static let ipv6 = Kind(rawValue: 3)
        /// IPv6 neighbour solicitations for one host, by ND target.
        public static let neighborSolicitation = Kind(rawValue: 4)
        /// A benchmark entry.
        public static let benchmark = Kind(rawValue: 0x42)
    }

    /// Mask selecting the owner bits (for `cookie_mask`).
    public static let ownerMask: UInt64 = 0xFFFF_0000_0000_0000
    public static let idMask: UInt64 = 0xFF_FFFF_FFFF

    public init(owner: Owner, kind: Kind, id: UInt64) {
        rawValue = UInt64(owner.rawValue) << 48 | UInt64(kind.rawValue) << 40 | (id & FabricCookie.idMask)
    }

    public static func fabric(_ kind: Kind, id: UInt64) -> FabricCookie { FabricCookie(owner: .fabric, kind: kind, id: id) }

    public var owner: Owner { Owner(rawValue: UInt16(truncatingIfNeeded: rawValue >> 48)) }
    public var kind: Kind { Kind(rawValue: UInt8(truncatingIfNeeded: rawValue >> 40)) }
    public var id: UInt64 { rawValue & FabricCookie.idMask }
    public var isFabric: Bool { owner == .fabric }
    /// Any of Tusk's owners.
    public var isTusk: Bool { owner == .fabric || owner == .elephant || owner == .benchmark }

    public var description: String { "0x" + String(rawValue, radix: 16) }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// Group ids of the fabric's ECMP groups: "TF" in the top 16 bits, the destination switch below
/// (OF 1.3.5 §7.3.4.3: group ids up to `OFPG_MAX` = 0xffffff00).
public enum FabricGroupID {
    public static let prefix: UInt32 = 0x5446_0000
    public static func toward(switchIndex: Int) -> UInt32 { prefix | UInt32(truncatingIfNeeded: switchIndex & 0xFFFF) }
    public static func isFabric(_ raw: UInt32) -> Bool { raw & 0xFFFF_0000 == prefix }
}
