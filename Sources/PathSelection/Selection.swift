// The selector interface and what flows through it. A selector gets the elephants (each with its
// natural demand, where it goes now and where it could go) and the measured load of every directed
// link, and returns moves, each with the reason for it. It never sees true rates: in the daemon and
// in the closed-loop simulation alike, loads come from sFlow counters and samples.
import CTuskSys
import Packets
import Topology

/// An elephant as the selector sees it.
public struct ElephantFlow: Hashable, Sendable {
    public var key: FlowKey
    public var src: HostID
    public var dst: HostID
    /// Measured rate (bits/s): what the flow contributes to the measured load of its links now.
    public var rate: Double
    /// Natural demand (bits/s), from `DemandEstimator`: what it would take where nothing but its
    /// hosts limits it.
    public var demand: Double
    /// Where it goes now; nil when not known yet (then it is not moved).
    public var current: Path?
    /// Where it may go: the equal-cost paths (described by the routing table, not listed, in the
    /// control round), or one single-link path per LAG member.
    public var candidates: CandidatePaths
    /// Higher is placed first and gets table entries first (policy rules).
    public var priority: Int
    /// False for flows a policy rule excludes, or flows held after a recent move.
    public var movable: Bool
    /// Uncertainty of `rate` (bits/s, the 95 % bound of the sampled estimate).
    public var rateError: Double

    public init(key: FlowKey, src: HostID, dst: HostID, rate: Double, demand: Double, current: Path?,
                candidates: [Path], priority: Int = 0, movable: Bool = true, rateError: Double = 0) {
        self.init(key: key, src: src, dst: dst, rate: rate, demand: demand, current: current, candidates: CandidatePaths(candidates),
                  priority: priority, movable: movable, rateError: rateError)
    }

    public init(key: FlowKey, src: HostID, dst: HostID, rate: Double, demand: Double, current: Path?,
                candidates: CandidatePaths, priority: Int = 0, movable: Bool = true, rateError: Double = 0) {
        self.key = key
        self.src = src
        self.dst = dst
        self.rate = rate
        self.demand = demand
        self.current = current
        self.candidates = candidates
        self.priority = priority
        self.movable = movable
        self.rateError = rateError
    }
}

/// The measured state of the fabric for one round.
public struct SelectionInput: Sendable {
    public var time: Double
    public var flows: [ElephantFlow]
    /// Measured load of each directed link (bits/s), by `DirectedLinkID.index`, elephants included.
    public var load: [Double]
    /// Capacity of each directed link (bits/s).
    public var capacity: [Double]

    public init(time: Double, flows: [ElephantFlow], load: [Double], capacity: [Double]) {
        self.time = time
        self.flows = flows
        self.load = load
        self.capacity = capacity
    }
}

/// Why a flow was moved.
public struct MoveReason: Hashable, Sendable, CustomStringConvertible {
    public var algorithm: String
    /// The busiest link of the old path (among the links where the candidates differ), if known.
    public var hotLink: DirectedLinkID?
    /// Its utilization with the flow at its demand (0...; above 1 is oversubscribed).
    public var hotUtilization: Double
    /// The busiest link of the new path with the flow added, and its utilization.
    public var newPeakLink: DirectedLinkID?
    public var newUtilization: Double
    /// hotUtilization - newUtilization: what the move buys, in link utilization.
    public var gain: Double
    /// The demand the placement was made for, bits/s.
    public var demand: Double

    public init(algorithm: String, hotLink: DirectedLinkID?, hotUtilization: Double, newPeakLink: DirectedLinkID?,
                newUtilization: Double, gain: Double, demand: Double) {
        self.algorithm = algorithm
        self.hotLink = hotLink
        self.hotUtilization = hotUtilization
        self.newPeakLink = newPeakLink
        self.newUtilization = newUtilization
        self.gain = gain
        self.demand = demand
    }

    public var description: String {
        func pct(_ v: Double) -> String { "\(Int((v * 100).rounded()))%" }
        let hot = hotLink.map { "link \($0) at \(pct(hotUtilization))" } ?? "old path at \(pct(hotUtilization))"
        let new = newPeakLink.map { "link \($0) at \(pct(newUtilization))" } ?? "\(pct(newUtilization))"
        return "\(algorithm): \(hot) -> peak \(new), gain \(pct(gain)), demand \(Int((demand / 1e6).rounded())) Mbit/s"
    }
}

/// A move: put `key` on `to`.
public struct Decision: Hashable, Sendable, CustomStringConvertible {
    public var key: FlowKey
    public var from: Path?
    public var to: Path
    public var reason: MoveReason

    public init(key: FlowKey, from: Path?, to: Path, reason: MoveReason) {
        self.key = key
        self.from = from
        self.to = to
        self.reason = reason
    }

    public var description: String { "\(key): \(reason)" }
}

