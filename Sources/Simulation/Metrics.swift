// What a run measured: throughput against full bisection, flow completion times by size class,
// link utilisation, flow-table entries and control messages, and every flow's outcome (for the
// per-flow comparison against ECMP).

/// One flow's outcome.
public struct FlowOutcome: Hashable, Sendable {
    public var id: Int
    public var src: Int
    public var dst: Int
    public var start: Double
    public var bytes: Double?
    /// Completion time (absolute), nil if still running at the end.
    public var finish: Double?
    public var sent: Double
    /// Mean rate (bits/s) over the flow's part of the measurement window.
    public var windowRate: Double?

    public var fct: Double? { finish.map { $0 - start } }
}

/// Flow size classes for FCT breakdowns.
public enum SizeClass: String, CaseIterable, Sendable {
    case small   // < 100 KB: latency-sensitive mice
    case medium  // 100 KB ..< 10 MB
    case large   // ≥ 10 MB: elephants

    public init(bytes: Double) {
        self = bytes < 100_000 ? .small : bytes < 10_000_000 ? .medium : .large
    }

    public var label: String {
        switch self {
        case .small: "<100KB"
        case .medium: "100KB-10MB"
        case .large: ">=10MB"
        }
    }
}

public struct FCTStats: Hashable, Sendable {
    public var count: Int
    public var mean: Double
    public var p50: Double
    public var p99: Double

    init(_ values: [Double]) {
        let s = values.sorted()
        count = s.count
        mean = s.isEmpty ? 0 : s.reduce(0, +) / Double(s.count)
        p50 = FCTStats.percentile(s, 0.5)
        p99 = FCTStats.percentile(s, 0.99)
    }

    /// Nearest-rank percentile of sorted values.
    static func percentile(_ s: [Double], _ q: Double) -> Double {
        guard !s.isEmpty else { return 0 }
        let rank = Int((q * Double(s.count)).rounded(.up))
        return s[min(max(rank, 1), s.count) - 1]
    }
}

/// FCTs of the finite flows that completed; `unfinished` counts finite flows still running at the end.
public struct FCTSummary: Hashable, Sendable {
    public var all: FCTStats
    public var bySize: [(SizeClass, FCTStats)]
    public var unfinished: Int

    init(_ flows: [FlowOutcome]) {
        var values: [Double] = []
        var by: [SizeClass: [Double]] = [:]
        var unfinished = 0
        for f in flows {
            guard let b = f.bytes else { continue }
            guard let fct = f.fct else { unfinished += 1; continue }
            values.append(fct)
            by[SizeClass(bytes: b), default: []].append(fct)
        }
        all = FCTStats(values)
        bySize = SizeClass.allCases.map { ($0, FCTStats(by[$0] ?? [])) }
        self.unfinished = unfinished
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.all == b.all && a.unfinished == b.unfinished && a.bySize.map(\.1) == b.bySize.map(\.1)
    }
    public func hash(into h: inout Hasher) { h.combine(all); h.combine(unfinished) }
}

public struct RunResult: Sendable {
    public var scheduler: String
    public var workload: String
    public var seed: UInt64
    /// Bytes delivered in the measurement window over what full bisection (every host link at
    /// capacity) would deliver.
    public var normalizedThroughput: Double
    public var fct: FCTSummary
    /// Mean utilisation of each directed link over the window.
    public var linkUtilization: [Double]
    public var isFabric: [Bool]
    /// Most pinned entries each switch held at once.
    public var flowTablePeak: [Int]
    /// Flow-mods the control loop sent.
    public var controlMessages: Int
    public var flows: [FlowOutcome]
    /// Events processed and rate recomputations (for cost figures).
    public var events: Int
    public var recomputations: Int

    /// Mean and max utilisation over switch-to-switch links.
    public var fabricUtilization: (mean: Double, max: Double) {
        var sum = 0.0, mx = 0.0, n = 0
        for (i, u) in linkUtilization.enumerated() where isFabric[i] {
            sum += u
            mx = max(mx, u)
            n += 1
        }
        return (n > 0 ? sum / Double(n) : 0, mx)
    }

    public var flowTableMax: Int { flowTablePeak.max() ?? 0 }
    public var flowTableTotal: Int { flowTablePeak.reduce(0, +) }
}
