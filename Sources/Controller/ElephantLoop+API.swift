// The elephant loop's read-only views for the operator (HTTP API, web page): each runs on the loop
// (callers hop there with `loop.submit`) and returns a finished JSON document, a value that leaves
// the loop safely. And the hooks the loop calls to keep the event ring and the per-switch gauges.
import ElephantControl
import FabricProgramming
import FlowAnalytics
import Foundation
import Metrics
import NIOCore
import Packets
import PathSelection
import SFlow
import SFlowIngest
import Topology

/// The version the API reports.
public let tuskVersion = "0.9.0"

extension ElephantLoop {
    // MARK: Hooks (on the loop)

    func apiRound(_ r: RoundResult, events: [ElephantEvent], millis: Double) {
        let wall = Self.wallClock()
        for e in events {
            api.events.append(type: e.type.rawValue, time: wall) { w in
                RecordJSON.writeFlow(e.flow, bps: e.bps, errorPercent: 0, into: &w)
                w.key("links")
                w.beginArray()
                for n in linkNames(e.links) { w.string(n) }
                w.endArray()
            }
        }
        api.lastLoad = r.load
        publishFlows()
        api.lastRoundWall = wall
        api.lastRoundMillis = millis
        api.lastRearranging = r.rearranging?.rawValue
        if let state = r.rearranging?.rawValue {
            let c = api.rearrangingCounters[state] ?? {
                let c = Counter(label: "tusk_rearranging_rounds_total", dimensions: [("state", state)])
                api.rearrangingCounters[state] = c
                return c
            }()
            c.increment()
        }
        api.recordHistory(r.load, capacities: fabric.capacities, at: wall)
        for p in api.placedSince.keys where control.programmer.installed[p] == nil { api.placedSince[p] = nil }
        let fabricEntries = api.fabricEntries ?? {
            let d = ProactiveFabric(topology: fabric.topology).desiredState()
            let counts = fabric.topology.switches.map { d[$0.dpid]?.flows.count ?? 0 }
            api.fabricEntries = counts
            return counts
        }()
        for (i, s) in fabric.topology.switches.enumerated() {
            let g = api.entryGauges[s.dpid] ?? {
                let dims = [("dpid", String(s.dpid, radix: 16))]
                let g = (Gauge(label: "tusk_flow_table_entries", dimensions: dims + [("kind", "elephant")]),
                         Gauge(label: "tusk_flow_table_entries", dimensions: dims + [("kind", "fabric")]))
                api.entryGauges[s.dpid] = g
                return g
            }()
            g.elephant.record(control.programmer.entriesPerSwitch[i])
            g.fabric.record(fabricEntries[i])
        }
    }

    func apiDecision(_ rec: DecisionRecord) {
        let wall = Self.wallClock()
        if rec.status == .installed || rec.status == .dryRun { api.placedSince[rec.decision.key] = rec.confirmedTime ?? wall }
        api.events.append(type: rec.status == .failed ? "installFailure" : "move", time: wall) { w in
            w.field("decisionID", rec.id)
            w.key("decision")
            rec.write(fabric, into: &w)
        }
    }

    func apiEvent(_ type: String, _ body: (inout JSONWriter) -> Void = { _ in }) {
        api.events.append(type: type, time: Self.wallClock(), body)
    }

    func apiSwitch(_ dpid: UInt64, up: Bool) {
        let wall = Self.wallClock()
        if up { api.switchUpSince[dpid] = wall; api.switchDownAt[dpid] = nil } else { api.switchUpSince[dpid] = nil; api.switchDownAt[dpid] = wall }
        apiEvent(up ? "switchUp" : "switchDown") { w in
            w.field("dpid", String(dpid, radix: 16))
            if let s = fabric.topology.switchID(dpid: dpid) { w.field("switch", fabric.topology[s].name) }
        }
    }

    func apiPort(_ dpid: UInt64, _ port: UInt32, up: Bool) {
        apiEvent(up ? "portUp" : "portDown") { w in
            w.field("dpid", String(dpid, radix: 16))
            if let s = fabric.topology.switchID(dpid: dpid) { w.field("switch", fabric.topology[s].name) }
            w.field("port", port)
            if let d = control.directedLink(dpid: dpid, port: port) { w.field("link", fabric.name(of: d)) }
        }
    }

