// The placement algorithms behind `PathSelector`.
//
// `TuskSelector` (the default): every elephant, largest first, goes on the candidate whose most
// loaded link stays lowest once its demand is added, against the measured load of the links with the
// elephants taken out: what is left is the traffic nobody moves (mice, flows the policy excludes),
// which a demand-only scheme (Hedera) cannot see. A flow leaves its current path only when the gain
// reaches the policy's minimum, and at most `maxMoves` flows move in one round.
//
// `GlobalFirstFit`: Hedera's Global First Fit (Al-Fares et al., NSDI 2010, §4.3): each new elephant
// goes on the first path (in a fixed order) whose links all have room for its demand next to the
// demands already reserved there; reservations last until the flow ends; a flow that fits nowhere
// stays on ECMP. It ignores measured load, so mice and unplaced elephants are invisible to it.
import Packets
import Topology

public struct TuskSelector: PathSelector {
    /// Most path trials of the ejection chains per round (phase 3). (50,000 until 2026-12-06: once
    /// the alternating chains keep longer units, phase 3 moves almost nothing after the first round
    /// and spent about 8 ms of each k=32 round that rearranges finding that out; with 10,000 the
    /// k=4 suite and the k=32 control-round benchmark make the same moves.)
    public var rearrangeBudget: Int
    /// Most flows displaced by one chain.
    static let maxChain = 8

    /// Most steps of the local search per round (phase 4); 0 turns it off. A round takes
    /// `searchStepsPerFlow` steps per elephant on an oversubscribed link, at least `searchSteps`, up
    /// to this.
    public var searchBudget: Int
    /// (400 until 2026-12-06: with the alternating chains keeping longer units the search has
    /// less left to do, and 100 gives the same bijection throughput at k=16 and k=32, the same k=4
    /// suite, and a quarter of the search's time: 75 ms of a first k=32 round and 15 of each
    /// round that rearranges.)
    static let searchStepsPerFlow = 100
    /// The fewest steps a round's search takes. (100,000 until 2026-12-06: at k=16 the search then
    /// took half of every round that rearranges, 10 ms, and in most of them found nothing; with
    /// 25,000 the k=4 suite's decisions are the same and the k=16 bijection is as good.)
    static let searchSteps = 25_000
    /// Seeds the local search (mixed with the round's time, so runs repeat exactly).
    public var seed: UInt64

    /// When the rearranging phases (1, 3, 4) run (see `RearrangingBackoff`).
    private var backoff = RearrangingBackoff()
    /// How long since the elephants last changed (see `SettleWindow`).
    private var settling = SettleWindow()
    /// Rounds in which the rearranging phases ran (tests read it).
    var rearrangingRounds: Int { backoff.rounds }

    /// Phase 1 (alternating chains) on or off.
    public var alternatingChains: Bool
    /// Phase 1's units that found nothing, kept from round to round, and the link capacities they
    /// were found under (a link that goes down or comes back clears them).
    private var chainMemory = ChainMemory()
    private var memoryCapacity: [Double] = []
    /// Whether phase 1 remembers its units from round to round (tests turn it off to compare).
    var remembersChains = true
    /// Phase 1's last run: the flows whose units it tried, and how many it did not try again.
    private(set) var lastChainUnits: (tried: [FlowKey], skipped: Int) = ([], 0)
    /// The links phase 1 remembers a flow's unit read, if it found nothing (for the tests).
    func rememberedLinks(of key: FlowKey) -> [Int32]? { chainMemory.entries[key]?.links }

    public init(rearrangeBudget: Int = 10_000, searchBudget: Int = 4_000_000, seed: UInt64 = 0, alternatingChains: Bool = true) {
        self.rearrangeBudget = rearrangeBudget
        self.alternatingChains = alternatingChains
        self.searchBudget = searchBudget
        self.seed = seed
    }
    /// Most path trials for one flow's chain.
    static let chainBudget = 1_000
    public var name: String { "tusk" }

    /// Each host pair's candidates as the chains and the search read them, kept from round to round
    /// while an elephant of the pair is movable or held: a settled fabric builds none. Rows of pairs
    /// no elephant uses any more stay until there may be more than `rowCacheSlack` of them, and are
    /// then dropped all at once.
    private var rowCache: [Int: CandidateRow] = [:]
    /// How many rows of pairs no longer in use the cache may keep (tests lower it to drop them at
    /// every call, or set `keepsRows` false to keep none: every row built at every call).
    var rowCacheSlack = 1024, keepsRows = true
    /// Rows in the cache (for tests).
    var cachedRows: Int { rowCache.count }
    /// Positions per link index, all -1 between calls: one for each of the two threads rows are built on.
    private var scratch: [Int8] = [], scratch2: [Int8] = []
    /// Below this many rows to build, they are built on one thread (tests set it to compare).
    var parallelRowsFrom = 64

