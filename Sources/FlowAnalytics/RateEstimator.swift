#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exponentially weighted rate with time constant τ, with warm-up correction.
///
/// Each sample adds `amount` (already scaled by its sampling rate) to a sum that decays as
/// e^(-Δt/τ). For a steady stream the sum settles at rate·τ, so rate = sum/τ. While a flow is
/// younger than a few τ the sum has not settled; dividing by τ·(1−e^(−age/τ)) instead of τ removes
/// that bias, so a new elephant is recognised in well under a second rather than after ~τ. The age
/// is floored at `minWindow` so one early sample cannot look like a huge rate.
///
/// `effectiveSamples` decays the same way: the number of samples behind the estimate, from which
/// the 95 % error bound is about 196·√(1/n) % (sFlow's sampling error for n samples).
public struct RateEstimator: Sendable, Equatable {
    public private(set) var sum: Double = 0
    public private(set) var effectiveSamples: Double = 0
    public private(set) var lastTime: Double
    public let firstTime: Double

    public init(start: Double) {
        lastTime = start
        firstTime = start
    }

    @inline(__always)
    public mutating func add(_ amount: Double, at t: Double, tau: Double) {
        if t > lastTime {
            let d = exp(-(t - lastTime) / tau)
            sum *= d
            effectiveSamples *= d
            lastTime = t
        }
        sum += amount
        effectiveSamples += 1
    }

    /// The rate (amount per second) at time `t` (≥ the last sample).
    @inline(__always)
    public func rate(at t: Double, tau: Double, minWindow: Double) -> Double {
        let dt = max(0, t - lastTime)
        let decayed = sum * exp(-dt / tau)
        let age = max(t - firstTime, minWindow)
        return decayed / (tau * (1 - exp(-age / tau)))
    }

    /// Samples behind the estimate at time `t`.
    public func samples(at t: Double, tau: Double) -> Double {
        effectiveSamples * exp(-max(0, t - lastTime) / tau)
    }

    /// The 95 % relative error bound in percent for `n` samples (196·√(1/n)).
    public static func errorPercent(samples n: Double) -> Double {
        n > 0 ? 196 * (1 / n).squareRoot() : 100
    }
}
