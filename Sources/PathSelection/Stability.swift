// Stability: a selector that reacts to every wobble of a sampled measurement moves flows back and
// forth. Five rules keep it calm (docs/path-selection.md):
//  - inputs are smoothed (exponentially weighted, per link and per flow) before a round sees them;
//  - a move must gain at least `minGain` of link utilization (`StabilityRules`);
//  - a flow moved less than `holdTime` ago is not moved again;
//  - at most `maxMoves` flows move per control round (`StabilityRules`);
//  - flows that are not hot themselves are moved to make room for others only within `settleTime`
//    of the last change to the elephants or the links' capacities (`StabilityRules`, `SettleWindow`).
import Packets

/// Memory across rounds: smoothed inputs and when each flow last moved.
public struct StabilityState: Sendable {
    /// Weight of a new measurement in the moving average (1: no smoothing).
    public var smoothing: Double
    public var holdTime: Double
    private var linkLoad: [Double] = []
    /// Each flow's smoothed rate, the rate it was smoothed from, and the round it was last seen in.
    private var flowRate: [FlowKey: (rate: Double, prior: Double?, seen: UInt64)] = [:]
    private var rateRound: UInt64 = 0
    private var lastMove: [FlowKey: Double] = [:]
    /// The latest of `lastMove`'s times: once it is a hold time ago, no flow is held, and none is
    /// looked up (a settled fabric's rounds ask for every elephant).
    private var latestMove = -Double.infinity
    public private(set) var totalMoves = 0

    public init(smoothing: Double = 0.5, holdTime: Double = 5) {
        self.smoothing = min(1, max(0, smoothing))
        self.holdTime = holdTime
    }

    /// Smooths one round of link loads in place.
    public mutating func smooth(links load: inout [Double]) {
        guard smoothing < 1 else { return }
        if linkLoad.count != load.count {
            linkLoad = load
            return
        }
        for i in load.indices {
            linkLoad[i] += smoothing * (load[i] - linkLoad[i])
            load[i] = linkLoad[i]
        }
    }

    /// Smooths a flow's measured rate; flows not seen in a round are forgotten.
    /// (Kept in place from round to round: an entry counts only if its flow was seen in the round
    /// before; building a new table every round cost more than the smoothing.)
    public mutating func smooth(rates: [(FlowKey, Double)]) -> [Double] {
        rateRound &+= 1
        let now = rateRound, last = now &- 1
        var out: [Double] = []
        out.reserveCapacity(rates.count)
        for (k, r) in rates {
            var v = r
            if let i = flowRate.index(forKey: k) {
                var e = flowRate.values[i]
                // Seen before in this round (a key listed twice): smooth from the same prior again.
                let prior: Double? = e.seen == now ? e.prior : (e.seen == last ? e.rate : nil)
                if let prior { v = prior + smoothing * (r - prior) }
                e = (v, prior, now)
                flowRate.values[i] = e
            } else {
                flowRate[k] = (v, nil, now)
            }
            out.append(v)
        }
        // Flows gone for a round are forgotten; their entries are dropped once they are many.
        if flowRate.count > 2 * rates.count + 1024 { flowRate = flowRate.filter { $0.value.seen == now } }
        return out
    }

    /// True while the flow is inside its hold time.
    public func isHeld(_ k: FlowKey, at t: Double) -> Bool {
        guard t - latestMove < holdTime, let m = lastMove[k] else { return false }
        return t - m < holdTime
    }

    /// Room for `n` more flows' moves, recorded next (a first round records thousands at once).
    public mutating func reserveMoves(_ n: Int) {
        lastMove.reserveCapacity(lastMove.count + n)
    }

    public mutating func recordMove(_ k: FlowKey, at t: Double) {
        lastMove[k] = t
        latestMove = max(latestMove, t)
        totalMoves += 1
    }

    /// Drops the memory of flows that ended (their moves stay counted).
    public mutating func forget(_ k: FlowKey) {
        lastMove[k] = nil
    }
}
