// Phase 1 of `TuskSelector`: alternating chains, for flows too large to share a link.
//
// Two elephants that each need more than half a link cannot share one: every link must carry at most
// one of them. In a Clos fabric (leaf-spine, fat-tree) that is an edge-colouring problem, one level
// of the fabric at a time, and König's theorem says it always has a solution when no switch has more
// such flows than uplinks: a fat-tree is rearrangeably non-blocking for them. The constructive proof
// gives the moves (a Kempe chain): a flow F from switch s to switch t needs a "colour" (the uplink at
// s and the matching downlink at t, for example the aggregation plane, or the core within a plane)
// that is free at both ends. If colour a is free at s and colour b at t but no colour at both, F takes
// a; the flow G that had a at t moves to b there, which may push the flow that had b at G's other
// end onto a, and so on. The chain alternates a and b and ends at a switch where the colour it needs
// is free. Each flow on the chain changes colour once; most chains are a handful of flows long.
//
// The structure is read from the candidates alone, with no knowledge of the topology: a candidate's
// links (those not shared by every candidate) pair up from the outside in. Level 0 is the first link
// with the last (edge uplink and the downlink into the destination's edge), level 1 the second with
// the second to last (aggregation to core, core to aggregation), and so on. Changing level j keeps the
// links of the levels above it. A chain moves a flow onto "the option whose link on this side is the
// one just freed", which in a Clos fabric is always there; where it is not (another topology), the
// chain stops and is undone. Every chain is kept only if it lowers the oversubscription of the plan
// (background included) by at least the minimum gain, and the move cap holds throughout.
//
// A unit that finds nothing is remembered with the links whose occupants it read (`ChainMemory`):
// it is tried again, in this round or a later one, only once one of those links has other full
// flows on it, or one of them has moved or may now move.
import Packets
import Topology

struct AlternatingChains {
    /// Longest chain followed (flows moved by one chain, the head included). Longer ones are
    /// rarely kept and, at k=32, cost most of a round (64 took 1.6 s a round, 24 takes 1.1 s, with
    /// fewer oversubscribed links left).
    static let maxChain = 24
    /// Free colours tried at each end of a collision (each pair gives a different chain).
    static let colours = 4
    /// Charge per flow a chain moves when choosing between chains (as for the local search).
    static let moveCharge = RearrangementSearch.moveCharge
    /// Charge per flow a unit moves when deciding whether to keep it: a tenth of the search's, so a
    /// unit that frees one full link may move up to about 90 flows (its chains, at most `maxChain`
    /// flows each, and the chains one level down for the flows they moved). At half the search's
    /// (until 2026-12-06; up to about 18 flows) most units that freed a link at k=16 and k=32 moved
    /// 22 to 48 flows and were undone: the collisions they would have freed stayed, 13 full links
    /// in a k=16 bijection round after round, and every round in the settle window spent its
    /// rearranging phases on them in vain. A tenth frees them: bijection throughput 0.984 to
    /// 0.994 of non-blocking at k=16 (20 seeds) and 0.972 to 0.985 at k=32 (8 seeds), for 1.06
    /// and 1.14 moves per elephant instead of 0.98 and 1.02.
    static let acceptCharge = RearrangementSearch.moveCharge / 10
    /// A unit whose gain fell short of keeping it by less than this (in utilization: one full link) is not
    /// remembered (`ChainMemory`).
    static let closeCall = 1.0

    /// Candidate paths, flat (shared links left out); a flow whose candidates differ in length
    /// takes no part and only occupies its links.
    private let table: CandidateLinks
    private let eligible: [Bool]
    private let full: [Bool]
    private var choice: [Int]
    /// Each flow's candidate index when the chains began (-1: its path is none of them).
    let start: [Int]
    private let demand: [Double]
    private let inverseCapacity: [Double]
    private var util: [Double]
    /// The full flows on each link; -1 stands for one that may not move.
    private var occupants: LinkOccupants
    private let over: Double
    private let moveCap: Int
    private var moved = 0
    private var trail: [(flow: Int, from: Int)] = []
    /// The moves of the best chain `resolve` has costed (flow, candidate), when it is not the last tried.
    private var bestMoves: [(flow: Int, to: Int)] = []
    private var delta = 0.0
    /// Each flow's candidates by their link at a level and side, built when a chain first needs it.
    private let groups: CandidateGroups
    private let keys: [FlowKey]
    /// Each flow's identity in a link's signature (its key, and whether it may take part).
    private let token: [UInt64]
    /// Per link, the identities of the full flows on it, each with its path, and of those that may
    /// not move, combined (what `signature` reads; `move` keeps it).
    private var linkTokens: [UInt64]
    /// The links the unit under way has read.
    private let reads: ReadLinks
    /// A unit's flows, each once (a set by flow index, for the unit's levels and its move count).
    private let seen: ReadLinks
    /// The flows a walk or a chain has passed (at most `maxChain`): kept for the run, not made for
    /// each of the few hundred thousand walks of a first round at k=32. (One list: `resolve` makes
    /// its walks, then its chains, never one inside another.)
    private let passed = IndexList(capacity: AlternatingChains.maxChain)
    /// A collision's options, and those free on side A (`resolve`).
    private let optionList: IndexList, freeList: IndexList
    /// The flows whose units were tried this run, and those not tried again (`ChainMemory`; in
    /// either pass), by index.
    private(set) var tried: [Int] = [], remembered: [Int] = []

