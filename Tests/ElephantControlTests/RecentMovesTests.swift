@testable import ElephantControl
import Packets
import PathSelection
import Testing
import Topology

@Suite struct RecentMovesTests {
    /// Moves appended and removed at random: each move's links, read back, are those of its old path
    /// not on its new one (as `~link`), then those of its new path not on its old, in path order;
    /// the moves stay in order.
    @Test func linksFollowTheirMoves() {
        var rng = SeededGenerator(seed: 23)
        func path() -> Path {
            var links: [DirectedLinkID] = []
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                let l = DirectedLinkID(Int.random(in: 0..<12, using: &rng))
                if !links.contains(l) { links.append(l) }
            }
            return Path(links)
        }
        var moves = RecentMoves()
        var reference: [(key: FlowKey, time: Double, rate: Double, from: Path, to: Path)] = []
        for step in 0..<400 {
            if Int.random(in: 0..<4, using: &rng) == 0 {
                // Remove by time or by flow, as the round does.
                let cut = Double(Int.random(in: 0...step, using: &rng)), flow = UInt32(Int.random(in: 0..<20, using: &rng))
                let byTime = Bool.random(using: &rng)
                func gone(_ k: FlowKey, _ t: Double) -> Bool {
                    byTime ? t < cut : k.src == .v4(IPv4Address(flow))
                }
                moves.removeAll(where: gone)
                reference.removeAll { gone($0.key, $0.time) }
            } else {
                let k = FlowKey(src: .v4(IPv4Address(UInt32(Int.random(in: 0..<20, using: &rng)))), dst: .v4(IPv4Address(1)),
                                proto: 6, sport: 1, dport: 2)
                let (from, to) = (path(), path())
                moves.append(key: k, time: Double(step), rate: Double(step) * 1e6, from: from, to: to)
                reference.append((k, Double(step), Double(step) * 1e6, from, to))
            }
            var read: [(Double, Double, [Int32])] = []
            moves.forEach { time, rate, links in read.append((time, rate, Array(links))) }
            #expect(moves.count == reference.count && read.count == reference.count, "step \(step)")
            #expect(moves.moves.map(\.key) == reference.map(\.key), "step \(step)")
            for (r, m) in zip(reference, read) {
                let expected = r.from.links.filter { !r.to.links.contains($0) }.map { ~Int32($0.index) }
                    + r.to.links.filter { !r.from.links.contains($0) }.map { Int32($0.index) }
                #expect(m.0 == r.time && m.1 == r.rate && m.2 == expected, "step \(step)")
            }
        }
    }
}