/// Why a flow that could have gained was left where it is.
public enum SkipReason: String, Hashable, Sendable {
    /// The gain was below the policy's minimum.
    case smallGain
    /// The flow was moved less than the hold time ago.
    case held
    /// The round's move cap was reached.
    case moveCap
    /// A policy rule excludes it.
    case excluded
    /// Its current path is not known yet.
    case unknownPath
}

public struct SelectionResult: Sendable {
    public var decisions: [Decision] = []
    /// Flows that were not moved although a better path existed (or could not be judged).
    public var skipped: [(key: FlowKey, reason: SkipReason)] = []
    /// Whether the rearranging phases ran this round, and if not why (nil: a selector without them).
    public var rearranging: Rearranging?
    public init() {}
}

/// Whether a round's rearranging phases (alternating chains, ejection chains, the search) ran.
public enum Rearranging: String, Sendable, Hashable {
    /// They ran.
    case ran
    /// They found nothing on the same elephants and paths in the rounds before, and wait (backoff).
    case backingOff = "backing-off"
    /// The elephants and the links' capacities have been the same for longer than `settle-time`:
    /// only flows whose own path is hot move, until they change.
    case settled
}

/// A path selection algorithm. `select` is pure apart from the algorithm's own memory (GFF keeps its
/// reservations); stability (hold, cap, minimum gain) comes in through `StabilityRules`.
public protocol PathSelector: Sendable {
    var name: String { get }
    mutating func select(_ input: SelectionInput, rules: StabilityRules) -> SelectionResult
}

/// The rules a round applies, from the policy.
public struct StabilityRules: Hashable, Sendable {
    /// Least gain, in utilization of the hottest link (0.1 = 10 % of its capacity), for a move.
    public var minGain: Double
    /// Most moves in one round.
    public var maxMoves: Int
    /// A flow is moved only off a path whose peak utilization, with the flow at its demand, is above
    /// this (1: only when its demand cannot be met; moving between paths that both have room gains
    /// no throughput and only churns).
    public var hotThreshold: Double

    /// Measurement slack, in utilization: a link counts as over `hotThreshold` only beyond this
    /// (sampled loads of a full link scatter around 100 %; without slack every full link looks
    /// oversubscribed and every empty one looks slightly used).
    public var tolerance: Double

    /// Seconds after the elephants (or the links' capacities) last changed during which the
    /// rearranging phases may run; after that only hot flows move, one by one, until they change again.
    public var settleTime: Double

    public init(minGain: Double = 0.1, maxMoves: Int = .max, hotThreshold: Double = 1.0, tolerance: Double = 0.05,
                settleTime: Double = .infinity) {
        self.settleTime = settleTime
        self.minGain = minGain
        self.maxMoves = maxMoves
        self.hotThreshold = hotThreshold
        self.tolerance = tolerance
    }
}

extension ElephantFlow {
    /// The links every candidate shares (host links, the last hops of a fat-tree down path): they
    /// load every choice alike, so they cannot decide between them and are left out of the score.
    func sharedLinks() -> [DirectedLinkID] { candidates.sharedLinks }
}

/// Scores paths against a planned load.
struct LoadPlan {
    var planned: [Double]
    let capacity: [Double]

    func utilization(_ l: DirectedLinkID, adding d: Double) -> Double {
        let c = capacity[l.index]
        return c > 0 ? (planned[l.index] + d) / c : .infinity
    }

    /// Peak utilization over the path's links outside `shared` with `d` added, the link at the peak,
    /// and the sum (the tie-breaker: among equal peaks, the path with more room overall).
    func score(_ p: Path, adding d: Double, shared: [DirectedLinkID]) -> (peak: Double, link: DirectedLinkID?, sum: Double) {
        var peak = 0.0, sum = 0.0
        var at: DirectedLinkID?
        for l in p.links where !shared.contains(l) {
            let u = utilization(l, adding: d)
            sum += u
            if u > peak || at == nil { peak = u; at = l }
        }
        return (peak, at, sum)
    }

    /// `score(_:adding:shared:)` of candidate `c` of `row`: its links outside the shared ones, in path
    /// order, read from the row (the same sums, without the path).
    func score(_ row: CandidateRow, _ c: Int, adding d: Double) -> (peak: Double, link: DirectedLinkID?, sum: Double) {
        var peak = 0.0, sum = 0.0
        var at: DirectedLinkID?
        let r = row.view
        for k in 0..<r.width {
            let x = r.link(c, k)
            guard x >= 0 else { continue }
            let l = DirectedLinkID(Int(x))
            let u = utilization(l, adding: d)
            sum += u
            if u > peak || at == nil { peak = u; at = l }
        }
        return (peak, at, sum)
    }

    mutating func add(_ p: Path, _ d: Double) {
        for l in p.links { planned[l.index] += d }
    }

    /// 1 / capacity of each link (0 where it has none), and the planned load as utilization: what
    /// the chains and the search work in.
    func utilizations() -> (inverseCapacity: [Double], util: [Double]) {
        let inverse = capacity.map { $0 > 0 ? 1 / $0 : 0 }
        return (inverse, planned.indices.map { planned[$0] * inverse[$0] })
    }
}