    /// The rows of `flows`, from the cache where it holds the same candidates. The rows of the
    /// others in `all` (elephants that may not move this round, such as those held after a move)
    /// stay in the cache for when they may move again, and are not built.
    /// The rows to build are found first, then built on two threads (each row depends on its
    /// flow's candidates alone), then handed out: the same rows as building them one by one. A
    /// settled fabric builds none, and this is then the lookups alone.
    private mutating func candidateRows(_ flows: [ElephantFlow], keeping all: [ElephantFlow]) -> [CandidateRow] {
        func pair(_ src: HostID, _ dst: HostID) -> Int { src.index << 32 | dst.index }
        // The others are read in place (copying them out copied thousands of elephants a round), by
        // host pair: they come in order of their measured rates, which changes from round to round
        // with sampling noise, and only which pairs they are matters here.
        // (Their pairs are worked out once: a flow read in a comparison was copied, twice per
        // comparison, for thousands of held flows in a round of the settle window. They are put
        // in order only when the rows may be the same as last time: in the rounds whose movable
        // elephants changed, the order does not matter.)
        var otherPair: [Int] = []
        var others: [Int] = []
        for i in all.indices where !all[i].movable && all[i].candidates.count > 1 {
            others.append(i)
            otherPair.append(pair(all[i].src, all[i].dst))
        }
        var othersSorted = false
        func sortOthers() {
            let order = LastRows.pairOrder(otherPair)
            (others, otherPair, othersSorted) = (order.map { others[$0] }, order.map { otherPair[$0] }, true)
        }
        // The same flows' pairs, in the same order, on the very same candidates as last time (a
        // settled fabric, round after round): the same rows, and the cache as it is.
        let pairs = flows.indices.map { pair(flows[$0].src, flows[$0].dst) }
        if reusesRows, var last = lastRows, last.pairs == pairs,
           flows.indices.allSatisfy({ flows[$0].candidates.isSameStorage(as: last.rows[$0].paths) }) {
            sortOthers()
            last.sortOthers()
            if last.others == otherPair && zip(others, last.otherCandidates).allSatisfy({ all[$0].candidates.isSameStorage(as: $1) }) {
                lastRows = last
                return last.rows
            }
        }
        lastRows = nil
        if !keepsRows { rowCache = [:] }
        // (The cache is kept as it is, not made anew from the rows in use: that was two hashed
        // lookups and an insertion for every elephant, held ones included, about 2 ms of every
        // k=32 round. What it no longer drops at once is dropped below when it grows.)
        var out: [CandidateRow?] = []
        out.reserveCapacity(flows.count)
        // Rows to build: the flow each is built from, and where it goes.
        var toBuild: [Int] = [], waiting: [(flow: Int, row: Int)] = []
        // Pairs whose first row in this round is being built (where the cache holds it once built).
        var building: [Int: Int] = [:]
        for i in flows.indices {
            let pair = pairs[i], candidates = flows[i].candidates
            if let j = building[pair] {
                if flows[toBuild[j]].candidates == candidates {
                    out.append(nil)
                    waiting.append((i, j))
                    continue
                }
            } else {
                if let r = rowCache[pair], r.isBuilt(from: candidates) {
                    out.append(r)
                    continue
                }
                // No row kept, or one of other candidates (a link went down, or came back): it is
                // built, replaces the kept one, and the pair's later flows with the same candidates
                // take it.
                building[pair] = toBuild.count
            }
            out.append(nil)
            waiting.append((i, toBuild.count))
            toBuild.append(i)
        }
        if !toBuild.isEmpty {
            // (Built in place, each thread into its half of one array: built into two slices, the
            // rows were copied into arrays and those joined, each copy retaining a row's three
            // references, 1,024 rows in a first k=16 round.)
            var built = [CandidateRow?](repeating: nil, count: toBuild.count)
            var s1 = scratch, s2 = scratch2
            (scratch, scratch2) = ([], [])
            built.withUnsafeMutableBufferPointer { rows in
                func build(_ range: Range<Int>, _ scratch: inout [Int8]) {
                    for j in range { rows[j] = CandidateRow(flows[toBuild[j]].candidates, scratch: &scratch) }
                }
                if toBuild.count < parallelRowsFrom {
                    build(0..<toBuild.count, &s1)
                } else {
                    let half = toBuild.count / 2
                    inParallel({ build(0..<half, &s1) }, { build(half..<toBuild.count, &s2) })
                }
            }
            (scratch, scratch2) = (s1, s2)
            for (i, j) in waiting { out[i] = built[j] }
            // (The built rows moved into the cache, not copied: `out` holds the round's.)
            for (pair, j) in building { rowCache[pair] = built[j].take() }
        }
        // Rows of pairs no elephant uses any more, once they may be more than `rowCacheSlack`.
        if rowCache.count > pairs.count + otherPair.count + rowCacheSlack {
            let used = Set(pairs).union(otherPair)
            rowCache = rowCache.filter { used.contains($0.key) }
        }
        // (Each row moved out, not copied: a copy retained its three references, and `out` then
        // released them, six reference counts a row on as many cold lines, 8,192 rows at k=32.)
        var rows: [CandidateRow] = []
        rows.reserveCapacity(out.count)
        for i in out.indices { rows.append(out[i].take()!) }
        lastRows = LastRows(pairs: pairs, others: otherPair, otherCandidates: others.map { all[$0].candidates }, sorted: othersSorted, rows: rows)
        return rows
    }

