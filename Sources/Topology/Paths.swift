import Packets
import Synchronization

// Equal-cost shortest paths. Cost is the number of switch-to-switch hops; ECMP in a Clos fabric
// spreads flows over every path of minimal length, which a switch realises hop by hop: at each
// switch the next hops are the neighbours one hop closer to the destination's switch.

/// A path from a host to a host: the directed links crossed, host uplink first, host downlink last.
public struct Path: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var links: [DirectedLinkID]
    public init(_ links: [DirectedLinkID]) { self.links = links }

    public var description: String { links.map(\.description).joined(separator: " ") }

    public static func < (a: Self, b: Self) -> Bool { a.links.lexicographicallyPrecedes(b.links) }
}

/// What a switch does for a flow on a path: it takes it in on one port and sends it out of another.
public struct Hop: Hashable, Sendable {
    public var switchID: SwitchID
    public var inPort: UInt32
    public var outPort: UInt32
}

extension Topology {
    /// Switch-to-switch neighbours of each switch: (egress direction, neighbour), by port number.
    public var switchNeighbours: [[(egress: DirectedLinkID, neighbour: SwitchID)]] { neighbourCache }

    /// Hop counts from every switch to `target` over switch-to-switch links (`Int.max` if unreachable).
    public func switchDistances(to target: SwitchID) -> [Int] {
        Topology.bfs(from: target, neighbours: switchNeighbours)
    }

    static func bfs(from target: SwitchID, neighbours: [[(egress: DirectedLinkID, neighbour: SwitchID)]]) -> [Int] {
        var dist = [Int](repeating: .max, count: neighbours.count)
        dist[target.index] = 0
        var queue = [target.index]
        var head = 0
        while head < queue.count {
            let s = queue[head]
            head += 1
            for (_, n) in neighbours[s] where dist[n.index] == .max {
                dist[n.index] = dist[s] + 1
                queue.append(n.index)
            }
        }
        return dist
    }

    /// Every shortest path from `src` to `dst` (k²/4 between pods of a k-ary fat-tree), in a fixed
    /// order (by egress port at each hop). Stops after `limit` paths. Empty if there is none.
    public func equalCostPaths(from src: HostID, to dst: HostID, limit: Int = 65_536) -> [Path] {
        guard src != dst else { return [] }
        let s = hosts[src.index].attachment.switchID, t = hosts[dst.index].attachment.switchID
        let nb = switchNeighbours
        let dist = Topology.bfs(from: t, neighbours: nb)
        guard dist[s.index] != .max else { return [] }
        var out: [Path] = []
        var stack: [DirectedLinkID] = [uplink(of: src)]
        func walk(_ at: Int) {
            guard out.count < limit else { return }
            if at == t.index {
                out.append(Path(stack + [downlink(of: dst)]))
                return
            }
            for (egress, n) in nb[at] where dist[n.index] == dist[at] - 1 {
                stack.append(egress)
                walk(n.index)
                stack.removeLast()
            }
        }
        walk(s.index)
        return out
    }

    /// The switches a path crosses, with the ports it enters and leaves by.
    public func hops(of path: Path) -> [Hop] {
        var out: [Hop] = []
        forEachHop(of: path) { out.append($0) }
        return out
    }

    /// `hops(of:)`, one at a time, in path order, with no array made (a control round's plan asks
    /// for the hops of every flow it moves).
    public func forEachHop(of path: Path, _ body: (Hop) -> Void) {
        let links = path.links
        for i in links.indices.dropLast() {
            guard let inPort = ends(of: links[i]).to.switchPort, let outPort = ends(of: links[i + 1]).from.switchPort,
                  inPort.switchID == outPort.switchID else { return }
            body(Hop(switchID: inPort.switchID, inPort: inPort.port, outPort: outPort.port))
        }
    }

