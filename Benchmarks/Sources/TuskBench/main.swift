// Usage: TuskBench [NAME ...]   (no names: every benchmark)
#if canImport(Glibc)
import Glibc
#endif

/// Every benchmark, by name. Add one line per benchmark file.
let benchmarks: [(name: String, run: () -> Void)] = [
    ("simulation", simulationBench),
    ("sflow", sflowBenchmarks),
    ("analytics", analyticsBenchmarks),
    ("evaluate", evaluateBench),
    ("openflow", openFlowBenchmarks),
    ("selection", selectionBench),
    ("control-round", controlRoundBench),
    ("selection-phases", selectionPhasesBench),
    ("paths", pathsBench),
]

let wanted = Set(CommandLine.arguments.dropFirst())
for b in benchmarks where wanted.isEmpty || wanted.contains(b.name) {
    print("== \(b.name)")
    b.run()
}