/// The movable elephants' candidate paths as link indices, read by the alternating chains and the
/// local search: flow i's candidate c is `row(i)[offset(i, c) ..< offset(i, c) + width[i]]`, the
/// links not shared by every candidate (they load every choice alike), padded with -1 to the flow's
/// longest candidate. Each flow's row is the selector's own `CandidateRow`, read in place: the table
/// holds no copy of it (at k=64 the rows are a gigabyte; a flat copy doubled that).
///
/// A flow is `aligned` when a link that several of its candidates use sits at the same position in
/// each (true of shortest paths counted in hops: a link's position is its distance from the source).
/// Then two candidates share a link only position by position, and comparing them takes one pass
/// instead of a search of one path for each link of the other.
struct CandidateLinks: @unchecked Sendable {
    /// The rows, kept alive for `views`.
    private let stores: [RowStore]
    /// Each flow's row: where it starts, and how each position follows the candidate index.
    private let views: [RowView]
    let width: [Int]
    let count: [Int]
    /// True where every candidate of the flow has the same number of links.
    let uniform: [Bool]
    /// Index of the flow's current path among its candidates, -1 if none.
    let home: [Int]
    /// The current paths `home` was found for.
    private let currents: [Path?]
    /// True where a link shared by candidates is at the same position in each.
    let aligned: [Bool]

    init(flows: [ElephantFlow], shared: [[DirectedLinkID]]) {
        var scratch: [Int8] = []
        let rows = flows.indices.map { CandidateRow(flows[$0].candidates, shared: shared[$0], scratch: &scratch) }
        self.init(flows: flows, rows: rows)
    }

    /// From each flow's row (`CandidateRow`, kept between rounds by the selector): nothing is
    /// derived again or copied.
    /// `previous`: an earlier table, alive (its rows with it, so that a row's storage stands for
    /// its contents). A row found there with the same current path is not searched again (finding a
    /// described path's index walks the routing table: 3.6 ms for 8,192 flows at k=32, in every
    /// round in which the phases run and some flow's hold has ended, which changes the rows).
    init(flows: [ElephantFlow], rows: [CandidateRow], previous: CandidateLinks? = nil) {
        // (Closures, not key paths: `\.paths.count` went through the runtime's key-path
        // application for each of 8,192 rows.)
        stores = rows.map { $0.store }
        views = stores.map { $0.view }
        width = rows.map { $0.width }
        count = rows.map { $0.paths.count }
        uniform = rows.map { $0.uniform }
        aligned = rows.map { $0.aligned }
        // (By index, each flow's path read in place: a loop over the flows copied each one.)
        let currents = flows.indices.map { flows[$0].current }
        self.currents = currents
        // (Where each row of the earlier table was, by its storage: a position, not its flow's
        // path and index, so that none of its 8,192 paths is retained for the lookup.)
        var at: [ObjectIdentifier: Int32] = [:]
        if let previous {
            at.reserveCapacity(previous.stores.count)
            for k in previous.stores.indices { at[ObjectIdentifier(previous.stores[k])] = Int32(k) }
        }
        home = rows.indices.map { i in
            let r = rows[i]
            if let previous, let k = at[ObjectIdentifier(r.store)].map(Int.init), previous.currents[k] == currents[i] { return previous.home[k] }
            return currents[i].flatMap { r.index(of: $0) } ?? -1
        }
    }

    /// `previous` again, for the same rows in the same order: only where each flow is now is looked
    /// up again, and only for the flows whose path changed (finding a described path's index walks
    /// the routing table: 3.6 ms for 8,192 flows at k=32, every round in which the phases run).
    init(reusing previous: CandidateLinks, flows: [ElephantFlow], rows: [CandidateRow]) {
        stores = previous.stores
        views = previous.views
        width = previous.width
        count = previous.count
        uniform = previous.uniform
        aligned = previous.aligned
        let now = flows.indices.map { flows[$0].current }
        home = flows.indices.map { i in
            now[i] == previous.currents[i] ? previous.home[i] : now[i].flatMap { rows[i].index(of: $0) } ?? -1
        }
        currents = now
    }

    /// Where candidate `c` starts in flow `i`'s row.
    @inline(__always) func offset(_ i: Int, _ c: Int) -> Int { c * width[i] }

    /// Flow `i`'s row.
    @inline(__always) func row(_ i: Int) -> RowView { views[i] }

    /// Link `k` of candidate `c` of flow `i`.
    @inline(__always) func link(_ i: Int, _ c: Int, _ k: Int) -> Int32 { views[i].link(c, k) }

