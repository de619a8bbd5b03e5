// The daemon's control loop: the second thin driver of `ElephantControl` (the simulator is the
// first). It owns the live state and keeps all of it on one event loop, the sFlow collector's:
// datagrams are decoded into the analytics there as they arrive (no lock per sample), rounds run
// there on a timer, and session events hop there. Only the edges are its own:
//  - samples come from the UDP collector, with the daemon's monotonic clock;
//  - plans go to the switch sessions by datapath id, one barrier-confirmed batch per switch;
//  - FLOW_REMOVED, port status and the entries a switch still holds after a restart come back in;
//  - a refused flow-mod or a lost session fails its decisions: the flows go back to ECMP and may be
//    placed again in a later round;
//  - the decision log, policy reloads (SIGHUP or the file changing), metrics.
import ElephantControl
import FabricProgramming
import FlowAnalytics
import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import OpenFlow
import Packets
import PathSelection
import SFlowIngest
import ServiceLifecycle
import Topology
import UnixSignals

/// What the elephant loop of `tusk controller` needs besides the topology.
public struct ElephantLoopOptions: Sendable {
    public var policy: Policy
    /// The file the policy came from (reloaded on SIGHUP and when it changes); nil: built-in defaults.
    public var policyFile: String?
    public var sflow: SFlowCollectorConfig
    /// Where decisions go, as JSON Lines: a file (appended to), `-` for standard output, nil for none.
    public var decisions: String?
    /// Decide and log, install nothing.
    public var dryRun: Bool
    /// Seeds the selector's local search.
    public var seed: UInt64

    public init(policy: Policy = Policy(), policyFile: String? = nil, sflow: SFlowCollectorConfig = SFlowCollectorConfig(),
                decisions: String? = nil, dryRun: Bool = false, seed: UInt64 = 1) {
        self.policy = policy
        self.policyFile = policyFile
        self.sflow = sflow
        self.decisions = decisions
        self.dryRun = dryRun
        self.seed = seed
    }
}

/// Appends JSON lines to a file or standard output, flushing each line.
final class LineWriter: @unchecked Sendable {
    private let file: UnsafeMutablePointer<FILE>
    private let owned: Bool

    init(path: String) throws {
        if path == "-", let out = fdopen(STDOUT_FILENO, "a") {
            file = out
            owned = false
        } else {
            guard let f = fopen(path, "a") else {
                throw SessionClosedError(reason: "cannot open decision log \(path): \(String(cString: strerror(errno)))")
            }
            file = f
            owned = true
        }
    }

    func write(_ line: String) {
        fputs(line, file)
        fputs("\n", file)
        fflush(file)
    }

    deinit { if owned { fclose(file) } }
}

/// The live control loop. Every stored property is touched on `loop` only.
public final class ElephantLoop: @unchecked Sendable {
    public let loop: any EventLoop
    public let fabric: ControlFabric
    var options: ElephantLoopOptions
    private var logger: Logger
    var analytics: FlowAnalytics
    var control: ElephantControl
    var sessions: [UInt64: SwitchSession] = [:]
    private let startNanos: UInt64
    private var decisionLog: LineWriter?
    private var nextDecisionID = 1
    /// Decisions waiting for their barrier replies, by flow.
    var inFlight: [FlowKey: (record: DecisionRecord, pending: Set<UInt64>)] = [:]
    /// The last decisions with their outcome (bounded).
    public private(set) var recent: [DecisionRecord] = []
    /// Elephant entries switches reported holding that no pin explains yet (adopted at the next round
    /// once every switch of their path has reported, deleted when they describe no path).
    private var held: [FlowKey: [UInt64: FlowStats]] = [:]
    private var heldSince: [FlowKey: Double] = [:]
    var reconciled: Set<UInt64> = []
    private var warnedAgents: Set<IPAddress> = []
    /// When each unmapped port was first seen (a 1004 record may still be on its way).
    private var unmappedSince: [AgentPort: Double] = [:]
    /// Ports counted as unmapped (each once: `tusk_sflow_unmapped_ports_total`).
    private var countedUnmapped: Set<AgentPort> = []
    private var roundTimer: Scheduled<Void>?
    /// When the next round is due: rounds keep a fixed rate, a long round does not push the next.
    private var nextRoundDue = NIODeadline.now()
    /// Rounds run at once when a link goes down come at most one per `immediateRoundSpacing` seconds
    /// (a later one waits, and takes every change until it runs): a flapping port, or a switch flooding
    /// port status, cannot keep the loop doing nothing but rounds.
    private var lastImmediateRound: Double?
    private var immediateRoundScheduled = false
    static let immediateRoundSpacing = 0.1
    private var watchTimer: RepeatedTask?
    private var policyStamp: (Date, Int)?
    private var badDatagrams = 0
    /// Round timing: CPU-free wall figures of the last rounds, the gaps between their starts, and how
    /// many started more than half an interval late.
    private var roundMillis: [Double] = []
    private var lastRoundStart: Double?
    private var lateRounds = 0
    var roundCount = 0
    /// The operator's view: events, agents, history (`ElephantLoop+API.swift`).
    let api: LoopAPIState
    let published = PublishedFlows()

