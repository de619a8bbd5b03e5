// Output of a comparison: a table for people, JSON and CSV for tools, and an HTML page with SVG
// charts. Everything is built from the results alone, with fixed number formatting, so the same
// seed gives the same bytes.
import Foundation

/// How a flow fared under a scheduler compared with ECMP.
public enum Verdict: String, Sendable, CaseIterable {
    case faster, same, slower
}

/// Per-flow comparison of one scheduler against ECMP on one workload (all seeds).
public struct FlowComparison: Sendable {
    public var workload: String
    public var scheduler: String
    public var faster = 0, same = 0, slower = 0
    /// (ECMP figure, scheduler figure, verdict): FCTs in seconds of finite flows...
    public var fctPoints: [(Double, Double, Verdict)] = []
    /// ... and rates in bits/s over the window of long-lived flows.
    public var ratePoints: [(Double, Double, Verdict)] = []
}

extension ResultSet {
    /// Relative tolerance of "about the same".
    public static let sameRelative = 0.2
    /// Absolute tolerance for FCTs, seconds.
    public static let sameFCTSeconds = 0.001

    /// Compares every flow with its ECMP twin (same workload, seed and flow id). A flow is "about
    /// the same" within max(20 %, a small absolute margin: 1 % of a host link for rates, 1 ms for FCTs).
    public func comparisons() -> [FlowComparison] {
        guard schedulers.contains("ecmp") else { return [] }
        var out: [FlowComparison] = []
        for w in workloads {
            for s in schedulers where s != "ecmp" {
                var c = FlowComparison(workload: w, scheduler: s)
                for seed in seeds {
                    guard let base = result(workload: w, scheduler: "ecmp", seed: seed),
                          let other = result(workload: w, scheduler: s, seed: seed),
                          base.flows.count == other.flows.count else { continue }
                    for (a, b) in zip(base.flows, other.flows) {
                        let verdict: Verdict
                        if a.bytes != nil {
                            // Finite flows compare by FCT; one still running at the end in either run is left out.
                            guard let fa = a.fct, let fb = b.fct else { continue }
                            let tol = max(ResultSet.sameRelative * fa, ResultSet.sameFCTSeconds)
                            verdict = fb < fa - tol ? .faster : fb > fa + tol ? .slower : .same
                            c.fctPoints.append((fa, fb, verdict))
                        } else if let ra = a.windowRate, let rb = b.windowRate { // long-lived: rate over the window
                            let tol = max(ResultSet.sameRelative * ra, 0.01 * hostCapacity)
                            verdict = rb > ra + tol ? .faster : rb < ra - tol ? .slower : .same
                            c.ratePoints.append((ra, rb, verdict))
                        } else { continue }
                        switch verdict {
                        case .faster: c.faster += 1
                        case .same: c.same += 1
                        case .slower: c.slower += 1
                        }
                    }
                }
                out.append(c)
            }
        }
        return out
    }

    // MARK: Table

