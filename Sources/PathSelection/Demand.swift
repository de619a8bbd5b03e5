// Natural demand estimation, as in Hedera (Al-Fares et al., NSDI 2010, §4.2, Fig. 4 and 5).
//
// A flow's measured rate says what it gets, not what it wants: two elephants colliding on one link
// each measure half of it. Placing by measured rates would treat a throttled flow as small and leave
// it where it is. Hedera's estimator gives every elephant the rate it would reach if only its
// sender's and receiver's links limited it (max-min fair at the hosts): senders split their link
// equally among flows not yet converged; receivers that are oversubscribed cut the largest flows to
// an equal share (the flows below that share keep their demand) and mark them converged; repeat
// until nothing changes.

/// One flow for the estimator: its sender and receiver, by any integer host index.
public struct DemandFlow: Hashable, Sendable {
    public var src: Int
    public var dst: Int
    public init(src: Int, dst: Int) {
        self.src = src
        self.dst = dst
    }
}

public enum DemandEstimator {
    /// Hedera's estimator. Returns each flow's natural demand in the unit of the capacities.
    /// - Parameters:
    ///   - flows: the elephants (several flows may join the same pair).
    ///   - senderCapacity / receiverCapacity: a host's link capacity in each direction.
    ///   - maxIterations: a bound; Hedera's procedure converges in a few rounds in practice.
    public static func estimate(_ flows: [DemandFlow],
                                senderCapacity: (Int) -> Double,
                                receiverCapacity: (Int) -> Double,
                                maxIterations: Int = 100) -> [Double] {
        let n = flows.count
        guard n > 0 else { return [] }
        var demand = [Double](repeating: 0, count: n)
        var converged = [Bool](repeating: false, count: n)
        var receiverLimited = [Bool](repeating: false, count: n)
        // Flows by sender and by receiver, hosts in ascending order and each host's flows in input
        // order (the result does not depend on the order, but a fixed order keeps floating-point
        // sums identical run to run): one flat array of flow indices per side, cut into runs.
        func groups(_ host: (DemandFlow) -> Int) -> [(host: Int, ids: ArraySlice<Int>)] {
            var keyed = flows.indices.map { (host(flows[$0]), $0) }
            let lo = keyed.lazy.map { $0.0 }.min() ?? 0, hi = keyed.lazy.map { $0.0 }.max() ?? 0
            if lo >= 0 && hi < 4 * n + 1024 {
                // Host indices (small integers): a counting sort, stable, so each host's flows stay
                // in input order.
                var start = [Int](repeating: 0, count: hi + 2)
                for (h, _) in keyed { start[h + 1] += 1 }
                for h in 0...hi { start[h + 1] += start[h] }
                var sorted = keyed
                for e in keyed {
                    sorted[start[e.0]] = e
                    start[e.0] += 1
                }
                keyed = sorted
            } else {
                keyed.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            }
            let order = keyed.map { $0.1 }
            var out: [(host: Int, ids: ArraySlice<Int>)] = []
            var start = 0
            for k in 1...order.count where k == order.count || keyed[k].0 != keyed[start].0 {
                out.append((keyed[start].0, order[start..<k]))
                start = k
            }
            return out
        }
        let senders = groups { $0.src }
        let receivers = groups { $0.dst }

        for _ in 0..<maxIterations {
            let before = demand
            // EstSrc: the sender's capacity left by converged flows, split equally among the others.
            for (host, ids) in senders {
                var convergedDemand = 0.0
                var unconverged = 0
                for i in ids {
                    if converged[i] { convergedDemand += demand[i] } else { unconverged += 1 }
                }
                guard unconverged > 0 else { continue }
                let share = max(0, senderCapacity(host) - convergedDemand) / Double(unconverged)
                for i in ids where !converged[i] { demand[i] = share }
            }
            // EstDst: an oversubscribed receiver gives its flows an equal share; flows already below
            // that share (sender-limited) keep theirs and the share of the rest grows.
            for (host, ids) in receivers {
                let capacity = receiverCapacity(host)
                var total = 0.0
                for i in ids {
                    receiverLimited[i] = true
                    total += demand[i]
                }
                guard total > capacity else { continue }
                var senderLimited = 0.0
                var limited = ids.count
                var share = capacity / Double(limited)
                while true {
                    var changed = false
                    limited = 0
                    for i in ids where receiverLimited[i] {
                        if demand[i] < share {
                            senderLimited += demand[i]
                            receiverLimited[i] = false
                            changed = true
                        } else {
                            limited += 1
                        }
                    }
                    guard limited > 0 else { break }
                    share = max(0, capacity - senderLimited) / Double(limited)
                    if !changed { break }
                }
                for i in ids where receiverLimited[i] {
                    demand[i] = share
                    converged[i] = true
                }
            }
            if zip(before, demand).allSatisfy({ abs($0 - $1) <= 1e-12 * max(1, abs($1)) }) { break }
        }
        return demand
    }
}