    func apiPolicy(ok: Bool, source: String, error: String? = nil) {
        if ok {
            api.policyReloads.ok += 1
            api.policyLoadedAt = Self.wallClock()
            api.policySource = source
        } else {
            api.policyReloads.failed += 1
        }
        apiEvent(ok ? "policyReload" : "policyReloadFailed") { w in
            w.field("source", source)
            if let error { w.field("error", error) }
        }
    }

    static func wallClock() -> Double { Double(wallClockNanos()) / 1e9 }

    // MARK: Names

    /// The directed fabric link a sampled port belongs to: the link it transmits on for an output,
    /// the link it receives from for an input.
    func directedLink(_ l: FlowLink) -> DirectedLinkID? {
        guard let id = analytics.ports[l.port], let d = id.datapathId, let p = id.portNo,
              let e = control.directedLink(dpid: d, port: p) else { return nil }
        return l.input ? e.reversed : e
    }

    func linkNames(_ links: [FlowLink]) -> [String] {
        var seen = Set<Int>()
        var out: [String] = []
        for l in links { if let d = directedLink(l), seen.insert(d.index).inserted { out.append(fabric.name(of: d)) } }
        return out
    }

    static func flowName(_ k: FlowKey) -> String { "\(k.src),\(k.dst),\(k.proto),\(k.sport),\(k.dport)" }

    static func json(_ body: (inout JSONWriter) -> Void) -> [UInt8] {
        var w = JSONWriter(capacity: 4096)
        body(&w)
        return w.bytes
    }

    // MARK: Views (on the loop)

    func versionJSON() -> [UInt8] {
        let wall = Self.wallClock()
        return Self.json { w in
            w.beginObject()
            w.field("version", tuskVersion)
            w.field("uptimeSeconds", ((wall - api.startWall) * 1000).rounded() / 1000)
            w.field("startTime", Int64(api.startWall * 1000))
            w.key("policyFile")
            if let f = options.policyFile { w.string(f) } else { w.null() }
            w.field("policySource", api.policySource)
            w.field("policyLoaded", Int64(api.policyLoadedAt * 1000))
            w.field("policyReloads", api.policyReloads.ok)
            w.field("policyReloadsFailed", api.policyReloads.failed)
            w.field("algorithm", control.algorithm)
            w.field("controlInterval", control.interval)
            w.field("dryRun", options.dryRun)
            w.field("rounds", roundCount)
            w.key("rearranging")
            if let r = api.lastRearranging { w.string(r) } else { w.null() }
            w.field("flowsTracked", analytics.flowCount)
            w.endObject()
        }
    }

    func agentsJSON() -> [UInt8] {
        let wall = Self.wallClock()
        let table = api.agents
        return Self.json { w in
            w.beginObject()
            for (key, e) in table.entries.sorted(by: { $0.key < $1.key }) {
                w.key(key.subAgentId == 0 ? "\(key.agent)" : "\(key.agent)/\(key.subAgentId)")
                w.beginObject()
                w.field("agent", "\(key.agent)")
                w.field("subAgentID", key.subAgentId)
                w.field("datagrams", e.datagrams)
                w.field("samples", e.flowSamples + e.counterSamples)
                w.field("flowSamples", e.flowSamples)
                w.field("counterSamples", e.counterSamples)
                let c = table.tracker.datagramCounts(key)
                w.field("sequenceLosses", c?.lost ?? 0)
                w.field("lostSamples", table.tracker.lostSamples(key))
                w.field("outOfOrder", c?.outOfOrder ?? 0)
                w.field("agentDrops", e.dropsBySource.values.reduce(UInt64(0)) { $0 + UInt64($1) })
                w.field("samplingRate", e.nominalRate)
                w.key("effectiveSamplingRate")
                if let r = table.effectiveRate(key) { w.double((r * 10).rounded() / 10) } else { w.null() }
                w.field("lastSeen", Int64(e.lastSeen * 1000))
                w.field("lastSeenAgo", Int64(((wall - e.lastSeen) * 1000).rounded()))
                // The switch: from the OpenFlow identity (1004) of a port its counters describe, else
                // a topology switch stated with this agent address.
                var dpid: UInt64?
                for i in e.ifIndexes.sorted() {
                    if let d = analytics.ports[AgentPort(agent: key.agent, ifIndex: i)]?.datapathId { dpid = d; break }
                }
                let sw = dpid.flatMap { fabric.topology.switchID(dpid: $0) }.map { fabric.topology[$0] }
                    ?? fabric.topology.switches.first { $0.agent == key.agent }
                w.key("switch")
                if let sw { w.string(sw.name) } else { w.null() }
                w.key("dpid")
                if let d = dpid ?? sw?.dpid { w.string(String(d, radix: 16)) } else { w.null() }
                w.endObject()
            }
            w.endObject()
        }
    }