    /// `fixed`: the elephants that may not move this round, with their paths and demands.
    init(flows: [ElephantFlow], assigned: [Path], table: CandidateLinks, fixed: [(key: FlowKey, path: Path, demand: Double)],
         plan: LoadPlan, over: Double, moveCap: Int) {
        self.over = over
        self.moveCap = moveCap
        self.table = table
        let n = plan.planned.count
        groups = CandidateGroups(table: table, links: n)
        let (inverse, util) = plan.utilizations()
        inverseCapacity = inverse
        self.util = util
        occupants = LinkOccupants(links: n)
        var eligible: [Bool] = [], full: [Bool] = [], choice: [Int] = []
        eligible.reserveCapacity(flows.count)
        full.reserveCapacity(flows.count)
        choice.reserveCapacity(flows.count)
        // (Each flow read in place and its path's links read from the table, not copied out: this
        // runs over every movable elephant in every round the phase runs.)
        for i in flows.indices {
            let c = table.index(of: assigned[i], flow: i, flows[i]) ?? -1
            let w = table.width[i], demand = flows[i].demand
            eligible.append(c >= 0 && w > 0 && flows[i].candidates.count > 1 && table.uniform[i])
            // Two of them on one link put it over the threshold.
            var isFull = c >= 0 && w > 0
            if isFull {
                let r = table.row(i)
                for k in 0..<w {
                    let x = r.link(c, k)
                    if x >= 0 && !(2 * demand * inverse[Int(x)] > over) {
                        isFull = false
                        break
                    }
                }
                if isFull { for k in 0..<w where r.link(c, k) >= 0 { occupants.append(Int(r.link(c, k)), Int32(i)) } }
            }
            full.append(isFull)
            choice.append(c)
        }
        var linkTokens = [UInt64](repeating: 0, count: n)
        for (key, p, d) in fixed {
            let t = ChainMemory.mix(key.fingerprint ^ ChainMemory.fixedMark)
            for l in p.links where l.index < n && 2 * d * inverse[l.index] > over {
                occupants.append(l.index, -1)
                linkTokens[l.index] ^= t
            }
        }
        keys = flows.map { $0.key }
        let token = flows.indices.map { i in ChainMemory.mix(flows[i].key.fingerprint) ^ (eligible[i] ? 0 : 1) }
        self.token = token
        for i in flows.indices where full[i] {
            let c = choice[i], t = Self.tokenOf(token[i], on: c)
            for k in 0..<table.width[i] {
                let x = table.link(i, c, k)
                if x >= 0 { linkTokens[Int(x)] ^= t }
            }
        }
        self.linkTokens = linkTokens
        reads = ReadLinks(links: n)
        seen = ReadLinks(links: flows.count)
        let most = table.count.max() ?? 0
        optionList = IndexList(capacity: most)
        freeList = IndexList(capacity: most)
        self.eligible = eligible
        self.full = full
        self.choice = choice
        start = choice
        demand = flows.map { $0.demand }
        for i in flows.indices where choice[i] != table.home[i] { moved += 1 }
    }

    private func excess(_ u: Double) -> Double { max(0, u - over) }

    /// The link of level `j` on side A (toward the source) or B of candidate `c` of flow `i`.
    @inline(__always) private func link(_ i: Int, _ c: Int, _ j: Int, sideA: Bool) -> Int32 {
        return table.link(i, c, sideA ? j : table.width[i] - 1 - j)
    }

    /// True if a full flow other than `i` is on link `l` (a read of the link).
    @inline(__always) private func taken(_ l: Int32, by i: Int) -> Bool {
        reads.note(Int(l))
        return occupants.taken(Int(l), by: Int32(i))
    }

    /// True if candidate `c` of flow `i` keeps the links of its current path at the levels above `j`.
    @inline(__always) private func agrees(_ i: Int, _ c: Int, below j: Int) -> Bool {
        Self.agrees(table.row(i), c, choice[i], below: j)
    }