    /// True when each link of `path` starts where the previous one ends, from `src`'s uplink to `dst`'s downlink.
    public func isValidPath(_ path: Path, from src: HostID, to dst: HostID) -> Bool {
        guard let first = path.links.first, let last = path.links.last,
              first == uplink(of: src), last == downlink(of: dst) else { return false }
        for i in 1..<path.links.count {
            guard path.links[i].link.index < links.count,
                  let inPort = ends(of: path.links[i - 1]).to.switchPort,
                  let outPort = ends(of: path.links[i]).from.switchPort,
                  inPort.switchID == outPort.switchID else { return false }
        }
        return true
    }
}

/// Shortest-path next hops toward every switch that has hosts: what each switch's ECMP group holds.
/// Built once per topology (one breadth-first search per host-facing switch).
public struct RoutingTable: Sendable {
    public let neighbours: [[(egress: DirectedLinkID, neighbour: SwitchID)]]
    /// The distances and next hops in flat arrays, shared by every candidate set described from
    /// this table (`CandidatePaths`).
    let graph: RoutingGraph

    public init(_ topology: Topology) {
        neighbours = topology.switchNeighbours
        graph = RoutingGraph(topology, neighbours: neighbours)
    }

    /// Hops from `s` to `target` (nil if `target` has no hosts or cannot be reached).
    public func distance(from s: SwitchID, to target: SwitchID) -> Int? {
        let r = graph.row[target.index]
        guard r >= 0, graph.distances[r][s.index] != 255 else { return nil }
        return Int(graph.distances[r][s.index])
    }

    /// Every shortest path between two hosts of `topology` (the one this table was built from), as
    /// `Topology.equalCostPaths` gives them, without a search per call.
    public func equalCostPaths(from src: HostID, to dst: HostID, in topology: Topology, limit: Int = 65_536) -> [Path] {
        guard src != dst else { return [] }
        return paths(from: topology.hosts[src.index].attachment.switchID, to: topology.hosts[dst.index].attachment.switchID,
                     first: topology.uplink(of: src), last: topology.downlink(of: dst), limit: limit)
    }

    /// The equal-cost next hops at `s` toward `target`, by egress port number (empty at `target`).
    public func nextHops(at s: SwitchID, toward target: SwitchID) -> [(egress: DirectedLinkID, neighbour: SwitchID)] {
        let r = graph.row[target.index]
        guard r >= 0 else { return [] }
        let d = graph.distances[r]
        let here = d[s.index]
        guard here != 255, here > 0 else { return [] }
        return neighbours[s.index].filter { d[$0.neighbour.index] == here - 1 }
    }

    /// How many equal-cost next hops `s` has toward `target`: `nextHops(at:toward:).count`, without
    /// making the list (the plan asks this at every hop of every pin it writes).
    public func nextHopCount(at s: SwitchID, toward target: SwitchID) -> Int {
        let r = graph.row[target.index]
        guard r >= 0 else { return 0 }
        let d = graph.distances[r]
        let here = d[s.index]
        guard here != 255, here > 0 else { return 0 }
        var n = 0
        for (_, nb) in neighbours[s.index] where d[nb.index] == here - 1 { n += 1 }
        return n
    }

    /// `nextHops(at:toward:)`'s only hop when there is one, else the first whose egress `chosen`
    /// accepts (nil if none does), in the same order, without making the list.
    public func nextHop(at s: SwitchID, toward target: SwitchID,
                        choosing chosen: (DirectedLinkID) -> Bool) -> (egress: DirectedLinkID, neighbour: SwitchID)? {
        let r = graph.row[target.index]
        guard r >= 0 else { return nil }
        let d = graph.distances[r]
        let here = d[s.index]
        guard here != 255, here > 0 else { return nil }
        var only: (egress: DirectedLinkID, neighbour: SwitchID)?, count = 0
        var first: (egress: DirectedLinkID, neighbour: SwitchID)?
        for hop in neighbours[s.index] where d[hop.neighbour.index] == here - 1 {
            count += 1
            if count == 1 { only = hop }
            if first == nil && chosen(hop.egress) { first = hop }
        }
        return count == 1 ? only : first
    }

