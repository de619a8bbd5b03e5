// The scheduler interface. A scheduler decides where flows go in two ways, as in a real fabric:
//  - `forwarding`: what the switches do by themselves for a flow nobody has pinned (ECMP hashing,
//    or the ideal non-blocking switch used as the upper bound);
//  - a control loop (`timing`): every `interval` seconds `control(_:)` gets a measurement of the
//    interval just ended and returns commands that pin flows to explicit paths; the simulator applies
//    them `installDelay` seconds later, counting the flow-mods and the table entries they cost.
// Tusk's selector plugs in as a scheduler whose `observe(_:)` turns each interval of fluid rates into
// sFlow samples for the real analytics, and whose `control(_:)` runs the selector and programming.
import Packets
import Topology

/// Index of a flow in the run's flow list (sorted by start time).
public typealias FlowID = Int

/// How unpinned flows are forwarded.
public enum Forwarding: Hashable, Sendable {
    /// Hop-by-hop hashing over the equal-cost next hops; `salt` seeds every switch's hash.
    case ecmp(salt: UInt64)
    /// Every host on one ideal switch: only host links constrain.
    case nonBlocking
}

/// When the control loop runs, and how long its decisions take to reach the switches.
public struct ControlTiming: Hashable, Sendable {
    /// Seconds between control rounds (and the measurement interval each round sees).
    public var interval: Double
    /// Seconds from a decision to the switches forwarding by it (flow-mod install latency).
    public var installDelay: Double

    public init(interval: Double = 1.0, installDelay: Double = 0.005) {
        self.interval = interval
        self.installDelay = installDelay
    }
}

/// A control-loop decision.
public enum ControlCommand: Hashable, Sendable {
    /// Forward the flow over `path` (directed links, host uplink first) by exact-match entries on
    /// every switch of the path.
    case pin(FlowID, Path)
    /// Remove the flow's entries; it falls back to `forwarding`.
    case unpin(FlowID)
}

/// One active flow as a control round sees it.
public struct FlowMeasurement: Sendable {
    public var id: FlowID
    public var spec: FlowSpec
    /// Directed links the flow crosses now.
    public var path: [Int32]
    public var pinned: Bool
    /// Bytes sent during the last interval (exact fluid figure; an sFlow-based scheduler estimates it instead).
    public var bytesInInterval: Double
    /// Current rate, bits per second.
    public var rate: Double
}

/// What a control round sees: the interval just ended.
public struct MeasurementView: Sendable {
    public var time: Double
    /// Length of the measured interval, seconds.
    public var interval: Double
    public var network: SimNetwork
    /// Active flows, by id.
    public var flows: [FlowMeasurement]
    /// Bytes carried by each directed link during the interval.
    public var linkBytes: [Double]

    /// Mean utilisation of directed link `d` over the interval (0...1).
    public func utilization(_ d: Int) -> Double {
        interval > 0 ? linkBytes[d] * 8 / (network.capacities[d] * interval) : 0
    }
}

/// The rates in force between two events: the hook for sFlow synthesis (packet samples at 1-in-N
/// drawn from these rates, counter samples from the link byte counts).
public struct SegmentView {
    public var from: Double
    public var to: Double
    /// Active flows and their constant rates (bits/s) over [from, to).
    public var flows: [FlowID]
    public var rates: [Double]
    /// Each active flow's path (directed links).
    public var paths: [[Int32]]
    /// Rate (bits/s) of each directed link over [from, to); counters are the integral of these.
    public var linkRates: [Double]
    public var specs: [FlowSpec]
}

public protocol FlowScheduler {
    /// Name in results (`ecmp`, `nonblocking`, `tusk`, ...).
    var name: String { get }
    /// How the switches forward flows that are not pinned.
    var forwarding: Forwarding { get }
    /// The control loop's timing; nil for schedulers without a controller.
    var timing: ControlTiming? { get }
    /// True if `observe(_:)` wants every segment (building the view costs time otherwise not spent).
    var observesSegments: Bool { get }

    /// Called once before the run.
    mutating func start(network: SimNetwork, flows: [FlowSpec])
    /// Called for every interval of constant rates, in time order.
    mutating func observe(_ segment: SegmentView)
    /// Called every `timing.interval` seconds; returns the commands to install.
    mutating func control(_ view: MeasurementView) -> [ControlCommand]
}

extension FlowScheduler {
    public var timing: ControlTiming? { nil }
    public var observesSegments: Bool { false }
    public mutating func start(network: SimNetwork, flows: [FlowSpec]) {}
    public mutating func observe(_ segment: SegmentView) {}
    public mutating func control(_ view: MeasurementView) -> [ControlCommand] { [] }
}

/// Plain ECMP: per-flow hashing at every switch, no controller.
public struct ECMPScheduler: FlowScheduler {
    public var salt: UInt64
    public init(seed: UInt64) { salt = SplitMix64.mix(seed ^ 0xEC3B_0000_0000_0001) }
    public var name: String { "ecmp" }
    public var forwarding: Forwarding { .ecmp(salt: salt) }
}

/// The ideal non-blocking switch: the upper bound.
public struct NonBlockingScheduler: FlowScheduler {
    public init() {}
    public var name: String { "nonblocking" }
    public var forwarding: Forwarding { .nonBlocking }
}

/// Schedulers by name; the controller's selectors register here too.
public struct SchedulerCatalog: Sendable {
    public typealias Maker = @Sendable (_ seed: UInt64, _ timing: ControlTiming) -> any FlowScheduler
    public private(set) var names: [String] = []
    private var makers: [String: Maker] = [:]

    public init() {}

    /// `ecmp` and `nonblocking`.
    public static var builtIn: SchedulerCatalog {
        var c = SchedulerCatalog()
        c.register("ecmp") { seed, _ in ECMPScheduler(seed: seed) }
        c.register("nonblocking") { _, _ in NonBlockingScheduler() }
        c.registerClosedLoop() // tusk, gff, gff-oracle (ClosedLoop.swift)
        return c
    }

    public mutating func register(_ name: String, _ make: @escaping Maker) {
        if makers[name] == nil { names.append(name) }
        makers[name] = make
    }

    public func make(_ name: String, seed: UInt64, timing: ControlTiming = ControlTiming()) -> (any FlowScheduler)? {
        makers[name].map { $0(seed, timing) }
    }
}
