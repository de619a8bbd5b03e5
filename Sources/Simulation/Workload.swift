// Traffic for the simulator: Hedera's communication patterns (Al-Fares et al., NSDI 2010, §6.1) as
// long-lived flows, flow sizes from published empirical CDFs with Poisson arrivals, and trace replay.
// Every generator takes the seeded generator it may use; the same seed gives the same flows.
import Foundation
import Packets
import Topology

/// One flow to simulate. `bytes == nil`: long-lived, it sends until the end of the run.
public struct FlowSpec: Hashable, Sendable {
    public var src: HostID
    public var dst: HostID
    /// Start time, seconds.
    public var start: Double
    public var bytes: Double?
    /// The flow's 5-tuple (what switches hash and sFlow samples carry).
    public var key: FlowKey

    public init(src: HostID, dst: HostID, start: Double, bytes: Double?, key: FlowKey) {
        self.src = src
        self.dst = dst
        self.start = start
        self.bytes = bytes
        self.key = key
    }
}

/// A traffic pattern, as named on the command line.
public enum Workload: Hashable, Sendable, CustomStringConvertible {
    /// Host i sends to host (i + n) mod hosts.
    case stride(Int)
    /// Each host sends to a host on its own edge switch with probability `edge`, in its own pod
    /// (another edge switch) with probability `pod`, elsewhere otherwise.
    case staggered(edge: Double, pod: Double)
    /// Each host sends to a uniformly random other host.
    case random
    /// A random permutation without fixed points: every host sends to one and receives from one.
    case bijection
    /// Each host sends `n` flows to `n` distinct random other hosts.
    case randx(Int)
    /// A quarter of the hosts (at least one) are hot; every host sends to a random hot host
    /// (never itself), so hot receivers are shared by many senders.
    case hotspot
    /// Poisson arrivals at `load` (fraction of the total host capacity) with sizes from a CDF.
    case cdf(FlowSizeDistribution, load: Double)
    /// A CSV trace: `start,src,dst,bytes`.
    case trace(name: String, flows: [TraceFlow])

    public var description: String {
        switch self {
        case .stride(let n): "stride:\(n)"
        case .staggered(let e, let p): "staggered:\(Workload.num(e)):\(Workload.num(p))"
        case .random: "random"
        case .bijection: "bijection"
        case .randx(let n): "randx:\(n)"
        case .hotspot: "hotspot"
        case .cdf(let d, let load): "cdf:\(d.name):\(Workload.num(load))"
        case .trace(let name, _): name
        }
    }

    static func num(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : String(v)
    }

    /// Hedera's set: stride 1, 2, 4, 8; staggered (0.2, 0.3) and (0.5, 0.3); random; bijection;
    /// randx 2 and 4; hotspot.
    public static let hedera: [Workload] = [
        .stride(1), .stride(2), .stride(4), .stride(8),
        .staggered(edge: 0.2, pod: 0.3), .staggered(edge: 0.5, pod: 0.3),
        .random, .bijection, .randx(2), .randx(4), .hotspot,
    ]

    /// Parses one workload name (`stride:I`, `staggered:E:P`, `random`, `bijection`, `randx:N`,
    /// `hotspot`, `cdf:websearch:LOAD`, `cdf:datamining:LOAD`). `hedera` and trace files are
    /// handled by `Workload.parseList`.
    public init?(name: String) {
        let parts = name.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch (parts.first ?? "", parts.count) {
        case ("stride", 2):
            guard let n = Int(parts[1]), n >= 1 else { return nil }
            self = .stride(n)
        case ("staggered", 3):
            guard let e = Double(parts[1]), let p = Double(parts[2]), e >= 0, p >= 0, e + p <= 1 else { return nil }
            self = .staggered(edge: e, pod: p)
        case ("random", 1): self = .random
        case ("bijection", 1): self = .bijection
        case ("randx", 2):
            guard let n = Int(parts[1]), n >= 1 else { return nil }
            self = .randx(n)
        case ("hotspot", 1): self = .hotspot
        case ("cdf", 3):
            guard let d = FlowSizeDistribution.named(parts[1]), let load = Double(parts[2]), load > 0, load <= 1 else { return nil }
            self = .cdf(d, load: load)
        default: return nil
        }
    }