    /// The interface metrics `/metric` knows, per sampled port: value, and whether it is defined.
    static let interfaceMetrics = ["ifinutilization", "ifoututilization", "ifutilization", "ifinoctets", "ifoutoctets",
                                   "ifinbps", "ifoutbps", "ifspeed"]

    /// `/metric/{agents}/{metrics}/json`: each metric (`reducer:name`) over the selected agents'
    /// interfaces. Utilizations are percent, octets bytes per second, bps bits per second. `time`:
    /// the analytics time to answer for (now when nil; tests pass their own).
    func metricJSON(agents: Set<String>?, metrics: [(reducer: String, name: String, text: String)], at time: Double? = nil) -> [UInt8] {
        let t = time ?? now()
        let wall = Self.wallClock()
        let links = analytics.links(at: t).filter { agents == nil || agents!.contains("\($0.port.agent)") }
        let views = analytics.loadViews(at: t)
        return Self.json { w in
            w.beginArray()
            // Interface metrics are the counters' rates (octet deltas over the agent's uptime), as an
            // interface poller reads them; a port whose counters have not come yet, or have stopped,
            // falls back to the samples' estimate. (`/links` is the control loop's view: counters
            // plus the samples since, which reacts faster and is noisier.)
            let rates = links.map { l -> (inBps: Double, outBps: Double) in
                if let v = views[l.port], let ct = v.lastCounterTime, t - ct < analytics.config.idleTimeout,
                   let i = v.counterInBps, let o = v.counterOutBps { return (i, o) }
                return (l.inBps, l.outBps)
            }
            for m in metrics {
                var values: [(v: Double, l: FlowAnalytics.LinkReport)] = []
                for (l, r) in zip(links, rates) {
                    let inU = l.speedBps > 0 ? r.inBps / l.speedBps * 100 : 0
                    let outU = l.speedBps > 0 ? r.outBps / l.speedBps * 100 : 0
                    let v: Double
                    switch m.name {
                    case "ifinutilization": v = inU
                    case "ifoututilization": v = outU
                    case "ifutilization": v = max(inU, outU)
                    case "ifinoctets": v = r.inBps / 8
                    case "ifoutoctets": v = r.outBps / 8
                    case "ifinbps": v = r.inBps
                    case "ifoutbps": v = r.outBps
                    default: v = l.speedBps
                    }
                    values.append((v, l))
                }
                w.beginObject()
                w.field("metricName", m.text)
                w.field("metricN", values.count)
                if let s = Summary(values.map(\.v)), let v = s.value(m.reducer) {
                    w.field("metricValue", (v * 1e6).rounded() / 1e6)
                    let ages = links.compactMap { views[$0.port]?.lastCounterTime }.map { max(0, t - $0) * 1000 }
                    var lastUpdate = ages.max() ?? 0
                    // max and min name the interface that has the value; lastUpdate is then its own
                    // counters' age (the value covers the polling interval that ended then).
                    if m.reducer == "max" || m.reducer == "min",
                       let at = values.first(where: { $0.v == v }) {
                        w.field("agent", "\(at.l.port.agent)")
                        w.field("dataSource", "\(at.l.port.ifIndex)")
                        if let id = at.l.identity, let d = id.datapathId {
                            w.field("dpid", String(d, radix: 16))
                            if let p = id.portNo { w.field("port", p) }
                        }
                        if let ct = views[at.l.port]?.lastCounterTime { lastUpdate = max(0, t - ct) * 1000 }
                    }
                    w.field("lastUpdate", Int64(lastUpdate.rounded()))
                    w.field("lastUpdateMax", Int64((ages.max() ?? 0).rounded()))
                    w.field("lastUpdateMin", Int64((ages.min() ?? 0).rounded()))
                }
                w.field("updateTime", Int64(wall * 1000))
                w.endObject()
            }
            w.endArray()
        }
    }

