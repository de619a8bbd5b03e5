import Packets

/// Which flow-key fields identify a flow in the cache. The default is the IP 5-tuple.
public struct FlowKeySpec: Hashable, Sendable, CustomStringConvertible {
    public var src = true
    public var dst = true
    public var proto = true
    public var sport = true
    public var dport = true

    public init(src: Bool = true, dst: Bool = true, proto: Bool = true, sport: Bool = true, dport: Bool = true) {
        self.src = src
        self.dst = dst
        self.proto = proto
        self.sport = sport
        self.dport = dport
    }

    public static let fiveTuple = FlowKeySpec()
    public static let ipPair = FlowKeySpec(proto: false, sport: false, dport: false)

    /// Parses `5tuple`, `ippair`, or a comma list of `src,dst,proto,sport,dport`.
    public static func parse(_ text: String) -> FlowKeySpec? {
        switch text.lowercased() {
        case "5tuple", "5-tuple", "fivetuple": return .fiveTuple
        case "ippair", "ip-pair": return .ipPair
        default:
            var s = FlowKeySpec(src: false, dst: false, proto: false, sport: false, dport: false)
            for f in text.lowercased().split(separator: ",") {
                switch String(f).trimming(" ") {
                case "src": s.src = true
                case "dst": s.dst = true
                case "proto": s.proto = true
                case "sport": s.sport = true
                case "dport": s.dport = true
                default: return nil
                }
            }
            return s == FlowKeySpec(src: false, dst: false, proto: false, sport: false, dport: false) ? nil : s
        }
    }

    public var description: String {
        if self == .fiveTuple { return "5tuple" }
        if self == .ipPair { return "ippair" }
        return [("src", src), ("dst", dst), ("proto", proto), ("sport", sport), ("dport", dport)]
            .filter(\.1).map(\.0).joined(separator: ",")
    }

    /// The key with the fields outside the spec zeroed.
    @inline(__always)
    public func project(_ k: FlowKey) -> FlowKey {
        if self == .fiveTuple { return k }
        let zero = IPAddress.v4(IPv4Address(0))
        return FlowKey(src: src ? k.src : zero, dst: dst ? k.dst : zero, proto: proto ? k.proto : 0,
                       sport: sport ? k.sport : 0, dport: dport ? k.dport : 0)
    }
}

/// Settings of the analytics engine. Defaults are the documented ones (docs/analytics.md).
public struct AnalyticsConfig: Sendable {
    public var keySpec = FlowKeySpec.fiveTuple
    /// Smoothing time constant τ of the rate estimates, seconds.
    public var timeConstant = 2.0
    /// A young flow's rate is taken over at least this window, seconds.
    public var minWindow = 0.25
    /// Most flows tracked; beyond it the least recently seen is evicted.
    public var maxFlows = 1_000_000
    /// A flow unseen for this long is dropped, seconds.
    public var idleTimeout = 10.0
    /// Elephant threshold: a share of the speed of the link the flow enters, or an absolute rate.
    public var threshold = RateSpec.shareOfLink(0.10)
    /// A flow stays an elephant until it falls below this fraction of the threshold ...
    public var lowMarkFraction = 0.8
    /// ... for this long, seconds.
    public var holdTime = 2.0
    /// Samples needed behind an estimate before a flow can become an elephant.
    public var minSamples = 3.0
    /// An observation point that has not sampled a flow for this long (and for five of its
    /// expected gaps between samples) no longer counts in the flow's estimate, seconds. Agents
    /// send samples at least once a second.
    public var pointTimeout = 1.5
    /// A flow's link is forgotten when the flow was not seen on it for this long, seconds.
    public var linkTimeout = 4.0
    /// Speed used for every link instead of ifSpeed (shaped and virtual links report wrong speeds).
    public var linkSpeedOverride: Double?
    /// Speed assumed when neither ifSpeed nor an override is known, bits per second.
    public var defaultLinkSpeed = 1e9
    /// Seed of the flow index's hash (the daemon picks one at start-up; fixed elsewhere, so that
    /// runs are reproducible).
    public var hashSeed: UInt64 = 0x7475_736B_666C_6F77

    public init() {}
}
