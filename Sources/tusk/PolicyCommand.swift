import ArgumentParser
import Foundation
import PathSelection
import Simulation
import Topology

/// `tusk policy`: check a policy file; evaluate and sweep the closed loop it configures.
struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Check a policy file, and evaluate the selector it configures in the simulator.",
        subcommands: [Check.self, Evaluate.self, Sweep.self]
    )

    static func load(_ path: String?) throws -> Policy {
        guard let path else { return Policy() }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ValidationError("cannot read \(path): \(error.localizedDescription)")
        }
        do { return try Policy(yaml: text) } catch {
            throw ValidationError("\(path):\(error.line.map { "\($0):" } ?? "") \(error.message)")
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a policy file; print the effective settings (defaults filled in).")
        @Argument(help: "The policy file (YAML).") var file: String
        @Flag(help: "Print nothing when the file is valid.") var quiet = false

        func run() throws {
            let text: String
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw ValidationError("cannot read \(file): \(error.localizedDescription)")
            }
            do {
                let p = try Policy(yaml: text)
                if !quiet {
                    print("# \(file): valid; effective settings")
                    print(p.yaml, terminator: "")
                }
            } catch {
                FileHandle.standardError.write(Data("\(file):\(error.line.map { "\($0):" } ?? "") error: \(error.message)\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    struct Options: ParsableArguments {
        @Option(help: "Policy file (default: every setting at its default).") var policy: String?
        @Option(help: "fat-tree:K or a topology file.") var topology = "fat-tree:4"
        @Option(help: "Workload(s), comma-separated (as for tusk simulate; hedera = all of Hedera's patterns).") var workload = "stride:4"
        @Option(help: "Number of seeds (1...N).") var seeds = 3
        @Option(help: "Simulated seconds.") var duration = 30.0
        @Option(name: .customLong("measure-from"), help: "Start of the measurement window, seconds.") var measureFrom: Double?
        @Option(name: .customLong("install-delay"), help: "Seconds from decision to switch.") var installDelay = 0.005
        @Option(name: .customLong("sampling"), help: "Override the policy's 1-in-N sampling rate.") var sampling: Int?
        @Option(name: .customLong("control-interval"), help: "Override the policy's control interval, seconds.") var controlInterval: Double?
        @Option(help: "Write CSV (and SVG for sweeps) here.") var output: String?
        @Flag(name: .customLong("no-progress")) var noProgress = false

        func evaluation(schedulers: [String]) throws -> ClosedLoopEvaluation {
            var p = try PolicyCommand.load(policy)
            if let s = sampling { p.samplingRate = s }
            if let c = controlInterval { p.controlInterval = c }
            let topo: Topology
            if topology.hasPrefix("fat-tree:"), let k = Int(topology.dropFirst(9)) {
                topo = try Topology.fatTree(k: k)
            } else {
                topo = try Topology(yaml: String(contentsOfFile: topology, encoding: .utf8))
            }
            var ws: [Workload] = []
            for raw in workload.split(separator: ",").map(String.init) {
                if raw == "hedera" { ws += Workload.hedera } else if let w = Workload(name: raw) { ws.append(w) } else {
                    throw ValidationError("unknown workload '\(raw)'")
                }
            }
            return ClosedLoopEvaluation(topology: topo, workloads: ws, seeds: (1...max(1, seeds)).map(UInt64.init),
                                        schedulers: schedulers, policy: p,
                                        config: SimulationConfig(duration: duration, measureFrom: measureFrom), installDelay: installDelay)
        }

        func progress() -> ((String) -> Void)? {
            guard !noProgress else { return nil }
            let start = Date()
            return { label in
                FileHandle.standardError.write(Data("[\(Int(Date().timeIntervalSince(start)))s] \(label)\n".utf8))
            }
        }
    }

    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run schedulers side by side with the closed-loop counters (moves per elephant, late moves, entries).")
        @OptionGroup var options: Options
        @Option(help: "Schedulers, comma-separated.") var scheduler = "ecmp,tusk,gff,gff-oracle,nonblocking"

        @Option(name: .customLong("show-decisions"), help: "Print the last N moves of each closed-loop run, with their reasons.")
        var showDecisions = 0

        func run() throws {
            let e = try options.evaluation(schedulers: scheduler.split(separator: ",").map(String.init))
            let runs = e.run(progress: options.progress())
            print(ClosedLoopEvaluation.table(runs), terminator: "")
            if showDecisions > 0 {
                for r in runs {
                    guard let st = r.stats, !st.recent.isEmpty else { continue }
                    print("# \(r.workload) \(r.scheduler) seed \(r.seed): last \(min(showDecisions, st.recent.count)) of \(st.moves) moves")
                    for d in st.recent.suffix(showDecisions) {
                        print(String(format: "%8.3f", d.time) + "  flow \(d.flow)  \(d.decision)")
                    }
                }
            }
            if let out = options.output {
                try ClosedLoopEvaluation.csv(runs).write(toFile: out, atomically: true, encoding: .utf8)
            }
        }
    }

    struct Sweep: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sensitivity of tusk to one setting: sampling, interval, install-delay or budget.")
        @OptionGroup var options: Options
        @Option(help: "The setting to vary.") var parameter: String
        @Option(help: "Values, comma-separated (default: the study's values).") var values: String?

        func run() throws {
            guard let p = SweepParameter(rawValue: parameter) else {
                throw ValidationError("unknown parameter '\(parameter)' (sampling, interval, install-delay, budget)")
            }
            let vs = try values.map { list in
                try list.split(separator: ",").map { v -> Double in
                    guard let d = Double(v) else { throw ValidationError("'\(v)' is not a number") }
                    return d
                }
            } ?? p.defaultValues
            let e = try options.evaluation(schedulers: ["tusk"])
            let points = SensitivitySweep.run(e, parameter: p, values: vs, progress: options.progress())
            print(SensitivitySweep.csv(points), terminator: "")
            if let out = options.output {
                try SensitivitySweep.csv(points).write(toFile: out + ".csv", atomically: true, encoding: .utf8)
                try SensitivitySweep.svg(points).write(toFile: out + ".svg", atomically: true, encoding: .utf8)
            }
        }
    }
}
