/// A rate as people write it: `100mbit`, `1g`, `2.5Gbps`, `800k`, `1500000` (bits per second),
/// or a share of link speed, `10%`.
public enum RateSpec: Sendable, Equatable, CustomStringConvertible {
    case bitsPerSecond(Double)
    /// A fraction of the link speed (0.1 for 10 %).
    case shareOfLink(Double)

    public static func parse(_ text: String) -> RateSpec? {
        let t = text.trimming( " \t").lowercased()
        guard !t.isEmpty else { return nil }
        if t.hasSuffix("%") {
            guard let v = Double(t.dropLast()), v > 0, v <= 100 else { return nil }
            return .shareOfLink(v / 100)
        }
        var number = Substring(t)
        for suffix in ["bit/s", "bps", "bit", "b/s", "b"] where number.hasSuffix(suffix) {
            number = number.dropLast(suffix.count)
            break
        }
        var scale = 1.0
        if let last = number.last {
            switch last {
            case "k": scale = 1e3
            case "m": scale = 1e6
            case "g": scale = 1e9
            case "t": scale = 1e12
            default: break
            }
            if scale != 1 { number = number.dropLast() }
        }
        guard let v = Double(number), v >= 0, v.isFinite else { return nil }
        return .bitsPerSecond(v * scale)
    }

    /// The rate in bits per second on a link of `linkSpeed` bits per second.
    public func bps(linkSpeed: Double) -> Double {
        switch self {
        case .bitsPerSecond(let v): v
        case .shareOfLink(let s): s * linkSpeed
        }
    }

    public var description: String {
        switch self {
        case .bitsPerSecond(let v): formatRate(v)
        case .shareOfLink(let s): "\(trimmed(s * 100))%"
        }
    }
}

extension String {
    func trimming(_ set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

func trimmed(_ v: Double) -> String {
    let r = (v * 100).rounded() / 100
    return r == r.rounded() ? String(Int(r)) : String(r)
}

/// `1.5G`, `200M`, `12.3k` (bits per second) for tables.
public func formatRate(_ bps: Double) -> String {
    let a = abs(bps)
    if a >= 1e9 { return "\(trimmed(bps / 1e9))G" }
    if a >= 1e6 { return "\(trimmed(bps / 1e6))M" }
    if a >= 1e3 { return "\(trimmed(bps / 1e3))k" }
    return trimmed(bps)
}
