// The fabric as Tusk sees it: switches (datapath id, role), numbered ports, links with a capacity,
// and hosts attached to a switch port. One model serves the controller (which programs a real
// fabric from it) and the simulator (which turns every link into two directed channels).
import Packets

/// What a switch does in the fabric. An open set: roles the builders do not know survive a round trip.
public struct SwitchRole: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public static let edge = SwitchRole("edge")
    public static let aggregation = SwitchRole("aggregation")
    public static let core = SwitchRole("core")
    public static let leaf = SwitchRole("leaf")
    public static let spine = SwitchRole("spine")

    public var description: String { rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// Index of a switch in `Topology.switches`.
public struct SwitchID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var index: Int
    @inlinable public init(_ index: Int) { self.index = index }
    public var description: String { "switch#\(index)" }
    public static func < (a: Self, b: Self) -> Bool { a.index < b.index }
}

/// Index of a host in `Topology.hosts`.
public struct HostID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var index: Int
    @inlinable public init(_ index: Int) { self.index = index }
    public var description: String { "host#\(index)" }
    public static func < (a: Self, b: Self) -> Bool { a.index < b.index }
}

/// Index of a (bidirectional) link in `Topology.links`.
public struct LinkID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var index: Int
    @inlinable public init(_ index: Int) { self.index = index }
    public var description: String { "link#\(index)" }
    public static func < (a: Self, b: Self) -> Bool { a.index < b.index }
}

/// One direction of a link: `2 * link + 0` goes from `a` to `b`, `2 * link + 1` from `b` to `a`.
/// Paths are lists of these, because a link's two directions are loaded independently.
///
/// Held in 32 bits: every candidate path of every elephant is a list of these (at k=32, two million
/// paths), and half the width is half the memory they take and the cache they pass through. It hashes
/// and compares as its `index` (an `Int`), exactly as it did when it stored one, so that no set or
/// dictionary of them changes its order.
public struct DirectedLinkID: Hashable, Sendable, Comparable, CustomStringConvertible {
    @usableFromInline var raw: Int32
    @inlinable public var index: Int {
        get { Int(raw) }
        set { raw = Int32(newValue) }
    }
    @inlinable public init(_ index: Int) { raw = Int32(index) }
    @inlinable public init(link: LinkID, fromA: Bool) { raw = Int32(link.index &* 2 &+ (fromA ? 0 : 1)) }
    @inlinable public func hash(into hasher: inout Hasher) { hasher.combine(index) }
    @inlinable public static func == (a: Self, b: Self) -> Bool { a.raw == b.raw }
    @inlinable public var link: LinkID { LinkID(index >> 1) }
    /// True when this direction runs from the link's `a` end to its `b` end.
    @inlinable public var fromA: Bool { index & 1 == 0 }
    @inlinable public var reversed: DirectedLinkID { DirectedLinkID(index ^ 1) }
    public var description: String { "\(link.index)\(fromA ? "+" : "-")" }
    public static func < (a: Self, b: Self) -> Bool { a.index < b.index }
}

/// A port on a switch, by the switch and its OpenFlow port number.
public struct PortRef: Hashable, Sendable, Comparable {
    public var switchID: SwitchID
    public var port: UInt32
    public init(_ switchID: SwitchID, _ port: UInt32) {
        self.switchID = switchID
        self.port = port
    }
    public static func < (a: Self, b: Self) -> Bool { (a.switchID, a.port) < (b.switchID, b.port) }
}

/// One end of a link: a host's interface or a switch port.
public enum Endpoint: Hashable, Sendable {
    case host(HostID)
    case port(PortRef)

    public var switchPort: PortRef? {
        if case .port(let p) = self { return p }
        return nil
    }

    public var hostID: HostID? {
        if case .host(let h) = self { return h }
        return nil
    }
}

public struct Switch: Hashable, Sendable {
    public var name: String
    /// OpenFlow datapath id.
    public var dpid: UInt64
    public var role: SwitchRole
    /// The switch's sFlow agent address, for switches that do not send the OpenFlow port (1004)
    /// and port name (1005) records: with it, the analytics map ifIndex `ifIndexBase + port` to
    /// this switch's OpenFlow port.
    public var agent: IPAddress?
    public var ifIndexBase: UInt32

