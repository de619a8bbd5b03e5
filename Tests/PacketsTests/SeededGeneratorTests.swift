import Packets
import Testing

/// `below(n)` draws what `Int.random(in: 0..<n, using:)` draws from the same state, and leaves the
/// same state: small and large bounds, powers of two and their neighbours, and bounds above 2⁶²
/// where about a quarter of the draws are rejected and drawn again.
@Suite struct SeededGeneratorTests {
    @Test func belowDrawsAsTheStandardLibrary() {
        // (2⁶⁴ mod n is about 2⁶² for the two bounds after 2³² + 1: a quarter of the draws are rejected.)
        let bounds = [1, 2, 3, 7, 10, 63, 64, 65, 1000, 4096, 1 << 32, (1 << 32) + 1, (1 << 62) + 1, (1 << 62) + (1 << 61) + 1, Int.max]
        var rejected = 0
        for seed in 0..<200 as Range<UInt64> {
            var a = SeededGenerator(seed: seed), b = SeededGenerator(seed: seed)
            for n in bounds {
                for _ in 0..<20 {
                    let before = a.state
                    let x = a.below(n), y = Int.random(in: 0..<n, using: &b)
                    #expect(x == y && a.state == b.state, "seed \(seed) bound \(n)")
                    #expect((0..<n).contains(x))
                    // More than one number drawn: a rejection.
                    if a.state &- before != 0x9E37_79B9_7F4A_7C15 { rejected += 1 }
                }
            }
        }
        #expect(rejected > 1000)
    }
}
