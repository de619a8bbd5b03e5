import ArgumentParser
import Foundation
import Simulation
import Topology

/// `tusk simulate`: run workloads over a fabric under several schedulers and compare them.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Compare schedulers on a simulated fabric (flow-level, max-min fair).",
        discussion: """
        WORKLOAD: stride:I, staggered:EDGEP:PODP, random, bijection, randx:N, hotspot,
        cdf:websearch:LOAD, cdf:datamining:LOAD, a trace file (CSV: start,src,dst,bytes), or hedera
        (all of Hedera's patterns). Several may be given, separated by commas.
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, csv }

    @Option(help: "Topology file, or fat-tree:K.") var topology = "fat-tree:4"
    @Option(help: "Workload(s); see below.") var workload = "hedera"
    @Option(help: "Schedulers to compare, comma-separated (ecmp, nonblocking), or all.") var scheduler = "ecmp,nonblocking"
    @Option(help: "Number of seeds (1...N).") var seeds = 1
    @Option(help: "Simulated seconds.") var duration = 60.0
    @Option(name: .customLong("measure-from"), help: "Start of the measurement window, seconds (default: 10 % of the duration).")
    var measureFrom: Double?
    @Option(name: .customLong("control-interval"), help: "Control loop interval, seconds.") var controlInterval = 1.0
    @Option(name: .customLong("install-delay"), help: "Delay from a decision to the switches, seconds.") var installDelay = 0.005
    @Option(help: "Output format.") var format: Format = .table
    @Option(help: "Write results.json, results.csv, flows.csv and index.html here.") var report: String?
    @Flag(name: .customLong("no-progress"), help: "Do not show progress.") var noProgress = false

    func validate() throws {
        guard seeds >= 1, seeds <= 10_000 else { throw ValidationError("--seeds must be 1...10000") }
        guard duration > 0, duration <= 1e6 else { throw ValidationError("--duration must be positive") }
        guard controlInterval > 0, installDelay >= 0 else { throw ValidationError("--control-interval must be positive, --install-delay not negative") }
        if let m = measureFrom, m < 0 || m >= duration { throw ValidationError("--measure-from must be within the run") }
        let known = SchedulerCatalog.builtIn.names
        for s in schedulerNames where !known.contains(s) {
            throw ValidationError("unknown scheduler '\(s)' (available: \(known.joined(separator: ", ")))")
        }
    }

    var schedulerNames: [String] {
        if scheduler == "all" { return SchedulerCatalog.builtIn.names }
        return scheduler.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func run() async throws {
        let topo = try loadTopology(topology)
        let workloads = try parseWorkloads(workload, topology: topo)
        let experiment = Experiment(topology: topo, workloads: workloads, schedulers: schedulerNames,
                                    seeds: (1...seeds).map(UInt64.init),
                                    config: SimulationConfig(duration: duration, measureFrom: measureFrom),
                                    timing: ControlTiming(interval: controlInterval, installDelay: installDelay))
        let meter = ProgressMeter(enabled: !noProgress)
        let results = experiment.run { run, of, label, fraction in meter.update(run: run, of: of, label: label, fraction: fraction) }
        meter.finish()

        switch format {
        case .table: print(results.table(), terminator: "")
        case .json: print(results.json(), terminator: "")
        case .csv: print(results.csv(), terminator: "")
        }
        if let dir = report {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            func write(_ name: String, _ text: String) throws {
                try text.write(toFile: (dir as NSString).appendingPathComponent(name), atomically: true, encoding: .utf8)
            }
            try write("results.json", results.json(includeFlows: true))
            try write("results.csv", results.csv())
            try write("flows.csv", results.flowsCSV())
            try write("index.html", results.html())
            let path = (dir as NSString).appendingPathComponent("index.html")
            if format == .table { print("report: \(path)") } else { FileHandle.standardError.write(Data("report: \(path)\n".utf8)) }
        }
    }

    func loadTopology(_ spec: String) throws -> Topology {
        if spec.hasPrefix("fat-tree:") {
            guard let k = Int(spec.dropFirst("fat-tree:".count)), k >= 2, k % 2 == 0 else {
                throw ValidationError("--topology fat-tree:K needs an even K")
            }
            return try Topology.fatTree(k: k)
        }
        let text: String
        do { text = try String(contentsOfFile: spec, encoding: .utf8) } catch {
            throw ValidationError("cannot read topology \(spec): \(error.localizedDescription)")
        }
        do { return try Topology(yaml: text) } catch {
            FileHandle.standardError.write(Data("\(spec):\(error.line.map { "\($0):" } ?? "") \(error.message)\n".utf8))
            throw ExitCode.failure
        }
    }

    func parseWorkloads(_ spec: String, topology: Topology) throws -> [Workload] {
        var out: [Workload] = []
        for raw in spec.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !raw.isEmpty {
            if raw == "hedera" {
                out += Workload.hedera
            } else if let w = Workload(name: raw) {
                out.append(w)
            } else if FileManager.default.fileExists(atPath: raw) {
                let text = try String(contentsOfFile: raw, encoding: .utf8)
                do {
                    out.append(try Workload.parseTrace(text, name: (raw as NSString).lastPathComponent, topology: topology))
                } catch {
                    FileHandle.standardError.write(Data("\(raw):\(error.line): \(error.message)\n".utf8))
                    throw ExitCode.failure
                }
            } else {
                throw ValidationError("unknown workload '\(raw)' (stride:I, staggered:E:P, random, bijection, randx:N, hotspot, cdf:websearch:LOAD, cdf:datamining:LOAD, a trace file, hedera)")
            }
        }
        guard !out.isEmpty else { throw ValidationError("no workload given") }
        return out
    }
}

/// Progress on standard error, only once a run has taken a couple of seconds, at most once a second.
final class ProgressMeter {
    let enabled: Bool
    let started = Date()
    var lastPrint = Date.distantPast
    var printed = false
    let tty = isatty(2) != 0

    init(enabled: Bool) { self.enabled = enabled }

    func update(run: Int, of: Int, label: String, fraction: Double) {
        guard enabled else { return }
        let now = Date()
        guard now.timeIntervalSince(started) > 2, now.timeIntervalSince(lastPrint) >= 1 else { return }
        lastPrint = now
        printed = true
        let overall = (Double(run) + fraction) / Double(max(1, of))
        let line = "[\(run + 1)/\(of)] \(label) \(Int(fraction * 100))%  (overall \(Int(overall * 100))%, \(Int(now.timeIntervalSince(started))) s)"
        FileHandle.standardError.write(Data((tty ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }

    func finish() {
        guard enabled, printed else { return }
        let line = "done in \(String(format: "%.1f", Date().timeIntervalSince(started))) s"
        FileHandle.standardError.write(Data((tty ? "\r\u{1B}[K" + line + "\n" : line + "\n").utf8))
    }
}
