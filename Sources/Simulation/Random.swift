// The simulator's only source of randomness: a seedable generator, passed in, never global.
// xoshiro256** (Blackman and Vigna, 2018), seeded through SplitMix64 as its authors recommend, so
// that nearby seeds (1, 2, 3) still give unrelated streams.

/// SplitMix64: used to expand a 64-bit seed, and as a cheap stateless mixer for hashing.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }

    @inlinable public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    /// The SplitMix64 finaliser: a bijective 64-bit mix with good avalanche.
    @inlinable public static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256**: fast, 256 bits of state, passes BigCrush. Deterministic across platforms.
public struct Xoshiro256: RandomNumberGenerator, Sendable {
    @usableFromInline var s0, s1, s2, s3: UInt64

    public init(seed: UInt64) {
        var sm = SplitMix64(seed: seed)
        s0 = sm.next(); s1 = sm.next(); s2 = sm.next(); s3 = sm.next()
    }

    @inlinable public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A uniform double in [0, 1) from the top 53 bits (not `Double.random(in:)`, whose algorithm
    /// the standard library does not promise to keep).
    @inlinable public mutating func nextDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform integer in 0..<n (Lemire's multiply-shift with rejection; unbiased, stable).
    @inlinable public mutating func nextInt(_ n: Int) -> Int {
        precondition(n > 0)
        let bound = UInt64(n)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return Int(m.high)
    }

    /// An exponential variate with the given mean.
    @inlinable public mutating func nextExponential(mean: Double) -> Double {
        -mean * log1pNeg(nextDouble())
    }

    /// Derives an independent generator for a named sub-stream (workload, hashing, sampling...).
    public func fork(_ label: UInt64) -> Xoshiro256 {
        Xoshiro256(seed: SplitMix64.mix(s0 ^ SplitMix64.mix(label ^ 0xA5A5_5A5A_DEAD_BEEF)))
    }

    /// Fisher–Yates, with this generator.
    public mutating func shuffle<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            a.swapAt(i, nextInt(i + 1))
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// log(1 - u) for u in [0, 1).
@inlinable func log1pNeg(_ u: Double) -> Double { log1p(-u) }
