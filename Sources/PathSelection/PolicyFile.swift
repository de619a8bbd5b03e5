// The policy file (YAML), read with line numbers so that every error names its line:
//
//   elephant:   {threshold: 10%, min-samples: 3, smoothing-time: 2s}
//   sflow:      {sampling-rate: 1000, polling-interval: 1s}
//   selector:   {algorithm: tusk, control-interval: 1s, smoothing: 0.5, min-gain: 10%,
//                hold-time: 3s, settle-time: 10s, max-moves-per-interval: auto}
//   flow-table: {budget: 1000, priority: 40000, idle-timeout: 5s, cookie-prefix: 0x5453}
//   rules:
//     - {match: {dst: 10.2.0.0/16, proto: tcp, dport: 5201}, action: prioritise, priority: 10}
//     - {match: {proto: udp}, action: exclude}
//
// Durations take `ms`/`s` suffixes (plain numbers are seconds); shares take `%` or a fraction.
import FlowAnalytics
import Foundation
import Packets
import Yams

/// Why a policy file is not valid; `line` is where.
public struct PolicyError: Error, Hashable, Sendable, CustomStringConvertible {
    public var line: Int?
    public var message: String

    public init(line: Int?, _ message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { line.map { "line \($0): \(message)" } ?? message }
}

extension Policy {
    /// Parses and validates a policy file; settings left out keep their defaults.
    public init(yaml text: String) throws(PolicyError) {
        self.init()
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let e as YamlError {
            switch e {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
                throw PolicyError(line: mark.line, "not valid YAML: \(problem)")
            case .duplicatedKeysInMapping(let keys, let context):
                // Name the line of the second occurrence of the key.
                let key = keys.first ?? "?"
                var line = context.mark.line
                var seen = 0
                for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where i + 1 >= context.mark.line {
                    var s = raw.drop(while: { $0 == " " || $0 == "-" || $0 == "{" })
                    if s.hasPrefix("\"") { s = s.dropFirst() }
                    if s.hasPrefix(key), s.dropFirst(key.count).drop(while: { $0 == " " || $0 == "\"" }).hasPrefix(":") {
                        seen += 1
                        if seen == 2 { line = i + 1; break }
                    }
                }
                throw PolicyError(line: line, "'\(key)' is given twice")
            default:
                throw PolicyError(line: nil, "not valid YAML: \(e)")
            }
        } catch {
            throw PolicyError(line: nil, "not valid YAML: \(error)")
        }
        guard let root else { return } // an empty file: all defaults
        guard let top = root.mapping else {
            throw PolicyError(line: root.mark?.line ?? 1, "a policy is a mapping with elephant, sflow, selector, flow-table and rules")
        }
        var seen: Set<String> = []
        for (k, v) in top {
            let key = k.string ?? ""
            guard seen.insert(key).inserted else { throw PolicyError(line: k.mark?.line, "'\(key)' is given twice") }
            switch key {
            case "elephant":
                let s = try Section(v, "elephant", ["threshold", "min-samples", "smoothing-time"])
                if let (t, line) = s["threshold"] {
                    guard let r = RateSpec.parse(t) else {
                        throw PolicyError(line: line, "elephant threshold '\(t)' is not a rate (100M, 1G) or a share of the link (10%)")
                    }
                    elephantThreshold = r
                }
                if let v = try s.number("min-samples", 0...1e6) { minSamples = v }
                if let v = try s.duration("smoothing-time", 0.001...3600) { smoothingTime = v }
            case "sflow":
                let s = try Section(v, "sflow", ["sampling-rate", "polling-interval"])
                if let v = try s.integer("sampling-rate", 1...1 << 30) { samplingRate = v }
                if let v = try s.duration("polling-interval", 0.001...3600) { pollingInterval = v }
            case "selector":
                let s = try Section(v, "selector", ["algorithm", "control-interval", "smoothing", "min-gain", "hot-threshold", "hold-time", "settle-time",
                                                      "max-moves-per-interval"])
                if let (t, line) = s["algorithm"] {
                    guard let a = SelectorAlgorithm(rawValue: t) else {
                        throw PolicyError(line: line, "unknown algorithm '\(t)' (expected \(SelectorAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    algorithm = a
                }
                if let v = try s.duration("control-interval", 0.01...3600) { controlInterval = v }
                if let v = try s.share("smoothing", 0.01...1) { smoothing = v }
                if let v = try s.share("min-gain", 0...10) { minGain = v }
                if let v = try s.share("hot-threshold", 0.1...10) { hotThreshold = v }
                if let v = try s.duration("hold-time", 0...86400) { holdTime = v }
                if let v = try s.duration("settle-time", 0...86400) { settleTime = v }
                if let (t, _) = s["max-moves-per-interval"], t == "auto" {
                    maxMovesPerInterval = nil
                } else if let v = try s.integer("max-moves-per-interval", 1...1_000_000) {
                    maxMovesPerInterval = v
                }
            case "flow-table":
                let s = try Section(v, "flow-table", ["budget", "priority", "idle-timeout", "cookie-prefix"])
                if let v = try s.integer("budget", 0...10_000_000) { flowTableBudget = v }
                if let v = try s.integer("priority", 32769...65535) { entryPriority = UInt16(v) }
                if let v = try s.duration("idle-timeout", 1...65535) { idleTimeout = v }
                if let v = try s.integer("cookie-prefix", 1...0xFFFF) { cookiePrefix = UInt16(v) }
            case "rules":
                rules = try Policy.parseRules(v)
            default:
                throw PolicyError(line: k.mark?.line, "unknown section '\(key)' (expected elephant, sflow, selector, flow-table, rules)")
            }
        }
    }

    static func parseRules(_ node: Node) throws(PolicyError) -> [TrafficRule] {
        if let s = node.scalar, s.string.isEmpty || s.string == "~" || s.string == "null" { return [] }
        guard let seq = node.sequence else { throw PolicyError(line: node.mark?.line, "'rules' must be a list") }
        var out: [TrafficRule] = []
        for item in seq {
            let line = item.mark?.line ?? 0
            guard let m = item.mapping else { throw PolicyError(line: line, "a rule is a mapping {match: {...}, action: exclude|prioritise}") }
            var match: Node?, matchLine = line
            var actionText: (String, Int)?, priority: (String, Int)?
            for (k, v) in m {
                switch k.string ?? "" {
                case "match": match = v; matchLine = v.mark?.line ?? line
                case "action":
                    guard let s = v.scalar?.string else { throw PolicyError(line: v.mark?.line ?? line, "rule action must be a plain value") }
                    actionText = (s, v.mark?.line ?? line)
                case "priority":
                    guard let s = v.scalar?.string else { throw PolicyError(line: v.mark?.line ?? line, "rule priority must be a number") }
                    priority = (s, v.mark?.line ?? line)
                default:
                    throw PolicyError(line: k.mark?.line ?? line, "unknown rule field '\(k.string ?? "?")' (expected match, action, priority)")
                }
            }
            guard let (a, aLine) = actionText else { throw PolicyError(line: line, "rule has no 'action' (exclude or prioritise)") }
            let action: RuleAction
            switch a {
            case "exclude":
                if let (_, pl) = priority { throw PolicyError(line: pl, "'priority' only applies to action prioritise") }
                action = .exclude
            case "prioritise", "prioritize":
                var p = 1
                if let (t, pl) = priority {
                    guard let v = Int(t), (1...1000).contains(v) else { throw PolicyError(line: pl, "rule priority '\(t)' is not a number 1...1000") }
                    p = v
                }
                action = .prioritise(p)
            default:
                throw PolicyError(line: aLine, "unknown rule action '\(a)' (expected exclude or prioritise)")
            }
            guard let match else { throw PolicyError(line: line, "rule has no 'match'") }
            let s = try Section(match, "match", ["src", "dst", "proto", "sport", "dport"], line: matchLine)
            var tm = TrafficMatch()
            if let (t, l) = s["src"] {
                guard let p = IPPrefix(t) else { throw PolicyError(line: l, "match src '\(t)' is not an address or prefix") }
                tm.src = p
            }
            if let (t, l) = s["dst"] {
                guard let p = IPPrefix(t) else { throw PolicyError(line: l, "match dst '\(t)' is not an address or prefix") }
                tm.dst = p
            }
            if let (t, l) = s["proto"] {
                switch t.lowercased() {
                case "tcp": tm.proto = IPProtocolNumber.tcp
                case "udp": tm.proto = IPProtocolNumber.udp
                case "icmp": tm.proto = IPProtocolNumber.icmp
                case "sctp": tm.proto = IPProtocolNumber.sctp
                default:
                    guard let v = UInt8(t) else { throw PolicyError(line: l, "match proto '\(t)' is not tcp, udp, icmp, sctp or 0...255") }
                    tm.proto = v
                }
            }
            for field in ["sport", "dport"] {
                guard let (t, l) = s[field] else { continue }
                guard let r = Policy.portRange(t) else { throw PolicyError(line: l, "match \(field) '\(t)' is not a port or a range (80, 5000-5100)") }
                if field == "sport" { tm.sport = r } else { tm.dport = r }
            }
            if tm.sport != nil || tm.dport != nil, let p = tm.proto, p != IPProtocolNumber.tcp, p != IPProtocolNumber.udp, p != IPProtocolNumber.sctp {
                throw PolicyError(line: matchLine, "ports need proto tcp, udp or sctp")
            }
            out.append(TrafficRule(match: tm, action: action, line: line))
        }
        return out
    }

    static func portRange(_ t: String) -> ClosedRange<UInt16>? {
        let parts = t.split(separator: "-", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if parts.count == 1, let v = UInt16(parts[0]) { return v...v }
        if parts.count == 2, let a = UInt16(parts[0]), let b = UInt16(parts[1]), a <= b { return a...b }
        return nil
    }

    /// The effective settings, in the file's own format (every default spelled out).
    public var yaml: String {
        // Each value in its short spelling when that reads back as exactly the value, else in one
        // that does: a policy written out must read back the same.
        func dur(_ s: Double) -> String {
            let nice = s < 1 && s > 0 ? "\(fmtNumber(s * 1000))ms" : "\(fmtNumber(s))s"
            let back = s < 1 && s > 0 ? Double(fmtNumber(s * 1000)).map { $0 / 1000 } : Double(fmtNumber(s))
            return back == s ? nice : "\(exactNumber(s))s"
        }
        func num(_ v: Double) -> String { Double(fmtNumber(v)) == v ? fmtNumber(v) : exactNumber(v) }
        func share(_ v: Double) -> String {
            Double(fmtNumber(v * 100)).map { $0 / 100 } == v ? "\(fmtNumber(v * 100))%" : exactNumber(v)
        }
        var threshold = elephantThreshold.description
        if RateSpec.parse(threshold) != elephantThreshold {
            switch elephantThreshold {
            case .bitsPerSecond(let v): threshold = exactNumber(v)
            case .shareOfLink(let v): if let p = exactScaled(v, by: 100) { threshold = p + "%" }
            }
        }
        var lines = [
            "elephant:",
            "  threshold: \(threshold)",
            "  min-samples: \(num(minSamples))",
            "  smoothing-time: \(dur(smoothingTime))",
            "sflow:",
            "  sampling-rate: \(samplingRate)",
            "  polling-interval: \(dur(pollingInterval))",
            "selector:",
            "  algorithm: \(algorithm.rawValue)",
            "  control-interval: \(dur(controlInterval))",
            "  smoothing: \(num(smoothing))",
            "  min-gain: \(share(minGain))",
            "  hot-threshold: \(share(hotThreshold))",
            "  hold-time: \(dur(holdTime))",
            "  settle-time: \(dur(settleTime))",
            "  max-moves-per-interval: \(maxMovesPerInterval.map(String.init) ?? "auto")",
            "flow-table:",
            "  budget: \(flowTableBudget)",
            "  priority: \(entryPriority)",
            "  idle-timeout: \(dur(idleTimeout))",
            "  cookie-prefix: 0x\(String(cookiePrefix, radix: 16))",
        ]
        if rules.isEmpty {
            lines.append("rules: []")
        } else {
            lines.append("rules:")
            for r in rules {
                var m: [String] = []
                // An IPv6 prefix holds colons, which YAML reads as indicators unless quoted.
                func prefix(_ p: some CustomStringConvertible) -> String {
                    p.description.contains(":") ? "\"\(p)\"" : p.description
                }
                if let s = r.match.src { m.append("src: \(prefix(s))") }
                if let d = r.match.dst { m.append("dst: \(prefix(d))") }
                if let p = r.match.proto { m.append("proto: \(p)") }
                if let p = r.match.sport { m.append("sport: \(p.lowerBound == p.upperBound ? "\(p.lowerBound)" : "\(p.lowerBound)-\(p.upperBound)")") }
                if let p = r.match.dport { m.append("dport: \(p.lowerBound == p.upperBound ? "\(p.lowerBound)" : "\(p.lowerBound)-\(p.upperBound)")") }
                switch r.action {
                case .exclude: lines.append("  - {match: {\(m.joined(separator: ", "))}, action: exclude}")
                case .prioritise(let p): lines.append("  - {match: {\(m.joined(separator: ", "))}, action: prioritise, priority: \(p)}")
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// The shortest decimal that reads back (`Double(text)`) as exactly `v`.
func exactNumber(_ v: Double) -> String {
    v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)"
}

/// `v × scale` as a decimal that, read back and divided by `scale`, is exactly `v` (nil if none is
/// found next to the product).
func exactScaled(_ v: Double, by scale: Double) -> String? {
    let x = v * scale
    for c in [x, x.nextUp, x.nextDown, x.nextUp.nextUp, x.nextDown.nextDown] where c.isFinite && c / scale == v {
        return exactNumber(c)
    }
    return nil
}

func fmtNumber(_ v: Double) -> String {
    let r = (v * 1000).rounded() / 1000
    return r == r.rounded() && abs(r) < 1e15 ? String(Int(r)) : String(r)
}

/// One section's plain values with their lines.
private struct Section {
    var name: String
    var line: Int
    var values: [String: (String, Int)] = [:]

    init(_ node: Node, _ name: String, _ allowed: [String], line fallback: Int? = nil) throws(PolicyError) {
        self.name = name
        line = node.mark?.line ?? fallback ?? 0
        if let s = node.scalar, s.string.isEmpty || s.string == "~" || s.string == "null" { return }
        guard let m = node.mapping else {
            throw PolicyError(line: line, "'\(name)' must be a mapping (\(allowed.joined(separator: ", ")))")
        }
        for (k, v) in m {
            let key = k.string ?? ""
            guard allowed.contains(key) else {
                throw PolicyError(line: k.mark?.line ?? line, "unknown \(name) setting '\(key)' (expected \(allowed.joined(separator: ", ")))")
            }
            guard let s = v.scalar?.string else {
                throw PolicyError(line: v.mark?.line ?? line, "\(name) \(key) must be a plain value")
            }
            guard values[key] == nil else { throw PolicyError(line: k.mark?.line ?? line, "\(name) \(key) is given twice") }
            values[key] = (s.trimmingCharacters(in: .whitespaces), v.mark?.line ?? line)
        }
    }

    subscript(_ key: String) -> (String, Int)? { values[key] }

    func number(_ key: String, _ range: ClosedRange<Double>) throws(PolicyError) -> Double? {
        guard let (t, l) = values[key] else { return nil }
        guard let v = Double(t), v.isFinite, range.contains(v) else {
            throw PolicyError(line: l, "\(name) \(key) '\(t)' is not a number in \(fmtNumber(range.lowerBound))...\(fmtNumber(range.upperBound))")
        }
        return v
    }

    func integer(_ key: String, _ range: ClosedRange<Int>) throws(PolicyError) -> Int? {
        guard let (t, l) = values[key] else { return nil }
        let v = t.lowercased().hasPrefix("0x") ? Int(t.dropFirst(2), radix: 16) : Int(t)
        guard let v, range.contains(v) else {
            throw PolicyError(line: l, "\(name) \(key) '\(t)' is not a whole number in \(range.lowerBound)...\(range.upperBound)")
        }
        return v
    }

    /// `500ms`, `2s`, `1.5` (seconds).
    func duration(_ key: String, _ range: ClosedRange<Double>) throws(PolicyError) -> Double? {
        guard let (t, l) = values[key] else { return nil }
        var s = Substring(t.lowercased())
        var divisor = 1.0
        if s.hasSuffix("ms") { s = s.dropLast(2); divisor = 1000 } else if s.hasSuffix("s") { s = s.dropLast() }
        guard let v = Double(s.trimmingCharacters(in: .whitespaces)).map({ $0 / divisor }), v.isFinite, range.contains(v) else {
            throw PolicyError(line: l, "\(name) \(key) '\(t)' is not a duration in \(fmtNumber(range.lowerBound))...\(fmtNumber(range.upperBound)) s (e.g. 500ms, 2s)")
        }
        return v
    }

    /// `10%` or `0.1`.
    func share(_ key: String, _ range: ClosedRange<Double>) throws(PolicyError) -> Double? {
        guard let (t, l) = values[key] else { return nil }
        let v: Double?
        if t.hasSuffix("%") { v = Double(t.dropLast().trimmingCharacters(in: .whitespaces)).map { $0 / 100 } } else { v = Double(t) }
        guard let v, v.isFinite, range.contains(v) else {
            throw PolicyError(line: l, "\(name) \(key) '\(t)' is not a share in \(fmtNumber(range.lowerBound * 100))%...\(fmtNumber(range.upperBound * 100))% (e.g. 10% or 0.1)")
        }
        return v
    }
}
