// Evaluation of the closed loop beyond throughput: moves per elephant, moves after convergence,
// table entries, and the sensitivity of `tusk` to its settings (sampling rate, control interval,
// install delay, flow-table budget), with an SVG figure per swept setting.
import Foundation
import PathSelection
import Topology

/// One run with the closed-loop counters next to the simulator's result.
public struct EvaluatedRun: Sendable {
    public var workload: String
    public var scheduler: String
    public var seed: UInt64
    public var result: RunResult
    public var stats: ClosedLoopStats?
    /// Moves in the second half of the run (steady traffic: should be none).
    public var lateMoves: Int
}

/// A setting the sweep varies.
public enum SweepParameter: String, Sendable, CaseIterable {
    case sampling, interval, installDelay = "install-delay", budget

    public var label: String {
        switch self {
        case .sampling: "sampling rate (1 in N)"
        case .interval: "control interval (s)"
        case .installDelay: "install delay (s)"
        case .budget: "flow-table budget (entries per switch)"
        }
    }

    /// The values of the sensitivity study.
    public var defaultValues: [Double] {
        switch self {
        case .sampling: [100, 300, 1000, 3000, 10_000]
        case .interval: [0.5, 1, 2, 5]
        case .installDelay: [0.001, 0.01, 0.05, 0.1, 0.5]
        case .budget: [1, 2, 4, 8, 16, 1000]
        }
    }
}

public struct ClosedLoopEvaluation: Sendable {
    public var topology: Topology
    public var workloads: [Workload]
    public var seeds: [UInt64]
    public var schedulers: [String]
    public var policy: Policy
    public var synthesis: SFlowSynthesisConfig?
    public var config: SimulationConfig
    public var installDelay: Double

    public init(topology: Topology, workloads: [Workload], seeds: [UInt64], schedulers: [String], policy: Policy = Policy(),
                synthesis: SFlowSynthesisConfig? = nil, config: SimulationConfig, installDelay: Double = 0.005) {
        self.topology = topology
        self.workloads = workloads
        self.seeds = seeds
        self.schedulers = schedulers
        self.policy = policy
        self.synthesis = synthesis
        self.config = config
        self.installDelay = installDelay
    }

    /// Runs every workload × seed × scheduler; `progress` gets a label per run.
    public func run(progress: ((String) -> Void)? = nil) -> [EvaluatedRun] {
        let network = SimNetwork(topology)
        let catalog = SchedulerCatalog.withClosedLoop(policy: policy, synthesis: synthesis)
        let timing = ControlTiming(interval: policy.controlInterval, installDelay: installDelay)
        var out: [EvaluatedRun] = []
        for w in workloads {
            for seed in seeds {
                let exp = Experiment(topology: topology, workloads: [w], schedulers: [], seeds: [seed], config: config)
                let flows = exp.flows(w, seed: seed)
                for name in schedulers {
                    guard let s = catalog.make(name, seed: seed, timing: timing) else { continue }
                    progress?("\(w) \(name) seed \(seed)")
                    var sim = Simulator(network: network, flows: flows, scheduler: s, config: config)
                    var r = sim.run()
                    r.workload = w.description
                    r.seed = seed
                    let stats = (sim.scheduler as? ClosedLoopScheduler)?.stats ?? (sim.scheduler as? OracleGFFScheduler)?.stats
                    out.append(EvaluatedRun(workload: w.description, scheduler: name, seed: seed, result: r, stats: stats,
                                            lateMoves: stats?.moves(after: config.duration / 2) ?? 0))
                }
            }
        }
        return out
    }

    /// Mean FCT of a size class under `r` over that under `ecmp`, on the same flows: those of the class
    /// that finished in both runs (a plain mean over finished flows favours the run that finishes
    /// fewer of the long ones). Sums over several pairs of runs give the ratio over all of them.
    static func matchedFCT(_ pairs: [(run: EvaluatedRun, ecmp: EvaluatedRun)], _ cls: SizeClass) -> (ratio: Double, flows: Int)? {
        var num = 0.0, den = 0.0, n = 0
        for (r, e) in pairs {
            var base: [Int: Double] = [:]
            for f in e.result.flows {
                guard let b = f.bytes, SizeClass(bytes: b) == cls, let t = f.fct else { continue }
                base[f.id] = t
            }
            for f in r.result.flows {
                guard let t = f.fct, let t0 = base[f.id] else { continue }
                num += t
                den += t0
                n += 1
            }
        }
        return n > 0 && den > 0 ? (num / den, n) : nil
    }