    /// Every shortest path from switch `s` to switch `t` as host paths: `first`, the switch links
    /// in the order `equalCostPaths` gives them (by egress port at each hop), then `last`. Stops
    /// after `limit` paths.
    public func paths(from s: SwitchID, to t: SwitchID, first: DirectedLinkID, last: DirectedLinkID, limit: Int = .max) -> [Path] {
        var out: [Path] = []
        guard limit > 0 else { return out }
        graph.forEachPath(from: s.index, to: t.index, first: first, last: last) { links in
            out.append(Path(Array(links)))
            return out.count < limit
        }
        return out
    }

    /// Works out, for every switch with hosts, how many shortest paths lead to it from each switch
    /// (what `candidatePaths` reads), now rather than when a pair toward it is first described. A
    /// control loop calls it when it starts: otherwise its first round does this work (a k=32
    /// fat-tree: 512 destination switches, about 27 ms of CPU), and a round should not pay for
    /// what the topology alone decides. Idempotent; the table's copies share the result.
    public func prepareCandidatePaths() {
        graph.prepareAll()
    }

    /// The same paths, in the same order, described rather than listed: each is worked out from the
    /// table when it is read (`CandidatePaths`). A pair of a k=64 fat-tree has 1,024 of them; as a
    /// list they took about 100 bytes each, described they take nothing per path.
    public func candidatePaths(from s: SwitchID, to t: SwitchID, first: DirectedLinkID, last: DirectedLinkID) -> CandidatePaths {
        let r = graph.row[t.index]
        guard r >= 0, graph.distances[r][s.index] != 255 else { return CandidatePaths([]) }
        return CandidatePaths(routed: RoutedPaths(graph: graph, row: r, s: s.index, t: t.index, first: first, last: last))
    }
}

/// The routing table's arrays: each switch's neighbours end to end, the distances to every switch
/// with hosts, and (worked out on first use, per destination switch) how many shortest paths lead
/// from each switch to it. A class, so that a candidate set can hold it without copying.
final class RoutingGraph: Sendable {
    /// Switch `s`'s neighbours are `flat[firstNeighbour[s] ..< firstNeighbour[s + 1]]`: one array,
    /// read without retaining an inner one at every step.
    let flat: [(egress: DirectedLinkID, neighbour: Int32)]
    let firstNeighbour: [Int]
    /// Row per destination switch with hosts: hop count from each switch (UInt8.max: unreachable).
    let distances: [[UInt8]]
    let row: [Int] // switch index -> row in `distances`, or -1
    /// Per row, what the walks toward that switch read, worked out when first needed.
    private let toward: Mutex<[Toward?]>

    /// Toward one destination switch: from each switch, the number of shortest paths (saturating at
    /// Int32.max), and where in `flat` its next hops lie (`lo ..< hi`: the first and past the last
    /// neighbour one hop closer, so that a walk does not read the others; at a k=32 core switch
    /// one of 32).
    struct Toward: Sendable {
        let counts: [Int32]
        let lo: [Int32]
        let hi: [Int32]
    }

    init(_ topology: Topology, neighbours: [[(egress: DirectedLinkID, neighbour: SwitchID)]]) {
        var flat: [(egress: DirectedLinkID, neighbour: Int32)] = [], first: [Int] = []
        for nb in neighbours {
            first.append(flat.count)
            for (e, n) in nb { flat.append((e, Int32(n.index))) }
        }
        first.append(flat.count)
        self.flat = flat
        firstNeighbour = first
        var row = [Int](repeating: -1, count: topology.switches.count)
        var distances: [[UInt8]] = []
        for h in topology.hosts {
            let t = h.attachment.switchID.index
            guard row[t] < 0 else { continue }
            row[t] = distances.count
            distances.append(Topology.bfs(from: SwitchID(t), neighbours: neighbours).map { $0 >= 255 ? 255 : UInt8($0) })
        }
        self.distances = distances
        self.row = row
        toward = Mutex(Array(repeating: nil, count: distances.count))
    }

