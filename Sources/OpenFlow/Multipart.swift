// Multipart requests and replies (OF 1.3.5 §7.3.5). The types Tusk uses are modelled; the rest
// (queue config, table features, experimenter bodies...) keep their body raw and re-encode exactly.

import NIOCore
import Packets

/// `ofp_flow_stats_request` / `ofp_aggregate_stats_request` (OF 1.3.5 §7.3.5.2, §7.3.5.3).
public struct FlowStatsRequest: Hashable, Sendable {
    public var tableID: UInt8
    public var outPort: PortNumber
    public var outGroup: GroupID
    public var cookie: UInt64
    public var cookieMask: UInt64
    public var match: OpenFlowMatch
    /// `tableID` 0xFF is `OFPTT_ALL`.
    public init(tableID: UInt8 = 0xFF, outPort: PortNumber = .any, outGroup: GroupID = .any, cookie: UInt64 = 0,
                cookieMask: UInt64 = 0, match: OpenFlowMatch = []) {
        self.tableID = tableID
        self.outPort = outPort
        self.outGroup = outGroup
        self.cookie = cookie
        self.cookieMask = cookieMask
        self.match = match
    }
}

/// `ofp_desc` (OF 1.3.5 §7.3.5.1).
public struct SwitchDescription: Hashable, Sendable {
    public var manufacturer: FixedString
    public var hardware: FixedString
    public var software: FixedString
    public var serialNumber: FixedString
    public var datapath: FixedString
    public init(manufacturer: String, hardware: String, software: String, serialNumber: String, datapath: String) {
        self.manufacturer = FixedString(manufacturer, width: 256)
        self.hardware = FixedString(hardware, width: 256)
        self.software = FixedString(software, width: 256)
        self.serialNumber = FixedString(serialNumber, width: 32)
        self.datapath = FixedString(datapath, width: 256)
    }
    init(wire m: FixedString, _ h: FixedString, _ s: FixedString, _ n: FixedString, _ d: FixedString) {
        manufacturer = m; hardware = h; software = s; serialNumber = n; datapath = d
    }
}

/// `ofp_flow_stats` (OF 1.3.5 §7.3.5.2).
public struct FlowStats: Hashable, Sendable {
    public var tableID: UInt8
    public var durationSec: UInt32
    public var durationNsec: UInt32
    public var priority: UInt16
    public var idleTimeout: UInt16
    public var hardTimeout: UInt16
    public var flags: FlowModFlags
    public var cookie: UInt64
    public var packetCount: UInt64
    public var byteCount: UInt64
    public var match: OpenFlowMatch
    public var instructions: [OpenFlowInstruction]
    public init(tableID: UInt8, durationSec: UInt32, durationNsec: UInt32, priority: UInt16, idleTimeout: UInt16,
                hardTimeout: UInt16, flags: FlowModFlags, cookie: UInt64, packetCount: UInt64, byteCount: UInt64,
                match: OpenFlowMatch, instructions: [OpenFlowInstruction]) {
        self.tableID = tableID
        self.durationSec = durationSec
        self.durationNsec = durationNsec
        self.priority = priority
        self.idleTimeout = idleTimeout
        self.hardTimeout = hardTimeout
        self.flags = flags
        self.cookie = cookie
        self.packetCount = packetCount
        self.byteCount = byteCount
        self.match = match
        self.instructions = instructions
    }
}

/// `ofp_aggregate_stats_reply` (OF 1.3.5 §7.3.5.3).
public struct AggregateStats: Hashable, Sendable {
    public var packetCount: UInt64
    public var byteCount: UInt64
    public var flowCount: UInt32
    public init(packetCount: UInt64, byteCount: UInt64, flowCount: UInt32) {
        self.packetCount = packetCount
        self.byteCount = byteCount
        self.flowCount = flowCount
    }
}

/// `ofp_table_stats` (OF 1.3.5 §7.3.5.4).
public struct TableStats: Hashable, Sendable {
    public var tableID: UInt8
    public var activeCount: UInt32
    public var lookupCount: UInt64
    public var matchedCount: UInt64
    public init(tableID: UInt8, activeCount: UInt32, lookupCount: UInt64, matchedCount: UInt64) {
        self.tableID = tableID
        self.activeCount = activeCount
        self.lookupCount = lookupCount
        self.matchedCount = matchedCount
    }
}