    /// The largest flows now as rows ready to render off the loop, fastest first.
    func activeFlowRows(agents: Set<String>?, maxFlows: Int, minValue: Double) -> [FlowRow] {
        let t = now()
        let filter: ((FlowAnalytics.FlowReport) -> Bool)? = agents.map { a in { f in f.links.contains { a.contains("\($0.port.agent)") } } }
        let flows = analytics.topFlows(at: t, limit: maxFlows, minBps: minValue, where: filter)
        let pins = control.programmer.installed
        return flows.map { f in
            var agentSet = Set<String>()
            for l in f.links { agentSet.insert("\(l.port.agent)") }
            return FlowRow(key: f.key, bps: f.bps, errorPercent: f.errorPercent, pps: f.pps, elephant: f.elephant,
                           placed: pins[f.key] != nil, links: linkNames(f.links),
                           path: pins[f.key].map { fabric.nodeNames(of: $0.pin.path) }, age: t - f.firstSeen, agents: agentSet.sorted())
        }
    }

    /// Publishes the top flows for the API when a client asked for them lately: once per round, so
    /// that requests read them without waiting for the loop (a round with 100,000 flows takes
    /// hundreds of milliseconds).
    func publishFlows() {
        let wall = Self.wallClock()
        guard wall - published.lastAsked < 10 else { return }
        published.set(flows: activeFlowRows(agents: nil, maxFlows: PublishedFlows.depth, minValue: 0), at: wall, interval: control.interval)
    }

    static func activeFlowsJSON(_ rows: some Sequence<FlowRow>) -> [UInt8] {
        json { w in
            w.beginArray()
            for f in rows {
                w.beginObject()
                w.field("key", flowName(f.key))
                w.field("value", f.bps.rounded())
                RecordJSON.writeFlow(f.key, bps: f.bps, errorPercent: f.errorPercent, into: &w)
                w.field("errorBps", (f.bps * f.errorPercent / 100).rounded())
                w.field("pps", (f.pps * 10).rounded() / 10)
                w.field("elephant", f.elephant)
                w.field("placed", f.placed)
                w.key("links")
                w.beginArray()
                for n in f.links { w.string(n) }
                w.endArray()
                w.key("path")
                if let p = f.path {
                    w.beginArray()
                    for n in p { w.string(n) }
                    w.endArray()
                } else {
                    w.null()
                }
                w.field("firstSeenAgo", (f.age * 1000).rounded() / 1000)
                w.endObject()
            }
            w.endArray()
        }
    }

    /// Every directed link of the fabric (host links included): its loads and the placements on it.
    func linksJSON() -> [UInt8] {
        let t = now()
        let topo = fabric.topology
        let views = analytics.loadViews(at: t)
        var onLink: [Int: [FlowKey]] = [:]
        for (k, p) in control.programmer.installed { for l in p.pin.path.links { onLink[l.index, default: []].append(k) } }
        return Self.json { w in
            w.beginArray()
            for i in 0..<fabric.directedLinkCount {
                let d = DirectedLinkID(i)
                let (from, to) = topo.ends(of: d)
                w.beginObject()
                w.field("link", fabric.name(of: d))
                w.field("from", Self.endpointName(from, topo))
                w.field("to", Self.endpointName(to, topo))
                w.field("host", topo[d.link].isHostLink)
                w.field("capacityBps", fabric.capacities[i])
                if let sp = from.switchPort { w.field("fromPort", sp.port) }
                if let sp = to.switchPort { w.field("toPort", sp.port) }
                w.field("down", control.downLinks.contains(i))
                let load = i < api.lastLoad.count ? api.lastLoad[i] : 0
                let cap = max(fabric.capacities[i], 1)
                w.field("bps", load.rounded())
                w.field("utilization", (load / cap * 10000).rounded() / 10000)
                // Counters and samples of the transmitting port (or, at a host, the receiving switch port).
                var counterBps: Double?, sampleBps: Double?
                if let sp = from.switchPort, let ap = analytics.ports.agentPort(dpid: topo[sp.switchID].dpid, port: sp.port), let v = views[ap] {
                    counterBps = v.counterOutBps
                    sampleBps = v.sampledOutBps
                } else if let sp = to.switchPort, let ap = analytics.ports.agentPort(dpid: topo[sp.switchID].dpid, port: sp.port), let v = views[ap] {
                    counterBps = v.counterInBps
                    sampleBps = v.sampledInBps
                }
                w.key("counterUtilization")
                if let c = counterBps { w.double((c / cap * 10000).rounded() / 10000) } else { w.null() }
                w.key("sampleUtilization")
                if let s = sampleBps { w.double((s / cap * 10000).rounded() / 10000) } else { w.null() }
                w.key("elephants")
                w.beginArray()
                for k in (onLink[i] ?? []).sorted() { w.string(Self.flowName(k)) }
                w.endArray()
                w.endObject()
            }
            w.endArray()
        }
    }

