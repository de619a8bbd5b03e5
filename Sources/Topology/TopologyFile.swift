// The topology file format (YAML), read with line numbers so that every error names its line:
//
//   name: leaf-spine-2x2
//   switches:
//     - {name: s1, dpid: 1, role: spine}
//   links:
//     - {a: "l1:3", b: "s1:1", capacity: 100M}
//   hosts:
//     - {name: h1, ipv4: 10.0.0.1/24, ipv6: "fd00::1/64", mac: "02:00:00:00:00:01", switch: "l1:1", capacity: 100M}
//
// Capacities are bits per second, as a number or with a k/M/G/T suffix (decimal: 1G = 10^9).
// `dpid` is decimal or 0x-prefixed hex. `ipv6` is optional. The writer quotes every value that holds
// a colon, so the file reads the same under any YAML parser.
import Foundation
import Packets
import Yams

extension Topology {
    /// Parses and validates a topology file.
    public init(yaml text: String) throws(TopologyError) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let e as YamlError {
            throw TopologyError(line: Topology.line(of: e), "not valid YAML: \(Topology.problem(of: e))")
        } catch {
            throw TopologyError(line: nil, "not valid YAML: \(error)")
        }
        guard let root, let top = root.mapping else {
            throw TopologyError(line: root?.mark?.line ?? 1, "a topology file is a mapping with 'switches', 'links' and 'hosts'")
        }
        var name = "topology"
        var switchNodes: [Node] = [], linkNodes: [Node] = [], hostNodes: [Node] = []
        for (k, v) in top {
            switch k.string ?? "" {
            case "name": name = try Topology.scalar(v, "name")
            case "switches": switchNodes = try Topology.list(v, "switches")
            case "links": linkNodes = try Topology.list(v, "links")
            case "hosts": hostNodes = try Topology.list(v, "hosts")
            default: throw TopologyError(line: k.mark?.line, "unknown key '\(k.string ?? "?")' (expected name, switches, links, hosts)")
            }
        }

        var lines = SourceLines(switches: [], links: [], hosts: [])
        var switches: [Switch] = []
        for node in switchNodes {
            let f = try Fields(node, what: "switch", allowed: ["name", "dpid", "role", "agent", "ifIndexBase"])
            let name = try f.string("name")
            let dpidText = try f.string("dpid")
            guard let dpid = Topology.parseDPID(dpidText) else {
                throw TopologyError(line: f.line("dpid"), "switch '\(name)': datapath id '\(dpidText)' is not a number")
            }
            let role = try f.optionalString("role") ?? "switch"
            var agent: IPAddress?
            if let text = try f.optionalString("agent") {
                guard let a = IPAddress(text) else {
                    throw TopologyError(line: f.line("agent"), "switch '\(name)': sFlow agent '\(text)' is not an IP address")
                }
                agent = a
            }
            var base: UInt32 = 0
            if let text = try f.optionalString("ifIndexBase") {
                guard let b = UInt32(text) else {
                    throw TopologyError(line: f.line("ifIndexBase"), "switch '\(name)': ifIndexBase '\(text)' is not a number")
                }
                base = b
            }
            switches.append(Switch(name: name, dpid: dpid, role: SwitchRole(role), agent: agent, ifIndexBase: base))
            lines.switches.append(f.line)
        }
        var byName: [String: SwitchID] = [:]
        for (i, s) in switches.enumerated() where byName[s.name] == nil { byName[s.name] = SwitchID(i) }

        func portRef(_ f: Fields, _ key: String) throws(TopologyError) -> PortRef {
            let text = try f.string(key)
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let port = UInt32(parts[1]) else {
                throw TopologyError(line: f.line(key), "'\(text)' is not switch:port")
            }
            guard let s = byName[String(parts[0])] else {
                throw TopologyError(line: f.line(key), "unknown switch '\(parts[0])' in '\(text)'")
            }
            return PortRef(s, port)
        }
        func capacity(_ f: Fields) throws(TopologyError) -> UInt64 {
            let text = try f.string("capacity")
            guard let c = parseCapacity(text), c > 0 else {
                throw TopologyError(line: f.line("capacity"), "capacity '\(text)' is not a positive rate (e.g. 100M, 10G)")
            }
            return c
        }

