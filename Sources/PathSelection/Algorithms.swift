// The placement algorithms behind `PathSelector`.
//
// `TuskSelector` (the default): every elephant, largest first, goes on the candidate whose most
// loaded link stays lowest once its demand is added, against the measured load of the links with the
// elephants taken out: what is left is the traffic nobody moves (mice, flows the policy excludes),
// which a demand-only scheme (Hedera) cannot see. A flow leaves its current path only when the gain
// reaches the policy's minimum, and at most `maxMoves` flows move in one round.
//
// `GlobalFirstFit`: Hedera's Global First Fit (Al-Fares et al., NSDI 2010, §4.3): each new elephant
// goes on the first path (in a fixed order) whose links all have room for its demand next to the
// demands already reserved there; reservations last until the flow ends; a flow that fits nowhere
// stays on ECMP. It ignores measured load, so mice and unplaced elephants are invisible to it.
import Packets
import Topology

public struct TuskSelector: PathSelector {
    public init() {}
    public var name: String { "tusk" }

    public mutating func select(_ input: SelectionInput, rules: StabilityRules) -> SelectionResult {
        var result = SelectionResult()
        // What the elephants leave: measured load minus their measured rates on their current paths.
        var background = input.load
        for f in input.flows {
            guard let p = f.current else { continue }
            for l in p.links where l.index < background.count { background[l.index] -= f.rate }
        }
        for i in background.indices where background[i] < 0 { background[i] = 0 }
        var plan = LoadPlan(planned: background, capacity: input.capacity)

        // Flows that stay put are planned first, at their demand.
        var movable: [ElephantFlow] = []
        for f in input.flows {
            guard let cur = f.current else {
                result.skipped.append((f.key, .unknownPath))
                continue
            }
            if f.movable && f.candidates.count > 1 { movable.append(f) } else { plan.add(cur, f.demand) }
        }
        movable.sort { ($0.priority, $0.demand) != ($1.priority, $1.demand)
            ? ($0.priority, $0.demand) > ($1.priority, $1.demand) : $0.key < $1.key }

        var moves = 0
        for f in movable {
            guard let cur = f.current else { continue }
            let shared = f.sharedLinks()
            let now = plan.score(cur, adding: f.demand, shared: shared)
            var best = cur, bestScore = now
            for p in f.candidates where p != cur {
                let s = plan.score(p, adding: f.demand, shared: shared)
                if s.peak < bestScore.peak - 1e-9 || (abs(s.peak - bestScore.peak) <= 1e-9 && s.sum < bestScore.sum - 1e-9) {
                    best = p
                    bestScore = s
                }
            }
            let gain = now.peak - bestScore.peak
            if best == cur || gain <= 1e-9 {
                plan.add(cur, f.demand)
            } else if gain < rules.minGain {
                plan.add(cur, f.demand)
                result.skipped.append((f.key, .smallGain))
            } else if moves >= rules.maxMoves {
                plan.add(cur, f.demand)
                result.skipped.append((f.key, .moveCap))
            } else {
                moves += 1
                plan.add(best, f.demand)
                result.decisions.append(Decision(key: f.key, from: cur, to: best, reason: MoveReason(
                    algorithm: name, hotLink: now.link, hotUtilization: now.peak,
                    newPeakLink: bestScore.link, newUtilization: bestScore.peak, gain: gain, demand: f.demand)))
            }
        }
        return result
    }
}

public struct GlobalFirstFit: PathSelector {
    /// Flows placed, with the path and demand reserved for them.
    public private(set) var reservations: [FlowKey: (path: Path, demand: Double)] = [:]
    public let name: String

    public init(name: String = "gff") { self.name = name }