    /// Works out `toward(row:)` for every destination switch, half on each of two threads (each
    /// row alone: the same rows on one thread or two).
    func prepareAll() {
        let rows = distances.count, half = rows / 2
        guard rows > 0 else { return }
        inParallel({ for r in 0..<half { _ = self.toward(row: r) } }, { for r in half..<rows { _ = self.toward(row: r) } })
    }

    /// What the walks toward the switch of row `r` read.
    func toward(row r: Int) -> Toward {
        if let c = toward.withLock({ $0[r] }) { return c }
        let d = distances[r]
        // Nearest first (a switch's count is the sum of its next hops'): by distance, then index.
        var perDistance = [Int](repeating: 0, count: 256)
        for x in d.indices { perDistance[Int(d[x])] += 1 }
        var at = [Int](repeating: 0, count: 256)
        for k in 1..<256 { at[k] = at[k - 1] + perDistance[k - 1] }
        var order = [Int](repeating: 0, count: d.count - perDistance[255])
        for x in d.indices where d[x] != 255 {
            order[at[Int(d[x])]] = x
            at[Int(d[x])] += 1
        }
        var n = [Int32](repeating: 0, count: d.count)
        var lo = [Int32](repeating: 0, count: d.count), hi = [Int32](repeating: 0, count: d.count)
        for x in order {
            if d[x] == 0 { n[x] = 1; continue }
            var sum: Int64 = 0
            var first = -1, last = -1
            for k in firstNeighbour[x]..<firstNeighbour[x + 1] where d[Int(flat[k].neighbour)] == d[x] &- 1 {
                sum = min(sum + Int64(n[Int(flat[k].neighbour)]), Int64(Int32.max))
                if first < 0 { first = k }
                last = k
            }
            n[x] = Int32(sum)
            lo[x] = Int32(max(first, 0))
            hi[x] = Int32(last + 1)
        }
        let t = Toward(counts: n, lo: lo, hi: hi)
        return toward.withLock { c in
            if let existing = c[r] { return existing }
            c[r] = t
            return t
        }
    }

    /// Calls `body` with the links of every shortest path from switch `s` to switch `t` (`first`,
    /// the switch links by egress port at each hop, `last`), in that order, until it returns false.
    /// A loop with its own stack, not a recursive walk: the control round asked this for every host
    /// pair that carries an elephant, and a walk that allocates a next-hop array per switch, or
    /// captures its stack in a closure, cost most of a large round's path enumeration.
    func forEachPath(from s: Int, to t: Int, first: DirectedLinkID, last: DirectedLinkID,
                     _ body: (UnsafeBufferPointer<DirectedLinkID>) -> Bool) {
        let r = row[t]
        guard r >= 0, distances[r][s] != 255 else { return }
        let way = toward(row: r)
        distances[r].withUnsafeBufferPointer { d in
            flat.withUnsafeBufferPointer { nb in
                way.lo.withUnsafeBufferPointer { firstOf in
                  way.hi.withUnsafeBufferPointer { endOf in
                    // The stack in fixed buffers (as `RoutedPaths.forEachRun`): at most `hops + 1`
                    // switches, and the path so far, `hops + 2` links.
                    let hops = Int(d[s])
                    withUnsafeTemporaryAllocation(of: DirectedLinkID.self, capacity: hops + 2) { links in
                      withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * (hops + 1)) { stack in
                        let nodes = stack.baseAddress!, next = nodes + (hops + 1)
                        links[0] = first
                        nodes[0] = s
                        // Per switch on the stack: the next of its neighbours to try, as an index into `nb`.
                        next[0] = Int(firstOf[s])
                        var top = 0
                        while top >= 0 {
                            let at = nodes[top]
                            if at == t {
                                links[top + 1] = last
                                if !body(UnsafeBufferPointer(rebasing: links[0..<(top + 2)])) { return }
                            } else {
                                let end = Int(endOf[at]), want = d[at] &- 1
                                var k = next[top]
                                while k < end && d[Int(nb[k].neighbour)] != want { k += 1 }
                                if k < end {
                                    next[top] = k + 1
                                    top += 1
                                    precondition(top <= hops, "a walk longer than its paths")
                                    links[top] = nb[k].egress
                                    let n = Int(nb[k].neighbour)
                                    nodes[top] = n
                                    next[top] = Int(firstOf[n])
                                    continue
                                }
                            }
                            top -= 1
                        }
                      }
                    }
                  }
                }
            }
        }
    }
}

