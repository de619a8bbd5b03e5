import Packets
import Testing

@Suite("Pipeline")
struct PipelineTests {
    /// A producer's and a consumer's state, each touched by one side only.
    private struct Sides {
        var made = 0
        var consumed: [Int] = []
        var sums: [Int] = []
    }

    @Test("every item is consumed once, in the order made, whatever the depth", arguments: [1, 2, 4, 9])
    func order(depth: Int) {
        let pipeline = Pipeline(depth: depth) { [Int]() }
        var sides = Sides()
        let count = 5_000
        pipeline.run(produce: { item in
            guard sides.made < count else { return false }
            // The item is reused: the producer empties it and writes a value and a varying length.
            item.removeAll(keepingCapacity: true)
            item.append(contentsOf: repeatElement(sides.made, count: 1 + sides.made % 7))
            sides.made += 1
            return true
        }, consume: { item in
            sides.consumed.append(item[0])
            sides.sums.append(item.reduce(0, +))
        })
        #expect(sides.made == count)
        #expect(sides.consumed == Array(0..<count))
        #expect(sides.sums == (0..<count).map { $0 * (1 + $0 % 7) })
    }

    @Test("a producer with nothing to make ends the run at once; runs can follow each other")
    func emptyAndRepeated() {
        let pipeline = Pipeline(depth: 3) { 0 }
        var consumed = 0
        pipeline.run(produce: { _ in false }, consume: { _ in consumed += 1 })
        #expect(consumed == 0)
        for run in 1...50 {
            var made = 0, seen: [Int] = []
            pipeline.run(produce: { item in
                guard made < run else { return false }
                item = run * 1000 + made
                made += 1
                return true
            }, consume: { seen.append($0) })
            #expect(seen == (0..<run).map { run * 1000 + $0 })
        }
    }

    @Test("a slow consumer and a slow producer give the same result as one thread")
    func unevenSides() {
        // Work of different sizes on each side (no timing: only the result is checked).
        func spin(_ n: Int) -> Int {
            var x = UInt64(n) | 1
            for _ in 0..<(n * 200) { x = x &* 6364136223846793005 &+ 1442695040888963407 }
            return Int(x >> 60)
        }
        let pipeline = Pipeline(depth: 4) { (value: 0, tag: 0) }
        var made = 0, results: [Int] = []
        pipeline.run(produce: { item in
            guard made < 400 else { return false }
            item = (made, spin(made % 3 == 0 ? 50 : 1))
            made += 1
            return true
        }, consume: { item in
            results.append(item.value &* 31 &+ item.tag &+ spin(item.value % 5 == 0 ? 60 : 1))
        })
        #expect(results == (0..<400).map { $0 &* 31 &+ spin($0 % 3 == 0 ? 50 : 1) &+ spin($0 % 5 == 0 ? 60 : 1) })
    }
}
