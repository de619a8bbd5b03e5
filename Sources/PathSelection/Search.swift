// Phase 4 of `TuskSelector`: a bounded, seeded local search over the elephants' paths, for the
// oversubscription that greedy placement and short ejection chains leave behind.
//
// A full fabric (a permutation on a fat-tree, where every core link must carry exactly one flow) is
// rearrangeable, but reaching the arrangement can take long chains of moves, each of which alone
// gains nothing. The search is min-conflicts with annealing: it picks an oversubscribed link, a flow
// on it and another of that flow's paths; a trial that lowers the energy is taken, one that keeps it
// (the oversubscription moves to another link, a step of a chain) is taken too, and one that raises it
// only with a probability that falls as the search cools. Energy is the total oversubscription (link
// utilization above the threshold, summed) plus a charge for each flow off the path the earlier phases gave it,
// so that of two equally good arrangements the one with fewer moves wins. Everything happens in the
// plan; the switches only see the best arrangement found, and only if it gains `minGain` or more.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CTuskSys
import Packets
import Topology

struct RearrangementSearch {
    /// Charge per flow moved off the path the earlier phases gave it, in utilization (10 % of a
    /// link): a rearrangement must gain this much per flow it moves (on top of the policy's minimum
    /// gain) to be worth making.
    static let moveCharge = 0.1
    /// Alternatives tried per step (the best of them is proposed); at most 4 (they are held in a SIMD4).
    static let tries = 4
    /// Starting and final temperature, in utilization.
    static let hot = 0.3, cold = 0.003

    /// What a step reads of a flow, in one record: a step picks a flow at random, and reading its
    /// row, width, candidates and choices from six arrays cost a cache miss in each (k=32: 8,192
    /// flows, next to a 33 MB table).
    private struct Flow {
        var row: RowView
        var count: Int32
        var home: Int32
        var base: Int32                 // the path the earlier phases chose: the charge counts from here
        var choice: Int32               // the candidate now
        var aligned: Bool
        var demand: Double
    }

    private let flows: [ElephantFlow]
    /// Candidate paths, flat (shared links left out).
    private let table: CandidateLinks
    private var state: [Flow]
    private let inverseCapacity: [Double]
    private var util: [Double]          // planned utilization per link
    private var onLink: LinkOccupants
    private var overList: [Int32] = []
    /// Each flow's candidate index when the search began, -1 when its path is none of them.
    let start: [Int]
    private var listed: [Bool]
    private let over: Double
    private let moveCap: Int
    private var moved = 0
    private var rng: SeededGenerator

    /// `known`: each flow's candidate index for its assigned path where the caller knows it (-1:
    /// not known; nil: none known); the others are found from their paths.
    init(flows: [ElephantFlow], assigned: [Path], known: [Int]? = nil, table: CandidateLinks, plan: LoadPlan, over: Double,
         moveCap: Int, seed: UInt64) {
        self.flows = flows
        self.over = over
        self.moveCap = moveCap
        self.table = table
        rng = SeededGenerator(seed: seed)
        let n = plan.planned.count
        (inverseCapacity, util) = plan.utilizations()
        onLink = LinkOccupants(links: n)
        listed = Array(repeating: false, count: n)
        var state: [Flow] = [], start: [Int] = []
        state.reserveCapacity(flows.count)
        start.reserveCapacity(flows.count)
        // (Each flow read in place: a loop over them copied every one, each round the search ran.)
        for i in flows.indices {
            let found = known.flatMap { $0[i] >= 0 ? $0[i] : nil } ?? table.index(of: assigned[i], flow: i, flows[i])
            // (Debug builds, the tests among them, check each index given against the path.)
            assert(known.map { $0[i] < 0 || table.index(of: assigned[i], flow: i, flows[i]) == $0[i] } ?? true,
                   "the search was given another candidate index than its path's")
            start.append(found ?? -1)
            let c = found ?? 0
            state.append(Flow(row: table.row(i), count: Int32(table.count[i]), home: Int32(table.home[i]),
                              base: Int32(c), choice: Int32(c), aligned: table.aligned[i], demand: flows[i].demand))
            if c < flows[i].candidates.count {
                let r = table.row(i)
                for k in 0..<r.width where r.link(c, k) >= 0 { onLink.append(Int(r.link(c, k)), Int32(i)) }
            }
            if c != table.home[i] { moved += 1 }
        }
        self.state = state
        self.start = start
        for l in 0..<n where util[l] > over && onLink.count(l) > 0 {
            overList.append(Int32(l))
            listed[l] = true
        }
    }