    /// The same from a row: candidate `c` against the current path, candidate `cur`.
    /// (The closures the groups call use these forms, on copies of what they read: a closure that
    /// captures `self` makes each call copy the whole struct, every array in it retained and released.)
    @inline(__always) private static func agrees(_ r: RowView, _ c: Int, _ cur: Int, below j: Int) -> Bool {
        let w = r.width
        for l in 0..<j where r.link(c, l) != r.link(cur, l) || r.link(c, w - 1 - l) != r.link(cur, w - 1 - l) { return false }
        return true
    }

    /// Candidates of flow `i` that keep its links of the levels above `j`, in index order, into
    /// `out`. Below level 0 they are among those that keep its level-0 link on side A: that group
    /// is read, not the whole row (256 candidates at k=32, 16 of them in the group).
    private func options(_ i: Int, level j: Int, into out: IndexList) {
        out.clear()
        guard j > 0 else {
            for c in 0..<table.count[i] { out.append(Int32(c)) }
            return
        }
        let r = table.row(i), cur = choice[i]
        groups.forEach(of: i, level: 0, sideA: true, link: link(i, choice[i], 0, sideA: true), table: table) { c in
            if Self.agrees(r, c, cur, below: j) { out.append(Int32(c)) }
            return true
        }
    }

    /// Among the candidates of flow `i` whose level-`j` link on side A (or B) is `l` (and on the other
    /// side `other`, if given) and that keep its links above level `j`, the one whose deeper links
    /// are least taken (then the least loaded). Ties go to the lowest candidate index.
    private func pick(_ i: Int, level j: Int, sideA: Bool, link l: Int32, other: Int32? = nil) -> Int? {
        var best: Int?, bestTaken = Int.max, bestSum = Double.infinity
        let r = table.row(i), w = r.width, cur = choice[i]
        let otherSide = sideA ? w - 1 - j : j, occupants = self.occupants, util = self.util, reads = self.reads
        groups.forEach(of: i, level: j, sideA: sideA, link: l, table: table) { c in
            guard (other == nil || r.link(c, otherSide) == other!) && Self.agrees(r, c, cur, below: j) else { return true }
            var n = 0, sum = 0.0
            for k in (j + 1)..<max(j + 1, w - 1 - j) {
                let x = Int(r.link(c, k))
                reads.note(x)
                if occupants.taken(x, by: Int32(i)) { n += 1 }
            }
            for k in 0..<w { sum += util[Int(r.link(c, k))] }
            if n < bestTaken || (n == bestTaken && sum < bestSum - 1e-12) { (best, bestTaken, bestSum) = (c, n, sum) }
            return true
        }
        return best
    }

    /// Moves flow `i` to candidate `c`, keeping the plan, the occupants and the energy change.
    private mutating func move(_ i: Int, to c: Int) {
        let a = choice[i]
        guard a != c else { return }
        let d = demand[i], isFull = full[i]
        table.forEachLink(of: i, a, notIn: c) { x in
            let u = util[x], v = u - d * inverseCapacity[x]
            delta += excess(v) - excess(u)
            util[x] = v
            if isFull { occupants.remove(x, Int32(i)) }
        }
        table.forEachLink(of: i, c, notIn: a) { x in
            let u = util[x], v = u + d * inverseCapacity[x]
            delta += excess(v) - excess(u)
            util[x] = v
            if isFull { occupants.append(x, Int32(i)) }
        }
        if isFull {
            let r = table.row(i), ta = Self.tokenOf(token[i], on: a), tc = Self.tokenOf(token[i], on: c)
            for k in 0..<r.width {
                let x = r.link(a, k), y = r.link(c, k)
                if x >= 0 { linkTokens[Int(x)] ^= ta }
                if y >= 0 { linkTokens[Int(y)] ^= tc }
            }
        }
        moved += (c != table.home[i] ? 1 : 0) - (a != table.home[i] ? 1 : 0)
        trail.append((i, a))
        choice[i] = c
    }

    /// A full flow's identity on a link's signature: its token and its candidate.
    @inline(__always) private static func tokenOf(_ token: UInt64, on c: Int) -> UInt64 {
        ChainMemory.mix(token &+ UInt64(UInt32(truncatingIfNeeded: c)))
    }

    private mutating func undo(to mark: Int) {
        while trail.count > mark {
            let (i, a) = trail.removeLast()
            move(i, to: a)
            trail.removeLast()
        }
    }

