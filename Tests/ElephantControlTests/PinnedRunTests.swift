// The control round moved out of the simulator into ElephantControl. These runs pin what a small
// seeded closed-loop simulation decides, move by move, so that any change to the round's behaviour
// (in the simulator, and so in the daemon and `tusk replay`, which run the same code) shows here.
// The move itself changed nothing: its release build gave `make run`'s k=4 table (5 seeds, every
// scheduler, CSV to the last digit) and a k=16 bijection identical to the build before it, and these
// runs' fingerprints were 3899046899684274435 and 3473611147195555254. Combining every observation
// point and compensating lost samples (docs/analytics.md) changed the figures the stride run's reasons
// quote (the same 8 moves at the same times onto the same paths); the bijection's are as before.
import PathSelection
import Simulation
import Testing
import Topology

@Suite struct PinnedRunTests {
    /// A run's decisions as text, one line per move: time, flow id, old path, new path, reason.
    static func decisions(_ workload: Workload, seed: UInt64, duration: Double = 8) -> (text: String, throughput: Double, moves: Int) {
        let t = try! Topology.fatTree(k: 4)
        let exp = Experiment(topology: t, workloads: [workload], schedulers: [], seeds: [seed],
                             config: SimulationConfig(duration: duration, measureFrom: duration / 2))
        let flows = exp.flows(workload, seed: seed)
        let s = SchedulerCatalog.builtIn.make("tusk", seed: seed, timing: ControlTiming(interval: 1, installDelay: 0.005))!
        var sim = Simulator(network: SimNetwork(t), flows: flows, scheduler: s, config: exp.config)
        let r = sim.run()
        let stats = (sim.scheduler as! ClosedLoopScheduler).stats
        var text = ""
        for m in stats.recent {
            text += "\(m.time) \(m.flow) \(m.decision.from?.description ?? "-") => \(m.decision.to) | \(m.decision.reason)\n"
        }
        return (text, r.normalizedThroughput, stats.moves)
    }

    /// FNV-1a over the text: short enough to pin, and any changed character changes it.
    static func fingerprint(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    @Test(arguments: [
        (Workload.stride(4), UInt64(1), UInt64(1_203_662_893_520_497_916), 1.0, 8),
        (Workload.bijection, UInt64(3), UInt64(3_473_611_147_195_555_254), 1.0, 11),
    ])
    func decisionsArePinned(_ w: Workload, _ seed: UInt64, _ fp: UInt64, _ throughput: Double, _ moves: Int) {
        let r = Self.decisions(w, seed: seed)
        #expect(r.moves > 0)
        #expect(Self.fingerprint(r.text) == fp, "\(r.text)")
        #expect(r.throughput == throughput)
        #expect(r.moves == moves)
    }
}
