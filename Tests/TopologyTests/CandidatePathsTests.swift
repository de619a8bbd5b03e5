import Packets
import Testing
@testable import Topology

/// `CandidatePaths` described by the routing table against the listed paths of the same pairs.
@Suite struct CandidatePathsTests {
    /// s1 reaches s3 over s2 (two parallel links to s2) or over s4 (one): next hops with 2 and 1
    /// paths below them, so that finding path c is not a plain division.
    static func uneven() throws -> Topology {
        let sw = (1...4).map { Switch(name: "s\($0)", dpid: UInt64($0), role: .leaf) }
        func l(_ a: Int, _ pa: UInt32, _ b: Int, _ pb: UInt32) -> Link {
            Link(a: .port(PortRef(SwitchID(a), pa)), b: .port(PortRef(SwitchID(b), pb)), capacity: 1_000_000_000)
        }
        let links = [l(0, 10, 1, 10), l(0, 11, 1, 11), l(1, 12, 2, 12), l(0, 13, 3, 13), l(3, 14, 2, 14)]
        var hosts: [Host] = []
        for (i, s) in [0, 0, 1, 2, 2, 3].enumerated() {
            hosts.append(Host(name: "h\(i + 1)", ipv4: IPv4Address(10, 0, 0, UInt8(i + 1)), mac: MACAddress(UInt64(i + 1)),
                              attachment: PortRef(SwitchID(s), UInt32(i + 1)), capacity: 1_000_000_000))
        }
        return try Topology(name: "uneven", switches: sw, links: links, hosts: hosts)
    }

    /// Path counts worked out ahead, on two threads (`prepareCandidatePaths`), describe the same
    /// paths as counts worked out pair by pair when first asked for.
    @Test func preparedCountsDescribeTheSamePaths() throws {
        for topo in [try Topology.fatTree(k: 8), try Topology.leafSpine(leaves: 5, spines: 3, hostsPerLeaf: 2), try Self.uneven()] {
            let prepared = RoutingTable(topo), lazy = RoutingTable(topo)
            prepared.prepareCandidatePaths()
            prepared.prepareCandidatePaths()
            var pairs = 0
            for a in topo.hosts.indices {
                for b in topo.hosts.indices where a != b && (topo.hosts.count < 20 || (a * 7 + b) % 5 == 0) {
                    let s = topo.hosts[a].attachment.switchID, t = topo.hosts[b].attachment.switchID
                    let first = topo.uplink(of: HostID(a)), last = topo.downlink(of: HostID(b))
                    let p = prepared.candidatePaths(from: s, to: t, first: first, last: last)
                    let l = lazy.candidatePaths(from: s, to: t, first: first, last: last)
                    #expect(p.count == l.count && p.count > 0, "\(a) -> \(b)")
                    #expect(Array(p) == Array(l), "\(a) -> \(b)")
                    #expect(Array(p) == prepared.paths(from: s, to: t, first: first, last: last), "\(a) -> \(b)")
                    pairs += 1
                }
            }
            #expect(pairs >= 30)
        }
    }

    @Test func describedPathsAreTheListedOnes() throws {
        for topo in [try Topology.fatTree(k: 4), try Topology.leafSpine(leaves: 3, spines: 3, hostsPerLeaf: 2), try Self.uneven()] {
            let table = RoutingTable(topo)
            var checked = 0
            for a in topo.hosts.indices {
                for b in topo.hosts.indices where a != b {
                    let s = topo.hosts[a].attachment.switchID, t = topo.hosts[b].attachment.switchID
                    let first = topo.uplink(of: HostID(a)), last = topo.downlink(of: HostID(b))
                    let listed = table.paths(from: s, to: t, first: first, last: last)
                    let described = table.candidatePaths(from: s, to: t, first: first, last: last)
                    #expect(described.isDescribed)
                    #expect(described.count == listed.count, "\(a) -> \(b)")
                    #expect(Array(described) == listed, "\(a) -> \(b)")
                    #expect(described == CandidatePaths(listed))
                    #expect(described.hashValue == CandidatePaths(listed).hashValue)
                    #expect(described.sharedLinks == CandidatePaths(listed).sharedLinks, "\(a) -> \(b)")
                    var seen: [[DirectedLinkID]] = []
                    described.forEachLinks { c, links in
                        #expect(c == seen.count)
                        seen.append(Array(links))
                    }
                    #expect(seen == listed.map(\.links))
                    // The first path avoiding a set of links (a walk that skips what lies below a
                    // link that fails): every link of the pair's paths left out alone, and in pairs.
                    let used = Array(Set(listed.flatMap(\.links))).sorted()
                    var avoid: [Set<DirectedLinkID>] = [[]] + used.map { [$0] }
                    for (n, a) in used.enumerated() where n + 1 < used.count { avoid.append([a, used[n + 1]]) }
                    for set in avoid {
                        let expected = listed.firstIndex { $0.links.allSatisfy { !set.contains($0) } }
                        #expect(described.firstIndex(whereEveryLink: { !set.contains($0) }) == expected, "\(a) -> \(b) avoiding \(set)")
                        #expect(CandidatePaths(listed).firstIndex(whereEveryLink: { !set.contains($0) }) == expected)
                    }
                    for (c, p) in listed.enumerated() {
                        #expect(described.firstIndex(of: p) == c)
                        #expect(described.contains(p))
                    }
                    // Not a candidate: another pair's path, a path cut short, a path with a link changed.
                    if let p = listed.first {
                        #expect(described.firstIndex(of: Path(Array(p.links.dropLast()))) == nil)
                        let other = topo.equalCostPaths(from: HostID(b), to: HostID(a))
                        for q in other { #expect(described.firstIndex(of: q) == nil) }
                        if p.links.count > 2 {
                            var changed = p.links
                            changed[1] = changed[1].reversed
                            #expect(described.firstIndex(of: Path(changed)) == nil)
                        }
                    }
                    checked += listed.count
                }
            }
            #expect(checked > 0)
        }
        // The uneven fabric really is: h1 (s1) to h4 (s3) has 3 paths, 2 over s2 and 1 over s4.
        let u = try Self.uneven()
        #expect(u.equalCostPaths(from: HostID(0), to: HostID(3)).count == 3)
    }
}