    /// Is this a set of long-lived flows (throughput is the figure), or finite flows (FCT too)?
    public var isLongLived: Bool {
        switch self {
        case .cdf: false
        case .trace(_, let flows): flows.allSatisfy { $0.bytes == nil }
        default: true
        }
    }

    /// The flows of this workload on `topology`, sorted by start time, for one seed.
    public func flows(on topology: Topology, duration: Double, rng: inout Xoshiro256) -> [FlowSpec] {
        let n = topology.hosts.count
        guard n >= 2 else { return [] }
        var pairs: [(Int, Int)] = []
        switch self {
        case .stride(let s):
            for i in 0..<n where (i + s) % n != i { pairs.append((i, (i + s) % n)) }
        case .staggered(let pe, let pp):
            let groups = HostGroups(topology)
            for i in 0..<n {
                let r = rng.nextDouble()
                var dst: Int?
                if r < pe || r < pe + pp {
                    let pool = r < pe ? groups.sameEdge[i] : groups.samePod[i]
                    if !pool.isEmpty { dst = pool[rng.nextInt(pool.count)] }
                } else {
                    dst = groups.farHost(from: i, &rng)
                }
                // An empty class (a pod of one edge switch, say) falls back to any other host.
                pairs.append((i, dst ?? Workload.other(than: i, n, &rng)))
            }
        case .random:
            for i in 0..<n { pairs.append((i, Workload.other(than: i, n, &rng))) }
        case .bijection:
            var perm = Array(0..<n)
            repeat { rng.shuffle(&perm) } while perm.enumerated().contains { $0.offset == $0.element }
            for i in 0..<n { pairs.append((i, perm[i])) }
        case .randx(let x):
            let m = min(x, n - 1)
            for i in 0..<n {
                var chosen: [Int] = []
                while chosen.count < m {
                    let d = Workload.other(than: i, n, &rng)
                    if !chosen.contains(d) { chosen.append(d) }
                }
                for d in chosen { pairs.append((i, d)) }
            }
        case .hotspot:
            var all = Array(0..<n)
            rng.shuffle(&all)
            let hot = Array(all.prefix(max(1, n / 4))).sorted()
            for i in 0..<n {
                let pool = hot.filter { $0 != i }
                guard !pool.isEmpty else { continue }
                pairs.append((i, pool[rng.nextInt(pool.count)]))
            }
        case .cdf(let dist, let load):
            return Workload.poisson(dist, load: load, topology: topology, duration: duration, rng: &rng)
        case .trace(_, let flows):
            var out: [FlowSpec] = []
            for (i, f) in flows.enumerated() {
                guard let s = topology.hostID(named: f.src), let d = topology.hostID(named: f.dst) else { continue }
                out.append(Workload.spec(s.index, d.index, start: f.start, bytes: f.bytes, topology, port: UInt16(truncatingIfNeeded: 10_000 + i)))
            }
            return out.enumerated().sorted { ($0.element.start, $0.offset) < ($1.element.start, $1.offset) }.map(\.element)
        }
        return pairs.map { (s, d) in
            Workload.spec(s, d, start: 0, bytes: nil, topology, port: UInt16(32_768 + rng.nextInt(28_232)))
        }
    }

    static func other(than i: Int, _ n: Int, _ rng: inout Xoshiro256) -> Int {
        let d = rng.nextInt(n - 1)
        return d >= i ? d + 1 : d
    }

    static func spec(_ s: Int, _ d: Int, start: Double, bytes: Double?, _ t: Topology, port: UInt16) -> FlowSpec {
        let key = FlowKey(src: .v4(t.hosts[s].ipv4), dst: .v4(t.hosts[d].ipv4), proto: IPProtocolNumber.tcp, sport: port, dport: 5201)
        return FlowSpec(src: HostID(s), dst: HostID(d), start: start, bytes: bytes, key: key)
    }