/// One host pair's shortest paths as the routing table describes them: path `c` is the `c`-th of
/// the walk `RoutingTable.paths` makes, found from the number of paths below each next hop.
final class RoutedPaths: Sendable {
    let graph: RoutingGraph
    let row: Int
    let s: Int, t: Int
    let first: DirectedLinkID, last: DirectedLinkID
    let count: Int
    let way: RoutingGraph.Toward

    init(graph: RoutingGraph, row: Int, s: Int, t: Int, first: DirectedLinkID, last: DirectedLinkID) {
        self.graph = graph
        self.row = row
        self.s = s
        self.t = t
        self.first = first
        self.last = last
        way = graph.toward(row: row)
        count = Int(way.counts[s])
    }

    /// Links per path: the host links and the switch hops between them.
    var length: Int { Int(graph.distances[row][s]) + 2 }

    /// The links every path uses, in path order. A link has one position on every shortest path
    /// (its hop count from the source), so a link of the first path is shared when every other path
    /// has it at that position; the walk stops once every switch hop has been seen to differ (after
    /// the first path through another first hop, at most).
    func sharedLinks() -> [DirectedLinkID] {
        var shared: [DirectedLinkID] = []
        var keep: [Bool] = []
        var undecided = 0
        graph.forEachPath(from: s, to: t, first: first, last: last) { links in
            if shared.isEmpty {
                shared = Array(links)
                keep = Array(repeating: true, count: links.count)
                undecided = max(0, links.count - 2)
                return undecided > 0
            }
            for k in 1..<(links.count - 1) where keep[k] && links[k] != shared[k] {
                keep[k] = false
                undecided -= 1
            }
            return undecided > 0
        }
        return shared.indices.filter { keep[$0] }.map { shared[$0] }
    }

    /// True when `other` describes the same paths.
    func isSame(as other: RoutedPaths) -> Bool {
        self === other || (graph === other.graph && s == other.s && t == other.t && first == other.first && last == other.last)
    }

    /// The links of path `c`.
    func links(_ c: Int) -> [DirectedLinkID] {
        // (Made at its size: grown a link at a time, a path was several allocations, for every
        // path a round makes, 7,900 moves in a first round at k=32.)
        var out: [DirectedLinkID] = []
        out.reserveCapacity(length)
        out.append(first)
        let d = graph.distances[row]
        var x = s, rest = c
        while x != t {
            let want = d[x] &- 1
            var k = Int(way.lo[x])
            let end = Int(way.hi[x])
            while k < end {
                let y = Int(graph.flat[k].neighbour)
                if d[y] == want {
                    let n = Int(way.counts[y])
                    if rest < n { break }
                    rest -= n
                }
                k += 1
            }
            guard k < end else { break }
            out.append(graph.flat[k].egress)
            x = Int(graph.flat[k].neighbour)
        }
        out.append(last)
        return out
    }