/// `ofp_port_stats` (OF 1.3.5 §7.3.5.6): the counters Tusk reads link utilisation from.
public struct PortStats: Hashable, Sendable {
    public var portNumber: PortNumber
    public var rxPackets: UInt64
    public var txPackets: UInt64
    public var rxBytes: UInt64
    public var txBytes: UInt64
    public var rxDropped: UInt64
    public var txDropped: UInt64
    public var rxErrors: UInt64
    public var txErrors: UInt64
    public var rxFrameErrors: UInt64
    public var rxOverErrors: UInt64
    public var rxCRCErrors: UInt64
    public var collisions: UInt64
    public var durationSec: UInt32
    public var durationNsec: UInt32
    public init(portNumber: PortNumber, rxPackets: UInt64 = 0, txPackets: UInt64 = 0, rxBytes: UInt64 = 0,
                txBytes: UInt64 = 0, rxDropped: UInt64 = 0, txDropped: UInt64 = 0, rxErrors: UInt64 = 0,
                txErrors: UInt64 = 0, rxFrameErrors: UInt64 = 0, rxOverErrors: UInt64 = 0, rxCRCErrors: UInt64 = 0,
                collisions: UInt64 = 0, durationSec: UInt32 = 0, durationNsec: UInt32 = 0) {
        self.portNumber = portNumber
        self.rxPackets = rxPackets
        self.txPackets = txPackets
        self.rxBytes = rxBytes
        self.txBytes = txBytes
        self.rxDropped = rxDropped
        self.txDropped = txDropped
        self.rxErrors = rxErrors
        self.txErrors = txErrors
        self.rxFrameErrors = rxFrameErrors
        self.rxOverErrors = rxOverErrors
        self.rxCRCErrors = rxCRCErrors
        self.collisions = collisions
        self.durationSec = durationSec
        self.durationNsec = durationNsec
    }
}

/// `ofp_group_stats` (OF 1.3.5 §7.3.5.9) with its `ofp_bucket_counter`s.
public struct GroupStats: Hashable, Sendable {
    public struct BucketCounter: Hashable, Sendable {
        public var packetCount: UInt64
        public var byteCount: UInt64
        public init(packetCount: UInt64, byteCount: UInt64) {
            self.packetCount = packetCount
            self.byteCount = byteCount
        }
    }
    public var groupID: GroupID
    public var refCount: UInt32
    public var packetCount: UInt64
    public var byteCount: UInt64
    public var durationSec: UInt32
    public var durationNsec: UInt32
    public var bucketStats: [BucketCounter]
    public init(groupID: GroupID, refCount: UInt32, packetCount: UInt64, byteCount: UInt64, durationSec: UInt32,
                durationNsec: UInt32, bucketStats: [BucketCounter]) {
        self.groupID = groupID
        self.refCount = refCount
        self.packetCount = packetCount
        self.byteCount = byteCount
        self.durationSec = durationSec
        self.durationNsec = durationNsec
        self.bucketStats = bucketStats
    }
}

/// `ofp_group_desc` (OF 1.3.5 §7.3.5.10).
public struct GroupDescription: Hashable, Sendable {
    public var type: GroupType
    public var groupID: GroupID
    public var buckets: [Bucket]
    public init(type: GroupType, groupID: GroupID, buckets: [Bucket]) {
        self.type = type
        self.groupID = groupID
        self.buckets = buckets
    }
}

/// `ofp_group_features` (OF 1.3.5 §7.3.5.11).
public struct GroupFeatures: Hashable, Sendable {
    public var types: UInt32
    public var capabilities: UInt32
    /// Indexed by group type: all, select, indirect, fast failover.
    public var maxGroups: [UInt32]
    public var actions: [UInt32]
    public init(types: UInt32, capabilities: UInt32, maxGroups: [UInt32], actions: [UInt32]) {
        self.types = types
        self.capabilities = capabilities
        self.maxGroups = maxGroups
        self.actions = actions
    }
}

/// `ofp_meter_stats` (OF 1.3.5 §7.3.5.12) with its `ofp_meter_band_stats`.
public struct MeterStats: Hashable, Sendable {
    public struct BandStats: Hashable, Sendable {
        public var packetBandCount: UInt64
        public var byteBandCount: UInt64
        public init(packetBandCount: UInt64, byteBandCount: UInt64) {
            self.packetBandCount = packetBandCount
            self.byteBandCount = byteBandCount
        }
    }
    public var meterID: MeterID
    public var flowCount: UInt32
    public var packetInCount: UInt64
    public var byteInCount: UInt64
    public var durationSec: UInt32
    public var durationNsec: UInt32
    public var bandStats: [BandStats]
    public init(meterID: MeterID, flowCount: UInt32, packetInCount: UInt64, byteInCount: UInt64,
                durationSec: UInt32, durationNsec: UInt32, bandStats: [BandStats]) {
        self.meterID = meterID
        self.flowCount = flowCount
        self.packetInCount = packetInCount
        self.byteInCount = byteInCount
        self.durationSec = durationSec
        self.durationNsec = durationNsec
        self.bandStats = bandStats
    }
}

/// `ofp_meter_config` (OF 1.3.5 §7.3.5.13).
public struct MeterConfig: Hashable, Sendable {
    public var flags: MeterFlags
    public var meterID: MeterID
    public var bands: [MeterBand]
    public init(flags: MeterFlags, meterID: MeterID, bands: [MeterBand]) {
        self.flags = flags
        self.meterID = meterID
        self.bands = bands
    }
}