    /// The last `candidateRows` call: its flows' pairs, the pairs and candidates of the others, and
    /// the rows it returned.
    private var lastRows: LastRows?
    private struct LastRows {
        var pairs: [Int]
        /// The held flows' pairs and candidates, in the order of their pairs once `sorted`.
        var others: [Int], otherCandidates: [CandidatePaths], sorted: Bool
        var rows: [CandidateRow]

        /// Puts the held flows in the order of their pairs (the same order as if they had been
        /// put in it when kept: the same list, the same comparisons).
        mutating func sortOthers() {
            guard !sorted else { return }
            let order = Self.pairOrder(others)
            (others, otherCandidates, sorted) = (order.map { others[$0] }, order.map { otherCandidates[$0] }, true)
        }

        /// The positions of `pairs` in the order of their values (a stable order: equal pairs keep
        /// theirs), for the held flows of one call and of the last.
        static func pairOrder(_ pairs: [Int]) -> [Int] {
            pairs.withUnsafeBufferPointer { p in p.indices.sorted { p[$0] < p[$1] } }
        }
    }
    /// Whether a call with the same inputs as the last one takes its rows back (tests turn it off
    /// to compare).
    var reusesRows = true

    /// The last table the rearranging phases used, with the rows it was built from (kept alive, so
    /// that a row's storage stands for its contents).
    private var tableCache: (rows: [CandidateRow], table: CandidateLinks)?

    private mutating func candidateTable(_ flows: [ElephantFlow], _ rows: [CandidateRow]) -> CandidateLinks {
        let table: CandidateLinks
        if let c = tableCache, c.rows.count == rows.count, zip(c.rows, rows).allSatisfy({ $0.isSame(as: $1) }) {
            table = CandidateLinks(reusing: c.table, flows: flows, rows: rows)
        } else {
            // Where the old table's rows had their flows is read from it while it keeps them alive
            // (a row's storage stands for its contents only while it lives). Then the old table
            // goes: it keeps its rows alive, among them those of pairs that no longer carry an
            // elephant (at k=64 a row is 16 KB).
            let previous = tableCache?.table
            tableCache = nil
            table = CandidateLinks(flows: flows, rows: rows, previous: previous)
        }
        tableCache = (rows, table)
        return table
    }