    // Metrics: bounded labels only (dpid, result), never a flow.
    private let roundsCounter = Counter(label: "tusk_control_rounds_total")
    private let roundTimerMetric = Metrics.Timer(label: "tusk_control_round_duration")
    private let movesCounter = Counter(label: "tusk_elephant_moves_total")
    private let failuresCounter = Counter(label: "tusk_elephant_install_failures_total")
    private let elephantsGauge = Gauge(label: "tusk_elephants")
    private let reloadOK = Counter(label: "tusk_policy_reloads_total", dimensions: [("result", "ok")])
    private let reloadFailed = Counter(label: "tusk_policy_reloads_total", dimensions: [("result", "failed")])
    private let malformedCounter = Counter(label: "tusk_sflow_malformed_datagrams_total")
    /// Port claims refused (another agent holds the OpenFlow port), as logged so far.
    private var portConflicts = 0
    private let portConflictCounter = Counter(label: "tusk_sflow_port_conflicts_total")
    private let unmappedCounter = Counter(label: "tusk_sflow_unmapped_ports_total")

    public init(topology: Topology, options: ElephantLoopOptions, loop: any EventLoop, logger: Logger) throws {
        self.loop = loop
        self.options = options
        var l = logger
        l[metadataKey: "component"] = "elephants"
        self.logger = l
        fabric = ControlFabric(topology: topology)
        analytics = FlowAnalytics(config: options.policy.analyticsConfig)
        // Stated link speeds, and the ifIndex -> port mapping of switches that send no 1004 record.
        analytics.apply(topology: topology)
        control = ElephantControl(fabric: fabric, policy: options.policy, seed: options.seed)
        startNanos = monotonicNanos()
        api = LoopAPIState(startWall: Double(wallClockNanos()) / 1e9, policySource: options.policyFile ?? "built-in defaults")
        if let d = options.decisions { decisionLog = try LineWriter(path: d) }
        if let f = options.policyFile { policyStamp = Self.stamp(f) }
    }

    /// Analytics time: seconds since the loop was made (monotonic).
    func now() -> Double { Double(monotonicNanos() &- startNanos) / 1e9 }
    private static func wallNow() -> Double { Double(wallClockNanos()) / 1e9 }

    // MARK: sFlow (on the collector's event loop, which is `loop`)

    /// One datagram, on the loop (the collector hands batches to `makeFeed()`'s sink instead).
    public func received(_ bytes: UnsafeRawBufferPointer, from: SocketAddress?, timeNanos: UInt64) {
        var batch = DatagramBatch()
        batch.append(bytes, time: timeNanos, from: from)
        ingest(AnalyticsFeed.scan(batch), batch)
    }