    /// Calls `body` with each position of the paths (0: `first`), a link at that position and the
    /// number of paths that have it there, one run after another in the paths' order: a walk of the
    /// tree of the paths' beginnings, which reads each switch hop once for all the paths below it
    /// instead of once per path (a k=32 fat-tree pair: 784 runs for 256 paths of 6 links).
    func forEachRun(_ body: (Int, DirectedLinkID, Int) -> Void) {
        guard count > 0 else { return }
        body(0, first, count)
        // The switches on a path, at most `length - 1`: the walk's stack, per switch on it the
        // next of its neighbours to try, in one fixed buffer (not two arrays grown and shrunk at
        // every step: 784 runs a row at k=32, for every row of a first round).
        let depth = length
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * depth) { stack in
            let nodes = stack.baseAddress!, next = nodes + depth
            graph.distances[row].withUnsafeBufferPointer { d in
                graph.flat.withUnsafeBufferPointer { nb in
                    way.counts.withUnsafeBufferPointer { counts in
                      way.lo.withUnsafeBufferPointer { firstOf in
                        way.hi.withUnsafeBufferPointer { endOf in
                            var top = 0
                            nodes[0] = s
                            next[0] = Int(firstOf[s])
                            while top >= 0 {
                                let at = nodes[top]
                                if at != t {
                                    let end = Int(endOf[at]), want = d[at] &- 1
                                    var k = next[top]
                                    while k < end && d[Int(nb[k].neighbour)] != want { k += 1 }
                                    if k < end {
                                        next[top] = k + 1
                                        let y = Int(nb[k].neighbour)
                                        body(top + 1, nb[k].egress, Int(counts[y]))
                                        top += 1
                                        precondition(top < depth, "a walk longer than its paths")
                                        nodes[top] = y
                                        next[top] = Int(firstOf[y])
                                        continue
                                    }
                                }
                                top -= 1
                            }
                        }
                      }
                    }
                }
            }
        }
        body(length - 1, last, count)
    }

    /// The index of the first path every link of which satisfies `accept`: a walk in the paths'
    /// order that leaves out every path below a link that fails (their number is known).
    func firstIndex(whereEveryLink accept: (DirectedLinkID) -> Bool) -> Int? {
        guard count > 0, accept(first), accept(last) else { return nil }
        let d = graph.distances[row]
        func search(_ x: Int) -> Int? {
            if x == t { return 0 }
            let want = d[x] &- 1
            var below = 0
            for k in Int(way.lo[x])..<Int(way.hi[x]) {
                let y = Int(graph.flat[k].neighbour)
                guard d[y] == want else { continue }
                if accept(graph.flat[k].egress), let c = search(y) { return below + c }
                below += Int(way.counts[y])
            }
            return nil
        }
        return search(s)
    }

    /// The index of `path` among these paths, nil if it is not one of them.
    func index(of path: Path) -> Int? {
        let l = path.links
        guard l.count >= 2, l[0] == first, l[l.count - 1] == last else { return nil }
        let d = graph.distances[row]
        var x = s, c = 0
        for e in l[1..<(l.count - 1)] {
            guard x != t else { return nil }
            let want = d[x] &- 1
            var found = false
            for k in Int(way.lo[x])..<Int(way.hi[x]) {
                let y = Int(graph.flat[k].neighbour)
                guard d[y] == want else { continue }
                if graph.flat[k].egress == e {
                    x = y
                    found = true
                    break
                }
                c += Int(way.counts[y])
            }
            guard found else { return nil }
        }
        return x == t ? c : nil
    }
}

/// A flow's candidate paths: a list, or a host pair's shortest paths described by the routing table
/// (`RoutingTable.candidatePaths`), which are worked out when read and take no memory per path.
/// Either way a collection of `Path`, in the order the routing table's walk gives them.
public struct CandidatePaths: RandomAccessCollection, Hashable, Sendable, ExpressibleByArrayLiteral {
    private enum Storage: Sendable {
        case list([Path])
        case routed(RoutedPaths)
    }
    private let storage: Storage
    public let endIndex: Int
    public var startIndex: Int { 0 }

    public init(_ paths: [Path]) {
        storage = .list(paths)
        endIndex = paths.count
    }

    public init(arrayLiteral paths: Path...) { self.init(paths) }

    init(routed: RoutedPaths) {
        storage = .routed(routed)
        endIndex = routed.count
    }