    /// Index of `path` among the candidates of flow `i` (`flow`), nil if none; the current path is
    /// checked first (it usually is the one: `home` holds its index, found when the table was made;
    /// for candidates the routing table describes, by the same search as here).
    func index(of path: Path, flow i: Int, _ flow: ElephantFlow) -> Int? {
        let h = home[i]
        if flow.candidates.isDescribed {
            if let current = flow.current, current == path { return h >= 0 ? h : nil }
            return flow.candidates.firstIndex(of: path)
        }
        if h >= 0 && flow.candidates[h] == path { return h }
        return flow.candidates.firstIndex(of: path)
    }

    /// True if candidate `c` of flow `i` uses link `x`.
    @inline(__always) func uses(_ i: Int, _ c: Int, _ x: Int32) -> Bool {
        let r = views[i]
        for k in 0..<r.width where r.link(c, k) == x { return true }
        return false
    }

    /// Calls `body` with each link of candidate `a` of flow `i` that candidate `c` does not use, in
    /// path order (the links a move from `a` to `c` leaves).
    @inline(__always) func forEachLink(of i: Int, _ a: Int, notIn c: Int, _ body: (Int) -> Void) {
        let r = views[i]
        if aligned[i] {
            Self.forEachAlignedLink(row: r, a, notIn: c, body)
        } else {
            for k in 0..<r.width {
                let x = r.link(a, k)
                if x >= 0 && !uses(i, c, x) { body(Int(x)) }
            }
        }
    }
}

extension CandidateLinks {
    /// `forEachLink` for an aligned row (a link common to two candidates sits at the same place in
    /// both), from the row's address and width alone.
    @inline(__always) static func forEachAlignedLink(row r: RowView, _ a: Int, notIn c: Int, _ body: (Int) -> Void) {
        for k in 0..<r.width {
            let x = r.link(a, k)
            if x >= 0 && x != r.link(c, k) { body(Int(x)) }
        }
    }
}

/// How the links at one position of a row follow the candidate index. `rising`: they never fall
/// (the routing table's order, by egress port at each hop, makes every position of a fat-tree's or a
/// leaf-spine's rows so). A progression (`run` > 0) is more: the links rise in runs of one length by
/// one step, so candidate `c`'s link is `first + step·⌊c / run⌋` (a fat-tree's, at every position).
/// Such a position can be computed, not read: at k=32 a row is 4 KB and reading it was a cache miss.
struct Progression: Hashable {
    var first: Int32 = 0, step: Int32 = 0, run: Int32 = 0
    var rising = false
    /// ⌊2³² / run⌋ + 1: ⌊c / run⌋ is `c · reciprocal >> 32` for every c and run below 2¹⁶ (a
    /// division took several times as long as the rest of a link, and the search asks for tens of
    /// millions of links a round).
    private(set) var reciprocal: UInt64 = 0

    init(first: Int32 = 0, step: Int32 = 0, run: Int32 = 0, rising: Bool = false) {
        (self.first, self.step, self.run, self.rising) = (first, step, run, rising)
        reciprocal = run > 0 ? (1 << 32) / UInt64(run) + 1 : 0
    }

    /// Candidate `c`'s link (a progression only).
    @inline(__always) func link(_ c: Int) -> Int32 {
        first &+ step &* Int32(truncatingIfNeeded: (UInt64(truncatingIfNeeded: c) &* reciprocal) >> 32)
    }

    /// The order of `n` links, `link(c)` for candidate `c`. All of one link is a progression of one
    /// run; a padding slot (-1) first makes none.
    static func of(count n: Int, _ link: (Int) -> Int32) -> Progression {
        var rising = true, previous = Int32.min
        var v0 = 0, d = 0, r = 0, arithmetic = true
        for c in 0..<n {
            let x = link(c)
            if x < previous { rising = false; break }
            previous = x
            guard arithmetic else { continue }
            if c == 0 {
                v0 = Int(x)
                arithmetic = x >= 0
            } else if r == 0 {
                if Int(x) != v0 { (r, d) = (c, Int(x) - v0) }
            } else {
                arithmetic = Int(x) == v0 + d * (c / r)
            }
        }
        guard rising else { return Progression() }
        // (Up to 2¹⁶ candidates, for the reciprocal.)
        guard arithmetic && n > 0 && n < 1 << 16 else { return Progression(rising: true) }
        if r == 0 { (r, d) = (n, 1) }
        guard let f = Int32(exactly: v0), let s = Int32(exactly: d), let run = Int32(exactly: r) else { return Progression(rising: true) }
        return Progression(first: f, step: s, run: run, rising: true)
    }
}

extension Progression {
    /// `Progression.of` from a position's links given as runs (a link and how many candidates in a
    /// row have it), in candidate order: the same progression, from the runs alone.
    struct Builder {
        /// Candidates so far; the first link; the run and step found (at the first change).
        private var n = 0, v0 = 0, r = 0, d = 0
        /// The current group of equal links: its link and length; the number of groups.
        private var last = 0, lastLength = 0, groups = 0
        private var rising = true, arithmetic = true

