import PathSelection
import Simulation
import Testing
import Topology

@Suite struct ClosedLoopTests {
    static func run(_ scheduler: String, seed: UInt64, workload: Workload = .stride(4), duration: Double = 8) -> (RunResult, ClosedLoopStats?) {
        let t = try! Topology.fatTree(k: 4)
        let network = SimNetwork(t)
        let exp = Experiment(topology: t, workloads: [workload], schedulers: [], seeds: [seed],
                             config: SimulationConfig(duration: duration, measureFrom: duration / 2))
        let flows = exp.flows(workload, seed: seed)
        let s = SchedulerCatalog.builtIn.make(scheduler, seed: seed, timing: ControlTiming(interval: 1, installDelay: 0.005))!
        var sim = Simulator(network: network, flows: flows, scheduler: s, config: exp.config)
        let r = sim.run()
        return (r, (sim.scheduler as? ClosedLoopScheduler)?.stats)
    }

    @Test func catalogHasTheClosedLoopSchedulers() {
        let names = SchedulerCatalog.builtIn.names
        for n in ["ecmp", "nonblocking", "tusk", "gff", "gff-oracle"] { #expect(names.contains(n)) }
    }

    @Test func tuskBeatsECMPOnStride() throws {
        let (ecmp, _) = Self.run("ecmp", seed: 1)
        let (tusk, stats) = Self.run("tusk", seed: 1)
        let st = try #require(stats)
        #expect(tusk.normalizedThroughput > ecmp.normalizedThroughput + 0.05, "tusk \(tusk.normalizedThroughput) ecmp \(ecmp.normalizedThroughput)")
        #expect(tusk.normalizedThroughput > 0.9)
        #expect(st.samples > 1000) // the loop ran on sFlow samples
        #expect(st.moves > 0)
        #expect(st.movesPerElephant <= 1.5)
        #expect(st.moves(after: 4) == 0) // steady traffic: no moves once converged
    }

    @Test func deterministicPerSeed() {
        let (a, sa) = Self.run("tusk", seed: 3, duration: 5)
        let (b, sb) = Self.run("tusk", seed: 3, duration: 5)
        #expect(a.normalizedThroughput == b.normalizedThroughput)
        #expect(a.flows == b.flows)
        #expect(sa?.moves == sb?.moves && sa?.samples == sb?.samples)
    }

    @Test func measurementBasedGFFAndOracleRun() {
        let (g, gs) = Self.run("gff", seed: 2, duration: 6)
        let (o, _) = Self.run("gff-oracle", seed: 2, duration: 12)
        #expect(g.normalizedThroughput > 0 && o.normalizedThroughput > 0)
        #expect((gs?.elephants ?? 0) > 0)
    }
}