    public init(name: String, dpid: UInt64, role: SwitchRole, agent: IPAddress? = nil, ifIndexBase: UInt32 = 0) {
        self.name = name
        self.dpid = dpid
        self.role = role
        self.agent = agent
        self.ifIndexBase = ifIndexBase
    }
}

public struct Host: Hashable, Sendable {
    public var name: String
    public var ipv4: IPv4Address
    public var ipv4PrefixLength: Int
    public var ipv6: IPv6Address?
    public var ipv6PrefixLength: Int
    public var mac: MACAddress
    /// The switch port the host's interface is cabled to.
    public var attachment: PortRef
    /// Capacity of the host's link, bits per second, each direction.
    public var capacity: UInt64

    public init(name: String, ipv4: IPv4Address, ipv4PrefixLength: Int = 32,
                ipv6: IPv6Address? = nil, ipv6PrefixLength: Int = 128,
                mac: MACAddress, attachment: PortRef, capacity: UInt64) {
        self.name = name
        self.ipv4 = ipv4
        self.ipv4PrefixLength = ipv4PrefixLength
        self.ipv6 = ipv6
        self.ipv6PrefixLength = ipv6PrefixLength
        self.mac = mac
        self.attachment = attachment
        self.capacity = capacity
    }
}

/// A full-duplex link; `capacity` is bits per second in each direction.
public struct Link: Hashable, Sendable {
    public var a: Endpoint
    public var b: Endpoint
    public var capacity: UInt64

    public init(a: Endpoint, b: Endpoint, capacity: UInt64) {
        self.a = a
        self.b = b
        self.capacity = capacity
    }

    public var isHostLink: Bool { a.hostID != nil || b.hostID != nil }
}

/// A switch port and what is cabled to it.
public struct Port: Hashable, Sendable {
    public var number: UInt32
    public var link: LinkID
    /// What the far end of the link is: a host, or another switch's port.
    public var peer: Endpoint
    /// The direction of `link` that leaves the switch through this port.
    public var egress: DirectedLinkID
    public var capacity: UInt64
}

/// A validated fabric. Build one with `Topology(name:switches:links:hosts:)`, a builder
/// (`Topology.fatTree(k:)`, `Topology.leafSpine(...)`) or `Topology(yaml:)`.
///
/// `links` holds the fabric links first (in the order given) and then one link per host
/// (`a` is the switch port, `b` the host), so `hostLink(of:)` is `links[fabricLinkCount + host]`.
public struct Topology: Hashable, Sendable {
    public var name: String
    public private(set) var switches: [Switch]
    public private(set) var hosts: [Host]
    public private(set) var links: [Link]
    public private(set) var fabricLinkCount: Int
    /// Ports of each switch, sorted by port number.
    public private(set) var ports: [[Port]]
    private var switchByName: [String: SwitchID]
    private var hostByName: [String: HostID]
    private var switchByDPID: [UInt64: SwitchID]
    /// Hosts by IPv4 (and IPv6) address.
    public private(set) var hostsByAddress = HostIndex([])
    private var hostByMAC: [MACAddress: HostID] = [:]
    /// Switch-to-switch neighbours of each switch, by port number (see `switchNeighbours`).
    var neighbourCache: [[(egress: DirectedLinkID, neighbour: SwitchID)]] = []

    /// Validates and indexes a fabric. `links` are switch-to-switch links; host links come from `hosts`.
    public init(name: String, switches: [Switch], links: [Link], hosts: [Host]) throws(TopologyError) {
        try self.init(name: name, switches: switches, links: links, hosts: hosts, lines: nil)
    }