/// `ofp_meter_features` (OF 1.3.5 §7.3.5.14).
public struct MeterFeatures: Hashable, Sendable {
    public var maxMeter: UInt32
    public var bandTypes: UInt32
    public var capabilities: UInt32
    public var maxBands: UInt8
    public var maxColor: UInt8
    public init(maxMeter: UInt32, bandTypes: UInt32, capabilities: UInt32, maxBands: UInt8, maxColor: UInt8) {
        self.maxMeter = maxMeter
        self.bandTypes = bandTypes
        self.capabilities = capabilities
        self.maxBands = maxBands
        self.maxColor = maxColor
    }
}

/// `ofp_queue_stats` (OF 1.3.5 §7.3.5.8).
public struct QueueStats: Hashable, Sendable {
    public var portNumber: PortNumber
    public var queueID: UInt32
    public var txBytes: UInt64
    public var txPackets: UInt64
    public var txErrors: UInt64
    public var durationSec: UInt32
    public var durationNsec: UInt32
    public init(portNumber: PortNumber, queueID: UInt32, txBytes: UInt64, txPackets: UInt64, txErrors: UInt64,
                durationSec: UInt32, durationNsec: UInt32) {
        self.portNumber = portNumber
        self.queueID = queueID
        self.txBytes = txBytes
        self.txPackets = txPackets
        self.txErrors = txErrors
        self.durationSec = durationSec
        self.durationNsec = durationNsec
    }
}

/// The body of a multipart request, by `ofp_multipart_type`.
public enum MultipartRequestBody: Hashable, Sendable {
    case desc
    case flow(FlowStatsRequest)
    case aggregate(FlowStatsRequest)
    case table
    /// `.any` for every port.
    case portStats(PortNumber)
    case queue(port: PortNumber, queueID: UInt32)
    /// `.all` for every group.
    case group(GroupID)
    case groupDesc
    case groupFeatures
    /// `.all` for every meter.
    case meter(MeterID)
    case meterConfig(MeterID)
    case meterFeatures
    case portDesc
    /// `ofp_experimenter_multipart_header`: experimenter, exp_type, then data kept raw.
    case experimenter(experimenter: UInt32, expType: UInt32, data: ByteBuffer)
    /// Any other type (table features...), body as it came.
    case other(type: MultipartType, body: ByteBuffer)

    public var type: MultipartType {
        switch self {
        case .desc: .desc
        case .flow: .flow
        case .aggregate: .aggregate
        case .table: .table
        case .portStats: .portStats
        case .queue: .queue
        case .group: .group
        case .groupDesc: .groupDesc
        case .groupFeatures: .groupFeatures
        case .meter: .meter
        case .meterConfig: .meterConfig
        case .meterFeatures: .meterFeatures
        case .portDesc: .portDesc
        case .experimenter: .experimenter
        case .other(let t, _): t
        }
    }
}

/// The body of a multipart reply, by `ofp_multipart_type`.
public enum MultipartReplyBody: Hashable, Sendable {
    case desc(SwitchDescription)
    case flow([FlowStats])
    case aggregate(AggregateStats)
    case table([TableStats])
    case portStats([PortStats])
    case queue([QueueStats])
    case group([GroupStats])
    case groupDesc([GroupDescription])
    case groupFeatures(GroupFeatures)
    case meter([MeterStats])
    case meterConfig([MeterConfig])
    case meterFeatures(MeterFeatures)
    case portDesc([SwitchPort])
    case experimenter(experimenter: UInt32, expType: UInt32, data: ByteBuffer)
    case other(type: MultipartType, body: ByteBuffer)

    public var type: MultipartType {
        switch self {
        case .desc: .desc
        case .flow: .flow
        case .aggregate: .aggregate
        case .table: .table
        case .portStats: .portStats
        case .queue: .queue
        case .group: .group
        case .groupDesc: .groupDesc
        case .groupFeatures: .groupFeatures
        case .meter: .meter
        case .meterConfig: .meterConfig
        case .meterFeatures: .meterFeatures
        case .portDesc: .portDesc
        case .experimenter: .experimenter
        case .other(let t, _): t
        }
    }
}

/// `OFPT_MULTIPART_REQUEST` (OF 1.3.5 §7.3.5).
public struct MultipartRequest: Hashable, Sendable {
    public var flags: MultipartFlags
    public var body: MultipartRequestBody
    public init(flags: MultipartFlags = [], body: MultipartRequestBody) {
        self.flags = flags
        self.body = body
    }
}

/// `OFPT_MULTIPART_REPLY` (OF 1.3.5 §7.3.5).
public struct MultipartReply: Hashable, Sendable {
    public var flags: MultipartFlags
    public var body: MultipartReplyBody
    public init(flags: MultipartFlags = [], body: MultipartReplyBody) {
        self.flags = flags
        self.body = body
    }
}