    public mutating func select(_ input: SelectionInput, rules: StabilityRules) -> SelectionResult {
        var result = SelectionResult()
        // What the elephants leave: measured load minus their measured rates on their current paths.
        // The elephants' sampled rates are noisy, so the remainder is too: what is left below the
        // combined 95 % bound of the rates taken out is noise, not mice, and counts as nothing
        // (otherwise phantom load moves flows back and forth).
        var background = input.load
        var variance = [Double](repeating: 0, count: background.count)
        // (The elephants are read by index here and below, a field at a time: a loop over them
        // copied each one, its path and candidates retained and released, several times a round.)
        let flows = input.flows
        for n in flows.indices {
            guard let p = flows[n].current else { continue }
            let rate = flows[n].rate, error = flows[n].rateError
            for l in p.links where l.index < background.count {
                background[l.index] -= rate
                variance[l.index] += error * error
            }
        }
        for i in background.indices { background[i] = max(0, background[i] - variance[i].squareRoot()) }
        var plan = LoadPlan(planned: background, capacity: input.capacity)
        // `settled`: the background, the flows that stay put and the movable flows already placed;
        // `plan`: the same plus the movable flows not placed yet, still on their current paths.
        var settled = plan

        var movableAt: [Int] = []
        for n in flows.indices {
            guard let cur = flows[n].current else {
                result.skipped.append((flows[n].key, .unknownPath))
                continue
            }
            let demand = flows[n].demand
            plan.add(cur, demand)
            if flows[n].movable && flows[n].candidates.count > 1 { movableAt.append(n) } else { settled.add(cur, demand) }
        }
        // (Their indices are sorted, then the flows copied out once, in that order: a flow is a
        // large value, and moving them was most of a quiet round's sort. The sort is stable.)
        let order = ElephantFlow.placementOrder(movableAt, of: flows)
        let movable = order.map { flows[$0] }

        var assigned: [Path] = movable.map { $0.current! }
        // Each flow's candidate index where the phases know it (-1: not known), for the search, which
        // otherwise finds it from the path (a first k=32 round: 8,000 paths looked up again).
        var knownIndex: [Int]? = nil
        var reasons: [MoveReason?] = Array(repeating: nil, count: movable.count)
        let rows = candidateRows(movable, keeping: input.flows)
        let shared = rows.map { $0.shared }
        // Built once, for phases 1 and 4, only when they run; kept from the last round when the
        // rows are the same.
        lazy var table = candidateTable(movable, rows)
        var moves = 0

        // Phases 1, 3 and 4 rearrange. When they found nothing on the same elephants and paths,
        // they are not repeated every round (backoff; the greedy phase 2 still runs).
        var state = Hasher()
        for i in movable.indices {
            state.combine(movable[i].key)
            state.combine(movable[i].current)
        }
        // The elephants as a set (their order follows measured rates, which change with noise).
        var members = input.flows.count
        for n in flows.indices { members &+= flows[n].key.hashValue }
        let open = settling.open(members: members, capacity: input.capacity, time: input.time, settleTime: rules.settleTime)
        let rearrange = open && backoff.begin(state: state.finalize())
        result.rearranging = !open ? .settled : rearrange ? .ran : .backingOff
        var rearranged = false

        // Phase 1, alternating chains: elephants too large to share a link are given links of their
        // own, level by level (see `AlternatingChains`). They go first: their moves are final, where
        // greedy moves of these flows would often be undone by a later chain, and use up the move cap.
        if alternatingChains && rearrange {
            var fixed: [(key: FlowKey, path: Path, demand: Double)] = []
            for n in flows.indices where !(flows[n].movable && flows[n].candidates.count > 1) {
                if let p = flows[n].current { fixed.append((flows[n].key, p, flows[n].demand)) }
            }
            var chains = AlternatingChains(flows: movable, assigned: assigned, table: table, fixed: fixed, plan: plan,
                                           over: max(rules.hotThreshold, 1e-3) + max(rules.tolerance, 1e-6), moveCap: rules.maxMoves)
            if input.capacity != memoryCapacity || !remembersChains {
                chainMemory = ChainMemory()
                memoryCapacity = input.capacity
            }
            let better = chains.run(minGain: rules.minGain, memory: &chainMemory)
            lastChainUnits = (chains.tried.map { movable[$0].key }, chains.remembered.count)
            knownIndex = better ?? chains.start
            if let better {
                rearranged = true
                // (One name for all the moves: made for each, it was a string allocated per move.)
                let algorithm = name + " (alternating chain)"
                // (A flow's candidates are distinct paths: another index is another path.)
                for i in movable.indices where better[i] != chains.start[i] {
                    let f = movable[i], to = rows[i].path(better[i])
                    let before = plan.score(assigned[i], adding: 0, shared: shared[i])
                    plan.add(assigned[i], -f.demand)
                    plan.add(to, f.demand)
                    let wasHome = assigned[i] == f.current
                    assigned[i] = to
                    moves += (to != f.current ? 1 : 0) - (wasHome ? 0 : 1)
                    let after = plan.score(to, adding: 0, shared: shared[i])
                    reasons[i] = MoveReason(algorithm: algorithm, hotLink: before.link, hotUtilization: before.peak,
                                            newPeakLink: after.link, newUtilization: after.peak, gain: before.peak - after.peak, demand: f.demand)
                }
            }
        }

        // Phase 2: largest first. A flow moves when its path is hot against what is settled (flows
        // that stay and larger flows already placed: of two colliding elephants the larger keeps its
        // path), onto the candidate with the lowest peak against everything, the flows not yet placed
        // included (so that it does not land on one of them).
        for i in movable.indices {
            let cur = assigned[i], demand = movable[i].demand
            let hot = settled.score(cur, adding: demand, shared: shared[i]).peak
            // A flow whose path is not hot stays whatever its candidates score: they are not scored
            // (most of a settled fabric's elephants; 256 candidates each at k=32).
            // (Taken out and put back all the same: the plan's sums round exactly as they did.)
            plan.add(cur, -demand)
            if hot <= rules.hotThreshold + max(rules.tolerance, 1e-9) {
                plan.add(cur, demand)
                settled.add(cur, demand)
                continue
            }
            let now = plan.score(cur, adding: demand, shared: shared[i])
            // Scored from the flow's row (the same links in the same order as its paths, shared ones
            // left out), so that only the path chosen is made.
            let row = rows[i], here = row.index(of: cur)
            var bestIndex: Int?, bestScore = now
            for c in 0..<row.paths.count where c != here {
                let s = plan.score(row, c, adding: demand)
                if s.peak < bestScore.peak - 1e-9 || (abs(s.peak - bestScore.peak) <= 1e-9 && s.sum < bestScore.sum - 1e-9) {
                    bestIndex = c
                    bestScore = s
                }
            }
            let best = bestIndex.map { row.path($0) } ?? cur
            let gain = now.peak - bestScore.peak
            if best == cur || gain <= 1e-9 {
                plan.add(cur, demand)
            } else if gain < rules.minGain {
                plan.add(cur, demand)
                result.skipped.append((movable[i].key, .smallGain))
            } else if moves >= rules.maxMoves {
                plan.add(cur, demand)
                result.skipped.append((movable[i].key, .moveCap))
            } else {
                moves += 1
                plan.add(best, demand)
                assigned[i] = best
                knownIndex?[i] = bestIndex ?? -1
                reasons[i] = MoveReason(algorithm: name, hotLink: now.link, hotUtilization: now.peak,
                                        newPeakLink: bestScore.link, newUtilization: bestScore.peak, gain: gain, demand: demand)
            }
            settled.add(assigned[i], demand)
        }

        // Phase 3, ejection chains: an elephant still oversubscribed moves to a path that is blocked by
        // exactly one other movable elephant, which moves on in turn, and so on, until one finds a path
        // with room (up to `maxChain` flows). Single moves cannot find these rearrangements (each alone
        // gains nothing). Every chain takes an oversubscribed flow to a path with room and leaves every
        // link it touches within capacity, so the total overload falls and rounds cannot cycle.
        // The flows on each link, in the order they came, built when the first chain starts (a
        // settled round starts none). (A `LinkOccupants`, not an array per link: at k=32 those
        // were some 30,000 small arrays made and freed in every round the phase ran.)
        var onLink = LinkOccupants(links: 0), onLinkBuilt = false
        func buildOnLink() {
            guard !onLinkBuilt else { return }
            onLinkBuilt = true
            onLink = LinkOccupants(links: input.capacity.count)
            for (i, p) in assigned.enumerated() { for l in p.links { onLink.append(l.index, Int32(i)) } }
        }
        let over = max(rules.hotThreshold, 1e-3) + max(rules.tolerance, 1e-6)
        var steps = rearrange ? rearrangeBudget : 0
        var inChain: Set<Int> = []
        var inPlan = [Bool](repeating: true, count: movable.count)
        var log: [(flow: Int, from: Path)] = []
        func take(_ i: Int) {
            buildOnLink()
            plan.add(assigned[i], -movable[i].demand)
            for l in assigned[i].links { onLink.remove(l.index, Int32(i)) }
            inPlan[i] = false
        }
        func put(_ i: Int, _ p: Path) {
            buildOnLink()
            plan.add(p, movable[i].demand)
            for l in p.links { onLink.append(l.index, Int32(i)) }
            assigned[i] = p
            knownIndex?[i] = -1
            inPlan[i] = true
        }
        /// Places flow `i` (already taken out) on a path other than `avoid`, displacing at most two
        /// flows, which are placed in turn. On failure everything is as before and `i` is still out.
        func place(_ i: Int, avoid: Path, depth: Int) -> Bool {
            let f = movable[i]
            let row = rows[i], skip = row.index(of: avoid)
            // (Each option's peak and sum alone, in a small record: sorting records that carried the
            // peak's link as well, an optional, moved half as much again, and the sort was a tenth
            // of the selection's instructions in a k=16 round that rearranges.)
            var options: [(c: Int, peak: Double, sum: Double)] = []
            options.reserveCapacity(row.paths.count)
            for c in 0..<row.paths.count where c != skip {
                let s = plan.score(row, c, adding: f.demand)
                options.append((c, s.peak, s.sum))
            }
            options.sort { a, b in a.peak != b.peak ? a.peak < b.peak : a.sum < b.sum }
            // The candidate's links outside the shared ones are its row's (in path order): only the
            // path taken is made.
            var blocking: [DirectedLinkID] = []
            for (c, _, _) in options {
                guard steps > 0 else { return false }
                steps -= 1
                blocking.removeAll(keepingCapacity: true)
                let view = row.view
                for k in 0..<view.width where view.link(c, k) >= 0 {
                    let l = DirectedLinkID(Int(view.link(c, k)))
                    if plan.utilization(l, adding: f.demand) > over { blocking.append(l) }
                }
                if blocking.isEmpty {
                    log.append((i, avoid))
                    put(i, row.path(c))
                    return true
                }
                guard depth < TuskSelector.maxChain else { continue }
                // The flows on the blocking links, in index order; only one or two may be displaced.
                var blockers: [Int] = []
                for l in blocking where blockers.count <= 2 {
                    onLink.forEach(l.index) { o in
                        let j = Int(o)
                        if j != i && !blockers.contains(j) { blockers.append(j) }
                        return blockers.count <= 2
                    }
                }
                blockers.sort()
                guard (1...2).contains(blockers.count), blockers.allSatisfy({ !inChain.contains($0) }) else { continue }
                let p = row.path(c)
                let olds = blockers.map { ($0, assigned[$0]) }
                for (j, _) in olds { take(j) }
                if blocking.allSatisfy({ plan.utilization($0, adding: f.demand) <= over }) {
                    let mark = log.count
                    log.append((i, avoid))
                    put(i, p)
                    inChain.formUnion(blockers)
                    var ok = true
                    for (j, q0) in olds where ok { ok = place(j, avoid: q0, depth: depth + 1) }
                    if ok { return true }
                    // Undo the blockers' placements, then `i`'s.
                    while log.count > mark + 1 {
                        let (k, from) = log.removeLast()
                        take(k)
                        put(k, from)
                    }
                    log.removeLast()
                    take(i)
                    inChain.subtract(blockers)
                }
                for (j, q0) in olds where !inPlan[j] { put(j, q0) }
            }
            return false
        }
        for i in movable.indices where steps > 0 {
            let f = movable[i]
            let p0 = assigned[i]
            let now = plan.score(p0, adding: 0, shared: shared[i])
            guard now.peak > over else { continue }
            take(i)
            inChain = [i]
            log = []
            let reserve = max(0, steps - TuskSelector.chainBudget)
            steps -= reserve
            let placed = place(i, avoid: p0, depth: 0)
            steps += reserve
            guard placed else {
                put(i, p0)
                continue
            }
            let newPeak = plan.score(assigned[i], adding: 0, shared: shared[i])
            // Moves this chain adds: flows that were on their current path and are not now.
            var added = 0
            for (j, from) in log {
                let home = movable[j].current
                if from == home && assigned[j] != home { added += 1 }
                if from != home && assigned[j] == home { added -= 1 }
            }
            // Each flow the chain displaces must pay for its move, as in phase 1: one freed link (a
            // gain of 1) is worth about 90 of them, not an unbounded cascade (and chains are short).
            let gain = now.peak - newPeak.peak - AlternatingChains.acceptCharge * Double(max(0, log.count - 1))
            if gain < max(rules.minGain, 1e-9) || moves + added > rules.maxMoves {
                // Undo the chain, last step first.
                for (j, from) in log.reversed() {
                    take(j)
                    put(j, from)
                }
                if gain < max(rules.minGain, 1e-9) { result.skipped.append((f.key, .smallGain)) } else { result.skipped.append((f.key, .moveCap)) }
                continue
            }
            moves += added
            rearranged = true
            for (n, (j, from)) in log.enumerated() {
                let before = plan.score(from, adding: 0, shared: shared[j])
                let after = plan.score(assigned[j], adding: 0, shared: shared[j])
                reasons[j] = MoveReason(algorithm: n == 0 ? name : name + " (making room)",
                                        hotLink: n == 0 ? now.link : before.link, hotUtilization: n == 0 ? now.peak : before.peak,
                                        newPeakLink: after.link, newUtilization: after.peak,
                                        gain: (n == 0 ? now.peak : before.peak) - after.peak, demand: movable[j].demand)
            }
        }

        // Phase 4, local search: what is still oversubscribed (chains are short and deterministic,
        // and a full fabric can need long rearrangements) goes to a seeded, bounded search.
        if rearrange {
            // The flows on oversubscribed links: the search's work scales with them, not with the
            // whole fabric (a settled k=32 fabric has a few hundred such flows of 8,192).
            let hot = movable.indices.count { i in
                assigned[i].links.contains { !shared[i].contains($0) && plan.utilization($0, adding: 0) > over }
            }
            let oversubscribed = hot > 0
            if oversubscribed && searchBudget > 0 {
                var search = RearrangementSearch(flows: movable, assigned: assigned, known: knownIndex, table: table, plan: plan, over: over,
                                                 moveCap: rules.maxMoves, seed: seed &+ UInt64(bitPattern: Int64((input.time * 1000).rounded())))
                if let better = search.run(budget: min(searchBudget, max(TuskSelector.searchSteps, TuskSelector.searchStepsPerFlow * hot)),
                                           minGain: max(rules.minGain, 1e-9)) {
                    rearranged = true
                    let changed = movable.indices.filter { better[$0] != search.start[$0] }
                    let algorithm = name + " (rearranging)"
                    let before = changed.map { plan.score(assigned[$0], adding: 0, shared: shared[$0]) }
                    for i in changed {
                        take(i)
                        put(i, rows[i].path(better[i]))
                    }
                    for (n, i) in changed.enumerated() {
                        let after = plan.score(assigned[i], adding: 0, shared: shared[i])
                        reasons[i] = MoveReason(algorithm: algorithm, hotLink: before[n].link, hotUtilization: before[n].peak,
                                                newPeakLink: after.link, newUtilization: after.peak, gain: before[n].peak - after.peak,
                                                demand: movable[i].demand)
                    }
                }
            }
            // Rearrangements that came back to where the round began (a chain's move that the search
            // undid) found nothing.
            backoff.end(changed: rearranged && movable.indices.contains { assigned[$0] != movable[$0].current },
                        oversubscribed: oversubscribed)
        }

        for i in movable.indices where assigned[i] != movable[i].current {
            let r = reasons[i] ?? MoveReason(algorithm: name, hotLink: nil, hotUtilization: 0, newPeakLink: nil,
                                             newUtilization: 0, gain: 0, demand: movable[i].demand)
            result.decisions.append(Decision(key: movable[i].key, from: movable[i].current, to: assigned[i], reason: r))
        }
        return result
    }
}