    static func poisson(_ dist: FlowSizeDistribution, load: Double, topology: Topology, duration: Double,
                        rng: inout Xoshiro256) -> [FlowSpec] {
        let n = topology.hosts.count
        // Offered load = arrival rate × mean size, as a fraction of what all hosts can send.
        let bitsPerSecond = load * Double(topology.totalHostCapacity)
        let rate = bitsPerSecond / (8 * dist.meanBytes)
        guard rate > 0, rate.isFinite else { return [] }
        var out: [FlowSpec] = []
        var t = rng.nextExponential(mean: 1 / rate)
        var i = 0
        while t < duration, out.count < 5_000_000 {
            let s = rng.nextInt(n)
            let d = other(than: s, n, &rng)
            let size = dist.sample(&rng)
            out.append(spec(s, d, start: t, bytes: size, topology, port: UInt16(truncatingIfNeeded: 1024 + i % 64_000)))
            t += rng.nextExponential(mean: 1 / rate)
            i += 1
        }
        return out
    }
}

/// Hosts grouped by locality, for the staggered pattern: same edge switch, same pod (a switch two
/// hops away, i.e. through an aggregation switch), or farther. Only the two near classes are listed
/// (they are small); a farther host is drawn by rejection.
struct HostGroups {
    var sameEdge: [[Int]]
    var samePod: [[Int]]
    private var podOf: [Int32] // per host: its switch index
    private let routing: RoutingTable
    private var hasFar: [Bool]

    init(_ t: Topology) {
        routing = RoutingTable(t)
        let n = t.hosts.count
        podOf = t.hosts.map { Int32($0.attachment.switchID.index) }
        var bySwitch: [Int: [Int]] = [:]
        for i in 0..<n { bySwitch[t.hosts[i].attachment.switchID.index, default: []].append(i) }
        let switches = bySwitch.keys.sorted()
        var edgeOf: [Int: [Int]] = [:], podHosts: [Int: [Int]] = [:], far: [Int: Bool] = [:]
        for a in switches {
            var near: [Int] = []
            var anyFar = false
            for b in switches where b != a {
                let d = routing.distance(from: SwitchID(a), to: SwitchID(b)) ?? .max
                if d <= 2 { near += bySwitch[b]! } else { anyFar = true }
            }
            edgeOf[a] = bySwitch[a]!
            podHosts[a] = near
            far[a] = anyFar
        }
        sameEdge = (0..<n).map { i in edgeOf[Int(t.hosts[i].attachment.switchID.index)]!.filter { $0 != i } }
        samePod = (0..<n).map { i in podHosts[Int(t.hosts[i].attachment.switchID.index)]! }
        hasFar = (0..<n).map { i in far[Int(t.hosts[i].attachment.switchID.index)]! }
    }

    /// A host more than two switch hops from `i`'s switch, or nil if there is none.
    func farHost(from i: Int, _ rng: inout Xoshiro256) -> Int? {
        guard hasFar[i] else { return nil }
        let n = podOf.count
        while true {
            let j = rng.nextInt(n)
            let d = routing.distance(from: SwitchID(Int(podOf[i])), to: SwitchID(Int(podOf[j]))) ?? .max
            if j != i, d > 2 { return j }
        }
    }
}

/// An empirical flow-size distribution: a piecewise-linear CDF over bytes.
public struct FlowSizeDistribution: Hashable, Sendable {
    public var name: String
    /// (bytes, cumulative probability), increasing, ending at probability 1.
    public var points: [(bytes: Double, p: Double)]

    public static func == (a: Self, b: Self) -> Bool { a.name == b.name }
    public func hash(into h: inout Hasher) { h.combine(name) }

    /// Web search, from DCTCP (Alizadeh et al., SIGCOMM 2010, Fig. 4), as tabulated with the
    /// pFabric and empirical-traffic-gen tools; the (0, 0) origin is one 1460-byte segment here.
    public static let webSearch = FlowSizeDistribution(name: "websearch", points: [
        (1460, 0), (10_000, 0.15), (20_000, 0.2), (30_000, 0.3), (50_000, 0.4), (80_000, 0.53),
        (200_000, 0.6), (1_000_000, 0.7), (2_000_000, 0.8), (5_000_000, 0.9), (10_000_000, 0.97),
        (30_000_000, 1),
    ])