    /// Applies a batch that the collector's reader thread scanned (on the loop).
    func ingest(_ scanned: ScannedDatagrams, _ batch: DatagramBatch) {
        loop.preconditionInEventLoop()
        let wall0 = api.startWall
        batch.forEach { bytes, t, _ in api.agents.observe(bytes, wallTime: wall0 + Double(t) / 1e9) }
        analytics.ingest(scanned)
        notePortConflicts()
        for i in scanned.rejected {
            badDatagrams += 1
            malformedCounter.increment()
            // One line per power of two: a stream of garbage cannot flood the log.
            if badDatagrams & (badDatagrams - 1) == 0 {
                logger.warning("malformed sFlow datagram skipped", metadata: ["from": "\(batch.sources[i].map { "\($0)" } ?? "?")",
                                                                              "malformedSoFar": "\(badDatagrams)"])
            }
        }
    }

    /// Counts and logs (one line per power of two) counter samples naming an OpenFlow port that
    /// another agent holds: the holder keeps it (`PortMap`).
    private func notePortConflicts() {
        let n = analytics.ports.conflicts
        guard n > portConflicts else { return }
        portConflictCounter.increment(by: n - portConflicts)
        for k in (portConflicts + 1)...n where k & (k - 1) == 0 {
            if let c = analytics.ports.lastConflict {
                logger.warning("sFlow agent names an OpenFlow port another agent holds; the holder keeps it",
                               metadata: ["dpid": "\(String(c.port.dpid, radix: 16))", "port": "\(c.port.port)", "holder": "\(c.holder)",
                                          "claimant": "\(c.claimant)", "conflictsSoFar": "\(k)"])
            }
            break
        }
        portConflicts = n
    }

    /// A new sink for the collector: readers scan on their own threads, the loop applies.
    public func makeFeed() -> AnalyticsFeed {
        AnalyticsFeed(loop: loop) { [self] scanned, batch in ingest(scanned, batch) }
    }

    /// The clock the collector stamps datagrams with (nanoseconds on the analytics' time base).
    public var collectorClock: @Sendable () -> UInt64 {
        let start = startNanos
        return { monotonicNanos() &- start }
    }

    // MARK: Timers

