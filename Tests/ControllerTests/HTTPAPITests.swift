// The HTTP API against a real elephant loop: a leaf-spine 2x2 loop (dry run: no switch sessions),
// real sFlow datagrams from the project's encoder through its `received` entry point, a real
// round, then the real Hummingbird server on 127.0.0.1, port 0, asked over TCP.
@testable import Controller
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOPosix
import Packets
import PathSelection
import SFlow
import SFlowIngest
import Testing
import Topology

@Suite struct HTTPAPITests {
    static let topoYAML = """
        name: leaf-spine-2x2
        switches:
          - {name: s1, dpid: 1, role: spine}
          - {name: s2, dpid: 2, role: spine}
          - {name: l1, dpid: 11, role: leaf, agent: 192.0.2.11}
          - {name: l2, dpid: 12, role: leaf, agent: 192.0.2.12}
        links:
          - {a: "l1:3", b: "s1:1", capacity: 100M}
          - {a: "l1:4", b: "s2:1", capacity: 100M}
          - {a: "l2:3", b: "s1:2", capacity: 100M}
          - {a: "l2:4", b: "s2:2", capacity: 100M}
        hosts:
          - {name: h1, ipv4: 10.0.0.1/24, mac: "02:00:00:00:00:01", switch: "l1:1", capacity: 100M}
          - {name: h2, ipv4: 10.0.0.2/24, mac: "02:00:00:00:00:02", switch: "l1:2", capacity: 100M}
          - {name: h3, ipv4: 10.0.0.3/24, mac: "02:00:00:00:00:03", switch: "l2:1", capacity: 100M}
          - {name: h4, ipv4: 10.0.0.4/24, mac: "02:00:00:00:00:04", switch: "l2:2", capacity: 100M}
        """
    static let token = "test-token-0123456789abcdef"
    static let a = FlowKey(src: .v4(IPv4Address(10, 0, 0, 1)), dst: .v4(IPv4Address(10, 0, 0, 3)), proto: 6, sport: 40001, dport: 5201)
    static let b = FlowKey(src: .v4(IPv4Address(10, 0, 0, 2)), dst: .v4(IPv4Address(10, 0, 0, 4)), proto: 6, sport: 40002, dport: 5201)

    /// A dry-run loop that has seen two heavy flows from l1's hosts, both sent up to spine s1, and
    /// has run one round.
    static func loop() async throws -> ElephantLoop {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let topo = try Topology(yaml: topoYAML)
        let e = try ElephantLoop(topology: topo, options: ElephantLoopOptions(dryRun: true),
                                 loop: MultiThreadedEventLoopGroup.singleton.next(), logger: logger)
        let clock = e.collectorClock
        try await e.loop.submit {
            // 400 samples 1 in 100 of 1500-byte frames, spread up to now: far above the threshold.
            let end = clock()
            let agent = IPAddress.v4(IPv4Address(192, 0, 2, 11))
            for i in 0..<400 {
                let f = i % 2 == 0 ? (Self.a, UInt32(1)) : (Self.b, UInt32(2))
                guard case .v4(let s) = f.0.src, case .v4(let d) = f.0.dst else { continue }
                let header = FrameBuilder.sampledIPv4Header(srcMac: MACAddress(0x0200_0000_0001), dstMac: MACAddress(0x0200_0000_0003),
                                                            src: s, dst: d, proto: 6, srcPort: f.0.sport, dstPort: f.0.dport, ipLength: 1482)
                let sample = FlowSample(sequence: UInt32(i + 1), source: DataSource(type: 0, index: f.1), samplingRate: 100,
                                        samplePool: UInt32(100 * (i + 1)), drops: 0, input: .ifIndex(f.1), output: .ifIndex(3),
                                        records: [.rawPacketHeader(RawPacketHeader(headerProtocol: 1, frameLength: 1500, stripped: 4, header: header))])
                let bytes = SFlowEncoder.encode(SFlowDatagram(agent: agent, subAgentId: 0, sequence: UInt32(i + 1), uptime: UInt32(i),
                                                              samples: [.flow(sample)]))
                bytes.withUnsafeBytes { e.received($0, from: nil, timeNanos: end * UInt64(i + 1) / 400) }
            }
            e.runRound()
        }.get()
        return e
    }