    /// `lines` gives the source line of each switch, link and host, for error messages.
    init(name: String, switches: [Switch], links fabric: [Link], hosts: [Host], lines: SourceLines?) throws(TopologyError) {
        self.name = name
        self.switches = switches
        self.hosts = hosts
        self.fabricLinkCount = fabric.count
        var byName: [String: SwitchID] = [:]
        var byDPID: [UInt64: SwitchID] = [:]
        for (i, s) in switches.enumerated() {
            let line = lines?.switches[i]
            guard Topology.isValidName(s.name) else {
                throw TopologyError(line: line, "switch name '\(s.name)' is not valid (letters, digits, '-', '_', '.')")
            }
            if let prev = byName[s.name] {
                throw TopologyError(line: line, "duplicate switch name '\(s.name)'\(lines.map { " (first on line \($0.switches[prev.index]))" } ?? "")")
            }
            if let prev = byDPID[s.dpid] {
                throw TopologyError(line: line, "switch '\(s.name)' has datapath id \(s.dpid), already used by '\(switches[prev.index].name)'")
            }
            byName[s.name] = SwitchID(i)
            byDPID[s.dpid] = SwitchID(i)
        }
        switchByName = byName
        switchByDPID = byDPID

        var all = fabric
        var portOwner: [PortRef: Int] = [:] // index into `all`
        func claim(_ p: PortRef, link: Int, line: Int?) throws(TopologyError) {
            guard p.switchID.index >= 0, p.switchID.index < switches.count else {
                throw TopologyError(line: line, "unknown switch #\(p.switchID.index)")
            }
            guard p.port != 0, p.port < 0xFFFF_FF00 else {
                throw TopologyError(line: line, "port \(p.port) on '\(switches[p.switchID.index].name)' is not a valid port number")
            }
            if let prev = portOwner[p] {
                let where_ = lines.map { l -> String in
                    let prevLine = prev < fabric.count ? l.links[prev] : l.hosts[prev - fabric.count]
                    return " (already used on line \(prevLine))"
                } ?? ""
                throw TopologyError(line: line, "duplicate port \(switches[p.switchID.index].name):\(p.port)\(where_)")
            }
            portOwner[p] = link
        }
        for (i, l) in fabric.enumerated() {
            let line = lines?.links[i]
            guard let pa = l.a.switchPort, let pb = l.b.switchPort else {
                throw TopologyError(line: line, "a fabric link must join two switch ports; hosts are cabled in 'hosts'")
            }
            guard pa.switchID != pb.switchID || pa.port != pb.port else {
                throw TopologyError(line: line, "link joins a port to itself")
            }
            guard l.capacity > 0 else { throw TopologyError(line: line, "link capacity must be positive") }
            try claim(pa, link: i, line: line)
            try claim(pb, link: i, line: line)
        }
        var hByName: [String: HostID] = [:]
        var seenIPv4: [IPv4Address: Int] = [:]
        var seenMAC: [MACAddress: Int] = [:]
        for (i, h) in hosts.enumerated() {
            let line = lines?.hosts[i]
            guard Topology.isValidName(h.name) else {
                throw TopologyError(line: line, "host name '\(h.name)' is not valid (letters, digits, '-', '_', '.')")
            }
            if hByName[h.name] != nil || byName[h.name] != nil {
                throw TopologyError(line: line, "duplicate name '\(h.name)'")
            }
            if let prev = seenIPv4[h.ipv4] {
                throw TopologyError(line: line, "host '\(h.name)' has address \(h.ipv4), already used by '\(hosts[prev].name)'")
            }
            if let prev = seenMAC[h.mac] {
                throw TopologyError(line: line, "host '\(h.name)' has MAC \(h.mac), already used by '\(hosts[prev].name)'")
            }
            guard (0...32).contains(h.ipv4PrefixLength), (0...128).contains(h.ipv6PrefixLength) else {
                throw TopologyError(line: line, "host '\(h.name)' has an invalid prefix length")
            }
            guard h.capacity > 0 else { throw TopologyError(line: line, "host '\(h.name)' link capacity must be positive") }
            try claim(h.attachment, link: fabric.count + i, line: line)
            hByName[h.name] = HostID(i)
            seenIPv4[h.ipv4] = i
            seenMAC[h.mac] = i
            all.append(Link(a: .port(h.attachment), b: .host(HostID(i)), capacity: h.capacity))
        }
        hostByName = hByName
        hostsByAddress = HostIndex(hosts)
        hostByMAC = seenMAC.mapValues(HostID.init)
        links = all

        var ports = [[Port]](repeating: [], count: switches.count)
        for (i, l) in all.enumerated() {
            let id = LinkID(i)
            if let pa = l.a.switchPort {
                ports[pa.switchID.index].append(Port(number: pa.port, link: id, peer: l.b,
                                                     egress: DirectedLinkID(link: id, fromA: true), capacity: l.capacity))
            }
            if let pb = l.b.switchPort {
                ports[pb.switchID.index].append(Port(number: pb.port, link: id, peer: l.a,
                                                     egress: DirectedLinkID(link: id, fromA: false), capacity: l.capacity))
            }
        }
        for i in ports.indices { ports[i].sort { $0.number < $1.number } }
        self.ports = ports
        neighbourCache = ports.map { ps in ps.compactMap { p in p.peer.switchPort.map { (p.egress, $0.switchID) } } }
    }

