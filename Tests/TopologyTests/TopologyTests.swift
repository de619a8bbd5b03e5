import Foundation
import Packets
import Testing
@testable import Topology

/// The repository's `topologies/` folder.
let topologiesDir = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("topologies")

@Suite struct FatTreeTests {
    @Test(arguments: [2, 4, 6, 8, 16])
    func sizes(k: Int) throws {
        let t = try Topology.fatTree(k: k)
        #expect(t.hosts.count == k * k * k / 4)
        #expect(t.switches.count == 5 * k * k / 4)
        #expect(t.fabricLinkCount == k * k * k / 2)
        for s in t.switchIDs { #expect(t.ports(of: s).count == k) }
    }

    @Test func hostNumberingFollowsThePaperOrder() throws {
        let k = 8, half = 4
        let t = try Topology.fatTree(k: k)
        for i in t.hosts.indices {
            let h = t.hosts[i]
            #expect(h.name == "h\(i)")
            let pod = i / (k * k / 4), edge = (i / half) % half, pos = i % half
            #expect(t[h.attachment.switchID].name == "e\(pod)_\(edge)")
            #expect(h.attachment.port == UInt32(pos + 1))
            #expect(h.ipv4 == IPv4Address(10, UInt8(pod), UInt8(edge), UInt8(pos + 2)))
        }
    }

    @Test func equalCostPathCounts() throws {
        let k = 4
        let t = try Topology.fatTree(k: k)
        let h = { (n: String) in t.hostID(named: n)! }
        // Same edge switch: one path through the switch.
        #expect(t.equalCostPaths(from: h("h0"), to: h("h1")).count == 1)
        // Same pod, other edge: k/2 paths via the aggregation switches.
        #expect(t.equalCostPaths(from: h("h0"), to: h("h2")).count == k / 2)
        // Other pod: (k/2)² = k²/4 paths through the cores.
        let inter = t.equalCostPaths(from: h("h0"), to: h("h15"))
        #expect(inter.count == k * k / 4)
        #expect(Set(inter).count == inter.count)
        for p in inter {
            #expect(p.links.count == 6)
            let valid = t.isValidPath(p, from: h("h0"), to: h("h15"))
            #expect(valid)
            let hops = t.hops(of: p)
            #expect(hops.map { t[$0.switchID].role } == [.edge, .aggregation, .core, .aggregation, .edge])
        }
        let k8 = try Topology.fatTree(k: 8)
        #expect(k8.equalCostPaths(from: HostID(0), to: HostID(127)).count == 16)
    }

    @Test func routingTableAgreesWithEnumeration() throws {
        let t = try Topology.fatTree(k: 4)
        let r = RoutingTable(t)
        let src = t[HostID(0)].attachment.switchID, dst = t[HostID(15)].attachment.switchID
        #expect(r.distance(from: src, to: dst) == 4)
        #expect(r.nextHops(at: src, toward: dst).count == 2)
        #expect(r.nextHops(at: dst, toward: dst).isEmpty)
        for (a, b) in [(0, 15), (0, 1), (0, 2), (5, 12), (15, 0)] {
            let fromTable = r.equalCostPaths(from: HostID(a), to: HostID(b), in: t)
            #expect(fromTable == t.equalCostPaths(from: HostID(a), to: HostID(b)))
        }
        // Every pair, in the same order, on a fat-tree and a leaf-spine; and the limit.
        for topo in [try Topology.fatTree(k: 4), try Topology.leafSpine(leaves: 3, spines: 3, hostsPerLeaf: 2)] {
            let table = RoutingTable(topo)
            for a in topo.hosts.indices {
                for b in topo.hosts.indices {
                    let walk = topo.equalCostPaths(from: HostID(a), to: HostID(b))
                    #expect(table.equalCostPaths(from: HostID(a), to: HostID(b), in: topo) == walk, "\(a) -> \(b)")
                    #expect(table.equalCostPaths(from: HostID(a), to: HostID(b), in: topo, limit: 2) == Array(walk.prefix(2)))
                }
            }
        }
    }
}

@Suite struct LeafSpineLabTests {
    @Test func shippedLabFileDescribesTheLab() throws {
        let text = try String(contentsOf: topologiesDir.appendingPathComponent("leaf-spine-2x2.yaml"), encoding: .utf8)
        let t = try Topology(yaml: text)
        let built = try Topology.leafSpine(leaves: 2, spines: 2, hostsPerLeaf: 2)
        #expect(t.yaml == built.yaml)
        let s1 = try #require(t.switchID(named: "s1")), s2 = try #require(t.switchID(named: "s2"))
        let l1 = try #require(t.switchID(named: "l1")), l2 = try #require(t.switchID(named: "l2"))
        #expect([t[s1].dpid, t[s2].dpid, t[l1].dpid, t[l2].dpid] == [1, 2, 11, 12])
        #expect(t[s1].role == .spine && t[l1].role == .leaf)
        for (i, name) in ["h1", "h2", "h3", "h4"].enumerated() {
            let h = t[try #require(t.hostID(named: name))]
            #expect(h.ipv4 == IPv4Address(10, 0, 0, UInt8(i + 1)))
            #expect(h.ipv4PrefixLength == 24)
            #expect(h.mac == MACAddress("02:00:00:00:00:0\(i + 1)"))
            #expect(h.attachment == PortRef(i < 2 ? l1 : l2, UInt32(i % 2 + 1)))
            #expect(t.hostID(ipv4: h.ipv4) == t.hostID(named: name))
            #expect(t.hostID(mac: h.mac) == t.hostID(named: name))
        }
        for leaf in [l1, l2] {
            #expect(t.port(PortRef(leaf, 3))?.peer.switchPort?.switchID == s1)
            #expect(t.port(PortRef(leaf, 4))?.peer.switchPort?.switchID == s2)
        }
        #expect(t.port(PortRef(s1, 1))?.peer == .port(PortRef(l1, 3)))
        #expect(t.port(PortRef(s2, 2))?.peer == .port(PortRef(l2, 4)))
        for l in t.links { #expect(l.capacity == 100_000_000) }
        let paths = t.equalCostPaths(from: t.hostID(named: "h1")!, to: t.hostID(named: "h4")!)
        #expect(paths.count == 2)
    }
}

@Suite struct TopologyFileTests {
    @Test(arguments: ["fat-tree-k4.yaml", "fat-tree-k8.yaml", "leaf-spine-2x2.yaml"])
    func shippedFilesValidateAndRoundTrip(file: String) throws {
        let text = try String(contentsOf: topologiesDir.appendingPathComponent(file), encoding: .utf8)
        let t = try Topology(yaml: text)
        #expect(t.yaml == text)
        #expect(try Topology(yaml: t.yaml) == t)
    }

    @Test func shippedFatTreesMatchTheBuilder() throws {
        for k in [4, 8] {
            let text = try String(contentsOf: topologiesDir.appendingPathComponent("fat-tree-k\(k).yaml"), encoding: .utf8)
            let same = try Topology(yaml: text) == Topology.fatTree(k: k)
            #expect(same)
        }
    }

    @Test func ipv6AndHexDPIDRoundTrip() throws {
        let text = """
        name: small
        switches:
          - {name: sw, dpid: "0x00000000000000ab", role: tor}
        hosts:
          - {name: a, ipv4: 192.168.1.1/24, ipv6: "fd00::1/64", mac: "02:00:00:00:00:0a", switch: "sw:1", capacity: 10G}
          - {name: b, ipv4: 192.168.1.2, mac: "02-00-00-00-00-0b", switch: "sw:2", capacity: 2500M}
        """
        let t = try Topology(yaml: text)
        #expect(t.switches[0].dpid == 0xAB)
        #expect(t.switches[0].role == SwitchRole("tor"))
        #expect(t.hosts[0].ipv6 == IPv6Address("fd00::1"))
        #expect(t.hosts[0].ipv6PrefixLength == 64)
        #expect(t.hosts[1].ipv4PrefixLength == 32)
        #expect(t.hosts[1].capacity == 2_500_000_000)
        #expect(try Topology(yaml: t.yaml) == t)
    }

    /// Found by `FuzzTopology`: a role holding line breaks (a plain scalar over several lines) was
    /// written inside quotes unescaped, and read back folded. Control characters are now escaped.
    @Test(arguments: [
        "switches:\n  - {name: sw, dpid: 1, role: t\u{FFFD}\u{FFFD}\r\r\r\r\ror}\n",
        "switches:\n  - {name: sw, dpid: 1, role: \"a\\rb\\nc\\td\\x85e\\u2028f\\\\g\\\"h\"}\n",
        "name: \"two\\nlines\\t\\u0001\"\nswitches:\n  - {name: s1, dpid: 1}\n",
        // Also found by `FuzzTopology`: a name that is a lone "-" was written plain (`name: -`), a
        // block sequence entry where a value belongs: the written file did not read.
        "name: |#[De}\n  -",
        "name: \"-\"\nswitches:\n  - {name: \"-\", dpid: 1, role: \"-\"}\n",
    ])
    func controlCharactersSurviveTheWriter(_ text: String) throws {
        let t = try Topology(yaml: text)
        #expect(try Topology(yaml: t.yaml) == t, "\(t.yaml)")
    }

    @Test(arguments: [
        // (file text, line, words the reason must hold)
        ("switches:\n  - {name: s1, dpid: 1}\n  - {name: s2, dpid: 2}\nlinks:\n  - {a: \"s1:1\", b: \"s2:1\", capacity: 1G}\n  - {a: \"s1:1\", b: \"s2:2\", capacity: 1G}\n", 6, "duplicate port s1:1"),
        ("switches:\n  - {name: s1, dpid: 1}\nlinks:\n  - {a: \"s1:1\", b: \"s9:1\", capacity: 1G}\n", 4, "unknown switch 's9'"),
        ("switches:\n  - {name: s1, dpid: 1}\nhosts:\n  - {name: h1, mac: \"02:00:00:00:00:01\", switch: \"s1:1\", capacity: 1G}\n", 4, "no address"),
        ("switches:\n  - {name: s1, dpid: 1}\n  - {name: s1, dpid: 2}\n", 3, "duplicate switch name 's1'"),
        ("switches:\n  - {name: s1, dpid: 1}\n  - {name: s2, dpid: 1}\n", 3, "datapath id 1"),
        ("switches:\n  - {name: s1, dpid: one}\n", 2, "not a number"),
        ("switches:\n  - {name: s1, dpid: 1}\n  - {name: s2, dpid: 2}\nlinks:\n  - {a: \"s1:1\", b: \"s2:1\", capacity: fast}\n", 5, "capacity 'fast'"),
        ("switches:\n  - {name: s1, dpid: 1}\nhosts:\n  - {name: h1, ipv4: 10.0.0.300, mac: \"02:00:00:00:00:01\", switch: \"s1:1\", capacity: 1G}\n", 4, "not an IPv4 address"),
        ("switches:\n  - {name: s1, dpid: 1}\nhosts:\n  - {name: h1, ipv4: 10.0.0.1, mac: \"zz\", switch: \"s1:1\", capacity: 1G}\n", 4, "not a MAC address"),
        ("switches:\n  - {name: s1, dpid: 1}\nhosts:\n  - {name: h1, ipv4: 10.0.0.1, mac: \"02:00:00:00:00:01\", switch: \"s1:1\", capacity: 1G}\n  - {name: h2, ipv4: 10.0.0.1, mac: \"02:00:00:00:00:02\", switch: \"s1:2\", capacity: 1G}\n", 5, "already used by 'h1'"),
        ("switches:\n  - {name: s1, dpid: 1, colour: red}\n", 2, "unknown switch field 'colour'"),
        ("switches:\n  - {name: s1, dpid: 1}\nlinks:\n  - {a: \"s1\", b: \"s1:2\", capacity: 1G}\n", 4, "not switch:port"),
        ("switches: [\n", 2, "not valid YAML"),
        ("routers: []\n", 1, "unknown key 'routers'"),
    ])
    func badFilesNameTheLineAndTheReason(text: String, line: Int, reason: String) {
        #expect {
            _ = try Topology(yaml: text)
        } throws: { error in
            guard let e = error as? TopologyError else { return false }
            return e.line == line && e.message.contains(reason)
        }
    }

    @Test func capacities() {
        #expect(parseCapacity("100M") == 100_000_000)
        #expect(parseCapacity("1.5G") == 1_500_000_000)
        #expect(parseCapacity("10Gbps") == 10_000_000_000)
        #expect(parseCapacity("100Mbit/s") == 100_000_000)
        #expect(parseCapacity("12345") == 12345)
        #expect(parseCapacity("x") == nil)
        #expect(formatCapacity(1_000_000_000) == "1G")
        #expect(formatCapacity(2_500_000_000) == "2500M")
        #expect(formatCapacity(12345) == "12345")
    }
}