    static func ecmpPairs(_ runs: [EvaluatedRun], workload: String, scheduler: String) -> [(run: EvaluatedRun, ecmp: EvaluatedRun)] {
        runs.filter { $0.workload == workload && $0.scheduler == scheduler }.compactMap { r in
            runs.first { $0.workload == workload && $0.scheduler == "ecmp" && $0.seed == r.seed }.map { (r, $0) }
        }
    }

    /// Text table: per workload and scheduler, mean throughput (min–max over seeds), ratios to ecmp,
    /// nonblocking and gff-oracle, elephant and small-flow FCTs, moves.
    public static func table(_ runs: [EvaluatedRun]) -> String {
        var lines: [String] = []
        var workloads: [String] = [], schedulers: [String] = []
        for r in runs {
            if !workloads.contains(r.workload) { workloads.append(r.workload) }
            if !schedulers.contains(r.scheduler) { schedulers.append(r.scheduler) }
        }
        func f(_ v: Double, _ d: Int = 3) -> String { String(format: "%.\(d)f", v) }
        func mean(_ v: [Double]) -> Double { v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count) }
        lines.append("workload            scheduler     thr(mean) [min..max]   /ecmp  /nonblk /oracle  fct>=10MB(s)  fct<100KB(ms)  moves/eleph  late-moves  peak-entries  fct>=10MB/ecmp  fct<100KB/ecmp")
        for w in workloads {
            let base = runs.filter { $0.workload == w }
            func thr(_ s: String) -> [Double] { base.filter { $0.scheduler == s }.map(\.result.normalizedThroughput) }
            let ecmp = mean(thr("ecmp")), nb = mean(thr("nonblocking")), oracle = mean(thr("gff-oracle"))
            for s in schedulers {
                let rs = base.filter { $0.scheduler == s }
                guard !rs.isEmpty else { continue }
                let t = rs.map(\.result.normalizedThroughput)
                let large = mean(rs.compactMap { r in r.result.fct.bySize.first { $0.0 == .large }.map(\.1) }.filter { $0.count > 0 }.map(\.mean))
                let small = mean(rs.compactMap { r in r.result.fct.bySize.first { $0.0 == .small }.map(\.1) }.filter { $0.count > 0 }.map(\.mean))
                let mpe = mean(rs.compactMap { $0.stats?.movesPerElephant })
                let late = rs.map(\.lateMoves).reduce(0, +)
                let peak = rs.compactMap { $0.stats?.peakEntries }.max() ?? 0
                var cols = [w.padding(toLength: 19, withPad: " ", startingAt: 0), s.padding(toLength: 13, withPad: " ", startingAt: 0)]
                cols.append("\(f(mean(t))) [\(f(t.min() ?? 0))..\(f(t.max() ?? 0))]")
                cols.append(ecmp > 0 ? f(mean(t) / ecmp, 2) : "-")
                cols.append(nb > 0 ? f(mean(t) / nb, 2) : "-")
                cols.append(oracle > 0 ? f(mean(t) / oracle, 2) : "-")
                cols.append(large.isNaN ? "-" : f(large, 3))
                cols.append(small.isNaN ? "-" : f(small * 1000, 3))
                cols.append(rs.first?.stats == nil ? "-" : f(mpe, 2))
                cols.append(rs.first?.stats == nil ? "-" : "\(late)")
                cols.append(rs.first?.stats == nil ? "-" : "\(peak)")
                let pairs = ecmpPairs(runs, workload: w, scheduler: s)
                for cls in [SizeClass.large, .small] {
                    cols.append(s == "ecmp" ? "-" : matchedFCT(pairs, cls).map { f($0.ratio, 3) } ?? "-")
                }
                lines.append(cols.joined(separator: "  "))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// CSV, one line per run.
    public static func csv(_ runs: [EvaluatedRun]) -> String {
        var out = "workload,scheduler,seed,throughput,fct_large_mean,fct_small_mean,fct_small_p99,moves,elephants,moves_per_elephant,late_moves,peak_entries,flow_mods,samples,path_errors,fct_large_vs_ecmp,fct_small_vs_ecmp\n"
        for r in runs {
            let e = runs.first { $0.workload == r.workload && $0.scheduler == "ecmp" && $0.seed == r.seed }
            let vs = [SizeClass.large, .small].map { cls -> String in
                guard let e, r.scheduler != "ecmp", let m = matchedFCT([(r, e)], cls) else { return "" }
                return String(format: "%.4f", m.ratio)
            }
            let large = r.result.fct.bySize.first { $0.0 == .large }?.1
            let small = r.result.fct.bySize.first { $0.0 == .small }?.1
            out += [r.workload, r.scheduler, "\(r.seed)", String(format: "%.6f", r.result.normalizedThroughput),
                    large.map { String(format: "%.6f", $0.mean) } ?? "", small.map { String(format: "%.6f", $0.mean) } ?? "",
                    small.map { String(format: "%.6f", $0.p99) } ?? "",
                    "\(r.stats?.moves ?? 0)", "\(r.stats?.elephants ?? 0)", String(format: "%.3f", r.stats?.movesPerElephant ?? 0),
                    "\(r.lateMoves)", "\(r.stats?.peakEntries ?? 0)", "\(r.stats?.flowMods ?? 0)", "\(r.stats?.samples ?? 0)", "\(r.stats?.pathErrors ?? 0)",
                    vs[0], vs[1],
            ].joined(separator: ",") + "\n"
        }
        return out
    }
}

/// One point of a sensitivity sweep: `tusk` at one value of the setting, against the baselines.
public struct SweepPoint: Sendable {
    public var parameter: SweepParameter
    public var value: Double
    public var workload: String
    /// Mean over seeds, with the range.
    public var throughput: Double
    public var minThroughput: Double
    public var maxThroughput: Double
    public var ecmp: Double
    public var nonblocking: Double
    public var movesPerElephant: Double
    public var largeFCT: Double?
}

public enum SensitivitySweep {
    /// Runs `tusk` at each value of `parameter` (ecmp and nonblocking once, as the baselines).
    public static func run(_ base: ClosedLoopEvaluation, parameter: SweepParameter, values: [Double],
                           progress: ((String) -> Void)? = nil) -> [SweepPoint] {
        var baseline = base
        baseline.schedulers = ["ecmp", "nonblocking"]
        let ref = baseline.run(progress: progress)
        var points: [SweepPoint] = []
        for v in values {
            var e = base
            e.schedulers = ["tusk"]
            var synth = e.synthesis ?? SFlowSynthesisConfig(samplingRate: e.policy.samplingRate, pollingInterval: e.policy.pollingInterval)
            switch parameter {
            case .sampling: synth.samplingRate = Int(v)
            case .interval: e.policy.controlInterval = v
            case .installDelay: e.installDelay = v
            case .budget: e.policy.flowTableBudget = Int(v)
            }
            e.synthesis = synth
            let runs = e.run(progress: progress.map { p in { p("\(parameter.rawValue)=\(v) " + $0) } })
            for w in base.workloads.map(\.description) {
                let t = runs.filter { $0.workload == w }.map(\.result.normalizedThroughput)
                func mean(_ a: [Double]) -> Double { a.isEmpty ? 0 : a.reduce(0, +) / Double(a.count) }
                let large = runs.filter { $0.workload == w }.compactMap { $0.result.fct.bySize.first { $0.0 == .large }?.1 }
                    .filter { $0.count > 0 }.map(\.mean)
                points.append(SweepPoint(parameter: parameter, value: v, workload: w, throughput: mean(t),
                                         minThroughput: t.min() ?? 0, maxThroughput: t.max() ?? 0,
                                         ecmp: mean(ref.filter { $0.workload == w && $0.scheduler == "ecmp" }.map(\.result.normalizedThroughput)),
                                         nonblocking: mean(ref.filter { $0.workload == w && $0.scheduler == "nonblocking" }.map(\.result.normalizedThroughput)),
                                         movesPerElephant: mean(runs.filter { $0.workload == w }.compactMap { $0.stats?.movesPerElephant }),
                                         largeFCT: large.isEmpty ? nil : mean(large)))
            }
        }
        return points
    }

    public static func csv(_ points: [SweepPoint]) -> String {
        var out = "parameter,value,workload,tusk,tusk_min,tusk_max,ecmp,nonblocking,moves_per_elephant,fct_large_mean\n"
        for p in points {
            out += "\(p.parameter.rawValue),\(p.value),\(p.workload),\(String(format: "%.4f", p.throughput)),\(String(format: "%.4f", p.minThroughput)),"
                + "\(String(format: "%.4f", p.maxThroughput)),\(String(format: "%.4f", p.ecmp)),\(String(format: "%.4f", p.nonblocking)),"
                + "\(String(format: "%.3f", p.movesPerElephant)),\(p.largeFCT.map { String(format: "%.4f", $0) } ?? "")\n"
        }
        return out
    }

    /// A line chart: x is the setting (log scale), y the normalised throughput; one line per
    /// workload for tusk (range over seeds as whiskers), dashed lines for ecmp and nonblocking.
    public static func svg(_ points: [SweepPoint]) -> String {
        guard let parameter = points.first?.parameter else { return "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n" }
        let w = 640.0, h = 360.0, left = 60.0, right = 150.0, top = 30.0, bottom = 50.0
        let xs = points.map { log10(max($0.value, 1e-6)) }
        let x0 = xs.min() ?? 0, x1 = max((xs.max() ?? 1), x0 + 1e-6)
        func px(_ v: Double) -> Double { left + (log10(max(v, 1e-6)) - x0) / (x1 - x0) * (w - left - right) }
        func py(_ v: Double) -> Double { top + (1 - min(max(v, 0), 1.05) / 1.05) * (h - top - bottom) }
        let colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"11\">\n"
        s += "<text x=\"\(Int(w / 2))\" y=\"18\" text-anchor=\"middle\" font-size=\"13\">tusk vs \(parameter.label)</text>\n"
        s += "<line x1=\"\(left)\" y1=\"\(h - bottom)\" x2=\"\(w - right)\" y2=\"\(h - bottom)\" stroke=\"black\"/>\n"
        s += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(h - bottom)\" stroke=\"black\"/>\n"
        for tick in stride(from: 0.0, through: 1.0, by: 0.2) {
            s += "<text x=\"\(left - 6)\" y=\"\(String(format: "%.1f", py(tick) + 4))\" text-anchor=\"end\">\(String(format: "%.1f", tick))</text>\n"
            s += "<line x1=\"\(left)\" y1=\"\(String(format: "%.1f", py(tick)))\" x2=\"\(w - right)\" y2=\"\(String(format: "%.1f", py(tick)))\" stroke=\"#eee\"/>\n"
        }
        for v in Set(points.map(\.value)).sorted() {
            s += "<text x=\"\(String(format: "%.1f", px(v)))\" y=\"\(h - bottom + 16)\" text-anchor=\"middle\">\(fmtValue(v))</text>\n"
        }
        s += "<text x=\"\(Int((left + w - right) / 2))\" y=\"\(Int(h - 12))\" text-anchor=\"middle\">\(parameter.label)</text>\n"
        s += "<text x=\"14\" y=\"\(Int(h / 2))\" transform=\"rotate(-90 14 \(Int(h / 2)))\" text-anchor=\"middle\">normalised throughput</text>\n"
        var workloads: [String] = []
        for p in points where !workloads.contains(p.workload) { workloads.append(p.workload) }
        for (i, wl) in workloads.enumerated() {
            let c = colours[i % colours.count]
            let ps = points.filter { $0.workload == wl }.sorted { $0.value < $1.value }
            let line = ps.map { "\(String(format: "%.1f", px($0.value))),\(String(format: "%.1f", py($0.throughput)))" }.joined(separator: " ")
            s += "<polyline fill=\"none\" stroke=\"\(c)\" stroke-width=\"2\" points=\"\(line)\"/>\n"
            for p in ps {
                s += "<line x1=\"\(String(format: "%.1f", px(p.value)))\" y1=\"\(String(format: "%.1f", py(p.minThroughput)))\" x2=\"\(String(format: "%.1f", px(p.value)))\" y2=\"\(String(format: "%.1f", py(p.maxThroughput)))\" stroke=\"\(c)\"/>\n"
                s += "<circle cx=\"\(String(format: "%.1f", px(p.value)))\" cy=\"\(String(format: "%.1f", py(p.throughput)))\" r=\"3\" fill=\"\(c)\"/>\n"
            }
            if let p = ps.first {
                for (v, dash) in [(p.ecmp, "4,3"), (p.nonblocking, "1,3")] {
                    s += "<line x1=\"\(left)\" y1=\"\(String(format: "%.1f", py(v)))\" x2=\"\(w - right)\" y2=\"\(String(format: "%.1f", py(v)))\" stroke=\"\(c)\" stroke-dasharray=\"\(dash)\"/>\n"
                }
            }
            let ly = top + 16 * Double(i)
            s += "<line x1=\"\(w - right + 10)\" y1=\"\(ly)\" x2=\"\(w - right + 28)\" y2=\"\(ly)\" stroke=\"\(c)\" stroke-width=\"2\"/>\n"
            s += "<text x=\"\(w - right + 32)\" y=\"\(ly + 4)\">\(wl)</text>\n"
        }
        let ly = top + 16 * Double(workloads.count) + 8
        s += "<text x=\"\(w - right + 10)\" y=\"\(ly)\">dashed: ecmp</text>\n<text x=\"\(w - right + 10)\" y=\"\(ly + 14)\">dotted: nonblocking</text>\n"
        s += "</svg>\n"
        return s
    }

    static func fmtValue(_ v: Double) -> String {
        v == v.rounded() ? String(Int(v)) : String(v)
    }
}