    /// `{"time":..,"utilization":{"l1>s1":0.42,...}}` from the last round: what the page colours links by.
    func linkUtilizationJSON() -> [UInt8] {
        Self.json { w in
            w.beginObject()
            w.field("time", Int64((api.lastRoundWall ?? Self.wallClock()) * 1000))
            w.key("utilization")
            w.beginObject()
            for i in 0..<fabric.directedLinkCount {
                let load = i < api.lastLoad.count ? api.lastLoad[i] : 0
                w.key(fabric.name(of: DirectedLinkID(i)))
                w.double(load / max(fabric.capacities[i], 1), digits: 4)
            }
            w.endObject()
            w.endObject()
        }
    }

    static func endpointName(_ e: Endpoint, _ t: Topology) -> String {
        if let s = e.switchPort { return t[s.switchID].name }
        if let h = e.hostID { return t[h].name }
        return "?"
    }

    /// The utilization history of one directed link (by name), oldest first; nil for an unknown link.
    func historyJSON(link name: String) -> [UInt8]? {
        guard let i = (0..<fabric.directedLinkCount).first(where: { fabric.name(of: DirectedLinkID($0)) == name }) else { return nil }
        return Self.json { w in
            w.beginObject()
            w.field("link", name)
            w.key("points")
            w.beginArray()
            for h in api.history where i < h.utilization.count {
                w.beginArray()
                w.int(Int64(h.time * 1000))
                w.double(Double(h.utilization[i]), digits: 4)
                w.endArray()
            }
            w.endArray()
            w.endObject()
        }
    }

    /// Current placements.
    func elephantsJSON() -> [UInt8] {
        let t = now()
        let topo = fabric.topology
        return Self.json { w in
            w.beginArray()
            for (k, p) in control.programmer.installed.sorted(by: { $0.key < $1.key }) {
                w.beginObject()
                w.field("key", Self.flowName(k))
                let f = analytics.flow(k, at: t)
                RecordJSON.writeFlow(k, bps: f?.bps ?? 0, errorPercent: f?.errorPercent ?? 0, into: &w)
                w.field("demandBps", p.pin.demand.rounded())
                w.key("path")
                RecordJSON.writePath(p.pin.path, fabric, into: &w)
                w.key("links")
                w.beginArray()
                for l in p.pin.path.links { w.string(fabric.name(of: l)) }
                w.endArray()
                w.key("since")
                if let s = api.placedSince[k] { w.int(Int64(s * 1000)) } else { w.null() }
                w.key("switches")
                w.beginArray()
                for e in p.entries {
                    w.beginObject()
                    w.field("switch", topo.switchID(dpid: e.dpid).map { topo[$0].name } ?? "?")
                    w.field("dpid", String(e.dpid, radix: 16))
                    w.field("outPort", e.outPort)
                    w.field("cookie", "0x" + String(e.cookie, radix: 16))
                    w.endObject()
                }
                w.endArray()
                w.field("pending", inFlight[k] != nil)
                w.endObject()
            }
            w.endArray()
        }
    }