    /// Frees flow `i`'s level-`j` links from the other full flows: a direct move if there is a free
    /// option, else the cheapest of the chains that start from a few colours free at either end (the
    /// chain's length depends on the pair of colours it alternates). Returns false when it finds
    /// nothing (the caller undoes what it did).
    private mutating func resolve(_ i: Int, level j: Int) -> Bool {
        let opts = optionList, freeA = freeList
        options(i, level: j, into: opts)
        func a(_ c: Int) -> Int32 { link(i, c, j, sideA: true) }
        func b(_ c: Int) -> Int32 { link(i, c, j, sideA: false) }
        // Whether a link is free, asked once per run of candidates that share it (a fat-tree's
        // level-0 links come in runs of k/2): nothing moves while these are read.
        var lastA = (link: Int32.min, free: false), lastB = (link: Int32.min, free: false)
        func free(_ l: Int32, _ last: inout (link: Int32, free: Bool)) -> Bool {
            if l != last.link { last = (l, !taken(l, by: i)) }
            return last.free
        }
        // (Every option's side-A link is asked first, then the free ones' side-B links until one is
        // free: the links read, and so the unit's memory, are the same whatever the lists are.)
        freeA.clear()
        for k in 0..<opts.count where free(a(opts[k]), &lastA) { freeA.append(Int32(opts[k])) }
        for k in 0..<freeA.count where free(b(freeA[k]), &lastB) {
            let c = freeA[k]
            guard let p = pick(i, level: j, sideA: true, link: a(c), other: b(c)) else { return false }
            move(i, to: p)
            return true
        }
        var linksA: [Int32] = [], linksB: [Int32] = []
        linksA.reserveCapacity(AlternatingChains.colours)
        linksB.reserveCapacity(AlternatingChains.colours)
        for k in 0..<freeA.count where !linksA.contains(a(freeA[k])) && linksA.count < AlternatingChains.colours { linksA.append(a(freeA[k])) }
        for k in 0..<opts.count where free(b(opts[k]), &lastB) && !linksB.contains(b(opts[k])) && linksB.count < AlternatingChains.colours {
            linksB.append(b(opts[k]))
        }
        // Each pair of free colours, either end first, walked without moving anything to learn its
        // length; then the chains in order of length, each followed for real (moves, energy) and
        // undone; the best by energy change plus the move charge.
        var trials: [(length: Int, la: Int32, lb: Int32, fromA: Bool)] = []
        trials.reserveCapacity(2 * linksA.count * linksB.count)
        var shortest = AlternatingChains.maxChain
        for la in linksA {
            for lb in linksB {
                for fromA in [true, false] {
                    // Walks much longer than the shortest so far would not be followed.
                    if let n = walk(i, level: j, la: la, lb: lb, fromA: fromA, limit: min(AlternatingChains.maxChain, shortest + 3)) {
                        trials.append((n, la, lb, fromA))
                        shortest = min(shortest, n)
                    }
                }
            }
        }
        trials.sort { $0.length < $1.length }
        var best: (cost: Double, length: Int)?
        let mark = trail.count, before = delta
        for (n, t) in trials.enumerated() {
            // Much longer than the best so far cannot be cheaper.
            if let b = best, t.length > b.length + 2 { break }
            let limit = min(AlternatingChains.maxChain, (best?.length ?? AlternatingChains.maxChain) + 2)
            let ok = chain(i, level: j, la: t.la, lb: t.lb, fromA: t.fromA, limit: limit)
            let length = trail.count - mark
            let cost = delta - before + AlternatingChains.moveCharge * Double(length)
            if ok && cost < (best?.cost ?? .infinity) - 1e-12 {
                best = (cost, length)
                // The chain just followed is the best, and the last to be tried (two flows, the head
                // and the one it displaces, is as short as a chain gets; the next is too long to be
                // cheaper): it stays as it is.
                if length <= 2 || n + 1 == trials.count || trials[n + 1].length > length + 2 { return true }
                bestMoves.removeAll(keepingCapacity: true)
                for k in mark..<trail.count { bestMoves.append((trail[k].flow, choice[trail[k].flow])) }
            }
            undo(to: mark)
            delta = before
        }
        guard let best else { return false }
        // The best chain's moves made again as they were costed. (Followed again from the links,
        // a chain could take another way: undoing a chain puts its flows back last on their links,
        // and where a link carries three full flows or more, the next flow of the chain is the first
        // listed. Until 2026-12-07 it was followed again, and at k=16 about one kept chain in six
        // was not the one costed.)
        for (y, c) in bestMoves { move(y, to: c) }
        assert(abs(delta - before + AlternatingChains.moveCharge * Double(trail.count - mark) - best.cost) < 1e-6,
               "the chain kept is not the one costed")
        return true
    }

    /// The first candidate of flow `i` whose level-`j` link on the given side is `l` and that keeps
    /// its links above level `j`.
    private func firstOption(_ i: Int, level j: Int, sideA: Bool, link l: Int32) -> Int? {
        var found: Int?
        let r = table.row(i), cur = choice[i]
        groups.forEach(of: i, level: j, sideA: sideA, link: l, table: table) { c in
            if Self.agrees(r, c, cur, below: j) { found = c }
            return found == nil
        }
        return found
    }