        var links: [Link] = []
        for node in linkNodes {
            let f = try Fields(node, what: "link", allowed: ["a", "b", "capacity"])
            let a = try portRef(f, "a"), b = try portRef(f, "b")
            links.append(Link(a: .port(a), b: .port(b), capacity: try capacity(f)))
            lines.links.append(f.line)
        }

        var hosts: [Host] = []
        for node in hostNodes {
            let f = try Fields(node, what: "host", allowed: ["name", "ipv4", "ipv6", "mac", "switch", "capacity"])
            let name = try f.string("name")
            guard let v4text = try f.optionalString("ipv4") else {
                throw TopologyError(line: f.line, "host '\(name)' has no address (ipv4 is required)")
            }
            let (v4s, v4len) = Topology.splitPrefix(v4text, default: 32)
            guard let v4 = IPv4Address(v4s), let v4len, v4len <= 32 else {
                throw TopologyError(line: f.line("ipv4"), "host '\(name)': '\(v4text)' is not an IPv4 address (a.b.c.d or a.b.c.d/len)")
            }
            var v6: IPv6Address?
            var v6len = 128
            if let t = try f.optionalString("ipv6") {
                let (s, len) = Topology.splitPrefix(t, default: 128)
                guard let a = IPv6Address(s), let len, len <= 128 else {
                    throw TopologyError(line: f.line("ipv6"), "host '\(name)': '\(t)' is not an IPv6 address")
                }
                v6 = a
                v6len = len
            }
            let macText = try f.string("mac")
            guard let mac = MACAddress(macText) else {
                throw TopologyError(line: f.line("mac"), "host '\(name)': '\(macText)' is not a MAC address")
            }
            hosts.append(Host(name: name, ipv4: v4, ipv4PrefixLength: v4len, ipv6: v6, ipv6PrefixLength: v6len,
                              mac: mac, attachment: try portRef(f, "switch"), capacity: try capacity(f)))
            lines.hosts.append(f.line)
        }
        try self.init(name: name, switches: switches, links: links, hosts: hosts, lines: lines)
    }

    /// The file text; `Topology(yaml: t.yaml)` gives back `t`.
    public var yaml: String {
        var out = "# Tusk topology: \(switches.count) switches, \(fabricLinkCount) fabric links, \(hosts.count) hosts\n"
        out += "name: \(Topology.quote(name))\n"
        out += "switches:\n"
        for s in switches {
            var extra = ""
            if let a = s.agent { extra += ", agent: \(Topology.quote(a.description))" }
            if s.ifIndexBase != 0 { extra += ", ifIndexBase: \(s.ifIndexBase)" }
            out += "  - {name: \(Topology.quote(s.name)), dpid: \(s.dpid), role: \(Topology.quote(s.role.rawValue))\(extra)}\n"
        }
        out += "links:\n"
        for l in links.prefix(fabricLinkCount) {
            out += "  - {a: \"\(describe(l.a))\", b: \"\(describe(l.b))\", capacity: \(formatCapacity(l.capacity))}\n"
        }
        out += "hosts:\n"
        for h in hosts {
            var line = "  - {name: \(Topology.quote(h.name)), ipv4: \(h.ipv4)/\(h.ipv4PrefixLength)"
            if let v6 = h.ipv6 { line += ", ipv6: \"\(v6)/\(h.ipv6PrefixLength)\"" }
            line += ", mac: \"\(h.mac)\", switch: \"\(describe(.port(h.attachment)))\", capacity: \(formatCapacity(h.capacity))}\n"
            out += line
        }
        return out
    }

    static func quote(_ s: String) -> String {
        let plain = !s.isEmpty && s.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" || $0 == ".")
        } && !["true", "false", "yes", "no", "on", "off", "null", "~", "-"].contains(s.lowercased())
            && Double(s) == nil && Int(s) == nil
        if plain { return s }
        var out = "\""
        for u in s.unicodeScalars {
            switch u.value {
            case 0x5C: out += "\\\\"
            case 0x22: out += "\\\""
            // Line breaks and other control characters would be folded or refused inside the quotes
            // when the file is read again: escape them.
            case 0..<0x20, 0x7F...0x9F, 0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF:
                let h = String(u.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    static func parseDPID(_ s: String) -> UInt64? {
        if s.hasPrefix("0x") || s.hasPrefix("0X") { return UInt64(s.dropFirst(2), radix: 16) }
        if s.contains(":") { // 00:00:00:00:00:00:00:01, as ovs-ofctl prints it
            let parts = s.split(separator: ":")
            guard parts.count == 8 else { return nil }
            var v: UInt64 = 0
            for p in parts {
                guard p.count == 2, let b = UInt8(p, radix: 16) else { return nil }
                v = v << 8 | UInt64(b)
            }
            return v
        }
        return UInt64(s)
    }

    static func splitPrefix(_ s: String, default d: Int) -> (String, Int?) {
        guard let slash = s.firstIndex(of: "/") else { return (s, d) }
        return (String(s[..<slash]), Int(s[s.index(after: slash)...]))
    }

    static func scalar(_ n: Node, _ what: String) throws(TopologyError) -> String {
        guard let s = n.scalar?.string else { throw TopologyError(line: n.mark?.line, "'\(what)' must be a plain value") }
        return s
    }

    static func list(_ n: Node, _ what: String) throws(TopologyError) -> [Node] {
        if let s = n.scalar, s.string.isEmpty || s.string == "~" || s.string == "null" { return [] }
        guard let seq = n.sequence else { throw TopologyError(line: n.mark?.line, "'\(what)' must be a list") }
        return Array(seq)
    }

    static func line(of e: YamlError) -> Int? {
        switch e {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: nil
        }
    }

    static func problem(of e: YamlError) -> String {
        switch e {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _): problem
        default: "\(e)"
        }
    }
}

/// The fields of one list entry, with their lines.
private struct Fields {
    var what: String
    var line: Int
    var values: [String: (String, Int)] = [:]

    init(_ node: Node, what: String, allowed: Set<String>) throws(TopologyError) {
        self.what = what
        line = node.mark?.line ?? 0
        guard let m = node.mapping else {
            throw TopologyError(line: line, "a \(what) is a mapping such as {name: ..., ...}")
        }
        for (k, v) in m {
            let key = k.string ?? ""
            guard allowed.contains(key) else {
                throw TopologyError(line: k.mark?.line ?? line, "unknown \(what) field '\(key)' (expected \(allowed.sorted().joined(separator: ", ")))")
            }
            guard let s = v.scalar?.string else {
                throw TopologyError(line: v.mark?.line ?? line, "\(what) field '\(key)' must be a plain value")
            }
            guard values[key] == nil else { throw TopologyError(line: k.mark?.line ?? line, "\(what) field '\(key)' given twice") }
            values[key] = (s, v.mark?.line ?? line)
        }
    }

    func line(_ key: String) -> Int { values[key]?.1 ?? line }

    func string(_ key: String) throws(TopologyError) -> String {
        guard let v = values[key], !v.0.isEmpty else {
            let who = values["name"].map { " '\($0.0)'" } ?? ""
            throw TopologyError(line: line, "\(what)\(who) has no '\(key)'")
        }
        return v.0
    }

    func optionalString(_ key: String) throws(TopologyError) -> String? {
        guard let v = values[key] else { return nil }
        return v.0.isEmpty ? nil : v.0
    }
}

/// Parses `100M`, `1G`, `1.5G`, `10Gbps`, `100Mbit/s` or plain bits per second.
public func parseCapacity(_ text: String) -> UInt64? {
    var s = Substring(text.trimmingCharacters(in: .whitespaces))
    for suffix in ["bit/s", "bps", "b/s"] where s.lowercased().hasSuffix(suffix) { s = s.dropLast(suffix.count) }
    var scale: Double = 1
    if let last = s.last {
        switch last {
        case "k", "K": scale = 1e3
        case "M": scale = 1e6
        case "G", "g": scale = 1e9
        case "T", "t": scale = 1e12
        default: break
        }
        if scale != 1 { s = s.dropLast() }
    }
    guard let v = Double(s), v.isFinite, v >= 0 else { return nil }
    let bits = (v * scale).rounded()
    guard bits < 1e18 else { return nil }
    return UInt64(bits)
}

/// The shortest exact text for a rate: `100M`, `1G`, `2500M`, or plain bits per second.
public func formatCapacity(_ bits: UInt64) -> String {
    for (scale, suffix) in [(UInt64(1_000_000_000_000), "T"), (1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")]
        where bits >= scale && bits % scale == 0 {
        return "\(bits / scale)\(suffix)"
    }
    return "\(bits)"
}