    /// Data mining, from VL2 (Greenberg et al., SIGCOMM 2009, Fig. 2), as tabulated with pFabric;
    /// the origin is 100 bytes.
    public static let dataMining = FlowSizeDistribution(name: "datamining", points: [
        (100, 0), (180, 0.1), (216, 0.2), (560, 0.3), (900, 0.4), (1100, 0.5), (1870, 0.6),
        (3160, 0.7), (10_000, 0.8), (400_000, 0.9), (3_160_000, 0.95), (100_000_000, 0.98),
        (1_000_000_000, 1),
    ])

    public static func named(_ s: String) -> FlowSizeDistribution? {
        switch s {
        case "websearch": webSearch
        case "datamining": dataMining
        default: nil
        }
    }

    /// Inverse-CDF sampling with linear interpolation between points.
    public func sample(_ rng: inout Xoshiro256) -> Double {
        let u = rng.nextDouble()
        for i in 1..<points.count where u <= points[i].p {
            let (b0, p0) = points[i - 1], (b1, p1) = points[i]
            let f = p1 > p0 ? (u - p0) / (p1 - p0) : 0
            return (b0 + f * (b1 - b0)).rounded()
        }
        return points[points.count - 1].bytes
    }

    /// Mean of the piecewise-linear distribution.
    public var meanBytes: Double {
        var m = 0.0
        for i in 1..<points.count {
            m += (points[i].p - points[i - 1].p) * (points[i].bytes + points[i - 1].bytes) / 2
        }
        return m
    }
}

/// One line of a trace file.
public struct TraceFlow: Hashable, Sendable {
    public var start: Double
    public var src: String
    public var dst: String
    public var bytes: Double?
}

public struct TraceError: Error, CustomStringConvertible, Sendable {
    public var line: Int
    public var message: String
    public var description: String { "line \(line): \(message)" }
}

extension Workload {
    /// Parses a trace: header `start,src,dst,bytes`, then one flow a line; `start` in seconds,
    /// hosts by name, `bytes` empty for a flow that lasts until the end of the run. Host names are
    /// checked against `topology` when one is given.
    public static func parseTrace(_ text: String, name: String, topology: Topology? = nil) throws(TraceError) -> Workload {
        var flows: [TraceFlow] = []
        var sawHeader = false
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let cols = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if !sawHeader {
                guard cols == ["start", "src", "dst", "bytes"] else {
                    throw TraceError(line: i + 1, message: "expected the header start,src,dst,bytes")
                }
                sawHeader = true
                continue
            }
            guard cols.count == 4 else { throw TraceError(line: i + 1, message: "expected 4 columns, got \(cols.count)") }
            guard let start = Double(cols[0]), start.isFinite, start >= 0 else {
                throw TraceError(line: i + 1, message: "start '\(cols[0])' is not a time in seconds")
            }
            var bytes: Double?
            if !cols[3].isEmpty {
                guard let b = Double(cols[3]), b.isFinite, b > 0 else {
                    throw TraceError(line: i + 1, message: "bytes '\(cols[3])' is not a positive size")
                }
                bytes = b
            }
            if let t = topology {
                for h in [cols[1], cols[2]] where t.hostID(named: h) == nil {
                    throw TraceError(line: i + 1, message: "unknown host '\(h)'")
                }
            }
            guard cols[1] != cols[2] else { throw TraceError(line: i + 1, message: "a flow from \(cols[1]) to itself") }
            flows.append(TraceFlow(start: start, src: cols[1], dst: cols[2], bytes: bytes))
        }
        guard sawHeader else { throw TraceError(line: 1, message: "empty trace (expected the header start,src,dst,bytes)") }
        return .trace(name: name, flows: flows)
    }
}