    /// The number of flows `chain` would move, found by walking the chain without moving anything
    /// (flows it already passed count as gone from their links); nil if it would fail or exceed
    /// `limit` flows. In a Clos fabric the colour fixes the link on both sides, so which option each
    /// flow takes does not change the walk.
    private func walk(_ i: Int, level j: Int, la: Int32, lb: Int32, fromA: Bool, limit: Int) -> Int? {
        guard let first = firstOption(i, level: j, sideA: fromA, link: fromA ? la : lb) else { return nil }
        let visited = passed
        visited.start(Int32(i))
        var sideA = !fromA
        var held = link(i, first, j, sideA: sideA)
        var need = fromA ? lb : la
        for n in 1..<max(limit, 2) {
            var next: Int32?, anyOther = false
            reads.note(Int(held))
            occupants.forEach(Int(held)) { o in
                guard !visited.contains(o) else { return true }
                anyOther = true
                guard o >= 0 && eligible[Int(o)] else { return true }
                next = o
                return false
            }
            guard anyOther else { return n }
            guard let y = next.map(Int.init), let c = firstOption(y, level: j, sideA: sideA, link: need) else { return nil }
            visited.append(Int32(y))
            need = link(y, choice[y], j, sideA: !sideA)
            held = link(y, c, j, sideA: !sideA)
            sideA.toggle()
        }
        return nil
    }

    /// One chain for flow `i` at level `j`. `fromA`: `i` takes the option with link `la` (free) on
    /// side A, and the flow holding its side-B link moves to `lb` (free); else the mirror image.
    private mutating func chain(_ i: Int, level j: Int, la: Int32, lb: Int32, fromA: Bool, limit: Int) -> Bool {
        guard let first = pick(i, level: j, sideA: fromA, link: fromA ? la : lb) else { return false }
        // (A chain is at most `maxChain` flows: a short list is searched faster than a set is hashed.)
        let visited = passed
        visited.start(Int32(i))
        move(i, to: first)
        // `held`: the link the last flow moved has just taken, on side A if `sideA`; the full flow
        // already there must move to `need`, the link on that side the chain leaves free for it.
        var x = i
        var sideA = !fromA
        var held = link(i, first, j, sideA: sideA)
        var need = fromA ? lb : la
        for _ in 1..<limit {
            var anyOther = false, next: Int32?
            reads.note(Int(held))
            occupants.forEach(Int(held)) { o in
                guard o != Int32(x) else { return true }
                anyOther = true
                guard o >= 0 && eligible[Int(o)] && !visited.contains(o) else { return true }
                next = o
                return false
            }
            guard anyOther else { return true }
            // Where the link already carried two (a collision the chain passes through), one of them
            // moves on and the other stays: the link is no worse than before.
            guard let first = next else { return false }
            let y = Int(first)
            visited.append(first)
            let side = sideA, target = need
            guard let c = pick(y, level: j, sideA: side, link: target) else { return false }
            let old = link(y, choice[y], j, sideA: !sideA)
            move(y, to: c)
            held = link(y, c, j, sideA: !sideA)
            need = old
            sideA.toggle()
            x = y
        }
        return false
    }

    /// True if a full flow other than `i` shares `i`'s link of level `j`.
    private func collides(_ i: Int, level j: Int) -> Bool {
        let w = table.width[i]
        guard 2 * j < w else { return false }
        return taken(link(i, choice[i], j, sideA: true), by: i) || taken(link(i, choice[i], j, sideA: false), by: i)
    }