/// When `TuskSelector`'s rearranging phases (1, 3, 4) run. After `fruitless` rounds in a row where
/// they changed nothing on the same elephants and paths, they wait 2^fruitless - 1 rounds (1, 3, 7),
/// and after `settledAfter` such rounds they wait for a change: with the same elephants on the same
/// paths, only measurement noise (or the search's seed) differs, and moves found that way are churn.
/// Any change to the elephants or their paths (a new or ended elephant, a flow whose hold ends, a
/// path changed by a move) ends the wait. A round with nothing oversubscribed is not fruitless (the
/// phases cost little then, and a load that rises is met at once). A round is fruitless when the
/// phases leave every elephant where it was, including when they moved some and then moved them
/// back (a chain's move that the search undid): at k=32 a settled fabric did that every round, and
/// so never backed off.
struct RearrangingBackoff {
    static let settledAfter = 4
    private var fruitless = 0
    private var waitRounds = 0
    private var lastState: Int?
    /// Rounds in which the phases ran.
    private(set) var rounds = 0

    /// A round begins on the movable elephants' state (their keys and paths): true if the phases run.
    mutating func begin(state: Int) -> Bool {
        if state != lastState {
            fruitless = 0
            waitRounds = 0
        }
        lastState = state
        guard waitRounds == 0 else {
            waitRounds -= 1
            return false
        }
        rounds += 1
        return true
    }