    // Equality and hashing: what the fabric is (the indexes follow from it).
    public static func == (a: Topology, b: Topology) -> Bool {
        a.name == b.name && a.switches == b.switches && a.hosts == b.hosts && a.links == b.links
            && a.fabricLinkCount == b.fabricLinkCount
    }

    public func hash(into h: inout Hasher) {
        h.combine(name)
        h.combine(switches)
        h.combine(hosts)
        h.combine(links)
    }

    static func isValidName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 64 && s.unicodeScalars.allSatisfy {
            ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || $0 == "-" || $0 == "_" || $0 == "."
        }
    }

    // MARK: Lookups

    public var switchIDs: [SwitchID] { switches.indices.map(SwitchID.init) }
    public var hostIDs: [HostID] { hosts.indices.map(HostID.init) }

    public subscript(_ id: SwitchID) -> Switch { switches[id.index] }
    public subscript(_ id: HostID) -> Host { hosts[id.index] }
    public subscript(_ id: LinkID) -> Link { links[id.index] }

    public func switchID(named name: String) -> SwitchID? { switchByName[name] }
    public func switchID(dpid: UInt64) -> SwitchID? { switchByDPID[dpid] }
    public func hostID(named name: String) -> HostID? { hostByName[name] }
    public func hostID(ipv4: IPv4Address) -> HostID? { hostsByAddress[.v4(ipv4)] }
    public func hostID(mac: MACAddress) -> HostID? { hostByMAC[mac] }

    /// The ports of a switch, sorted by number.
    public func ports(of s: SwitchID) -> [Port] { ports[s.index] }

    public func port(_ p: PortRef) -> Port? { ports[p.switchID.index].first { $0.number == p.port } }

    /// The link between a host and its switch (`a` is the switch port, `b` the host).
    public func hostLink(of h: HostID) -> LinkID { LinkID(fabricLinkCount + h.index) }
    /// The direction a host sends on.
    public func uplink(of h: HostID) -> DirectedLinkID { DirectedLinkID(link: hostLink(of: h), fromA: false) }
    /// The direction a host receives on.
    public func downlink(of h: HostID) -> DirectedLinkID { DirectedLinkID(link: hostLink(of: h), fromA: true) }

    /// The hosts cabled to a switch.
    public func hosts(on s: SwitchID) -> [HostID] { ports[s.index].compactMap { $0.peer.hostID } }

    /// Where a directed link starts and ends.
    public func ends(of d: DirectedLinkID) -> (from: Endpoint, to: Endpoint) {
        let l = links[d.link.index]
        return d.fromA ? (l.a, l.b) : (l.b, l.a)
    }

    public func capacity(of d: DirectedLinkID) -> UInt64 { links[d.link.index].capacity }

    /// Sum of the host link capacities: the throughput of a full-bisection (non-blocking) fabric.
    public var totalHostCapacity: UInt64 { hosts.reduce(0) { $0 + $1.capacity } }

    /// `name:port` for a switch port, the host name for a host.
    public func describe(_ e: Endpoint) -> String {
        switch e {
        case .host(let h): hosts[h.index].name
        case .port(let p): "\(switches[p.switchID.index].name):\(p.port)"
        }
    }
}

/// Source lines of each element, parallel to the arrays given to `Topology.init`.
struct SourceLines {
    var switches: [Int]
    var links: [Int]
    var hosts: [Int]
}

/// Why a topology is not valid; `line` is set when it came from a file.
public struct TopologyError: Error, Hashable, Sendable, CustomStringConvertible {
    public var line: Int?
    public var message: String

    public init(line: Int?, _ message: String) {
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "line \(line): \(message)" }
        return message
    }
}