    static func app(_ e: ElephantLoop, token: String? = HTTPAPITests.token) -> some ApplicationProtocol {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return HTTPAPI(elephants: e, options: HTTPAPIOptions(host: "127.0.0.1", port: 0, token: token), logger: logger).application()
    }

    static func json(_ r: TestResponse) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(String(buffer: r.body).utf8), options: [.fragmentsAllowed])
    }

    @Test func everyReadEndpointAnswersWithItsShape() async throws {
        let e = try await Self.loop()
        try await Self.app(e).test(.live) { c in
            try await c.execute(uri: "/version", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType] == "application/json")
                let v = try #require(try Self.json(r) as? [String: Any])
                #expect(v["version"] as? String == tuskVersion)
                #expect(v["uptimeSeconds"] is Double || v["uptimeSeconds"] is Int)
                #expect(v["policySource"] as? String == "built-in defaults")
                #expect(v["policyLoaded"] is Int)
                // The one round saw two elephants appear: the rearranging phases ran.
                #expect(v["rearranging"] as? String == "ran")
            }
            try await c.execute(uri: "/agents/json", method: .get) { r in
                let v = try #require(try Self.json(r) as? [String: [String: Any]])
                let agent = try #require(v["192.0.2.11"])
                #expect(agent["datagrams"] as? Int == 400)
                #expect(agent["samples"] as? Int == 400)
                #expect(agent["sequenceLosses"] as? Int == 0)
                #expect(agent["switch"] as? String == "l1")
                #expect(agent["samplingRate"] as? Int == 100)
                #expect(agent["effectiveSamplingRate"] as? Double == 100 || agent["effectiveSamplingRate"] as? Int == 100)
            }
            try await c.execute(uri: "/metric/ALL/max:ifoututilization,avg:ifinutilization,sum:ifoutbps/json", method: .get) { r in
                #expect(r.status == .ok)
                let v = try #require(try Self.json(r) as? [[String: Any]])
                #expect(v.count == 3)
                #expect(v.map { $0["metricName"] as? String } == ["max:ifoututilization", "avg:ifinutilization", "sum:ifoutbps"])
                #expect(v[0]["agent"] as? String == "192.0.2.11")
                // Sampled rates decay with time: on a slow machine they may have reached 0 by now.
                if (v[0]["metricValue"] as? Double ?? 0) > 0 { #expect(v[0]["dataSource"] as? String == "3") }
                #expect(v[0]["lastUpdate"] != nil && (v[0]["metricN"] as? Int ?? 0) >= 3)
            }
            try await c.execute(uri: "/metric/192.0.2.99/ifinutilization/json", method: .get) { r in
                let v = try #require(try Self.json(r) as? [[String: Any]])
                #expect(v.count == 1 && v[0]["metricValue"] == nil && v[0]["metricN"] as? Int == 0)
            }
            try await c.execute(uri: "/activeflows/ALL/elephants/json?maxFlows=1", method: .get) { r in
                let v = try #require(try Self.json(r) as? [[String: Any]])
                #expect(v.count == 1)
                let f = v[0]
                #expect(["10.0.0.1,10.0.0.3,6,40001,5201", "10.0.0.2,10.0.0.4,6,40002,5201"].contains(f["key"] as? String ?? ""))
                #expect(f["elephant"] as? Bool == true)
                #expect((f["bps"] as? Double ?? Double(f["bps"] as? Int ?? 0)) > 0)
                #expect(f["errorPercent"] != nil && f["errorBps"] != nil)
                // A flow's links are those sampled in the last link timeout (fewer on a slow machine).
                let links = try #require(f["links"] as? [String])
                #expect(links.isEmpty || links.contains("l1>s1"))
            }
            try await c.execute(uri: "/activeflows/192.0.2.12/elephants/json", method: .get) { r in
                let list = try Self.json(r) as? [Any]
                #expect(list?.isEmpty == true)
            }
            try await c.execute(uri: "/links/json", method: .get) { r in
                let v = try #require(try Self.json(r) as? [[String: Any]])
                #expect(v.count == 16)  // 4 fabric + 4 host links, both directions
                let up = try #require(v.first { $0["link"] as? String == "l1>s1" })
                #expect((up["utilization"] as? Double ?? 0) > 0)
                #expect(up["capacityBps"] as? Int == 100_000_000)
                #expect(up["sampleUtilization"] is Double || up["sampleUtilization"] is Int)
                #expect(up["elephants"] is [String])
            }
            try await c.execute(uri: "/links/history/json?link=l1%3Es1", method: .get) { r in
                let v = try #require(try Self.json(r) as? [String: Any])
                #expect((v["points"] as? [[Double]])?.count == 1)
            }
            try await c.execute(uri: "/elephants/json", method: .get) { r in
                let v = try #require(try Self.json(r) as? [[String: Any]])
                #expect(v.count == 1)  // one of the two moved to s2
                #expect((v[0]["path"] as? [String])?.contains("s2") == true)
                #expect((v[0]["switches"] as? [[String: Any]])?.first?["switch"] as? String == "l1")
                #expect(v[0]["since"] is Int)
            }
            try await c.execute(uri: "/decisions/json?after=0&maxDecisions=5", method: .get) { r in
                let v = try #require(try Self.json(r) as? [[String: Any]])
                #expect(v.count == 1)
                #expect(v[0]["id"] as? Int == 1 && v[0]["status"] as? String == "dry-run")
                #expect((v[0]["to"] as? [String])?.contains("s2") == true)
            }
            try await c.execute(uri: "/decisions/json?after=1", method: .get) { r in
                let list = try Self.json(r) as? [Any]
                #expect(list?.isEmpty == true)
            }
            try await c.execute(uri: "/events/json?eventID=0&maxEvents=100", method: .get) { r in
                let v = try #require(try Self.json(r) as? [[String: Any]])
                let types = v.compactMap { $0["type"] as? String }
                #expect(types.filter { $0 == "elephantStart" }.count == 2)
                #expect(types.contains("move"))
                #expect(v.compactMap { $0["eventID"] as? Int } == Array(1...v.count))
            }
            try await c.execute(uri: "/topology/json", method: .get) { r in
                let v = try #require(try Self.json(r) as? [String: Any])
                let sw = try #require(v["switches"] as? [[String: Any]])
                #expect(sw.count == 4)
                #expect(sw.first { $0["name"] as? String == "s1" }?["tier"] as? Int == 1)
                #expect(sw.first { $0["name"] as? String == "l1" }?["session"] as? String == "never connected")
                #expect((v["links"] as? [Any])?.count == 8 && (v["hosts"] as? [Any])?.count == 4)
            }
            try await c.execute(uri: "/policy", method: .get) { r in
                #expect(r.status == .ok)
                #expect(String(buffer: r.body).contains("selector"))
            }
            try await c.execute(uri: "/metrics", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType]?.hasPrefix("text/plain") == true)
            }
            try await c.execute(uri: "/", method: .get) { r in
                #expect(r.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(String(buffer: r.body).contains("/tusk.js"))
                #expect(!String(buffer: r.body).contains("http://") || String(buffer: r.body).contains("www.w3.org") == false)
            }
            try await c.execute(uri: "/tusk.js", method: .get) { r in
                #expect(String(buffer: r.body).contains("EventSource(\"/events/sse\")"))
            }
        }
    }

    /// `/metric` reads interface counters as a poller does: the octet delta over the agent's uptime
    /// delta, not counters plus the samples since (the control loop's faster, noisier view).
    @Test func interfaceMetricsAreTheCountersRates() async throws {
        let e = try await Self.loop()
        let clock = e.collectorClock
        let agent = IPAddress.v4(IPv4Address(192, 0, 2, 11))
        // Every time here is the test's own, not the clock's: how long the shared event loop takes to
        // run each task must not matter. The counters arrive 30 s after the helper's samples (their
        // part of the combined view has decayed to nothing by then); 40 new samples of port 3 follow
        // over half a second, and both views are read at the last of them.
        let (metric, combined) = try await e.loop.submit { () -> ([UInt8], Double) in
            let tc = Double(clock()) / 1e9 + 30
            // Port 3's counters: 25,000,000 octets out over 4 s of uptime = 50 Mbit/s = 50 %.
            for (i, (uptime, octets)) in [(UInt32(100_000), UInt64(1_000_000)), (104_000, 26_000_000)].enumerated() {
                var g = GenericInterfaceCounters()
                g.ifIndex = 3
                g.ifSpeed = 100_000_000
                g.ifStatus = 3
                g.ifOutOctets = octets
                let c = CounterSample(sequence: UInt32(i + 1), source: DataSource(type: 0, index: 3), records: [.genericInterface(g)])
                let bytes = SFlowEncoder.encode(SFlowDatagram(agent: agent, subAgentId: 1, sequence: UInt32(i + 1), uptime: uptime,
                                                              samples: [.counters(c)]))
                bytes.withUnsafeBytes { e.received($0, from: nil, timeNanos: UInt64(tc * 1e9)) }
            }
            guard case .v4(let s) = Self.a.src, case .v4(let d) = Self.a.dst else { return ([], -1) }
            let header = FrameBuilder.sampledIPv4Header(srcMac: MACAddress(0x0200_0000_0001), dstMac: MACAddress(0x0200_0000_0003),
                                                        src: s, dst: d, proto: 6, srcPort: Self.a.sport, dstPort: Self.a.dport, ipLength: 1482)
            for i in 0..<40 {
                let sample = FlowSample(sequence: UInt32(1000 + i), source: DataSource(type: 0, index: 1), samplingRate: 100,
                                        samplePool: UInt32(100 * (1000 + i)), drops: 0, input: .ifIndex(1), output: .ifIndex(3),
                                        records: [.rawPacketHeader(RawPacketHeader(headerProtocol: 1, frameLength: 1500, stripped: 4, header: header))])
                let bytes = SFlowEncoder.encode(SFlowDatagram(agent: agent, subAgentId: 0, sequence: UInt32(1000 + i), uptime: 104_100 + UInt32(i) * 10,
                                                              samples: [.flow(sample)]))
                bytes.withUnsafeBytes { e.received($0, from: nil, timeNanos: UInt64((tc + 0.0125 * Double(i + 1)) * 1e9)) }
            }
            let t = tc + 0.5
            let m = e.metricJSON(agents: nil, metrics: [("max", "ifoututilization", "max:ifoututilization")], at: t)
            let port3 = e.analytics.links(at: t).first { $0.port.ifIndex == 3 }
            return (m, port3?.outBps ?? -1)
        }.get()
        let v = try #require(try JSONSerialization.jsonObject(with: Data(metric)) as? [[String: Any]])
        let value = try #require(v.first?["metricValue"] as? Double)
        #expect(abs(value - 50) < 1e-6, "max:ifoututilization \(value) % should be the counters' 50 %")
        #expect(v.first?["dataSource"] as? String == "3")
        // The control loop's view adds the samples' change since the counters (the test would not
        // tell the two apart if they agreed): 40 samples of 1,500 bytes, 1 in 100, in half a second.
        #expect(combined > 50e6 + 1e6, "combined \(combined) bit/s")
    }

    @Test(arguments: [
        ("/nothing/here", HTTPResponse.Status.notFound),
        ("/activeflows/ALL/mice/json", .notFound),
        ("/activeflows/ALL/elephants/json?maxFlows=abc", .badRequest),
        ("/activeflows/ALL/elephants/json?maxFlows=0", .badRequest),
        ("/activeflows/ALL/elephants/json?maxFlows=99999999999", .badRequest),
        ("/activeflows/ALL/elephants/json?minValue=-1", .badRequest),
        ("/activeflows/ALL/elephants/json?minValue=nan", .badRequest),
        ("/activeflows/not-an-address/elephants/json", .badRequest),
        ("/metric/ALL/bogus:ifinutilization/json", .badRequest),
        ("/metric/ALL/max:nosuchmetric/json", .badRequest),
        ("/metric/ALL/max:a:b/json", .badRequest),
        ("/decisions/json?after=-3", .badRequest),
        ("/decisions/json?maxDecisions=x", .badRequest),
        ("/events/json?timeout=1000", .badRequest),
        ("/events/json?eventID=1.5", .badRequest),
        ("/events/sse?eventID=-1", .badRequest),
        ("/links/history/json", .badRequest),
        ("/links/history/json?link=x%3Ey", .notFound),
    ])
    func badRequestsGetA4xxWithAJSONError(uri: String, status: HTTPResponse.Status) async throws {
        let e = try await Self.loop()
        try await Self.app(e).test(.live) { c in
            try await c.execute(uri: uri, method: .get) { r in
                #expect(r.status == status)
                #expect(r.headers[.contentType] == "application/json")
                let v = try #require(try Self.json(r) as? [String: Any])
                #expect((v["error"] as? String)?.isEmpty == false)
                #expect(v["status"] as? Int == Int(status.code))
            }
            // Still serving.
            try await c.execute(uri: "/version", method: .get) { r in #expect(r.status == .ok) }
        }
    }

    @Test func policyWritesNeedTheToken() async throws {
        let e = try await Self.loop()
        let good = "selector:\n  algorithm: ecmp\n"
        try await Self.app(e).test(.live) { c in
            try await c.execute(uri: "/policy", method: .put, body: ByteBuffer(string: good)) { r in
                #expect(r.status == .unauthorized)
                #expect(r.headers[.wwwAuthenticate] == "Bearer")
            }
            try await c.execute(uri: "/policy", method: .put, headers: [.authorization: "Bearer wrong-token-0000000000"],
                                body: ByteBuffer(string: good)) { r in
                #expect(r.status == .forbidden)
            }
            try await c.execute(uri: "/policy", method: .put, headers: [.authorization: "Basic \(Self.token)"],
                                body: ByteBuffer(string: good)) { r in
                #expect(r.status == .forbidden)
            }
        }
        #expect(try await e.loop.submit { e.policy.algorithm }.get() != .ecmp)
    }

    @Test func anInvalidPolicyIsRefusedWithItsLineAndTheOldOneStays() async throws {
        let e = try await Self.loop()
        let before = try await e.loop.submit { e.policy.yaml }.get()
        try await Self.app(e).test(.live) { c in
            try await c.execute(uri: "/policy", method: .put, headers: [.authorization: "Bearer \(Self.token)"],
                                body: ByteBuffer(string: "selector:\n  algorithm: tusk\n  control-interval: banana\n")) { r in
                #expect(r.status == .badRequest)
                let v = try #require(try Self.json(r) as? [String: Any])
                let msg = try #require(v["error"] as? String)
                #expect(msg.hasPrefix("policy:3:"))
            }
            try await c.execute(uri: "/events/json", method: .get) { r in
                let v = try #require(try Self.json(r) as? [[String: Any]])
                #expect(v.contains { $0["type"] as? String == "policyReloadFailed" })
            }
        }
        #expect(try await e.loop.submit { e.policy.yaml }.get() == before)
    }

    @Test func aValidPolicyIsAppliedAndWrittenNowhere() async throws {
        let e = try await Self.loop()
        try await Self.app(e).test(.live) { c in
            try await c.execute(uri: "/policy", method: .put, headers: [.authorization: "Bearer \(Self.token)"],
                                body: ByteBuffer(string: "selector:\n  algorithm: ecmp\n")) { r in
                #expect(r.status == .ok)
                let v = try #require(try Self.json(r) as? [String: Any])
                #expect(v["applied"] as? Bool == true && v["algorithm"] as? String == "ecmp")
            }
            try await c.execute(uri: "/version", method: .get) { r in
                let v = try #require(try Self.json(r) as? [String: Any])
                #expect(v["policySource"] as? String == "PUT /policy" && v["algorithm"] as? String == "ecmp")
            }
        }
        #expect(try await e.loop.submit { e.policy.algorithm }.get() == .ecmp)
    }

    @Test func withoutATokenThereAreNoWrites() async throws {
        let e = try await Self.loop()
        try await Self.app(e, token: nil).test(.live) { c in
            try await c.execute(uri: "/policy", method: .put, headers: [.authorization: "Bearer \(Self.token)"],
                                body: ByteBuffer(string: "selector:\n  algorithm: ecmp\n")) { r in
                #expect(r.status.code >= 400 && r.status.code < 500)
                #expect(r.status != .ok)
            }
        }
        #expect(try await e.loop.submit { e.policy.algorithm }.get() != .ecmp)
    }

    @Test func aBigBodyIsRefusedWith413() async throws {
        let e = try await Self.loop()
        try await Self.app(e).test(.live) { c in
            try await c.execute(uri: "/policy", method: .put, headers: [.authorization: "Bearer \(Self.token)"],
                                body: ByteBuffer(repeating: UInt8(ascii: "#"), count: 10 << 20)) { r in
                #expect(r.status == .contentTooLarge)
                let v = try #require(try Self.json(r) as? [String: Any])
                #expect((v["error"] as? String)?.contains("too large") == true)
            }
        }
        #expect(try await e.loop.submit { e.policy.algorithm }.get() != .ecmp)
    }

    @Test func aLongPollReturnsWhenAnEventComes() async throws {
        let e = try await Self.loop()
        let latest = try await e.loop.submit { e.api.events.latestID }.get()
        try await Self.app(e).test(.live) { c in
            async let polled = c.execute(uri: "/events/json?eventID=\(latest)&timeout=60", method: .get) { r in
                try #require(try Self.json(r) as? [[String: Any]])
            }
            // The poll is waiting (or about to): an event arrives.
            try await e.loop.submit { e.apiEvent("portDown") }.get()
            let v = try await polled
            #expect(!v.isEmpty)
            #expect(v.allSatisfy { ($0["eventID"] as? Int ?? 0) > latest })
        }
    }

    @Test func theSSEFeedSendsEventsAsTheyHappen() async throws {
        let e = try await Self.loop()
        try await Self.app(e).test(.live) { c in
            let port = try #require(c.port)
            let s = try RawHTTPClient(port: port)
            try s.send("GET /events/sse HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n")
            let head = try s.read(until: "tusk events")
            #expect(head.contains("200 OK") && head.lowercased().contains("text/event-stream"))
            try await e.loop.submit { e.apiEvent("portDown") }.get()
            let body = try s.read(until: "\n\n", after: "event: portDown")
            #expect(body.contains("event: portDown"))
            #expect(body.contains("data: {\"eventID\":"))
            s.close()
            try await c.execute(uri: "/version", method: .get) { r in #expect(r.status == .ok) }
        }
    }
}

/// A blocking HTTP/1.1 client on a plain socket, for streams the test client would wait on forever.
final class RawHTTPClient {
    let fd: Int32
    var buffer = ""

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var tv = timeval(tv_sec: 30, tv_usec: 0)  // a safety net against a hang, not an assertion
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { throw HTTPAPIError("connect failed") }
    }

    func send(_ s: String) throws {
        let bytes = Array(s.utf8)
        guard bytes.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else { throw HTTPAPIError("send failed") }
    }

    /// Reads until `marker` has been seen (after `after`, if given); returns all read so far.
    func read(until marker: String, after: String? = nil) throws -> String {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let a = after, let r = buffer.range(of: a), buffer[r.upperBound...].contains(marker) { return buffer }
            if after == nil, buffer.contains(marker) { return buffer }
            let n = recv(fd, &chunk, chunk.count, 0)
            guard n > 0 else { throw HTTPAPIError("connection ended before \(marker): \(buffer)") }
            buffer += String(decoding: chunk[0..<n], as: UTF8.self)
        }
    }

    func close() { Glibc.close(fd) }
}
