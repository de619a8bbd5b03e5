// The policy: one file that configures the selector (and the daemon). Every setting has a default,
// so an empty file is a valid policy; docs/policy.md lists them and docs/policy-example.yaml shows
// every one.
import FlowAnalytics
import Packets

public enum SelectorAlgorithm: String, Hashable, Sendable, CaseIterable {
    /// Least peak utilization after the move, against measured load (the default).
    case tusk
    /// Hedera's Global First Fit over estimated demands.
    case gff
    /// No controller moves: ECMP alone.
    case ecmp
}

/// An address prefix, IPv4 or IPv6.
public struct IPPrefix: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var length: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let a = IPAddress(parts[0]) else { return nil }
        let maxLen = a.isV4 ? 32 : 128
        if parts.count == 2 {
            guard let l = Int(parts[1]), (0...maxLen).contains(l) else { return nil }
            length = l
        } else {
            length = maxLen
        }
        address = a
    }

    public func contains(_ a: IPAddress) -> Bool {
        switch (address, a) {
        case (.v4(let p), .v4(let x)):
            guard length > 0 else { return true }
            let mask: UInt32 = length >= 32 ? .max : ~(UInt32.max >> UInt32(length))
            return p.value & mask == x.value & mask
        case (.v6(let p), .v6(let x)):
            func masked(_ hi: UInt64, _ lo: UInt64) -> (UInt64, UInt64) {
                let hm: UInt64 = length >= 64 ? .max : length <= 0 ? 0 : ~(UInt64.max >> UInt64(length))
                let lm: UInt64 = length >= 128 ? .max : length <= 64 ? 0 : ~(UInt64.max >> UInt64(length - 64))
                return (hi & hm, lo & lm)
            }
            return masked(p.high, p.low) == masked(x.high, x.low)
        default:
            return false
        }
    }

    public var description: String { "\(address)/\(length)" }
}

/// What a rule matches; a field left out matches anything.
public struct TrafficMatch: Hashable, Sendable {
    public var src: IPPrefix?
    public var dst: IPPrefix?
    public var proto: UInt8?
    public var sport: ClosedRange<UInt16>?
    public var dport: ClosedRange<UInt16>?

    public init(src: IPPrefix? = nil, dst: IPPrefix? = nil, proto: UInt8? = nil,
                sport: ClosedRange<UInt16>? = nil, dport: ClosedRange<UInt16>? = nil) {
        self.src = src
        self.dst = dst
        self.proto = proto
        self.sport = sport
        self.dport = dport
    }

    public func matches(_ k: FlowKey) -> Bool {
        if let src, !src.contains(k.src) { return false }
        if let dst, !dst.contains(k.dst) { return false }
        if let proto, proto != k.proto { return false }
        if let sport, !sport.contains(k.sport) { return false }
        if let dport, !dport.contains(k.dport) { return false }
        return true
    }
}

public enum RuleAction: Hashable, Sendable {
    /// Never moved (it stays on ECMP; its load still counts).
    case exclude
    /// Placed before other elephants and given table entries first; higher first.
    case prioritise(Int)
}

public struct TrafficRule: Hashable, Sendable {
    public var match: TrafficMatch
    public var action: RuleAction
    /// Line in the policy file (0 when built in code).
    public var line: Int

    public init(match: TrafficMatch, action: RuleAction, line: Int = 0) {
        self.match = match
        self.action = action
        self.line = line
    }

    /// Rules are equal when they match and act alike, wherever they were written.
    public static func == (a: Self, b: Self) -> Bool { a.match == b.match && a.action == b.action }
    public func hash(into h: inout Hasher) {
        h.combine(match)
        h.combine(action)
    }
}

/// Every setting, with its documented default.
public struct Policy: Sendable, Equatable {
    // elephant:
    /// Elephant threshold: share of the entry link's speed, or a rate.
    public var elephantThreshold: RateSpec = .shareOfLink(0.10)
    /// Samples behind an estimate before a flow can be an elephant.
    public var minSamples = 3.0
    /// Time constant of the analytics' rate estimates, seconds.
    public var smoothingTime = 2.0
    // sflow: (what the switches are configured with; the simulator's switches use it too)
    public var samplingRate = 1000
    public var pollingInterval = 1.0
    // selector:
    public var algorithm = SelectorAlgorithm.tusk
    public var controlInterval = 1.0
    /// Weight of a new measurement in the selector's moving average (1: none).
    public var smoothing = 0.5
    /// Least gain in peak link utilization for a move.
    public var minGain = 0.10
    /// A flow is moved only off a path whose peak (with the flow at its demand) exceeds this.
    public var hotThreshold = 1.0
    /// Seconds a flow stays where it was put before it may move again.
    public var holdTime = 3.0
    /// Seconds after the elephants (or the links' capacities) last changed during which the
    /// rearranging phases may move flows that are not hot themselves; after that only hot flows move.
    public var settleTime = 10.0
    /// Most moves per control round; nil: automatic, one per host (at least 8).
    public var maxMovesPerInterval: Int?
    // flow-table:
    /// Exact-match entries Tusk may hold per switch.
    public var flowTableBudget = 1000
    /// Priority of elephant entries (above the ECMP default, which sits at 32768).
    public var entryPriority: UInt16 = 40000
    /// Idle timeout of elephant entries, seconds.
    public var idleTimeout = 5.0
    /// Upper 16 bits of every cookie Tusk sets (the rest identifies the flow).
    public var cookiePrefix: UInt16 = 0x5453
    // rules:
    public var rules: [TrafficRule] = []

    public init() {}

    public static let defaults = Policy()

    /// The move cap for a fabric with `hosts` hosts.
    public func maxMoves(hosts: Int) -> Int { maxMovesPerInterval ?? max(8, hosts) }

    public var stabilityRules: (Int) -> StabilityRules {
        { hosts in StabilityRules(minGain: minGain, maxMoves: maxMoves(hosts: hosts), hotThreshold: hotThreshold, settleTime: settleTime) }
    }

    /// Whether any rule excludes flows.
    public var excludes: Bool {
        rules.contains { if case .exclude = $0.action { true } else { false } }
    }

    /// The first matching rule's verdict for a flow: excluded, and its priority.
    public func classify(_ k: FlowKey) -> (excluded: Bool, priority: Int) {
        for r in rules where r.match.matches(k) {
            switch r.action {
            case .exclude: return (true, 0)
            case .prioritise(let p): return (false, p)
            }
        }
        return (false, 0)
    }

    /// The analytics settings this policy implies.
    public var analyticsConfig: AnalyticsConfig {
        var c = AnalyticsConfig()
        c.threshold = elephantThreshold
        c.minSamples = minSamples
        c.timeConstant = smoothingTime
        return c
    }
}