        mutating func add(_ x: Int, count len: Int) {
            guard rising, len > 0 else { return }
            if groups == 0 {
                (v0, last, lastLength, groups, n) = (x, x, len, 1, len)
                arithmetic = x >= 0
                return
            }
            n += len
            if x == last {
                lastLength += len
                return
            }
            if x < last {
                rising = false
                return
            }
            // A new group begins; the one before it is complete. Every group but the last must be
            // `r` long, and group g's link must be v0 + d·g.
            if groups == 1 {
                (r, d) = (lastLength, x - v0)
            } else if lastLength != r {
                arithmetic = false
            }
            if x != v0 + d * groups { arithmetic = false }
            (last, lastLength) = (x, len)
            groups += 1
        }

        /// The first link given (the first candidate's), nil before any.
        var firstLink: Int? { groups > 0 ? v0 : nil }

        /// True when every candidate given has the same link (a shared position).
        var isSingle: Bool { groups == 1 && rising }

        var progression: Progression {
            guard rising else { return Progression() }
            // The last group may be shorter than the others, not longer.
            let ok = arithmetic && (groups <= 1 || lastLength <= r)
            guard ok && n > 0 && n < 1 << 16 else { return Progression(rising: true) }
            let (run, step) = groups == 1 ? (n, 1) : (r, d)
            guard let f = Int32(exactly: v0), let s = Int32(exactly: step), let u = Int32(exactly: run) else { return Progression(rising: true) }
            return Progression(first: f, step: s, run: u, rising: true)
        }
    }
}

/// A row's links, in memory of its own that does not move (the table reads it by address), and how
/// each position follows the candidate index. Where every position is a progression (a fat-tree's
/// rows) and the row is large, the links are not kept: they are computed (at k=64, a gigabyte of
/// rows less, and at k=32 no cache miss per row read).
final class RowStore: @unchecked Sendable {
    /// Rows of this many links or more are computed where they can be: their fabric's table outgrows
    /// the cache (k=32: 8,192 rows of 1,024 links). Smaller ones stay cached, and reading one is
    /// cheaper than computing it (k=16, rows of 256 links: rearranging rounds took a quarter longer
    /// computed).
    static let computeFrom = 512

    /// The links, where some position is not a progression (else a placeholder, never read).
    let pointer: UnsafeMutablePointer<Int32>
    let count: Int
    /// One per position of the row.
    let orders: UnsafeMutablePointer<Progression>
    let width: Int
    /// True when every position is a progression and no link is kept.
    let computed: Bool
    /// For shortest paths (all of one length, shared links at the same positions on each): per
    /// position, the shared link there, or -1 where the position is the row's. A candidate's path
    /// is then made from its row, and a path's index found in it, without a walk of the routing
    /// table (`CandidateRow.path(_:)`, `index(of:)`). Empty otherwise. (Kept here, not in the row:
    /// rows are copied, and every array in one is retained and released with it.)
    let shape: [Int32]

    init(_ links: [Int32], width: Int, shape: [Int32] = []) {
        self.width = width
        self.shape = shape
        let o = UnsafeMutablePointer<Progression>.allocate(capacity: max(1, width))
        let n = width > 0 ? links.count / width : 0
        var all = width > 0
        links.withUnsafeBufferPointer { b in
            for k in 0..<width {
                let order = Progression.of(count: n) { c in b[c * width + k] }
                (o + k).initialize(to: order)
                all = all && order.run > 0
            }
        }
        computed = all && links.count >= RowStore.computeFrom
        count = computed ? 0 : links.count
        let p = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, count))
        if !computed {
            links.withUnsafeBufferPointer { b in
                if let a = b.baseAddress { p.initialize(from: a, count: b.count) }
            }
        }
        (pointer, orders) = (p, o)
    }

    /// A computed row from its positions' progressions alone (each with a run): no link is kept.
    init(computed progressions: [Progression], shape: [Int32]) {
        width = progressions.count
        self.shape = shape
        let o = UnsafeMutablePointer<Progression>.allocate(capacity: max(1, width))
        for (k, order) in progressions.enumerated() { (o + k).initialize(to: order) }
        computed = true
        count = 0
        (pointer, orders) = (UnsafeMutablePointer<Int32>.allocate(capacity: 1), o)
    }

    var view: RowView { RowView(links: UnsafePointer(pointer), orders: UnsafePointer(orders), width: width, computed: computed) }

    deinit {
        pointer.deallocate()
        orders.deinitialize(count: width)
        orders.deallocate()
    }
}

/// One row as the chains and the search read it: its links, kept or computed, and each position's
/// order. Plain pointers and a width, so closures capture it for free. (With the
/// first four orders held here in SIMD vectors, a k=32 first round took a third longer: a lane read
/// by index is not cheap.)
struct RowView {
    let links: UnsafePointer<Int32>
    let orders: UnsafePointer<Progression>
    let width: Int
    /// Every position computed: `links` is never read.
    let computed: Bool

