/// Summary statistics over a set of values (across agents, ports or flows), with the names of
/// the usual metric APIs: max, min, sum, avg, var, sdev, med, q1, q2, q3, iqr.
public struct Summary: Sendable, Equatable {
    public var count: Int
    public var max: Double
    public var min: Double
    public var sum: Double
    public var avg: Double
    /// Population variance.
    public var `var`: Double
    public var sdev: Double
    public var med: Double
    public var q1: Double
    public var q2: Double
    public var q3: Double
    public var iqr: Double

    public static let names = ["max", "min", "sum", "avg", "var", "sdev", "med", "q1", "q2", "q3", "iqr"]

    /// `nil` for an empty set.
    public init?(_ values: [Double]) {
        let v = values.filter { $0.isFinite }.sorted()
        guard let first = v.first, let last = v.last else { return nil }
        count = v.count
        min = first
        max = last
        sum = v.reduce(0, +)
        avg = sum / Double(count)
        let mean = avg
        `var` = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(count)
        sdev = `var`.squareRoot()
        q1 = Self.quantile(v, 0.25)
        q2 = Self.quantile(v, 0.5)
        q3 = Self.quantile(v, 0.75)
        med = q2
        iqr = q3 - q1
    }

    /// Linear interpolation between closest ranks (the common "type 7" definition).
    public static func quantile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let h = Double(sorted.count - 1) * p
        let lo = Int(h.rounded(.down))
        let hi = Swift.min(lo + 1, sorted.count - 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }

    public func value(_ name: String) -> Double? {
        switch name {
        case "max": max
        case "min": min
        case "sum": sum
        case "avg": avg
        case "var": `var`
        case "sdev": sdev
        case "med": med
        case "q1": q1
        case "q2": q2
        case "q3": q3
        case "iqr": iqr
        default: nil
        }
    }
}