    public subscript(c: Int) -> Path {
        switch storage {
        case .list(let p):
            return p[c]
        case .routed(let r):
            precondition(c >= 0 && c < endIndex, "candidate index out of range")
            return Path(r.links(c))
        }
    }

    /// The index of `path`, nil if it is not a candidate. A described set finds it from the path's
    /// links, without reading the others.
    public func firstIndex(of path: Path) -> Int? {
        switch storage {
        case .list(let p): p.firstIndex(of: path)
        case .routed(let r): r.index(of: path)
        }
    }

    public func contains(_ path: Path) -> Bool { firstIndex(of: path) != nil }

    /// The length of every path, when they are described (shortest paths, all of one length).
    public var pathLength: Int? {
        if case .routed(let r) = storage { return r.length }
        return nil
    }

    /// True when the paths are described by the routing table rather than listed.
    public var isDescribed: Bool {
        if case .routed = storage { return true }
        return false
    }

    /// Calls `body` with each candidate's index and links, in order, without making a `Path` of each.
    public func forEachLinks(_ body: (Int, UnsafeBufferPointer<DirectedLinkID>) -> Void) {
        switch storage {
        case .list(let ps):
            for (c, p) in ps.enumerated() { p.links.withUnsafeBufferPointer { body(c, $0) } }
        case .routed(let r):
            var c = 0
            r.graph.forEachPath(from: r.s, to: r.t, first: r.first, last: r.last) { links in
                body(c, links)
                c += 1
                return true
            }
        }
    }

    /// For described paths: calls `body` with each position (0: the first link), a link at that
    /// position and how many consecutive candidates have it there, in candidate order at each
    /// position (runs of one position are in order; positions interleave), and returns true.
    /// Listed paths: returns false and calls nothing. Reads each switch hop once for all the paths
    /// below it, not once per path.
    public func forEachRun(_ body: (_ position: Int, _ link: DirectedLinkID, _ paths: Int) -> Void) -> Bool {
        guard case .routed(let r) = storage else { return false }
        r.forEachRun(body)
        return true
    }

    /// The index of the first candidate every link of which satisfies `accept`. A described set
    /// walks the routing table and skips every path below a link that fails, without reading them.
    public func firstIndex(whereEveryLink accept: (DirectedLinkID) -> Bool) -> Int? {
        switch storage {
        case .list(let ps):
            return ps.firstIndex { $0.links.allSatisfy(accept) }
        case .routed(let r):
            return r.firstIndex(whereEveryLink: accept)
        }
    }

    /// True when `other` is the same candidates by construction: the very list (the same storage),
    /// or the same pair described by the same routing table. (False does not mean they differ.)
    public func isSameStorage(as other: CandidatePaths) -> Bool {
        switch (storage, other.storage) {
        case (.list(let a), .list(let b)):
            a.count == b.count && a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in x.baseAddress == y.baseAddress } }
        case (.routed(let a), .routed(let b)): a.isSame(as: b)
        default: false
        }
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.isSameStorage(as: b) || (a.count == b.count && a.elementsEqual(b))
    }

    public func hash(into h: inout Hasher) {
        h.combine(count)
        if let f = first { h.combine(f) }
        if count > 1 { h.combine(self[count - 1]) }
    }

    /// The links every candidate uses (host links, the last hops of a fat-tree down path), in the
    /// order of the first candidate: they load every choice alike, so they cannot decide between them.
    public var sharedLinks: [DirectedLinkID] {
        if case .routed(let r) = storage { return r.sharedLinks() }
        // A small array: paths are a few links long, and membership tests on it are cheaper than hashing.
        var shared: [DirectedLinkID] = []
        var keep: [Bool] = []
        forEachLinks { c, links in
            if c == 0 {
                shared = Array(links)
                keep = Array(repeating: true, count: links.count)
            } else {
                for k in shared.indices where keep[k] && !links.contains(shared[k]) { keep[k] = false }
            }
        }
        return shared.indices.filter { keep[$0] }.map { shared[$0] }
    }
}