    /// Candidate `c`'s link at position `k`: computed in a computed row, else read.
    @inline(__always) func link(_ c: Int, _ k: Int) -> Int32 {
        computed ? orders[k].link(c) : links[c &* width &+ k]
    }
}

/// One flow's candidates as `CandidateLinks` holds them: the links not shared by every candidate,
/// padded with -1 to the longest, and what the table says of them. It depends on the candidates
/// alone, so the selector keeps it between rounds for as long as the flow is an elephant (at k=32,
/// 8,192 rows of 256 candidates: rebuilding them was a large part of every round).
struct CandidateRow {
    /// The candidates it was built from (the same storage as the flow's, while the flow keeps it).
    let paths: CandidatePaths
    let shared: [DirectedLinkID]
    let store: RowStore
    /// The row's links, computed or read (candidate `c`'s are `links[c * width ..< (c + 1) * width]`).
    var links: [Int32] {
        let v = view
        return (0..<paths.count).flatMap { c in (0..<width).map { v.link(c, $0) } }
    }
    /// The row as the chains and the search read it.
    var view: RowView { store.view }
    let width: Int
    let uniform: Bool
    let aligned: Bool
    /// See `RowStore.shape`.
    var shape: [Int32] { store.shape }

    /// A row with its shared links worked out (`candidates.sharedLinks`). For described candidates
    /// large enough to be computed they come from the same walk of the routing table as the row's
    /// progressions: a position is shared when every path has one link there. (One walk per row,
    /// not two: at k=32 the second was an eighth of a first round's rows.) A smaller row of
    /// described candidates is listed in one walk too, and its shared positions read off the
    /// listing (`init(listing:length:)`).
    init(_ candidates: CandidatePaths, scratch: inout [Int8]) {
        // (The first and last links are shared by every path: a row is at most `length - 2` wide.)
        if let length = candidates.pathLength, candidates.count > 0, candidates.count * max(0, length - 2) < RowStore.computeFrom {
            self.init(listing: candidates, length: length)
        } else if let length = candidates.pathLength, candidates.count > 0,
                  let runs = Self.runs(candidates, length: length), runs.allSatisfy({ $0.firstLink != nil }) {
            let shared = runs.filter { $0.isSingle }.map { DirectedLinkID($0.firstLink!) }
            self.init(candidates, shared: shared, runs: runs, scratch: &scratch)
        } else {
            self.init(candidates, shared: candidates.sharedLinks, scratch: &scratch)
        }
    }