    /// Runs the chains; returns every flow's candidate index when something changed. For each full
    /// flow that collides, a unit of work: its chain at the outermost level where it collides, then
    /// chains one level down for the flows that chain moved, and so on (where one of those finds no
    /// chain, that flow keeps its collision and the unit goes on: the energy decides). A unit is kept when it lowers
    /// the oversubscription of the plan (background included) by at least `minGain` plus
    /// `acceptCharge` per flow it moves, within the move cap; otherwise it is undone.
    ///
    /// `memory`: the units that found nothing, with the links they read. A unit is not tried again
    /// while those links carry the same full flows, each on the same path and as free to move as
    /// before (the loads that measurement noise changes are not looked at: on the same flows the
    /// chains would walk the same way). It is updated with this round's units.
    mutating func run(minGain: Double, memory: inout ChainMemory) -> [Int]? {
        // Smallest first (the flows come largest first): of two colliding flows the larger keeps its path.
        let order = choice.indices.reversed().filter { eligible[$0] && full[$0] }
        let gain = max(minGain, 1e-9)
        if memory.over != over || memory.gain != gain { memory = ChainMemory(over: over, gain: gain) }
        guard !order.isEmpty else {
            memory.entries = [:]
            return nil
        }
        let levels = order.map { (table.width[$0] + 1) / 2 }.max() ?? 0
        var changed = false
        // This round's entries: those of units that still found nothing, or were not tried again.
        let last = memory.entries
        var next: [FlowKey: ChainMemory.Entry] = [:]
        for _ in 0..<2 {
            for i in order {
                reads.begin()
                guard let j0 = (0..<levels).first(where: { collides(i, level: $0) }) else { continue }
                if let e = next[keys[i]] ?? last[keys[i]], e.choice == choice[i], e.level == j0, e.candidates == table.count[i],
                   signature(e.links) == e.signature {
                    next[keys[i]] = e
                    remembered.append(i)
                    continue
                }
                tried.append(i)
                let mark = trail.count
                delta = 0
                let ok = resolve(i, level: j0)
                if ok {
                    for j in (j0 + 1)..<max(j0 + 1, levels) {
                        // The unit's flows so far, copied out: a loop over a slice of `trail`
                        // would share its storage while `resolve` appends to it, and then every
                        // move copied the whole trail (thousands of entries in a first round).
                        let unit = trail[mark...].map { $0.flow }
                        seen.begin()
                        for y in unit where seen.insert(y) && collides(y, level: j) {
                            _ = resolve(y, level: j)
                        }
                    }
                }
                seen.begin()
                for k in mark..<trail.count { _ = seen.insert(trail[k].flow) }
                let unitMoves = seen.listed
                let shortfall = delta + AlternatingChains.acceptCharge * Double(unitMoves) + gain
                let gains = ok && shortfall <= 0
                if gains && moved <= moveCap {
                    changed = true
                    next[keys[i]] = nil
                } else {
                    undo(to: mark)
                    // A unit the move cap stopped is not remembered (it may fit in a later round), nor
                    // one that came close: the loads it weighed are measured, and their noise may
                    // tip it over in a later round.
                    if ok && shortfall < AlternatingChains.closeCall {
                        next[keys[i]] = nil
                    } else {
                        let links = reads.links
                        next[keys[i]] = ChainMemory.Entry(choice: choice[i], level: j0, candidates: table.count[i],
                                                          links: links, signature: signature(links))
                    }
                }
            }
        }
        memory.entries = next
        return changed ? choice : nil
    }

    /// The state of `links` that a unit reads: on each, the full flows, their paths and whether they
    /// may move, combined into one number.
    private func signature(_ links: [Int32]) -> UInt64 {
        var s: UInt64 = 0
        for l in links {
            s &+= ChainMemory.mix(linkTokens[Int(l)] ^ UInt64(UInt32(bitPattern: l)) &* 0x9E37_79B9_7F4A_7C15)
        }
        return s
    }
}

/// What the alternating chains remember between units and rounds: each unit that found nothing, with
/// the links it read and their state (`AlternatingChains.run`). Cleared when the thresholds or the
/// fabric's links change.
struct ChainMemory {
    struct Entry {
        /// The flow's candidate index, the level it collided at and its number of candidates.
        var choice: Int, level: Int, candidates: Int
        var links: [Int32]
        var signature: UInt64
    }
    var over = 0.0, gain = 0.0
    var entries: [FlowKey: Entry] = [:]

    /// A 64-bit mix (SplitMix64's finaliser): equal inputs, equal outputs, on every run.
    @inline(__always) static func mix(_ v: UInt64) -> UInt64 {
        var z = v &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Marks the identity of a flow that may not move.
    static let fixedMark: UInt64 = 0xF1ED_F1ED_F1ED_F1ED
}

extension FlowKey {
    /// The 5-tuple in 64 bits, the same on every run (Swift's `Hasher` is seeded per process).
    var fingerprint: UInt64 {
        func address(_ a: IPAddress) -> UInt64 {
            switch a {
            case .v4(let v): return UInt64(v.value)
            case .v6(let v): return ChainMemory.mix(v.high) ^ v.low
            }
        }
        var h = ChainMemory.mix(address(src))
        h = ChainMemory.mix(h ^ address(dst))
        return ChainMemory.mix(h ^ (UInt64(proto) << 32 | UInt64(sport) << 16 | UInt64(dport)))
    }
}

/// Owns the raw memory of `IndexList` and `ReadLinks`, and frees it with the last copy of them.
final class RawMemory {
    private let pointers: [UnsafeMutableRawPointer]
    init<each T>(_ p: repeat UnsafeMutablePointer<each T>) {
        var all: [UnsafeMutableRawPointer] = []
        for q in repeat each p { all.append(UnsafeMutableRawPointer(q)) }
        pointers = all
    }
    deinit { for p in pointers { p.deallocate() } }
}

/// A short list of indices (flows, candidates) in a buffer made once for the chains' run (raw
/// memory shared by copies, as `ReadLinks`): the flows a walk or a chain has passed, and a
/// collision's options. A walk is started for up to 32 colour pairs per collision and a collision
/// lists up to 256 options at k=32; an array made for each was an allocation and a free each time.
struct IndexList {
    private let list: UnsafeMutablePointer<Int32>
    private let state: UnsafeMutablePointer<Int>
    private let capacity: Int
    private let owner: RawMemory