    private func excess(_ u: Double) -> Double { Self.excess(u, over) }
    @inline(__always) private static func excess(_ u: Double, _ over: Double) -> Double { max(0, u - over) }

    /// Total oversubscription of the links the movable flows can touch.
    private func overload() -> Double {
        var o = 0.0
        for l in util.indices where onLink.count(l) > 0 { o += excess(util[l]) }
        return o
    }

    /// Calls `body` with each link of candidate `a` of flow `i` (its record `f`) that candidate `c`
    /// does not use, in path order: `CandidateLinks.forEachLink` from the record. (Static: a method
    /// of the search called with a closure that changes the search would copy it, arrays and all.)
    @inline(__always) private static func forEachLink(_ table: CandidateLinks, _ i: Int, _ f: Flow, _ a: Int, notIn c: Int,
                                                      _ body: (Int) -> Void) {
        guard f.aligned else { return table.forEachLink(of: i, a, notIn: c, body) }
        CandidateLinks.forEachAlignedLink(row: f.row, a, notIn: c, body)
    }

    /// Change in oversubscription if flow `i` (its record `f`) moved to candidate `c`; `u` and
    /// `inv`: the planned utilization and inverse capacity per link.
    @inline(__always) private static func change(_ table: CandidateLinks, _ i: Int, _ f: Flow, to c: Int, over: Double,
                                                 _ u: UnsafeMutablePointer<Double>, _ inv: UnsafePointer<Double>) -> Double {
        var delta = 0.0
        let d = f.demand, a = Int(f.choice)
        Self.forEachLink(table, i, f, a, notIn: c) { x in
            let v = u[x]
            delta += excess(v - d * inv[x], over) - excess(v, over)
        }
        Self.forEachLink(table, i, f, c, notIn: a) { x in
            let v = u[x]
            delta += excess(v + d * inv[x], over) - excess(v, over)
        }
        return delta
    }

    /// `change(_:_:_:to:)` for an aligned row, from what a step works out once for all its
    /// alternatives: the current path's links (`la`) and the change each would make leaving it
    /// (`removal`). Each alternative then reads only its own links: the same terms, summed in the
    /// same order. `lc`: room for the alternative's links.
    @inline(__always) private static func change(_ f: Flow, to c: Int, leaving la: UnsafePointer<Int32>, removal: UnsafePointer<Double>,
                                                 scratch lc: UnsafeMutablePointer<Int32>, over: Double,
                                                 _ u: UnsafeMutablePointer<Double>, _ inv: UnsafePointer<Double>) -> Double {
        var delta = 0.0
        let r = f.row, w = r.width, d = f.demand
        for k in 0..<w {
            let y = r.link(c, k)
            lc[k] = y
            if la[k] >= 0 && la[k] != y { delta += removal[k] }
        }
        for k in 0..<w {
            let y = lc[k]
            guard y >= 0 && y != la[k] else { continue }
            let v = u[Int(y)]
            delta += excess(v + d * inv[Int(y)], over) - excess(v, over)
        }
        return delta
    }