    func startTimers() {
        loop.preconditionInEventLoop()
        scheduleRounds()
        if options.policyFile != nil {
            watchTimer = loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [self] _ in
                if let f = options.policyFile, let s = Self.stamp(f), policyStamp.map({ $0 != s }) ?? true {
                    policyStamp = s
                    reloadPolicy(trigger: "file changed")
                }
            }
        }
    }

    private func scheduleRounds() {
        roundTimer?.cancel()
        let every = TimeAmount.nanoseconds(Int64(max(0.05, control.interval) * 1e9))
        nextRoundDue = .now() + every
        scheduleNextRound(every: every)
    }

    /// Schedules the round due at `nextRoundDue` and, from it, the one after: at a fixed rate (the
    /// next is due one interval after this one was due, whatever this one cost). A round that ends
    /// past its successor's time has that successor run at once, and no round is ever queued twice.
    private func scheduleNextRound(every: TimeAmount) {
        roundTimer = loop.scheduleTask(deadline: nextRoundDue) { [self] in
            runRound()
            guard roundTimer != nil else { return }
            nextRoundDue = max(nextRoundDue + every, .now())
            scheduleNextRound(every: every)
        }
    }

    func stopTimers() {
        roundTimer?.cancel()
        watchTimer?.cancel()
        roundTimer = nil
        watchTimer = nil
    }

    /// What the loop did, for its closing log line.
    func summary() -> Logger.Metadata {
        let sorted = roundMillis.sorted()
        func q(_ p: Double) -> String { sorted.isEmpty ? "-" : "\(Double(Int(sorted[min(sorted.count - 1, Int(p * Double(sorted.count)))] * 100)) / 100)" }
        return ["rounds": "\(roundCount)", "lateRounds": "\(lateRounds)", "roundMsMedian": "\(q(0.5))", "roundMsP99": "\(q(0.99))",
                "roundMsMax": "\(sorted.last.map { "\(Double(Int($0 * 100)) / 100)" } ?? "-")", "flowsTracked": "\(analytics.flowCount)",
                "samples": "\(analytics.samplesIngested)", "malformedDatagrams": "\(badDatagrams)", "unmappedPorts": "\(countedUnmapped.count)", "portConflicts": "\(analytics.ports.conflicts)", "decisions": "\(nextDecisionID - 1)"]
    }

    private static func stamp(_ path: String) -> (Date, Int)? {
        guard let a = try? FileManager.default.attributesOfItem(atPath: path),
              let m = a[.modificationDate] as? Date, let s = a[.size] as? Int else { return nil }
        return (m, s)
    }

    // MARK: The round

    /// One control round now: evaluate, adopt what switches still hold, decide, program.
    public func runRound() {
        loop.preconditionInEventLoop()
        let clock = ContinuousClock()
        let began = clock.now
        let t = now()
        if let last = lastRoundStart, t - last > 1.5 * control.interval {
            lateRounds += 1
            logger.warning("control round late", metadata: ["gapSeconds": "\(Double(Int((t - last) * 1000)) / 1000)",
                                                           "interval": "\(control.interval)"])
        }
        lastRoundStart = t
        roundCount += 1
        let events = analytics.evaluate(at: t)
        for e in events {
            logger.debug("\(e.type.rawValue)", metadata: ["flow": "\(e.flow)", "bps": "\(Int(e.bps))"])
        }
        reportUnmapped(at: t)
        adoptHeld(at: t)
        let r = control.round(analytics, at: t)
        roundsCounter.increment()
        elephantsGauge.record(r.elephants.count)
        if !r.withdrawn.isEmpty {
            logger.warning("elephants on a link that is down go back to ECMP", metadata: ["flows": "\(r.withdrawn.count)"])
        }
        apply(r)
        let took = clock.now - began
        let nanos = took.components.seconds * 1_000_000_000 + took.components.attoseconds / 1_000_000_000
        roundTimerMetric.recordNanoseconds(nanos)
        roundMillis.append(Double(nanos) / 1e6)
        if roundMillis.count > 10_000 { roundMillis.removeFirst(roundMillis.count - 10_000) }
        apiRound(r, events: events, millis: Double(nanos) / 1e6)
        logger.debug("control round", metadata: ["ms": "\(Double(nanos / 10_000) / 100)", "elephants": "\(r.elephants.count)",
                                                 "decisions": "\(r.decisions.count)", "flows": "\(analytics.flowCount)"])
    }

    private func apply(_ r: RoundResult) {
        let wall = Self.wallNow()
        var records: [FlowKey: DecisionRecord] = [:]
        for d in r.decisions {
            movesCounter.increment()
            records[d.key] = DecisionRecord(id: nextDecisionID, time: wall, decision: d, status: options.dryRun ? .dryRun : .decided)
            nextDecisionID += 1
        }
        if options.dryRun {
            for d in r.decisions { if let rec = records[d.key] { finish(rec) } }
            return
        }
        var pending: [FlowKey: Set<UInt64>] = [:]
        let batches = r.changesByDatapath
        for (dpid, changes) in batches {
            for c in changes where records[c.entry.key] != nil {
                pending[c.entry.key, default: []].insert(dpid)
                records[c.entry.key]?.switches.append(dpid)
            }
        }
        for d in r.decisions {
            guard let rec = records[d.key] else { continue }
            if let p = pending[d.key], !p.isEmpty {
                inFlight[d.key] = (rec, p)
            } else {
                // No switch needed a change (the path differs only where the fabric has no choice).
                var done = rec
                done.status = .installed
                done.firstSampleToBarrier = now() - d.firstSeen
                done.confirmedTime = wall
                finish(done)
            }
        }
        for (dpid, changes) in batches { send(changes, to: dpid) }
    }

    /// How a message names a switch: its topology name and datapath id ("switch l1 (dpid
    /// 000000000000000b)"), the id alone for one the topology does not have.
    private func switchLabel(_ dpid: UInt64) -> String {
        let id = SwitchInfo.hex(dpid)
        guard let s = fabric.topology.switchID(dpid: dpid) else { return "switch with dpid \(id)" }
        return "switch \(fabric.topology.switches[s.index].name) (dpid \(id))"
    }

    /// Writes one switch's changes as a barrier-confirmed batch, and settles the decisions it carries
    /// when the reply comes.
    private func send(_ changes: [EntryChange], to dpid: UInt64) {
        let keys = Set(changes.map(\.entry.key))
        guard let session = sessions[dpid] else {
            for k in keys { placementFailed(k, dpid: dpid, why: "\(switchLabel(dpid)) is not connected") }
            return
        }
        let messages = changes.map { OpenFlowMessage.flowMod($0.flowMod) }
        session.submit(messages).hop(to: loop).whenComplete { [self] result in
            switch result {
            case .success(let batch):
                var refused: [FlowKey: String] = [:]
                for f in batch.failures {
                    if case .flowMod(let fm)? = f.request, let k = FlowKey(elephantMatch: fm.match) {
                        refused[k] = "\(switchLabel(dpid)) refused the entry: \(f.error.kind)"
                    }
                }
                for (k, why) in refused.sorted(by: { $0.key < $1.key }) { placementFailed(k, dpid: dpid, why: why) }
                for k in keys where refused[k] == nil { confirmed(k, dpid: dpid) }
            case .failure(let e):
                for k in keys.sorted() { placementFailed(k, dpid: dpid, why: "batch to \(switchLabel(dpid)) not confirmed: \(e)") }
            }
        }
    }

    private func confirmed(_ k: FlowKey, dpid: UInt64) {
        guard var f = inFlight[k] else { return }
        f.pending.remove(dpid)
        if f.pending.isEmpty {
            inFlight[k] = nil
            var rec = f.record
            rec.status = .installed
            rec.firstSampleToBarrier = now() - rec.decision.firstSeen
            rec.confirmedTime = Self.wallNow()
            finish(rec)
        } else {
            inFlight[k] = f
        }
    }

    /// A flow's entries were refused, or could not be sent: it goes back to ECMP (what other switches
    /// got of it is deleted) and may be placed again in a later round.
    private func placementFailed(_ k: FlowKey, dpid: UInt64, why: String) {
        failuresCounter.increment()
        let leftovers = control.placementFailed(k)
        var bySwitch: [UInt64: [OpenFlowMessage]] = [:]
        for e in leftovers where e.dpid != dpid { bySwitch[e.dpid, default: []].append(.flowMod(e.flowMod(.deleteStrict))) }
        for (d, msgs) in bySwitch { if let s = sessions[d] { _ = s.submit(msgs) } }
        if let f = inFlight.removeValue(forKey: k) {
            var rec = f.record
            rec.status = .failed
            rec.error = why
            finish(rec)
        } else {
            logger.warning("elephant entry not installed", metadata: ["flow": "\(k)", "why": "\(why)"])
            apiEvent("installFailure") { w in w.field("key", Self.flowName(k)); w.field("error", why) }
        }
    }

    private func finish(_ rec: DecisionRecord) {
        recent.append(rec)
        if recent.count > 1000 { recent.removeFirst(recent.count - 1000) }
        apiDecision(rec)
        let line = rec.jsonLine(fabric)
        decisionLog?.write(line)
        let meta: Logger.Metadata = ["id": "\(rec.id)", "flow": "\(rec.decision.key)", "status": "\(rec.status.rawValue)",
                                     "reason": "\(rec.decision.decision.reason.described(fabric))"]
        if rec.status == .failed {
            logger.warning("elephant placement failed; the flow stays on ECMP", metadata: meta.merging(["error": "\(rec.error ?? "")"]) { a, _ in a })
        } else {
            logger.info("elephant placed", metadata: meta)
        }
    }

    // MARK: Unmapped samples

    /// Ports the samples name that the topology cannot place: counted, and reported once per agent.
    private func reportUnmapped(at t: Double) {
        var unknown: [IPAddress: Int] = [:]
        // Counter records (1004) come every polling interval: a port is unmapped once three have passed.
        let grace = 3 * control.policy.pollingInterval + 1
        for l in analytics.links(at: t) {
            let known = l.identity.flatMap { id in id.datapathId.flatMap { fabric.topology.switchID(dpid: $0) } } != nil
            if known {
                unmappedSince[l.port] = nil
                continue
            }
            let since = unmappedSince[l.port] ?? t
            unmappedSince[l.port] = since
            if t - since >= grace {
                unknown[l.port.agent, default: 0] += 1
                if countedUnmapped.count < 65_536, countedUnmapped.insert(l.port).inserted { unmappedCounter.increment() }
            }
        }
        for (agent, n) in unknown.sorted(by: { $0.key < $1.key }) where !warnedAgents.contains(agent) {
            warnedAgents.insert(agent)
            logger.warning("sFlow agent sends samples for ports the topology does not have; they are not used for control",
                           metadata: ["agent": "\(agent)", "ports": "\(n)"])
        }
    }

    // MARK: Session events (from any event loop)

    public func handle(_ event: SessionEvent) {
        loop.execute { [self] in handleOnLoop(event) }
    }

    private func handleOnLoop(_ event: SessionEvent) {
        switch event {
        case .active(let s):
            let dpid = s.info.datapathID
            guard fabric.topology.switchID(dpid: dpid) != nil else { return }
            sessions[dpid] = s
            apiSwitch(dpid, up: true)
            for p in s.info.ports where Self.isDown(p) { _ = control.portDown(dpid: dpid, port: p.portNumber.rawValue) }
        case .reconciled(let report):
            reconciled.insert(report.datapathID)
            switchHolds(report.datapathID, report.heldFlows)
        case .closed(let dpid, _):
            guard let dpid, let s = sessions[dpid], !s.channel.isActive else { return }
            sessions[dpid] = nil
            reconciled.remove(dpid)
            apiSwitch(dpid, up: false)
        case .flowRemoved(let dpid, let fr):
            guard FabricCookie(rawValue: fr.cookie).owner.rawValue == control.policy.cookiePrefix,
                  fr.reason == .idleTimeout || fr.reason == .hardTimeout,
                  let k = FlowKey(elephantMatch: fr.match),
                  control.programmer.installed[k]?.entries.contains(where: { $0.dpid == dpid }) == true else { return }
            control.flowRemoved(k)
            logger.info("elephant entry timed out; placement ended", metadata: ["flow": "\(k)", "dpid": "\(String(dpid, radix: 16))"])
        case .portStatus(let dpid, let ps):
            let port = ps.port.portNumber.rawValue
            if ps.reason == .delete || Self.isDown(ps.port) {
                let wasDown = control.directedLink(dpid: dpid, port: port).map { control.downLinks.contains($0.index) } ?? true
                guard !wasDown, control.portDown(dpid: dpid, port: port) else { return }
                logger.warning("fabric port down: moving the elephants on its link now",
                               metadata: ["dpid": "\(String(dpid, radix: 16))", "port": "\(port)",
                                          "pins": "\(control.pinsOnDownLinks.count)"])
                apiPort(dpid, port, up: false)
                runRoundSoon()
            } else if control.portUp(dpid: dpid, port: port) {
                logger.info("fabric port up", metadata: ["dpid": "\(String(dpid, radix: 16))", "port": "\(port)"])
                apiPort(dpid, port, up: true)
            }
        }
    }

    /// A round now, or as soon as `immediateRoundSpacing` allows.
    private func runRoundSoon() {
        guard !immediateRoundScheduled else { return }
        let t = now()
        if let last = lastImmediateRound, t - last < Self.immediateRoundSpacing {
            immediateRoundScheduled = true
            loop.scheduleTask(in: .nanoseconds(Int64((last + Self.immediateRoundSpacing - t) * 1e9))) { [self] in
                immediateRoundScheduled = false
                lastImmediateRound = now()
                runRound()
            }
            return
        }
        lastImmediateRound = t
        runRound()
    }

    static func isDown(_ p: SwitchPort) -> Bool {
        // OFPPS_LINK_DOWN (state bit 0) or OFPPC_PORT_DOWN (config bit 0), OF 1.3.5 §7.2.1.
        p.state & 1 != 0 || p.config & 1 != 0
    }

    /// What a switch reported holding after (re)connecting: elephant entries Tusk still wants stay,
    /// entries it lost are written again, and entries no pin explains wait for adoption.
    private func switchHolds(_ dpid: UInt64, _ flows: [FlowStats]) {
        let prefix = control.policy.cookiePrefix
        var has: [FlowKey: UInt32] = [:]
        var fix: [OpenFlowMessage] = []
        for f in flows where FabricCookie(rawValue: f.cookie).owner.rawValue == prefix {
            guard let k = FlowKey(elephantMatch: f.match), let out = f.outputPort else {
                fix.append(.flowMod(FlowMod(command: .deleteStrict, cookie: f.cookie, cookieMask: .max, tableID: f.tableID,
                                            priority: f.priority, match: f.match)))
                continue
            }
            has[k] = out
            if let inst = control.programmer.installed[k] {
                if let e = inst.entries.first(where: { $0.dpid == dpid }), e.outPort != out { fix.append(.flowMod(e.flowMod(.add))) }
            } else {
                held[k, default: [:]][dpid] = f
                if heldSince[k] == nil { heldSince[k] = now() }
            }
        }
        // Entries the switch lost (its tables were wiped): write them again.
        for (k, inst) in control.programmer.installed {
            for e in inst.entries where e.dpid == dpid && has[k] == nil { fix.append(.flowMod(e.flowMod(.add))) }
        }
        if !held.isEmpty { logger.info("switch holds elephant entries from before", metadata: ["dpid": "\(String(dpid, radix: 16))", "flows": "\(held.count)"]) }
        if !fix.isEmpty, !options.dryRun, let s = sessions[dpid] {
            logger.info("re-writing elephant entries on a switch", metadata: ["dpid": "\(String(dpid, radix: 16))", "messages": "\(fix.count)"])
            _ = s.submit(fix)
        }
    }

    /// Adopts held entries whose whole path has reported; deletes those that describe no path once
    /// every switch has reported (or three intervals have passed).
    private func adoptHeld(at t: Double) {
        guard !held.isEmpty else { return }
        let everyone = reconciled.count >= fabric.topology.switches.count
        for (k, bySwitch) in held.sorted(by: { $0.key < $1.key }) {
            let entries = bySwitch.compactMap { d, f in f.outputPort.map { (dpid: d, outPort: $0) } }
            let r = control.adopt([k: entries], at: t)
            if !r.adopted.isEmpty {
                logger.info("adopted an elephant placement held by the switches", metadata: ["flow": "\(k)"])
                held[k] = nil
                heldSince[k] = nil
                continue
            }
            guard everyone || t - (heldSince[k] ?? t) > 3 * control.interval else { continue }
            held[k] = nil
            heldSince[k] = nil
            guard !options.dryRun else { continue }
            logger.info("deleting an elephant entry no placement explains", metadata: ["flow": "\(k)"])
            for (d, f) in bySwitch {
                _ = sessions[d]?.submit([.flowMod(FlowMod(command: .deleteStrict, cookie: f.cookie, cookieMask: .max, tableID: f.tableID,
                                                          priority: f.priority, match: f.match))])
            }
        }
    }

    // MARK: Policy

    /// Reads the policy file again. A valid policy takes effect at the next round (sessions and
    /// installed entries untouched); an invalid one is refused with its file:line error.
    public func reloadPolicy(trigger: String) {
        loop.preconditionInEventLoop()
        guard let path = options.policyFile else { return }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            reloadFailed.increment()
            logger.error("policy reload refused; the old policy stays in force",
                         metadata: ["trigger": "\(trigger)", "error": "\(path): cannot read: \(error.localizedDescription)"])
            apiPolicy(ok: false, source: path, error: "\(path): cannot read: \(error.localizedDescription)")
            return
        }
        policyStamp = Self.stamp(path)
        do {
            let p = try Policy(yaml: text)
            apply(policy: p)
            reloadOK.increment()
            apiPolicy(ok: true, source: path)
            logger.notice("policy reloaded", metadata: ["trigger": "\(trigger)", "file": "\(path)", "algorithm": "\(p.algorithm.rawValue)"])
        } catch {
            reloadFailed.increment()
            logger.error("policy reload refused; the old policy stays in force",
                         metadata: ["trigger": "\(trigger)", "error": "\(path):\(error.line.map { "\($0):" } ?? "") \(error.message)"])
            apiPolicy(ok: false, source: path, error: "\(path):\(error.line.map { "\($0):" } ?? "") \(error.message)")
        }
    }

    /// Puts a policy in force from the next round on.
    public func apply(policy p: Policy) {
        let oldInterval = control.interval
        control.update(policy: p)
        analytics.config = p.analyticsConfig.keeping(analytics.config)
        options.policy = p
        if control.interval != oldInterval, roundTimer != nil { scheduleRounds() }
    }

    /// The policy in force.
    public var policy: Policy { control.policy }
}