    init(capacity: Int) {
        self.capacity = max(capacity, 1)
        list = .allocate(capacity: self.capacity)
        state = .allocate(capacity: 1)
        state.initialize(to: 0)
        owner = RawMemory(list, state)
    }

    var count: Int { state.pointee }

    @inline(__always) subscript(_ k: Int) -> Int { Int(list[k]) }

    @inline(__always) func clear() { state.pointee = 0 }

    /// A new list of `x` alone.
    @inline(__always) func start(_ x: Int32) {
        list[0] = x
        state.pointee = 1
    }

    @inline(__always) func append(_ x: Int32) {
        precondition(state.pointee < capacity, "IndexList is full")
        list[state.pointee] = x
        state.pointee += 1
    }

    @inline(__always) func contains(_ x: Int32) -> Bool {
        for k in 0..<state.pointee where list[k] == x { return true }
        return false
    }
}

/// The links (or flows) a unit of work reads, each once, in the order first read: a mark per link (this unit's
/// number) says whether it is listed yet. Raw memory, shared by copies: the chains read links a few
/// million times a round, and arrays or a class's fields are checked at every touch.
struct ReadLinks {
    /// Per link, the unit that last listed it; then the list; then the unit's number and the length.
    private let mark: UnsafeMutablePointer<UInt32>
    private let list: UnsafeMutablePointer<Int32>
    private let state: UnsafeMutablePointer<Int>
    private let count: Int
    /// Owns the memory (and frees it with the last copy).
    private let owner: RawMemory


    init(links n: Int) {
        count = max(n, 1)
        mark = .allocate(capacity: count)
        mark.initialize(repeating: 0, count: count)
        list = .allocate(capacity: count)
        state = .allocate(capacity: 2)
        state.initialize(repeating: 0, count: 2)
        owner = RawMemory(mark, list, state)
    }

    /// A new unit: nothing read yet.
    func begin() {
        state[0] = state[0] == Int(UInt32.max) ? 0 : state[0] + 1
        if state[0] == 0 {
            mark.update(repeating: 0, count: count)
            state[0] = 1
        }
        state[1] = 0
    }

    @inline(__always) func note(_ l: Int) {
        _ = insert(l)
    }

    /// Lists `l` if it is not listed since `begin`; true if it was not.
    @inline(__always) func insert(_ l: Int) -> Bool {
        let unit = UInt32(truncatingIfNeeded: state[0])
        guard l >= 0 && l < count && mark[l] != unit else { return false }
        mark[l] = unit
        list[state[1]] = Int32(truncatingIfNeeded: l)
        state[1] += 1
        return true
    }

    /// How many are listed since `begin`.
    var listed: Int { state[1] }

    /// The links read since `begin`.
    var links: [Int32] { Array(UnsafeBufferPointer(start: list, count: state[1])) }
}

/// A flow's candidates grouped by the link they use at one level on one side, so that a chain finds
/// "the options whose link here is l" without reading every candidate (256 at k=32, with a few
/// hundred thousand such questions a round). Built per flow, level and side on first use: chains
/// touch a small part of the fabric. Where a flow's links at a level and side rise with the
/// candidate index (the routing table's order makes them so in a fat-tree or leaf-spine), a group
/// is a run of the table found by binary search, and nothing is built. Otherwise keys are built:
/// the link in the high bits and the candidate index in
/// the low ones, sorted, so a group is a run found by binary search, in candidate order. They are
/// 32 bits wide where the link and candidate numbers fit in 31 (k=64: 19 + 10 bits), half the memory of
/// 64-bit keys (at k=64 the groups of every flow a first round touches were gigabytes).
final class CandidateGroups {
    private let candidateBits: UInt32
    /// `start` of a group whose links rise with the candidate index: it has no keys.
    private static let rising = -2
    /// Where each (flow, level, side)'s keys start in `keys`, -1 until built (`rising`: no keys
    /// needed; a group computed from a progression uses no slot): a slot per flow and
    /// side for each of `levels` levels (a flat array: a dictionary lookup per question cost more
    /// than the binary search that follows it).
    private var start: [Int]
    private let levels: Int
    private var keys: [UInt32] = []
    /// False when a link index and a candidate index do not fit in one key: groups are then found
    /// by reading every candidate.
    private let keyed: Bool

