import Testing
@testable import Simulation

@Suite struct MaxMinTests {
    func close(_ a: [Double], _ b: [Double]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-9 * max(1, abs($1)) }
    }

    @Test func sharedBottleneck() {
        // Three flows on one 9-unit link: 3 each.
        #expect(close(maxMinRates(capacities: [9], paths: [[0], [0], [0]]), [3, 3, 3]))
        // Flow 1 crosses both links; link 1 (4 units, 2 flows) is the bottleneck for flows 1 and 2,
        // flow 0 takes what is left of link 0.
        #expect(close(maxMinRates(capacities: [10, 4], paths: [[0], [0, 1], [1]]), [8, 2, 2]))
    }

    @Test func twoBottlenecks() {
        // Link A (1) carries flows 0, 1; link B (2) carries flows 0, 2, 3. A fills first at 0.5 each;
        // B's remaining 1.5 goes to flows 2 and 3.
        #expect(close(maxMinRates(capacities: [1, 2], paths: [[0, 1], [0], [1], [1]]), [0.5, 0.5, 0.75, 0.75]))
        // A chain (the "parking lot"): one long flow over three links of 1, a short flow on each.
        #expect(close(maxMinRates(capacities: [1, 1, 1], paths: [[0, 1, 2], [0], [1], [2]]), [0.5, 0.5, 0.5, 0.5]))
        // Unequal links: the 1-unit link limits the long flow, the others give the rest to their short flows.
        #expect(close(maxMinRates(capacities: [1, 3, 5], paths: [[0, 1, 2], [0], [1], [2]]), [0.5, 0.5, 2.5, 4.5]))
    }

    @Test func receiverLimited() {
        // Links: 0 = sender A's uplink, 1 = sender B's uplink, 2 = receiver R's downlink, 3 = receiver S's downlink.
        // A sends to R and S, B sends to R twice: R's downlink (3 flows) gives 1/3 each; A's other
        // flow takes the rest of A's uplink.
        let rates = maxMinRates(capacities: [1, 1, 1, 1], paths: [[0, 2], [0, 3], [1, 2], [1, 2]])
        let third: Double = 1.0 / 3
        let expected: [Double] = [third, 2 * third, third, third]
        #expect(close(rates, expected))
    }

    @Test func idleAndEmpty() {
        #expect(maxMinRates(capacities: [5], paths: []).isEmpty)
        #expect(maxMinRates(capacities: [5, 5], paths: [[]]) == [.infinity])
        #expect(close(maxMinRates(capacities: [0, 5], paths: [[0, 1], [1]]), [0, 5]))
    }

    @Test func reuseGivesSameAnswer() {
        var a = MaxMinAllocator()
        var r: [Double] = []
        let caps: [Double] = [1, 2, 3]
        let p1: [[Int32]] = [[0, 1], [1, 2], [2]]
        a.allocate(capacities: caps, flowCount: 3, path: { p1[$0][...] }, rates: &r)
        let first = r
        let p2: [[Int32]] = [[2]]
        a.allocate(capacities: caps, flowCount: 1, path: { p2[$0][...] }, rates: &r)
        #expect(r == [3])
        a.allocate(capacities: caps, flowCount: 3, path: { p1[$0][...] }, rates: &r)
        #expect(r == first)
        #expect(close(first, [1, 1, 2]))
    }
}

@Suite struct RandomTests {
    @Test func splitMixReferenceValue() {
        // SplitMix64 seeded with 0: the reference implementation's first output.
        var g = SplitMix64(seed: 0)
        #expect(g.next() == 0xE220_A839_7B1D_CDAF)
    }

    @Test func xoshiroIsDeterministicAndBounded() {
        var a = Xoshiro256(seed: 42), b = Xoshiro256(seed: 42), c = Xoshiro256(seed: 43)
        let xs = (0..<8).map { _ in a.next() }
        #expect(xs == (0..<8).map { _ in b.next() })
        #expect(xs != (0..<8).map { _ in c.next() })
        var g = Xoshiro256(seed: 7)
        for n in [1, 2, 3, 7, 1000] {
            for _ in 0..<200 { #expect((0..<n).contains(g.nextInt(n))) }
        }
        for _ in 0..<1000 {
            let d = g.nextDouble()
            #expect(d >= 0 && d < 1)
        }
        #expect(Xoshiro256(seed: 1).fork(1).s0 != Xoshiro256(seed: 1).fork(2).s0)
    }
}