    /// A row too small to be computed, of described candidates (shortest paths, all `length` links
    /// long): every path listed once, in one walk of the routing table, into one buffer. A link has
    /// one position on every shortest path (its hop count from the source), so the links every
    /// path uses (`candidates.sharedLinks`) are the positions where every path has the first one's
    /// link, in path order; the others are the row's. The same row as `init(_:shared:scratch:)`
    /// gives with `candidates.sharedLinks`, without the second walk that finds them, and without a
    /// closure that holds the row's arrays for every path (at k=16, 1,024 rows of 64 paths in a
    /// first round: a fifth of its profile's samples).
    private init(listing candidates: CandidatePaths, length: Int) {
        let n = candidates.count
        var shared: [DirectedLinkID] = [], shape: [Int32] = [], keep: [Int] = []
        shape.reserveCapacity(length)
        var links: [Int32] = []
        // (Read and written through pointers, a path at a time: the row's arrays are not touched
        // per link.)
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: max(1, n * length)) { all in
            let base = all.baseAddress!
            var listed = 0
            candidates.forEachLinks { c, p in
                precondition(c < n && p.count == length, "a described path of another length or count")
                let at = base + c * length
                for k in 0..<length { at[k] = Int32(truncatingIfNeeded: p[k].index) }
                listed += 1
            }
            precondition(listed == n, "fewer described paths than counted")
            withUnsafeTemporaryAllocation(of: Bool.self, capacity: length) { isShared in
                isShared.initialize(repeating: true)
                for c in 1..<max(1, n) {
                    let at = base + c * length
                    for k in 0..<length where at[k] != base[k] { isShared[k] = false }
                }
                for k in 0..<length {
                    if isShared[k] {
                        shared.append(DirectedLinkID(Int(base[k])))
                        shape.append(base[k])
                    } else {
                        shape.append(-1)
                        keep.append(k)
                    }
                }
            }
            let w = keep.count
            links = keep.withUnsafeBufferPointer { kept in
                [Int32](unsafeUninitializedCapacity: n * w) { out, count in
                    var o = 0
                    for c in 0..<n {
                        let at = base + c * length
                        for k in kept {
                            out[o] = at[k]
                            o += 1
                        }
                    }
                    count = o
                }
            }
        }
        paths = candidates
        self.shared = shared
        width = keep.count
        uniform = true
        aligned = true
        store = RowStore(links, width: keep.count, shape: shape)
    }

    /// `scratch`: a position per link index, all -1 (kept so between calls). `runs`: the routing
    /// table's walk of described candidates (`CandidateRow.runs`), if made already.
    init(_ candidates: CandidatePaths, shared: [DirectedLinkID], runs: [Progression.Builder]? = nil, scratch position: inout [Int8]) {
        paths = candidates
        self.shared = shared
        if let length = candidates.pathLength {
            // Shortest paths, all of one length: a link's position on every path is its hop count
            // from the source, so the shared links are at the same positions on each, and the others
            // are aligned.
            let w = length - shared.count
            width = w
            uniform = true
            aligned = true
            // A row large enough to be computed is worked out from the runs of the routing table's
            // walk, without listing every path (`CandidateRow.progressions`), when every position it
            // keeps is a progression: the same row as from the paths, in a third of the time.
            if w > 0, candidates.count * w >= RowStore.computeFrom,
               let (orders, shape) = Self.progressions(candidates, shared: shared, width: w, runs: runs) {
                store = RowStore(computed: orders, shape: shape)
                return
            }
            var keep: [Int] = []
            var shape: [Int32] = []
            var links: [Int32] = []
            links.reserveCapacity(w * candidates.count)
            candidates.forEachLinks { c, p in
                if c == 0 {
                    keep = p.indices.filter { !shared.contains(p[$0]) }
                    shape = p.map { shared.contains($0) ? Int32($0.index) : -1 }
                }
                for k in keep { links.append(Int32(p[k].index)) }
            }
            // (A shape only when the shared links given are the positions left out: then every
            // candidate is its row's links with them in between.)
            store = RowStore(links, width: w, shape: keep.count == w ? shape : [])
            return
        }
        var w = 0, same = true
        do {
            candidates.forEachLinks { k, p in
                var m = 0
                for l in p where !shared.contains(l) { m += 1 }
                if k > 0 && m != w { same = false }
                w = max(w, m)
            }
        }
        var links: [Int32] = []
        links.reserveCapacity(w * candidates.count)
        var seen: [Int32] = []
        var inPlace = w <= Int(Int8.max)
        candidates.forEachLinks { _, p in
            var m = 0
            for l in p where !shared.contains(l) {
                links.append(Int32(l.index))
                if l.index >= position.count { position += Array(repeating: -1, count: l.index + 1 - position.count) }
                if position[l.index] < 0 {
                    position[l.index] = Int8(truncatingIfNeeded: m)
                    seen.append(Int32(l.index))
                } else if Int(position[l.index]) != m {
                    inPlace = false
                }
                m += 1
            }
            for _ in m..<w { links.append(-1) }
        }
        for x in seen { position[Int(x)] = -1 }
        store = RowStore(links, width: w)
        width = w
        uniform = same
        aligned = inPlace
    }

    /// Candidate `c`'s path: from the row and the shared links when the row has a shape (no walk of
    /// the routing table), else the candidates'. The same path either way.
    func path(_ c: Int) -> Path {
        let shape = store.shape
        guard !shape.isEmpty else { return paths[c] }
        let v = view
        var links: [DirectedLinkID] = []
        links.reserveCapacity(shape.count)
        var k = 0
        for s in shape {
            if s >= 0 {
                links.append(DirectedLinkID(Int(s)))
            } else {
                links.append(DirectedLinkID(Int(v.link(c, k))))
                k += 1
            }
        }
        let p = Path(links)
        assert(p == paths[c], "a row's path is not its candidate's")
        return p
    }

    /// With a shape: the index of the candidate whose links are `key` (the path's links outside
    /// the shared ones), nil if none. The position whose links change most often fixes the
    /// candidates it can be (one, in a fat-tree); they are checked link by link.
    private func index(ofKept key: UnsafeBufferPointer<Int32>) -> Int? {
        let v = view, n = paths.count
        var at = -1, run = Int32.max
        for k in 0..<width where v.orders[k].run > 0 && v.orders[k].run < run && v.orders[k].step > 0 {
            (at, run) = (k, v.orders[k].run)
        }
        var range = 0..<n
        if at >= 0 {
            let o = v.orders[at], d = key[at] &- o.first
            guard d >= 0 && d % o.step == 0 else { return nil }
            let lo = Int(d / o.step) * Int(o.run)
            guard lo < n else { return nil }
            range = lo..<min(n, lo + Int(o.run))
        }
        for c in range {
            var equal = true
            for k in 0..<width where v.link(c, k) != key[k] {
                equal = false
                break
            }
            if equal { return c }
        }
        return nil
    }

    /// The progression of each position a row of described `candidates` keeps (those whose link on
    /// the first path is not in `shared`), from the runs of the routing table's walk; nil when the
    /// paths are listed, when the kept positions are not `width`, or when one is not a progression.
    /// With them, the row's shape (see `shape`).
    static func progressions(_ candidates: CandidatePaths, shared: [DirectedLinkID], width: Int,
                             runs: [Progression.Builder]? = nil) -> ([Progression], shape: [Int32])? {
        guard let length = candidates.pathLength, let builders = runs ?? Self.runs(candidates, length: length),
              builders.count == length else { return nil }
        var out: [Progression] = [], shape: [Int32] = []
        out.reserveCapacity(width)
        shape.reserveCapacity(length)
        for k in 0..<length {
            // The position's link on the first path: kept unless every path shares it.
            guard let l = builders[k].firstLink else { return nil }
            if shared.contains(where: { $0.index == l }) {
                shape.append(Int32(l))
                continue
            }
            shape.append(-1)
            let order = builders[k].progression
            guard order.run > 0 else { return nil }
            out.append(order)
        }
        return out.count == width ? (out, shape) : nil
    }

    /// Each position's links as the routing table's walk gives them, in runs; nil when the paths
    /// are listed.
    static func runs(_ candidates: CandidatePaths, length: Int) -> [Progression.Builder]? {
        var builders = [Progression.Builder](repeating: Progression.Builder(), count: length)
        // (Through a pointer: the walk calls this for every run, 784 a row at k=32.)
        let described = builders.withUnsafeMutableBufferPointer { b in
            candidates.forEachRun { k, link, n in
                if k < length { b[k].add(link.index, count: n) }
            }
        }
        return described ? builders : nil
    }

    /// True when `other` is this very row (the same storage, so the same contents).
    func isSame(as other: CandidateRow) -> Bool { store === other.store }

    /// True when `candidates` is the very array this row was built from (the same storage: the
    /// control round hands every flow of a host pair the same cached array), so the row holds.
    func isBuilt(from candidates: CandidatePaths) -> Bool {
        candidates.count == paths.count && candidates == paths
    }

    /// Index of `path` among the candidates: its links outside the shared ones are looked up in the
    /// row (no path is compared link by link but the one found).
    func index(of path: Path) -> Int? {
        let shape = store.shape
        if !shape.isEmpty {
            let l = path.links
            guard l.count == shape.count else { return nil }
            return withUnsafeTemporaryAllocation(of: Int32.self, capacity: max(1, width)) { key in
                var j = 0
                for k in 0..<l.count {
                    let x = Int32(truncatingIfNeeded: l[k].index)
                    if shape[k] >= 0 {
                        guard x == shape[k] else { return nil }
                    } else {
                        key[j] = x
                        j += 1
                    }
                }
                let c = index(ofKept: UnsafeBufferPointer(key))
                assert(c == paths.firstIndex(of: path), "a row finds another index than its candidates")
                return c
            }
        }
        if paths.isDescribed { return paths.firstIndex(of: path) }
        var key: [Int32] = []
        key.reserveCapacity(width)
        for l in path.links where !shared.contains(l) { key.append(Int32(l.index)) }
        if key.count <= width {
            for _ in key.count..<width { key.append(-1) }
            let v = view
            for c in 0..<paths.count {
                var equal = true
                for k in 0..<width where v.link(c, k) != key[k] { equal = false; break }
                if equal && paths[c] == path { return c }
            }
        }
        return nil
    }
}