    /// Decisions with an id above `after`, oldest first, at most `max`.
    func decisionsJSON(after: Int, max n: Int) -> [UInt8] {
        let pending = inFlight.values.map(\.record)
        let all = (recent + pending).filter { $0.id > after }.sorted { $0.id < $1.id }.prefix(n)
        return Self.json { w in
            w.beginArray()
            for r in all { r.write(fabric, into: &w) }
            w.endArray()
        }
    }

    /// Events after `after` (at most `max`), the ring's bounds, and whether some were missed.
    func eventsSnapshot(after: Int, max n: Int) -> (json: [UInt8], count: Int, latest: Int, missed: Bool) {
        let (evs, missed) = api.events.events(after: after, max: n)
        let bytes = Self.json { w in
            w.beginArray()
            for e in evs { w.raw(e.json) }
            w.endArray()
        }
        return (bytes, evs.count, api.events.latestID, missed)
    }

    func topologyJSON() -> [UInt8] {
        let topo = fabric.topology
        // Tier: hops to the nearest switch with hosts (edge 0, aggregation 1, core 2).
        var tier = [Int](repeating: -1, count: topo.switches.count)
        var queue: [Int] = []
        for h in topo.hosts where tier[h.attachment.switchID.index] < 0 {
            tier[h.attachment.switchID.index] = 0
            queue.append(h.attachment.switchID.index)
        }
        var qi = 0
        while qi < queue.count {
            let s = queue[qi]
            qi += 1
            for p in topo.ports[s] {
                if let peer = p.peer.switchPort, tier[peer.switchID.index] < 0 {
                    tier[peer.switchID.index] = tier[s] + 1
                    queue.append(peer.switchID.index)
                }
            }
        }
        return Self.json { w in
            w.beginObject()
            w.field("name", topo.name)
            w.key("switches")
            w.beginArray()
            for (i, s) in topo.switches.enumerated() {
                w.beginObject()
                w.field("name", s.name)
                w.field("dpid", String(s.dpid, radix: 16))
                w.field("role", s.role.rawValue)
                w.field("tier", max(0, tier[i]))
                let st: String
                if let sess = sessions[s.dpid], sess.channel.isActive { st = reconciled.contains(s.dpid) ? "reconciled" : "active" } else {
                    st = api.switchDownAt[s.dpid] != nil ? "disconnected" : "never connected"
                }
                w.field("session", st)
                if let sess = sessions[s.dpid] {
                    w.field("peer", sess.channel.remoteAddress.map { "\($0)" } ?? "?")
                    w.field("ports", sess.info.ports.count)
                }
                w.key("since")
                if let u = api.switchUpSince[s.dpid] ?? api.switchDownAt[s.dpid] { w.int(Int64(u * 1000)) } else { w.null() }
                w.field("elephantEntries", control.programmer.entriesPerSwitch[i])
                w.endObject()
            }
            w.endArray()
            w.key("links")
            w.beginArray()
            for (i, l) in topo.links.enumerated() {
                w.beginObject()
                w.field("a", Self.endpointName(l.a, topo))
                w.field("b", Self.endpointName(l.b, topo))
                if let p = l.a.switchPort { w.field("aPort", p.port) }
                if let p = l.b.switchPort { w.field("bPort", p.port) }
                w.field("capacityBps", l.capacity)
                w.field("host", l.isHostLink)
                w.field("ab", fabric.name(of: DirectedLinkID(link: LinkID(i), fromA: true)))
                w.field("ba", fabric.name(of: DirectedLinkID(link: LinkID(i), fromA: false)))
                w.endObject()
            }
            w.endArray()
            w.key("hosts")
            w.beginArray()
            for h in topo.hosts {
                w.beginObject()
                w.field("name", h.name)
                w.field("ipv4", "\(h.ipv4)")
                if let v6 = h.ipv6 { w.field("ipv6", "\(v6)") }
                w.field("mac", "\(h.mac)")
                w.field("switch", topo[h.attachment.switchID].name)
                w.field("port", h.attachment.port)
                w.endObject()
            }
            w.endArray()
            w.endObject()
        }
    }

    /// The policy in force, as YAML.
    func policyYAML() -> String { control.policy.yaml }

    /// Puts a policy in force from the API (validated by the caller), and records it.
    func applyFromAPI(_ p: Policy) {
        apply(policy: p)
        apiPolicy(ok: true, source: "PUT /policy")
    }
}
