// Builders for the two fabrics Tusk is evaluated on.
import Packets

extension Topology {
    /// A k-ary fat-tree (Al-Fares et al., SIGCOMM 2008): k pods of k/2 edge and k/2 aggregation
    /// switches, (k/2)² core switches, k³/4 hosts.
    ///
    /// - Host `h<i>` sits in pod `i / (k²/4)`, on edge switch `(i / (k/2)) mod (k/2)` of that pod, at
    ///   position `i mod (k/2)`, and has address 10.pod.edge.(position+2) as in the paper.
    /// - Edge switch `e<pod>_<j>`: ports 1...k/2 go to its hosts, port k/2+1+m to aggregation switch m.
    /// - Aggregation switch `a<pod>_<m>`: port 1+j goes to edge j, port k/2+1+c to core `c<m·k/2+c>`.
    /// - Core switch `c<n>`: port 1+pod goes to aggregation switch n / (k/2) of that pod.
    /// - Datapath ids number the switches in file order from 1: per pod its edges then aggregations, then the cores.
    public static func fatTree(k: Int, capacity: UInt64 = 1_000_000_000, hostCapacity: UInt64? = nil) throws(TopologyError) -> Topology {
        guard k >= 2, k % 2 == 0, k <= 254 else { throw TopologyError(line: nil, "fat-tree k must be even, 2...254 (got \(k))") }
        let half = k / 2
        var switches: [Switch] = []
        var edge = [[Int]](repeating: [], count: k), agg = [[Int]](repeating: [], count: k)
        for p in 0..<k {
            for j in 0..<half {
                edge[p].append(switches.count)
                switches.append(Switch(name: "e\(p)_\(j)", dpid: UInt64(switches.count + 1), role: .edge))
            }
            for m in 0..<half {
                agg[p].append(switches.count)
                switches.append(Switch(name: "a\(p)_\(m)", dpid: UInt64(switches.count + 1), role: .aggregation))
            }
        }
        var core: [Int] = []
        for n in 0..<(half * half) {
            core.append(switches.count)
            switches.append(Switch(name: "c\(n)", dpid: UInt64(switches.count + 1), role: .core))
        }
        var links: [Link] = []
        for p in 0..<k {
            for j in 0..<half {
                for m in 0..<half {
                    links.append(Link(a: .port(PortRef(SwitchID(edge[p][j]), UInt32(half + 1 + m))),
                                      b: .port(PortRef(SwitchID(agg[p][m]), UInt32(1 + j))), capacity: capacity))
                }
            }
            for m in 0..<half {
                for c in 0..<half {
                    links.append(Link(a: .port(PortRef(SwitchID(agg[p][m]), UInt32(half + 1 + c))),
                                      b: .port(PortRef(SwitchID(core[m * half + c]), UInt32(1 + p))), capacity: capacity))
                }
            }
        }
        var hosts: [Host] = []
        let perPod = half * half
        for i in 0..<(k * perPod) {
            let p = i / perPod, e = (i / half) % half, pos = i % half
            hosts.append(Host(name: "h\(i)", ipv4: IPv4Address(10, UInt8(p), UInt8(e), UInt8(pos + 2)), ipv4PrefixLength: 8,
                              mac: MACAddress(0x0200_0000_0000 | UInt64(i + 1)),
                              attachment: PortRef(SwitchID(edge[p][e]), UInt32(pos + 1)),
                              capacity: hostCapacity ?? capacity))
        }
        return try Topology(name: "fat-tree-k\(k)", switches: switches, links: links, hosts: hosts)
    }

    /// A two-tier leaf-spine fabric. Spines `s1...` have datapath ids 1...; leaves `l1...` have
    /// 10+i (100+i with 10 or more spines, and so on). Leaf ports 1...H go to its hosts, port H+j to
    /// spine j; spine port i goes to leaf i. Hosts `h1...` are numbered across the leaves, with
    /// 10.0.0.n (/24 while there are at most 254 hosts) and MAC 02:00:00:00:00:n.
    public static func leafSpine(leaves: Int, spines: Int, hostsPerLeaf: Int,
                                 capacity: UInt64 = 100_000_000, hostCapacity: UInt64? = nil,
                                 name: String? = nil) throws(TopologyError) -> Topology {
        guard leaves >= 1, spines >= 0, hostsPerLeaf >= 0, leaves <= 4096, spines <= 4096, hostsPerLeaf <= 4096,
              leaves * hostsPerLeaf < 1 << 24 else {
            throw TopologyError(line: nil, "leaf-spine needs at least one leaf, and sizes up to 4096")
        }
        var base: UInt64 = 10
        while base <= UInt64(spines) { base *= 10 }
        var switches: [Switch] = []
        for j in 1...max(spines, 1) where spines > 0 {
            switches.append(Switch(name: "s\(j)", dpid: UInt64(j), role: .spine))
        }
        for i in 1...leaves {
            switches.append(Switch(name: "l\(i)", dpid: base + UInt64(i), role: .leaf))
        }
        var links: [Link] = []
        for i in 0..<leaves {
            for j in 0..<spines {
                links.append(Link(a: .port(PortRef(SwitchID(spines + i), UInt32(hostsPerLeaf + 1 + j))),
                                  b: .port(PortRef(SwitchID(j), UInt32(i + 1))), capacity: capacity))
            }
        }
        var hosts: [Host] = []
        let total = leaves * hostsPerLeaf
        let prefix = total <= 254 ? 24 : total <= 65_534 ? 16 : 8
        for i in 0..<leaves {
            for p in 0..<hostsPerLeaf {
                let n = i * hostsPerLeaf + p + 1
                hosts.append(Host(name: "h\(n)", ipv4: IPv4Address(0x0A00_0000 | UInt32(n)), ipv4PrefixLength: prefix,
                                  mac: MACAddress(0x0200_0000_0000 | UInt64(n)),
                                  attachment: PortRef(SwitchID(spines + i), UInt32(p + 1)),
                                  capacity: hostCapacity ?? capacity))
            }
        }
        return try Topology(name: name ?? "leaf-spine-\(leaves)x\(spines)", switches: switches, links: links, hosts: hosts)
    }
}