    /// Mean normalised throughput per workload (rows) and scheduler (columns), with the range over
    /// seeds; then FCTs for workloads with finite flows.
    public func table() -> String {
        let wWidth = max(12, (workloads.map(\.count).max() ?? 0) + 2)
        let cWidth = max(22, (schedulers.map(\.count).max() ?? 0) + 2)
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
        var lines: [String] = []
        lines.append("normalised throughput (1.0 = full bisection), \(topology), \(seeds.count) seed(s), \(fmt(duration)) s, window from \(fmt(windowStart)) s")
        lines.append(pad("workload", wWidth) + schedulers.map { pad($0, cWidth) }.joined())
        var sums = [Double](repeating: 0, count: schedulers.count)
        for w in workloads {
            var row = pad(w, wWidth)
            for (i, s) in schedulers.enumerated() {
                let vs = results(workload: w, scheduler: s).map(\.normalizedThroughput)
                guard !vs.isEmpty else { row += pad("-", cWidth); continue }
                let mean = vs.reduce(0, +) / Double(vs.count)
                sums[i] += mean
                let range = vs.count > 1 ? " (\(fixed(vs.min()!, 3))-\(fixed(vs.max()!, 3)))" : ""
                row += pad(fixed(mean, 3) + range, cWidth)
            }
            lines.append(row)
        }
        if workloads.count > 1 {
            lines.append(pad("mean", wWidth) + sums.map { pad(fixed($0 / Double(workloads.count), 3), cWidth) }.joined())
        }
        let finite = workloads.filter { w in results.contains { $0.workload == w && $0.fct.all.count > 0 } }
        if !finite.isEmpty {
            lines.append("")
            lines.append("flow completion time, ms: mean / p50 / p99 (all seeds)")
            lines.append(pad("workload", wWidth) + schedulers.map { pad($0, cWidth + 6) }.joined())
            for w in finite {
                var row = pad(w, wWidth)
                for s in schedulers {
                    let fcts = results(workload: w, scheduler: s).flatMap { $0.flows.compactMap { $0.bytes != nil ? $0.fct : nil } }
                    let st = FCTStats(fcts)
                    func ms(_ s: Double) -> String { fixed(s * 1000, s < 0.001 ? 3 : 1) }
                    row += pad(st.count == 0 ? "-" : "\(ms(st.mean)) / \(ms(st.p50)) / \(ms(st.p99))", cWidth + 6)
                }
                lines.append(row)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: JSON, CSV

    public func json(includeFlows: Bool = false) -> String {
        var j = JSON()
        j.open("{")
        j.key("topology"); j.string(topology)
        j.key("duration"); j.number(duration)
        j.key("windowStart"); j.number(windowStart)
        if includeFlows {
            j.key("links"); j.open("[")
            for n in linkNames { j.string(n) }
            j.close("]")
            j.key("switches"); j.open("[")
            for n in switchNames { j.string(n) }
            j.close("]")
        }
        j.key("results"); j.open("[")
        for r in results {
            j.open("{")
            j.key("scheduler"); j.string(r.scheduler)
            j.key("workload"); j.string(r.workload)
            j.key("seed"); j.number(Double(r.seed))
            j.key("normalizedThroughput"); j.number(r.normalizedThroughput)
            j.key("fct"); fctJSON(&j, r.fct)
            let fu = r.fabricUtilization
            j.key("linkUtilization"); j.open("{")
            j.key("fabricMean"); j.number(fu.mean)
            j.key("fabricMax"); j.number(fu.max)
            j.close("}")
            j.key("flowTable"); j.open("{")
            j.key("maxPerSwitch"); j.number(Double(r.flowTableMax))
            j.key("total"); j.number(Double(r.flowTableTotal))
            j.close("}")
            j.key("controlMessages"); j.number(Double(r.controlMessages))
            j.key("flows"); j.number(Double(r.flows.count))
            j.key("events"); j.number(Double(r.events))
            if includeFlows {
                j.key("perLinkUtilization"); j.open("[")
                for u in r.linkUtilization { j.number(u) }
                j.close("]")
                j.key("flowTablePerSwitch"); j.open("[")
                for n in r.flowTablePeak { j.number(Double(n)) }
                j.close("]")
            }
            j.close("}")
        }
        j.close("]")
        j.close("}")
        return j.text + "\n"
    }

    private func fctJSON(_ j: inout JSON, _ f: FCTSummary) {
        j.open("{")
        statsJSON(&j, f.all)
        j.key("unfinished"); j.number(Double(f.unfinished))
        j.key("bySize"); j.open("{")
        for (c, s) in f.bySize {
            j.key(c.label); j.open("{"); statsJSON(&j, s); j.close("}")
        }
        j.close("}")
        j.close("}")
    }

    private func statsJSON(_ j: inout JSON, _ s: FCTStats) {
        j.key("count"); j.number(Double(s.count))
        j.key("mean"); j.number(s.mean)
        j.key("p50"); j.number(s.p50)
        j.key("p99"); j.number(s.p99)
    }

    public func csv() -> String {
        var out = "scheduler,workload,seed,normalizedThroughput,fctCount,fctMean,fctP50,fctP99,fctUnfinished,"
        out += "fabricUtilMean,fabricUtilMax,flowTableMaxPerSwitch,controlMessages,flows\n"
        for r in results {
            let fu = r.fabricUtilization
            out += [csvField(r.scheduler), csvField(r.workload), "\(r.seed)", num(r.normalizedThroughput),
                    "\(r.fct.all.count)", num(r.fct.all.mean), num(r.fct.all.p50), num(r.fct.all.p99), "\(r.fct.unfinished)",
                    num(fu.mean), num(fu.max), "\(r.flowTableMax)", "\(r.controlMessages)", "\(r.flows.count)"].joined(separator: ",") + "\n"
        }
        return out
    }

    /// Every flow of every run.
    public func flowsCSV() -> String {
        var out = "scheduler,workload,seed,flow,src,dst,start,bytes,finish,fct,rate\n"
        for r in results {
            for f in r.flows {
                out += "\(csvField(r.scheduler)),\(csvField(r.workload)),\(r.seed),\(f.id),\(f.src),\(f.dst),\(num(f.start)),"
                out += "\(f.bytes.map(num) ?? ""),\(f.finish.map(num) ?? ""),\(f.fct.map(num) ?? ""),\(f.windowRate.map(num) ?? "")\n"
            }
        }
        return out
    }
}

func csvField(_ s: String) -> String {
    s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
}

/// A number with at most 6 decimals and no exponent noise: stable text for tables and files.
func num(_ v: Double) -> String {
    guard v.isFinite else { return "null" }
    if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
    let mag = abs(v)
    // Six significant digits for small values, six decimals otherwise.
    let decimals = mag >= 1 ? 6 : max(6, Int((-log10(mag)).rounded(.up)) + 5)
    return fixed(v, min(decimals, 15), trim: true)
}

/// Fixed-point formatting without Foundation's locale-dependent formatters.
func fixed(_ v: Double, _ decimals: Int, trim: Bool = false) -> String {
    guard v.isFinite else { return v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (abs(v) * scale).rounded()
    guard scaled < 9.0e18 else { return String(v) }
    let n = UInt64(scaled)
    let intPart = n / UInt64(scale), frac = n % UInt64(scale)
    var s = (v < 0 && n != 0 ? "-" : "") + String(intPart)
    if decimals > 0 {
        var f = String(frac)
        f = String(repeating: "0", count: decimals - f.count) + f
        if trim { while f.hasSuffix("0") { f.removeLast() } }
        if !f.isEmpty { s += "." + f }
    }
    return s
}

func fmt(_ v: Double) -> String { num(v) }

/// A tiny JSON writer with fixed formatting.
struct JSON {
    var text = ""
    private var needComma: [Bool] = []
    private var afterKey = false

    mutating func value(_ s: String) {
        if afterKey { afterKey = false } else if let c = needComma.last { if c { text += ", " }; needComma[needComma.count - 1] = true }
        text += s
    }
    mutating func open(_ bracket: String) { value(bracket); needComma.append(false) }
    mutating func close(_ bracket: String) { needComma.removeLast(); text += bracket }
    mutating func key(_ k: String) { value(JSON.quote(k) + ": "); afterKey = true }
    mutating func string(_ s: String) { value(JSON.quote(s)) }
    mutating func number(_ v: Double) { value(num(v)) }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
