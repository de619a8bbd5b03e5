// The HTML report: one self-contained page with inline SVG (no scripts, no external assets).
//  1. Throughput per workload and scheduler, as grouped bars (as in Hedera's figures), with the
//     range over seeds as a whisker.
//  2. CDFs per workload: flow completion times for finite flows, per-flow rates for long-lived ones.
//  3. Per-flow comparison against ECMP: how many flows were faster, about the same, or slower, and
//     a scatter of each flow's figure under ECMP against the scheduler's.

extension ResultSet {
    static let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"]
    static let verdictColour: [Verdict: String] = [.faster: "#59a14f", .same: "#9d9d9d", .slower: "#e15759"]

    public func html() -> String {
        var page = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Tusk simulation: \(esc(topology))</title>
        <style>
        body{font-family:system-ui,-apple-system,sans-serif;margin:2em;color:#222;max-width:1200px}
        h1{font-size:1.4em} h2{font-size:1.15em;margin-top:2em} h3{font-size:1em;margin:.2em 0}
        .grid{display:flex;flex-wrap:wrap;gap:1em} .card{border:1px solid #ddd;border-radius:6px;padding:.5em}
        table{border-collapse:collapse;font-size:.9em} td,th{border:1px solid #ddd;padding:.25em .6em;text-align:right}
        th:first-child,td:first-child{text-align:left} svg text{font-size:11px;fill:#333}
        .legend span{display:inline-block;margin-right:1em} .legend i{display:inline-block;width:12px;height:12px;margin-right:.3em;vertical-align:-1px}
        </style></head><body>
        <h1>Tusk simulation: \(esc(topology))</h1>
        <p>\(workloads.count) workload(s), schedulers \(schedulers.map(esc).joined(separator: ", ")), seeds \(seeds.map(String.init).joined(separator: ", ")),
        \(fmt(duration)) simulated seconds; throughput measured from \(fmt(windowStart)) s and normalised to full bisection
        (every host link at capacity).</p>

        """
        page += legend(schedulers)
        page += "<h2>Throughput</h2>\n" + throughputChart() + "\n" + throughputTable()
        page += "<h2>Distributions</h2>\n<p>Finite flows: completion time (log scale). Long-lived flows: each flow's rate over the window, as a fraction of its host link.</p>\n"
        page += "<div class=\"grid\">\n"
        for w in workloads { page += "<div class=\"card\"><h3>\(esc(w))</h3>\(cdfChart(workload: w))</div>\n" }
        page += "</div>\n"
        let comps = comparisons()
        if !comps.isEmpty {
            page += "<h2>Per-flow comparison against ECMP</h2>\n"
            page += "<p>Each flow against the same flow under ECMP: faster, about the same (within max(20 %, 1 % of a host link or 1 ms)), or slower.</p>\n"
            page += "<div class=\"legend\">" + Verdict.allCases.map { "<span><i style=\"background:\(ResultSet.verdictColour[$0]!)\"></i>\($0.rawValue)</span>" }.joined() + "</div>\n"
            page += comparisonBars(comps)
            page += "<div class=\"grid\">\n"
            for c in comps { page += "<div class=\"card\"><h3>\(esc(c.scheduler)) vs ecmp: \(esc(c.workload))</h3>\(scatter(c))</div>\n" }
            page += "</div>\n"
        }
        page += "<p>Files: <a href=\"results.json\">results.json</a>, <a href=\"results.csv\">results.csv</a>, <a href=\"flows.csv\">flows.csv</a>.</p>\n</body></html>\n"
        return page
    }

    private func colour(_ scheduler: String) -> String {
        ResultSet.palette[(schedulers.firstIndex(of: scheduler) ?? 0) % ResultSet.palette.count]
    }

    private func legend(_ names: [String]) -> String {
        "<div class=\"legend\">" + names.map { "<span><i style=\"background:\(colour($0))\"></i>\(esc($0))</span>" }.joined() + "</div>\n"
    }

    private func throughputChart() -> String {
        let groupW = max(40.0, Double(schedulers.count) * 16 + 14)
        let left = 44.0, top = 10.0, plotH = 220.0, bottom = 90.0
        let width = left + groupW * Double(workloads.count) + 60
        var svg = "<svg width=\"\(f1(width))\" height=\"\(f1(top + plotH + bottom))\" xmlns=\"http://www.w3.org/2000/svg\">\n"
        for tick in stride(from: 0.0, through: 1.0001, by: 0.2) {
            let y = top + plotH * (1 - tick)
            svg += "<line x1=\"\(f1(left))\" y1=\"\(f1(y))\" x2=\"\(f1(width - 60))\" y2=\"\(f1(y))\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(f1(left - 6))\" y=\"\(f1(y + 4))\" text-anchor=\"end\">\(fixed(tick, 1))</text>\n"
        }
        let barW = (groupW - 14) / Double(max(1, schedulers.count))
        for (wi, w) in workloads.enumerated() {
            let gx = left + groupW * Double(wi) + 7
            for (si, s) in schedulers.enumerated() {
                let vs = results(workload: w, scheduler: s).map(\.normalizedThroughput)
                guard !vs.isEmpty else { continue }
                let mean = vs.reduce(0, +) / Double(vs.count)
                let x = gx + barW * Double(si)
                let h = plotH * min(mean, 1.05)
                svg += "<rect x=\"\(f1(x))\" y=\"\(f1(top + plotH - h))\" width=\"\(f1(barW - 1))\" height=\"\(f1(h))\" fill=\"\(colour(s))\"><title>\(esc(w)) \(esc(s)): \(fixed(mean, 3))</title></rect>"
                if vs.count > 1, let lo = vs.min(), let hi = vs.max() {
                    let cx = x + (barW - 1) / 2
                    svg += "<line x1=\"\(f1(cx))\" y1=\"\(f1(top + plotH * (1 - min(hi, 1.05))))\" x2=\"\(f1(cx))\" y2=\"\(f1(top + plotH * (1 - min(lo, 1.05))))\" stroke=\"#222\"/>"
                }
            }
            let lx = gx + (groupW - 14) / 2
            svg += "<text transform=\"translate(\(f1(lx)),\(f1(top + plotH + 8))) rotate(40)\">\(esc(w))</text>\n"
        }
        svg += "<line x1=\"\(f1(left))\" y1=\"\(f1(top + plotH))\" x2=\"\(f1(width - 60))\" y2=\"\(f1(top + plotH))\" stroke=\"#444\"/>"
        return svg + "</svg>"
    }

    private func throughputTable() -> String {
        var t = "<table><tr><th>workload</th>" + schedulers.map { "<th>\(esc($0))</th>" }.joined() + "</tr>\n"
        for w in workloads {
            t += "<tr><td>\(esc(w))</td>"
            for s in schedulers {
                let vs = results(workload: w, scheduler: s).map(\.normalizedThroughput)
                t += "<td>" + (vs.isEmpty ? "-" : fixed(vs.reduce(0, +) / Double(vs.count), 3)) + "</td>"
            }
            t += "</tr>\n"
        }
        return t + "</table>\n"
    }

    private func cdfChart(workload w: String) -> String {
        let W = 340.0, H = 200.0, left = 40.0, bottom = 28.0, top = 8.0, right = 18.0
        let pw = W - left - right, ph = H - top - bottom
        var series: [(String, [Double])] = []
        var isFCT = false
        for s in schedulers {
            let rs = results(workload: w, scheduler: s)
            let fcts = rs.flatMap { $0.flows.compactMap { $0.bytes != nil ? $0.fct : nil } }
            if !fcts.isEmpty {
                isFCT = true
                series.append((s, fcts.sorted()))
            } else {
                let rates = rs.flatMap { $0.flows.compactMap { $0.windowRate.map { $0 / max(hostCapacity, 1) } } }
                series.append((s, rates.sorted()))
            }
        }
        let all = series.flatMap(\.1)
        guard let lo0 = all.min(), let hi0 = all.max() else { return "<p>no flows</p>" }
        let lo = isFCT ? max(lo0, 1e-6) : 0, hi = isFCT ? max(hi0, lo * 10) : max(1, hi0)
        func xOf(_ v: Double) -> Double {
            if isFCT { return left + pw * (log10(max(v, lo)) - log10(lo)) / (log10(hi) - log10(lo)) }
            return left + pw * (v - lo) / (hi - lo)
        }
        var svg = "<svg width=\"\(f1(W))\" height=\"\(f1(H))\" xmlns=\"http://www.w3.org/2000/svg\">"
        for q in [0.0, 0.5, 1.0] {
            let y = top + ph * (1 - q)
            svg += "<line x1=\"\(f1(left))\" y1=\"\(f1(y))\" x2=\"\(f1(W - right))\" y2=\"\(f1(y))\" stroke=\"#eee\"/><text x=\"\(f1(left - 4))\" y=\"\(f1(y + 4))\" text-anchor=\"end\">\(fixed(q, 1))</text>"
        }
        let ticks: [Double] = isFCT ? logTicks(lo, hi) : [0, 0.25, 0.5, 0.75, 1].map { lo + $0 * (hi - lo) }
        for t in ticks {
            let x = xOf(t)
            svg += "<line x1=\"\(f1(x))\" y1=\"\(f1(top))\" x2=\"\(f1(x))\" y2=\"\(f1(top + ph))\" stroke=\"#f2f2f2\"/>"
            svg += "<text x=\"\(f1(x))\" y=\"\(f1(H - bottom + 14))\" text-anchor=\"middle\">\(isFCT ? seconds(t) : fixed(t, 2))</text>"
        }
        for (s, values) in series where !values.isEmpty {
            // At most ~300 points per line: the CDF at evenly spaced ranks.
            let n = values.count
            let step = max(1, n / 300)
            var pts: [String] = []
            var i = 0
            while i < n {
                pts.append("\(f1(xOf(values[i]))),\(f1(top + ph * (1 - Double(i + 1) / Double(n))))")
                i += step
            }
            pts.append("\(f1(xOf(values[n - 1]))),\(f1(top))")
            svg += "<polyline fill=\"none\" stroke=\"\(colour(s))\" stroke-width=\"1.6\" points=\"\(pts.joined(separator: " "))\"><title>\(esc(s))</title></polyline>"
        }
        svg += "<text x=\"\(f1(left + pw / 2))\" y=\"\(f1(H - 2))\" text-anchor=\"middle\">\(isFCT ? "flow completion time" : "rate / host link")</text>"
        return svg + "</svg>"
    }

    private func comparisonBars(_ comps: [FlowComparison]) -> String {
        let rowH = 18.0, labelW = 260.0, barW = 500.0
        let H = rowH * Double(comps.count) + 10
        var svg = "<svg width=\"\(f1(labelW + barW + 20))\" height=\"\(f1(H))\" xmlns=\"http://www.w3.org/2000/svg\">"
        for (i, c) in comps.enumerated() {
            let y = 4 + rowH * Double(i)
            let total = Double(max(1, c.faster + c.same + c.slower))
            svg += "<text x=\"\(f1(labelW - 6))\" y=\"\(f1(y + 12))\" text-anchor=\"end\">\(esc(c.scheduler)) · \(esc(c.workload))</text>"
            var x = labelW
            for (v, n) in [(Verdict.faster, c.faster), (.same, c.same), (.slower, c.slower)] where n > 0 {
                let w = barW * Double(n) / total
                svg += "<rect x=\"\(f1(x))\" y=\"\(f1(y))\" width=\"\(f1(w))\" height=\"\(f1(rowH - 3))\" fill=\"\(ResultSet.verdictColour[v]!)\"><title>\(v.rawValue): \(n)</title></rect>"
                if w > 28 { svg += "<text x=\"\(f1(x + 3))\" y=\"\(f1(y + 12))\" style=\"fill:#fff\">\(n)</text>" }
                x += w
            }
        }
        return svg + "</svg>\n"
    }

    private func scatter(_ c: FlowComparison) -> String {
        guard !c.fctPoints.isEmpty || !c.ratePoints.isEmpty else { return "<p>no flows to compare</p>" }
        var out = ""
        if !c.fctPoints.isEmpty { out += scatter(c, points: c.fctPoints, useLog: true) }
        if !c.ratePoints.isEmpty { out += scatter(c, points: c.ratePoints, useLog: false) }
        return out
    }

    private func scatter(_ c: FlowComparison, points pts: [(Double, Double, Verdict)], useLog: Bool) -> String {
        // Square plot: x = the flow under ECMP, y = under the scheduler; above the diagonal is
        // better for rates (higher), below it for FCTs (shorter). Rates are shown as a fraction of
        // a host link; FCTs on log axes. Points are drawn with transparency so stacks show as darker.
        let side = 180.0, left = 44.0, top = 22.0, pad = 6.0
        let W = left + side + 12, H = top + side + 40
        let scale = useLog ? 1.0 : 1 / max(hostCapacity, 1)
        let values = pts.flatMap { [$0.0 * scale, $0.1 * scale] }
        var lo = values.min()!, hi = values.max()!
        if useLog { lo = max(lo, 1e-6); hi = max(hi, lo * 10) } else { lo = 0; hi = max(hi, 1) }
        func pos(_ v: Double) -> Double {
            let f = useLog ? (log10(max(v, lo)) - log10(lo)) / (log10(hi) - log10(lo)) : (v - lo) / (hi - lo)
            return pad + f * (side - 2 * pad)
        }
        var svg = "<svg width=\"\(f1(W))\" height=\"\(f1(H))\" xmlns=\"http://www.w3.org/2000/svg\">"
        svg += "<text x=\"\(f1(left))\" y=\"12\">faster \(c.faster) · same \(c.same) · slower \(c.slower)</text>"
        svg += "<rect x=\"\(f1(left))\" y=\"\(f1(top))\" width=\"\(f1(side))\" height=\"\(f1(side))\" fill=\"none\" stroke=\"#ccc\"/>"
        svg += "<line x1=\"\(f1(left + pos(lo)))\" y1=\"\(f1(top + side - pos(lo)))\" x2=\"\(f1(left + pos(hi)))\" y2=\"\(f1(top + side - pos(hi)))\" stroke=\"#bbb\" stroke-dasharray=\"3,3\"/>"
        var ticks = useLog ? logTicks(lo, hi) : [lo, (lo + hi) / 2, hi]
        if ticks.count > 4 { ticks = ticks.enumerated().filter { $0.offset % 2 == 0 }.map(\.element) }
        for t in ticks {
            let label = useLog ? seconds(t) : fixed(t, 2)
            svg += "<text x=\"\(f1(left + pos(t)))\" y=\"\(f1(top + side + 13))\" text-anchor=\"middle\">\(label)</text>"
            svg += "<text x=\"\(f1(left - 3))\" y=\"\(f1(top + side - pos(t) + 4))\" text-anchor=\"end\">\(label)</text>"
        }
        let step = max(1, pts.count / 600)
        var i = 0
        while i < pts.count {
            let (a, b, v) = pts[i]
            svg += "<circle cx=\"\(f1(left + pos(a * scale)))\" cy=\"\(f1(top + side - pos(b * scale)))\" r=\"3\" fill=\"\(ResultSet.verdictColour[v]!)\" fill-opacity=\"0.45\"/>"
            i += step
        }
        let unit = useLog ? "FCT" : "rate / host link"
        svg += "<text x=\"\(f1(left + side / 2))\" y=\"\(f1(H - 6))\" text-anchor=\"middle\">ecmp \(unit)</text>"
        svg += "<text transform=\"translate(10,\(f1(top + side / 2))) rotate(-90)\" text-anchor=\"middle\">\(esc(c.scheduler))</text>"
        return svg + "</svg>"
    }

    private func logTicks(_ lo: Double, _ hi: Double) -> [Double] {
        var out: [Double] = []
        var t = pow(10, floor(log10(lo)))
        while t <= hi * 1.0001 {
            if t >= lo * 0.9999 { out.append(t) }
            t *= 10
        }
        return out
    }

    private func seconds(_ s: Double) -> String {
        s >= 1 ? "\(num(s))s" : s >= 1e-3 ? "\(num(s * 1e3))ms" : "\(num(s * 1e6))µs"
    }
}

private func f1(_ v: Double) -> String { fixed(v, 1) }

private func esc(_ s: String) -> String {
    var out = ""
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        default: out.append(c)
        }
    }
    return out
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