    /// A round in which the phases ran ends: whether they changed any elephant's path, and whether
    /// anything was oversubscribed.
    mutating func end(changed: Bool, oversubscribed: Bool) {
        if changed || !oversubscribed {
            fruitless = 0
        } else {
            fruitless += 1
            waitRounds = fruitless >= RearrangingBackoff.settledAfter ? Int.max : (1 << fruitless) - 1
        }
    }
}

/// When the elephants last changed. The rearranging phases move flows that are not hot themselves to
/// make room for others, and a move they make can open another rearrangement once its hold ends;
/// on a fabric whose elephants stay the same that goes on, a few flows every hold time, long after
/// the big gains were had. So they run only within `settleTime` of the last change to the elephants
/// (a new one, or one that ended) or to the links' capacities (a link down or up); after that only
/// phase 2 moves flows, each off a path that is hot itself, until the elephants change again.
struct SettleWindow {
    /// The elephants as a set (a sum of their keys' hashes, with their count) and the capacities
    /// when they last changed, and the time of that change.
    private var members: Int?
    private var capacity: [Double] = []
    private var changedAt = -Double.infinity

    /// True while the round's time is within `settleTime` of the last change.
    mutating func open(members: Int, capacity: [Double], time: Double, settleTime: Double) -> Bool {
        if members != self.members || capacity != self.capacity {
            self.members = members
            self.capacity = capacity
            changedAt = time
        }
        return time - changedAt <= settleTime
    }
}

