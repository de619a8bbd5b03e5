/// SplitMix64: a small, fast, seedable generator. The core never uses the global RNG, so the
/// same seed always gives the same output.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    /// (Internal, for the inlinable `next()` and `below(_:)`: the local search draws from them in
    /// another module.)
    @usableFromInline var raw: UInt64
    public var state: UInt64 { raw }

    public init(seed: UInt64) { raw = seed }

    @inlinable public mutating func next() -> UInt64 {
        raw &+= 0x9E37_79B9_7F4A_7C15
        var z = raw
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `Int.random(in: 0..<n, using: &self)`, the same number from the same state, leaving the same
    /// state (Lemire's nearly divisionless method, as the standard library has it), inlined: the
    /// generic path was a call per number, and the local search draws three numbers a step.
    @inlinable @inline(__always) public mutating func below(_ n: Int) -> Int {
        precondition(n > 0, "an empty range")
        let bound = UInt64(n)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let t = (0 &- bound) % bound
            while m.low < t { m = next().multipliedFullWidth(by: bound) }
        }
        return Int(truncatingIfNeeded: m.high)
    }
}