    public mutating func select(_ input: SelectionInput, rules: StabilityRules) -> SelectionResult {
        var result = SelectionResult()
        // Reservations of flows that ended are released; the others follow the new demand estimate.
        var present: [FlowKey: Int] = [:]
        for (i, f) in input.flows.enumerated() { present[f.key] = i }
        reservations = reservations.filter { present[$0.key] != nil }
        var reserved = [Double](repeating: 0, count: input.capacity.count)
        for (k, r) in reservations.sorted(by: { $0.key < $1.key }) {
            let d = input.flows[present[k]!].demand
            reservations[k] = (r.path, d)
            for l in r.path.links where l.index < reserved.count { reserved[l.index] += d }
        }
        let waiting = input.flows.filter { reservations[$0.key] == nil }
            .sorted { ($0.priority, $0.demand) != ($1.priority, $1.demand)
                ? ($0.priority, $0.demand) > ($1.priority, $1.demand) : $0.key < $1.key }
        var moves = 0
        for f in waiting {
            guard f.movable else { continue }
            var chosen: Path?
            for p in f.candidates where p.links.allSatisfy({ l in
                l.index < reserved.count && reserved[l.index] + f.demand <= input.capacity[l.index] * (1 + 1e-9)
            }) {
                chosen = p
                break
            }
            guard let p = chosen else { continue } // fits nowhere: stays on ECMP, tried again next round
            if p != f.current {
                guard moves < rules.maxMoves else {
                    result.skipped.append((f.key, .moveCap))
                    continue
                }
                moves += 1
                // The reason, in measured terms: the old path's busiest link against the new one's.
                func peak(_ path: Path?) -> (DirectedLinkID?, Double) {
                    guard let path else { return (nil, 0) }
                    var best: (DirectedLinkID?, Double) = (nil, 0)
                    for l in path.links where l.index < input.load.count && input.capacity[l.index] > 0 {
                        let u = input.load[l.index] / input.capacity[l.index]
                        if best.0 == nil || u > best.1 { best = (l, u) }
                    }
                    return best
                }
                let old = peak(f.current)
                let new = peak(p)
                result.decisions.append(Decision(key: f.key, from: f.current, to: p, reason: MoveReason(
                    algorithm: name, hotLink: old.0, hotUtilization: old.1, newPeakLink: new.0,
                    newUtilization: new.1 + f.demand / max(1, input.capacity[new.0?.index ?? 0]),
                    gain: old.1 - new.1, demand: f.demand)))
            }
            reservations[f.key] = (p, f.demand)
            for l in p.links { reserved[l.index] += f.demand }
        }
        return result
    }
}

/// Link aggregation: the parallel links from one switch to the same neighbour are the members of a
/// LAG. Choosing a member for an elephant is the same problem as choosing a path, with one
/// single-link candidate per member, so it goes through the same selectors.
public struct LAGGroup: Hashable, Sendable {
    public var switchID: SwitchID
    public var neighbour: SwitchID
    /// The member links in the direction leaving `switchID`, by port number.
    public var members: [DirectedLinkID]
}

extension Topology {
    /// Every group of two or more parallel links leaving a switch toward the same neighbour.
    public var lagGroups: [LAGGroup] {
        var out: [LAGGroup] = []
        for s in switchIDs {
            var byPeer: [Int: [DirectedLinkID]] = [:]
            for p in ports(of: s) {
                if let peer = p.peer.switchPort { byPeer[peer.switchID.index, default: []].append(p.egress) }
            }
            for peer in byPeer.keys.sorted() where byPeer[peer]!.count > 1 {
                out.append(LAGGroup(switchID: s, neighbour: SwitchID(peer), members: byPeer[peer]!))
            }
        }
        return out
    }
}

extension ElephantFlow {
    /// An elephant crossing a LAG: its candidates are the members, its current path the member it uses.
    public static func lag(key: FlowKey, src: HostID, dst: HostID, rate: Double, demand: Double,
                           member: DirectedLinkID?, group: LAGGroup, priority: Int = 0, movable: Bool = true) -> ElephantFlow {
        ElephantFlow(key: key, src: src, dst: dst, rate: rate, demand: demand, current: member.map { Path([$0]) },
                     candidates: group.members.map { Path([$0]) }, priority: priority, movable: movable)
    }
}