extension AnalyticsConfig {
    /// This configuration's policy settings over `old`'s other settings (link speeds and the like).
    func keeping(_ old: AnalyticsConfig) -> AnalyticsConfig {
        var c = old
        c.threshold = threshold
        c.minSamples = minSamples
        c.timeConstant = timeConstant
        return c
    }
}

extension FlowStats {
    /// The port of the first output action, if any.
    var outputPort: UInt32? {
        for i in instructions {
            if case .applyActions(let acts) = i {
                for a in acts { if case .output(let p, _) = a { return p.rawValue } }
            }
        }
        return nil
    }
}

/// The daemon's elephant loop as a service: the sFlow collector on the loop's event loop, rounds on
/// a timer, the policy reloaded on SIGHUP and when its file changes.
public struct ElephantLoopService: Service {
    public let elephants: ElephantLoop
    public let sflow: SFlowCollectorConfig
    public let logger: Logger

    public init(elephants: ElephantLoop, sflow: SFlowCollectorConfig, logger: Logger) {
        self.elephants = elephants
        self.sflow = sflow
        self.logger = logger
    }

    public func run() async throws {
        let e = elephants
        // The sockets are read, and their datagrams scanned, on threads of their own: the loop
        // only applies the samples, and its rounds do not wait behind system calls.
        let readers = MultiThreadedEventLoopGroup(numberOfThreads: max(1, sflow.sockets))
        let feed = e.makeFeed()
        let collector: SFlowCollector
        do {
            collector = try await SFlowCollector.start(config: sflow, group: readers, sink: feed, clock: e.collectorClock)
        } catch {
            try? await readers.shutdownGracefully()
            throw error
        }
        logger.info("listening for sFlow", metadata: ["address": "\(collector.localAddress.map { "\($0)" } ?? "\(sflow.host):\(sflow.port)")",
                                                     "sockets": "\(collector.socketCount)"])
        if let note = collector.receiveBufferNote { logger.warning("\(note)") }
        if let note = collector.shardNote { logger.warning("\(note)") }
        try await e.loop.submit { e.startTimers() }.get()
        await cancelWhenGracefulShutdown {
            for await _ in await UnixSignalsSequence(trapping: .sighup) {
                try? await e.loop.submit { e.reloadPolicy(trigger: "SIGHUP") }.get()
            }
        }
        var meta: Logger.Metadata = (try? await e.loop.submit { e.stopTimers(); return e.summary() }.get()) ?? [:]
        let c = collector.counters
        meta["datagrams"] = "\(c.datagrams)"
        meta["kernelDrops"] = "\(collector.kernelDrops.map { "\($0)" } ?? "unknown")"
        meta["queueDrops"] = "\(feed.droppedDatagrams)"
        try? await collector.close()
        try? await readers.shutdownGracefully()
        logger.notice("elephant loop stopped", metadata: meta)
    }
}
