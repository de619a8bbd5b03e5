import Packets
import SFlow

/// Receive and transmit load of one port, from two sources:
/// - packet samples (fast: every sampled frame adds frame bytes × sampling rate), and
/// - interface counters (exact: octet deltas over the agent's uptime delta), which arrive only
///   every polling interval.
/// The reported rate is the last exact counter rate plus the change the samples have seen since
/// that counter arrived: it reacts within a second, and the counters keep it honest.
public struct PortLoad: Sendable {
    public var ifSpeed: UInt64?
    /// The speed the topology states for this port, which wins over ifSpeed.
    public var statedSpeed: Double?
    var sampledIn: RateEstimator?
    var sampledOut: RateEstimator?

    // Counter state (sFlow v5 if_counters).
    var lastInOctets: UInt64?
    var lastOutOctets: UInt64?
    var lastUptime: UInt32?
    public internal(set) var lastCounterTime: Double?
    public private(set) var counterInBps: Double?
    public private(set) var counterOutBps: Double?
    /// The sample-based estimates when the last counter rate was computed.
    var sampledInAtCounter = 0.0
    var sampledOutAtCounter = 0.0
    public private(set) var counterResets = 0

    public init() {}

    mutating func addSample(bits: Double, input: Bool, at t: Double, tau: Double) {
        // As for flows, the first sample only starts the clock (see RateEstimator).
        if input {
            if sampledIn == nil { sampledIn = RateEstimator(start: t); return }
            sampledIn?.add(bits, at: t, tau: tau)
        } else {
            if sampledOut == nil { sampledOut = RateEstimator(start: t); return }
            sampledOut?.add(bits, at: t, tau: tau)
        }
    }

    func sampled(input: Bool, at t: Double, cfg: AnalyticsConfig) -> Double {
        let e = input ? sampledIn : sampledOut
        return e?.rate(at: t, tau: cfg.timeConstant, minWindow: cfg.minWindow) ?? 0
    }

    /// Octet counters are 64-bit in sFlow v5, but agents that keep 32-bit counters underneath
    /// wrap at 2^32: a decrease from below 2^32 is taken as such a wrap.
    static func delta(_ new: UInt64, _ old: UInt64) -> UInt64? {
        if new >= old { return new - old }
        if old < 1 << 32 { return (1 << 32) - old + new }
        return nil
    }

    mutating func addCounters(_ c: GenericInterfaceCounters, uptime: UInt32, at t: Double, cfg: AnalyticsConfig) {
        if c.ifSpeed > 0 { ifSpeed = c.ifSpeed }
        defer {
            lastInOctets = c.ifInOctets
            lastOutOctets = c.ifOutOctets
            lastUptime = uptime
            lastCounterTime = t
        }
        guard let li = lastInOctets, let lo = lastOutOctets, let lu = lastUptime else { return }
        // The interval comes from the agent's own uptime (exact, unaffected by network delay).
        // Uptime going back means the agent restarted: start over from this sample.
        guard uptime > lu else {
            counterResets += 1
            return
        }
        let secs = Double(uptime - lu) / 1000
        guard secs > 0, let di = Self.delta(c.ifInOctets, li), let dout = Self.delta(c.ifOutOctets, lo) else {
            counterResets += 1
            return
        }
        counterInBps = Double(di) * 8 / secs
        counterOutBps = Double(dout) * 8 / secs
        sampledInAtCounter = sampled(input: true, at: t, cfg: cfg)
        sampledOutAtCounter = sampled(input: false, at: t, cfg: cfg)
    }

    /// Combined rate in bits per second for one direction.
    public func bps(input: Bool, at t: Double, cfg: AnalyticsConfig) -> Double {
        let s = sampled(input: input, at: t, cfg: cfg)
        let counter = input ? counterInBps : counterOutBps
        guard let counter, let ct = lastCounterTime, t - ct < cfg.idleTimeout else { return s }
        return max(0, counter + s - (input ? sampledInAtCounter : sampledOutAtCounter))
    }
}
