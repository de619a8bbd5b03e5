import ArgumentParser
import ElephantControl
import FabricProgramming
import FlowAnalytics
import Foundation
import Packets
import PathSelection
import SFlowIngest
import Topology

/// `tusk replay`: what Tusk would do with a real sFlow capture, offline. The same control round as
/// the daemon and the simulator, in capture time; decisions are taken as installed at once.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run Tusk's control rounds over an sFlow capture: elephants, link utilization and decisions, offline.",
        discussion: """
        Reads the capture with its own timestamps as the clock and runs a control round every \
        selector.control-interval of capture time, exactly as `tusk controller` would, taking each \
        decision as installed at once. Prints every round's elephants, the links' utilization, the \
        decisions with their reasons, and the predicted peak fabric-link utilization with and \
        without them. Trial a policy on your own traffic before letting Tusk program anything.
        JSON: {"rounds":[{"time","elephants":[...],"links":[...],"decisions":[...]}],"summary":{...}}.
        """
    )

    @Option(help: "A pcap or pcapng capture of sFlow datagrams.") var pcap: String
    @Option(help: "Topology file (YAML): the switches, links and hosts the capture comes from.") var topology: String
    @Option(help: "Policy file (YAML); default: the built-in policy.") var policy: String?
    @Option(help: "json or table.") var format: ReplayFormat = .table
    @Option(help: "UDP destination port of sFlow in the capture (0: any).") var port: Int = 6343
    @Option(help: "Seed of the selector's local search.") var seed: UInt64 = 1

    enum ReplayFormat: String, ExpressibleByArgument { case json, table }

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
    }

    func run() throws {
        let topo = try ControllerCommand.loadTopology(topology)
        let pol = try PolicyCommand.load(policy)
        let fabric = ControlFabric(topology: topo)
        var analytics = FlowAnalytics(config: pol.analyticsConfig)
        analytics.apply(topology: topo)
        var control = ElephantControl(fabric: fabric, policy: pol, seed: seed)
        let reader: SFlowCaptureReader
        do { reader = try SFlowCaptureReader(file: pcap, port: UInt16(port)) } catch {
            exitWith(CommandFailure(message: "\(error)"))
        }
        var start: Double?
        var nextRound = 0.0
        var rounds: [(Double, RoundResult)] = []
        var bad = 0
        var datagrams = 0
        let warnings = Warnings()
        func roundAt(_ t: Double) {
            _ = analytics.evaluate(at: t)
            rounds.append((t - (start ?? t), control.round(analytics, at: t)))
        }
        do {
            try reader.forEach { item in
                switch item {
                case .datagram(let d, let time, _):
                    if start == nil { start = time; nextRound = time + control.interval }
                    while time >= nextRound {
                        roundAt(nextRound)
                        nextRound += control.interval
                    }
                    datagrams += 1
                    let ok = d.payload.withUnsafeBytes { analytics.ingest(datagram: $0, at: time) }
                    if !ok { bad += 1; warnings.warn("datagram from \(d.src) is not sFlow v5") }
                case .malformed(let why, _):
                    bad += 1
                    warnings.warn("\(pcap): \(why)")
                }
                return true
            }
        } catch {
            exitWith(CommandFailure(message: "\(error)"))
        }
        warnings.finish()
        guard start != nil else { exitWith(CommandFailure(message: "\(pcap): no sFlow datagrams (UDP port \(port)) in the capture")) }
        let out = Output()
        switch format {
        case .json: out.write(Self.json(rounds, fabric: fabric, analytics: analytics, datagrams: datagrams, bad: bad, control: control))
        case .table: out.write(Self.table(rounds, fabric: fabric, control: control))
        }
        out.flush()
        if bad > 0 { throw ExitCode(1) }
    }

    struct Summary {
        var rounds = 0
        var decisions = 0
        var elephants = Set<FlowKey>()
        /// The highest fabric-link utilization measured in any round.
        var peak = 0.0
        /// The first round that decided: its time, its measured peak and the peak predicted with its decisions.
        var firstDecision: (time: Double, peak: Double, predicted: Double)?

        init(_ rounds: [(Double, RoundResult)]) {
            self.rounds = rounds.count
            for (t, r) in rounds {
                decisions += r.decisions.count
                for e in r.elephants { elephants.insert(e.key) }
                peak = max(peak, r.peakBefore)
                if !r.decisions.isEmpty, firstDecision == nil { firstDecision = (t, r.peakBefore, r.peakAfter) }
            }
        }
    }

    static func json(_ rounds: [(Double, RoundResult)], fabric: ControlFabric, analytics: FlowAnalytics, datagrams: Int, bad: Int,
                     control: ElephantControl) -> String {
        var w = JSONWriter(capacity: 1 << 16)
        var id = 1
        w.beginObject()
        w.key("rounds")
        w.beginArray()
        for (t, r) in rounds {
            w.beginObject()
            w.field("time", (t * 1000).rounded() / 1000)
            w.key("elephants")
            w.beginArray()
            for e in r.elephants {
                w.beginObject()
                RecordJSON.writeFlow(e.key, bps: e.measuredBps, errorPercent: e.errorPercent, into: &w)
                w.key("path")
                if let c = e.current { RecordJSON.writePath(c, fabric, into: &w) } else { w.null() }
                w.field("pinned", e.pinned)
                w.endObject()
            }
            w.endArray()
            w.key("links")
            w.beginArray()
            for (i, load) in r.load.enumerated() where !fabric.topology.links[i >> 1].isHostLink && fabric.capacities[i] > 0 {
                w.beginObject()
                w.field("link", fabric.name(of: DirectedLinkID(i)))
                w.field("bps", load.rounded())
                w.field("utilization", (load / fabric.capacities[i] * 1000).rounded() / 1000)
                w.endObject()
            }
            w.endArray()
            w.key("decisions")
            w.beginArray()
            for d in r.decisions {
                DecisionRecord(id: id, time: t, decision: d, status: .decided).write(fabric, into: &w)
                id += 1
            }
            w.endArray()
            w.field("peakUtilization", (r.peakBefore * 1000).rounded() / 1000)
            w.field("predictedPeakUtilization", (r.peakAfter * 1000).rounded() / 1000)
            w.key("rearranging")
            if let s = r.rearranging { w.string(s.rawValue) } else { w.null() }
            w.endObject()
        }
        w.endArray()
        let s = Summary(rounds)
        w.key("summary")
        w.beginObject()
        w.field("rounds", s.rounds)
        w.field("datagrams", datagrams)
        w.field("malformed", bad)
        w.field("elephants", s.elephants.count)
        w.field("decisions", s.decisions)
        w.field("algorithm", control.algorithm)
        w.field("controlInterval", control.interval)
        w.field("peakUtilization", (s.peak * 1000).rounded() / 1000)
        if let f = s.firstDecision {
            // What the first deciding round predicted; later rounds of a capture cannot show the moves.
            w.key("firstDecision")
            w.beginObject()
            w.field("time", (f.time * 1000).rounded() / 1000)
            w.field("peakUtilization", (f.peak * 1000).rounded() / 1000)
            w.field("predictedPeakUtilization", (f.predicted * 1000).rounded() / 1000)
            w.endObject()
        }
        w.endObject()
        w.endObject()
        return String(decoding: w.bytes, as: UTF8.self) + "\n"
    }

    static func table(_ rounds: [(Double, RoundResult)], fabric: ControlFabric, control: ElephantControl) -> String {
        func mbit(_ v: Double) -> String { String(format: "%.1f", v / 1e6) }
        func pct(_ v: Double) -> String { String(format: "%.0f%%", v * 100) }
        var s = ""
        for (t, r) in rounds where !r.elephants.isEmpty || !r.decisions.isEmpty {
            s += String(format: "t=%.1fs  elephants %d  peak fabric link %@ -> %@ predicted\n", t, r.elephants.count,
                        pct(r.peakBefore), pct(r.peakAfter))
            for e in r.elephants {
                let path = e.current.map { fabric.nodeNames(of: $0).joined(separator: ">") } ?? "(path not known yet)"
                s += "  elephant \(e.key.src):\(e.key.sport) -> \(e.key.dst):\(e.key.dport) proto \(e.key.proto)  \(mbit(e.measuredBps)) Mbit/s ±\(String(format: "%.0f", e.errorPercent))%  \(path)\(e.pinned ? " (placed)" : "")\n"
            }
            // The links the elephants cross, busiest first.
            var used = Set<Int>()
            for e in r.elephants { for l in e.current?.links ?? [] where !fabric.topology.links[l.link.index].isHostLink { used.insert(l.index) } }
            for i in used.sorted(by: { r.load[$0] / fabric.capacities[$0] > r.load[$1] / fabric.capacities[$1] }) {
                s += "  link \(fabric.name(of: DirectedLinkID(i)))  \(pct(r.load[i] / fabric.capacities[i]))\n"
            }
            for d in r.decisions {
                let from = d.decision.from.map { fabric.nodeNames(of: $0).joined(separator: ">") } ?? "?"
                s += "  MOVE \(d.key.src):\(d.key.sport) -> \(d.key.dst):\(d.key.dport)  \(from)  =>  \(fabric.nodeNames(of: d.decision.to).joined(separator: ">"))\n"
                s += "       \(d.decision.reason.described(fabric))\n"
            }
        }
        let sum = Summary(rounds)
        s += "\(sum.rounds) rounds (\(control.algorithm), every \(control.interval) s), \(sum.elephants.count) elephants, \(sum.decisions) decisions; "
        s += "peak fabric link \(pct(sum.peak))"
        if let f = sum.firstDecision {
            s += String(format: "; first decisions at t=%.1fs: peak %@ -> %@ predicted", f.time, pct(f.peak), pct(f.predicted))
        }
        s += "\n"
        return s
    }
}