    /// `links`: the number of directed links (every link index is below it).
    init(table: CandidateLinks, links: Int) {
        levels = min(64, ((table.width.max() ?? 0) + 1) / 2 + 1)
        start = Array(repeating: -1, count: table.count.count * levels * 2)
        func bits(_ n: Int) -> Int { n <= 1 ? 1 : Int.bitWidth - (n - 1).leadingZeroBitCount }
        let c = bits(table.count.max() ?? 1), l = bits(links)
        candidateBits = UInt32(c)
        keyed = c + l <= 31
    }

    /// How a flow's groups at one level and side are found (for the tests).
    enum Storage: String {
        /// Not asked for yet.
        case none
        /// Computed from a progression: no read of the row.
        case progression
        /// Searched for in the row, whose links rise.
        case rising
        /// Searched for among sorted keys.
        case keys
    }

    /// How the groups of flow `i` at level `j` on one side are found, once one has been asked for
    /// (a progression needs nothing built: it is known from the row).
    func storage(of i: Int, level j: Int, sideA: Bool, table: CandidateLinks) -> Storage {
        let r = table.row(i), position = sideA ? j : r.width - 1 - j
        if keyed && j < levels && (0..<r.width).contains(position) && r.orders[position].run > 0 { return .progression }
        let s = start[(i * levels + j) * 2 + (sideA ? 1 : 0)]
        return s == -1 ? .none : s == CandidateGroups.rising ? .rising : .keys
    }

    /// Calls `body` with each candidate of the group, in index order, until it returns false.
    func forEach(of i: Int, level j: Int, sideA: Bool, link l: Int32, table: CandidateLinks, _ body: (Int) -> Bool) {
        let n = table.count[i], r = table.row(i), w = r.width
        let position = sideA ? j : w - 1 - j
        guard (0..<w).contains(position) else { return }
        @inline(__always) func link(_ c: Int) -> Int32 { r.link(c, position) }
        guard keyed, j < levels, l >= 0 else {
            for c in 0..<n where link(c) == l { if !body(c) { return } }
            return
        }
        // Where the links rise with the candidate index (the routing table's order: by egress port
        // at each hop, so every level of a fat-tree or leaf-spine), the groups are runs of the table
        // itself and need no keys. Where, further, the runs are of one length and their links rise
        // by one step (a fat-tree's: link v0 + d·⌊c / R⌋), a group is computed without reading the
        // row at all, from the order the row worked out for the position when it was built; nothing
        // else is looked up (a flow's slot in `start` was a cache miss of its own at k=32).
        let order = r.orders[position]
        if order.run > 0 {
            // The candidates of link `first + step·g` are those from `g·run` to `g·run + run - 1`.
            let run = Int(order.run), d = Int(order.step)
            let x = Int(l) - Int(order.first)
            guard x >= 0, x % d == 0 else { return }
            let lo = (x / d) * run
            guard lo < n else { return }
            for c in lo..<min(n, lo + run) where !body(c) { return }
            return
        }
        let shift = candidateBits
        let id = (i &* levels &+ j) &* 2 &+ (sideA ? 1 : 0)
        var s = start[id]
        if s == -1 && order.rising {
            s = CandidateGroups.rising
            start[id] = s
        }
        if s == CandidateGroups.rising {
            var lo = 0, hi = n
            while lo < hi {
                let mid = (lo + hi) / 2
                if link(mid) < l { lo = mid + 1 } else { hi = mid }
            }
            while lo < n && link(lo) == l {
                if !body(lo) { return }
                lo += 1
            }
            return
        }
        if s < 0 {
            s = keys.count
            start[id] = s
            // (A padding slot, -1, never matches `l`: its key is left out of every group.)
            keys.append(contentsOf: (0..<n).map { c in
                let x = link(c)
                return x < 0 ? UInt32.max : UInt32(x) << shift | UInt32(c)
            })
            keys[s..<(s + n)].sort()
        }
        // First key at or after the group's.
        let target = UInt32(l) << shift
        var lo = s, hi = s + n
        while lo < hi {
            let mid = (lo + hi) / 2
            if keys[mid] < target { lo = mid + 1 } else { hi = mid }
        }
        while lo < s + n && keys[lo] != UInt32.max && keys[lo] >> shift == UInt32(l) {
            if !body(Int(keys[lo] & ((1 << shift) - 1))) { return }
            lo += 1
        }
    }
}
