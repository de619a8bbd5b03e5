import Packets
import Topology

/// The moves of the last few seconds, for the measurement lag's compensation: each move's flow,
/// time and rate, and the links it took load off and put load on.
///
/// The compensation reads every recent move in every round: thousands after a first round at k=32,
/// for several rounds. Their links are kept flat, move after move, in one array, rather than read
/// from each move's two paths, two arrays each far from the others.
struct RecentMoves {
    private(set) var moves: [(key: FlowKey, time: Double, rate: Double)] = []
    /// Each move's links: those of its old path not on its new one (as `~link`), then those of the
    /// new path not on the old, each in path order.
    private var links: [Int32] = []
    /// Where each move's links end in `links`.
    private var ends: [Int] = []

    var count: Int { moves.count }

    mutating func append(key: FlowKey, time: Double, rate: Double, from: Path, to: Path) {
        moves.append((key, time, rate))
        // (A path's few links: an array searched beats a set hashed.)
        for l in from.links where !to.links.contains(l) { links.append(~Int32(l.index)) }
        for l in to.links where !from.links.contains(l) { links.append(Int32(l.index)) }
        ends.append(links.count)
    }

    /// Removes the moves `gone` picks (by flow and time); the others keep their order.
    mutating func removeAll(where gone: (_ key: FlowKey, _ time: Double) -> Bool) {
        guard moves.contains(where: { gone($0.key, $0.time) }) else { return }
        var kept = RecentMoves()
        var start = 0
        for k in moves.indices {
            defer { start = ends[k] }
            guard !gone(moves[k].key, moves[k].time) else { continue }
            kept.moves.append(moves[k])
            kept.links.append(contentsOf: links[start..<ends[k]])
            kept.ends.append(kept.links.count)
        }
        self = kept
    }

    /// Calls `body` with each move, in order, and its links (see `links`).
    func forEach(_ body: (_ time: Double, _ rate: Double, _ links: UnsafeBufferPointer<Int32>) -> Void) {
        links.withUnsafeBufferPointer { all in
            var start = 0
            for k in moves.indices {
                body(moves[k].time, moves[k].rate, UnsafeBufferPointer(rebasing: all[start..<ends[k]]))
                start = ends[k]
            }
        }
    }
}