public struct GlobalFirstFit: PathSelector {
    /// Flows placed, with the path and demand reserved for them.
    public private(set) var reservations: [FlowKey: (path: Path, demand: Double)] = [:]
    public let name: String

    public init(name: String = "gff") { self.name = name }

    public mutating func select(_ input: SelectionInput, rules: StabilityRules) -> SelectionResult {
        var result = SelectionResult()
        // Reservations of flows that ended are released; the others follow the new demand estimate.
        var present: [FlowKey: Int] = [:]
        for (i, f) in input.flows.enumerated() { present[f.key] = i }
        reservations = reservations.filter { present[$0.key] != nil }
        var reserved = [Double](repeating: 0, count: input.capacity.count)
        for (k, r) in reservations.sorted(by: { $0.key < $1.key }) {
            let d = input.flows[present[k]!].demand
            reservations[k] = (r.path, d)
            for l in r.path.links where l.index < reserved.count { reserved[l.index] += d }
        }
        let waiting = ElephantFlow.placementOrder(input.flows.indices.filter { reservations[input.flows[$0].key] == nil },
                                                  of: input.flows).map { input.flows[$0] }
        var moves = 0
        for f in waiting {
            guard f.movable else { continue }
            let first = f.candidates.firstIndex(whereEveryLink: { l in
                l.index < reserved.count && reserved[l.index] + f.demand <= input.capacity[l.index] * (1 + 1e-9)
            })
            guard let c = first else { continue } // fits nowhere: stays on ECMP, tried again next round
            let p = f.candidates[c]
            if p != f.current {
                guard moves < rules.maxMoves else {
                    result.skipped.append((f.key, .moveCap))
                    continue
                }
                moves += 1
                // The reason, in measured terms: the old path's busiest link against the new one's.
                func peak(_ path: Path?) -> (DirectedLinkID?, Double) {
                    guard let path else { return (nil, 0) }
                    var best: (DirectedLinkID?, Double) = (nil, 0)
                    for l in path.links where l.index < input.load.count && input.capacity[l.index] > 0 {
                        let u = input.load[l.index] / input.capacity[l.index]
                        if best.0 == nil || u > best.1 { best = (l, u) }
                    }
                    return best
                }
                let old = peak(f.current)
                let new = peak(p)
                result.decisions.append(Decision(key: f.key, from: f.current, to: p, reason: MoveReason(
                    algorithm: name, hotLink: old.0, hotUtilization: old.1, newPeakLink: new.0,
                    newUtilization: new.1 + f.demand / max(1, input.capacity[new.0?.index ?? 0]),
                    gain: old.1 - new.1, demand: f.demand)))
            }
            reservations[f.key] = (p, f.demand)
            for l in p.links { reserved[l.index] += f.demand }
        }
        return result
    }
}