    /// Runs up to `budget` trials; returns every flow's candidate index in the best arrangement found
    /// when it lowers the oversubscription by at least `minGain`, else nil. (Indices, not paths: the
    /// caller makes a path only of the flows whose index is not their `start`.)
    /// (The steps read and write the links' utilizations through pointers, and a step's functions
    /// are static: the same arithmetic in the same order, in 5 % fewer instructions, without the
    /// arrays' bounds checks and a SIMD vector read by lane.)
    mutating func run(budget: Int, minGain: Double) -> [Int]? {
        guard !overList.isEmpty, budget > 0 else { return nil }
        let charge = RearrangementSearch.moveCharge
        let initial = overload()
        var energy = initial
        var bestEnergy = initial
        var trail: [(flow: Int, from: Int)] = []  // steps taken since the best arrangement
        let steps = budget
        let ratio = RearrangementSearch.cold / RearrangementSearch.hot
        var temperature = RearrangementSearch.hot
        let widest = state.map { Int($0.row.width) }.max() ?? 0
        let la = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, widest)), lc = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, widest))
        let removal = UnsafeMutablePointer<Double>.allocate(capacity: max(1, widest))
        let alternatives = UnsafeMutablePointer<Int>.allocate(capacity: RearrangementSearch.tries)
        // The utilizations, moved out of the search while it runs (put back after), and the inverse
        // capacities, read through pointers.
        var util = self.util
        self.util = []
        let links = util.count
        let u = UnsafeMutablePointer<Double>.allocate(capacity: max(1, links))
        u.initialize(from: util, count: links)
        let inv = UnsafeMutablePointer<Double>.allocate(capacity: max(1, links))
        inv.initialize(from: inverseCapacity, count: links)
        defer {
            for l in 0..<links { util[l] = u[l] }
            self.util = util
            la.deallocate()
            lc.deallocate()
            removal.deallocate()
            alternatives.deallocate()
            u.deallocate()
            inv.deallocate()
        }
        let over = self.over, table = self.table
        for step in 0..<steps {
            if step & 255 == 0 { temperature = RearrangementSearch.hot * pow(ratio, Double(step) / Double(steps)) }
            guard !overList.isEmpty else { break }
            let slot = rng.below(overList.count)
            let l = Int(overList[slot])
            if u[l] <= over || onLink.count(l) == 0 {
                overList.swapAt(slot, overList.count - 1)
                overList.removeLast()
                listed[l] = false
                continue
            }
            let i = Int(onLink.element(l, rng.below(onLink.count(l))))
            let f = state[i]
            let n = Int(f.count), now = Int(f.choice), home = Int(f.home), base = Int(f.base)
            guard n > 1 else { continue }
            // The best of a few random alternatives (min-conflicts), then the annealing test.
            // The alternatives are drawn first and their rows fetched together: at k=32 the table
            // is tens of MB, and one cache miss after another would be most of the search's time
            // (a row whose links are all computed has nothing to fetch).
            var c = -1, de = Double.infinity, dm = 0
            let tries = min(n - 1, RearrangementSearch.tries)
            for t in 0..<tries {
                var k = rng.below(n - 1)
                if k >= now { k += 1 }
                alternatives[t] = k
                if !f.row.computed { tusk_prefetch(f.row.links + k * f.row.width) }
            }
            if f.aligned {
                for k in 0..<f.row.width {
                    let x = f.row.link(now, k)
                    la[k] = x
                    guard x >= 0 else { continue }
                    let v = u[Int(x)]
                    removal[k] = Self.excess(v - f.demand * inv[Int(x)], over) - Self.excess(v, over)
                }
            }
            for t in 0..<tries {
                let k = alternatives[t]
                let m = (k != home ? 1 : 0) - (now != home ? 1 : 0)
                if m > 0 && moved + m > moveCap { continue }
                let b = (k != base ? 1 : 0) - (now != base ? 1 : 0)
                let e = (f.aligned ? Self.change(f, to: k, leaving: la, removal: removal, scratch: lc, over: over, u, inv)
                                   : Self.change(table, i, f, to: k, over: over, u, inv)) + Double(b) * charge
                if e < de { (c, de, dm) = (k, e, m) }
            }
            guard c >= 0 else { continue }
            if de > 1e-12 {
                let r = Double(rng.next() >> 11) * 0x1p-53
                if r >= exp(-de / temperature) { continue }
            }
            // Take it.
            let d = f.demand, a = now
            Self.forEachLink(table, i, f, a, notIn: c) { x in
                u[x] -= d * inv[x]
                onLink.remove(x, Int32(i))
            }
            Self.forEachLink(table, i, f, c, notIn: a) { x in
                u[x] += d * inv[x]
                onLink.append(x, Int32(i))
                if u[x] > over && !listed[x] {
                    listed[x] = true
                    overList.append(Int32(x))
                }
            }
            trail.append((i, a))
            state[i].choice = Int32(c)
            moved += dm
            energy += de
            if energy < bestEnergy - 1e-9 {
                bestEnergy = energy
                trail.removeAll(keepingCapacity: true)
            }
        }
        guard initial - bestEnergy >= minGain else { return nil }
        // Back to the best arrangement: undo the steps taken after it, last first.
        for (i, a) in trail.reversed() { state[i].choice = Int32(a) }
        return state.map { Int($0.choice) }
    }
}