extension ElephantFlow {
    /// The order in which the selectors place elephants: `indices` of `flows` by priority, then
    /// demand (both highest first), then key; a stable sort.
    static func placementOrder(_ indices: [Int], of flows: [ElephantFlow]) -> [Int] {
        // Each flow's order in a small record, when every key is IPv4: the key's fields packed in two
        // words that compare as the keys do (source, destination, protocol, ports). Compared in the
        // flows themselves, every comparison read two large records far apart, and in a bijection,
        // where demands tie, compared their keys field by field: 1.2 ms of every k=32 round.
        struct Record { var priority: Int, demand: Double, high: UInt64, low: UInt64, index: Int }
        var records: [Record] = []
        records.reserveCapacity(indices.count)
        for n in indices {
            guard case .v4(let s) = flows[n].key.src, case .v4(let d) = flows[n].key.dst else {
                return flows.withUnsafeBufferPointer { m in
                    indices.sorted { a, b in
                        (m[a].priority, m[a].demand) != (m[b].priority, m[b].demand)
                            ? (m[a].priority, m[a].demand) > (m[b].priority, m[b].demand) : m[a].key < m[b].key
                    }
                }
            }
            let k = flows[n].key
            records.append(Record(priority: flows[n].priority, demand: flows[n].demand, high: UInt64(s.value) << 32 | UInt64(d.value),
                                  low: UInt64(k.proto) << 32 | UInt64(k.sport) << 16 | UInt64(k.dport), index: n))
        }
        // (The same comparison as above, on the records: the same stable sort gives the same order.)
        records.sort { a, b in
            (a.priority, a.demand) != (b.priority, b.demand)
                ? (a.priority, a.demand) > (b.priority, b.demand) : a.high != b.high ? a.high < b.high : a.low < b.low
        }
        return records.map { $0.index }
    }
}