/// Link aggregation: the parallel links from one switch to the same neighbour are the members of a
/// LAG. Choosing a member for an elephant is the same problem as choosing a path, with one
/// single-link candidate per member, so it goes through the same selectors.
public struct LAGGroup: Hashable, Sendable {
    public var switchID: SwitchID
    public var neighbour: SwitchID
    /// The member links in the direction leaving `switchID`, by port number.
    public var members: [DirectedLinkID]
}

extension Topology {
    /// Every group of two or more parallel links leaving a switch toward the same neighbour.
    public var lagGroups: [LAGGroup] {
        var out: [LAGGroup] = []
        for s in switchIDs {
            var byPeer: [Int: [DirectedLinkID]] = [:]
            for p in ports(of: s) {
                if let peer = p.peer.switchPort { byPeer[peer.switchID.index, default: []].append(p.egress) }
            }
            for peer in byPeer.keys.sorted() where byPeer[peer]!.count > 1 {
                out.append(LAGGroup(switchID: s, neighbour: SwitchID(peer), members: byPeer[peer]!))
            }
        }
        return out
    }
}

extension ElephantFlow {
    /// An elephant crossing a LAG: its candidates are the members, its current path the member it uses.
    public static func lag(key: FlowKey, src: HostID, dst: HostID, rate: Double, demand: Double,
                           member: DirectedLinkID?, group: LAGGroup, priority: Int = 0, movable: Bool = true) -> ElephantFlow {
        ElephantFlow(key: key, src: src, dst: dst, rate: rate, demand: demand, current: member.map { Path([$0]) },
                     candidates: group.members.map { Path([$0]) }, priority: priority, movable: movable)
    }
}
