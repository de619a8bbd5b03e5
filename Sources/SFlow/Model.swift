import Packets

// The sFlow version 5 datagram model (sflow.org, "sFlow Version 5", July 2004, and the
// structure extensions it names: sflow_host, sflow_lag, sflow_openflow, sflow_80211 …).
// Every structure keeps what it does not understand: unknown sample and record formats are kept
// as their raw bytes so they survive a decode/encode round trip and can be counted.

/// `data_format`: enterprise in the top 20 bits, format in the low 12 (sFlow v5 §"Data format").
public struct DataFormat: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32

    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    @inlinable public init(enterprise: UInt32 = 0, format: UInt32) {
        rawValue = (enterprise & 0xFFFFF) << 12 | (format & 0xFFF)
    }

    @inlinable public var enterprise: UInt32 { rawValue >> 12 }
    @inlinable public var format: UInt32 { rawValue & 0xFFF }

    public var description: String { enterprise == 0 ? "\(format)" : "\(enterprise):\(format)" }

    // Sample formats (enterprise 0).
    public static let flowSample = DataFormat(format: 1)
    public static let counterSample = DataFormat(format: 2)
    public static let expandedFlowSample = DataFormat(format: 3)
    public static let expandedCounterSample = DataFormat(format: 4)

    // Flow record formats.
    public static let rawPacketHeader = DataFormat(format: 1)
    public static let ethernetFrameData = DataFormat(format: 2)
    public static let ipv4Data = DataFormat(format: 3)
    public static let ipv6Data = DataFormat(format: 4)
    public static let extendedSwitch = DataFormat(format: 1001)
    public static let extendedRouter = DataFormat(format: 1002)
    public static let extendedGateway = DataFormat(format: 1003)

    // Counter record formats.
    public static let genericInterface = DataFormat(format: 1)
    public static let ethernetInterface = DataFormat(format: 2)
    public static let vlanCounters = DataFormat(format: 5)
    public static let lacpCounters = DataFormat(format: 7)
    public static let processor = DataFormat(format: 1001)
    public static let openFlowPort = DataFormat(format: 1004)
    public static let portName = DataFormat(format: 1005)
    public static let hostDescription = DataFormat(format: 2000)
    public static let hostAdapters = DataFormat(format: 2001)
    public static let hostCPU = DataFormat(format: 2003)
    public static let hostMemory = DataFormat(format: 2004)
}

/// One datagram as a collector receives it.
public struct SFlowDatagram: Sendable, Equatable {
    public var version: UInt32
    public var agent: IPAddress
    public var subAgentId: UInt32
    /// The datagram sequence number, per agent and sub-agent.
    public var sequence: UInt32
    /// Milliseconds since the agent booted.
    public var uptime: UInt32
    public var samples: [SFlowSample]

    public init(agent: IPAddress, subAgentId: UInt32, sequence: UInt32, uptime: UInt32,
                samples: [SFlowSample], version: UInt32 = 5) {
        self.version = version
        self.agent = agent
        self.subAgentId = subAgentId
        self.sequence = sequence
        self.uptime = uptime
        self.samples = samples
    }
}

public enum SFlowSample: Sendable, Equatable {
    case flow(FlowSample)
    case counters(CounterSample)
    /// An enterprise or format this decoder does not know, kept whole.
    case unknown(format: DataFormat, data: [UInt8])
}

/// `sflow_data_source`: a type (0 ifIndex, 1 smonVlanDataSource, 2 entPhysicalEntry) and an index.
public struct DataSource: Hashable, Sendable, CustomStringConvertible {
    public var type: UInt32
    public var index: UInt32

    public init(type: UInt32, index: UInt32) {
        self.type = type
        self.index = index
    }

    public var description: String { "\(type):\(index)" }
}

/// `interface` / `interface_expanded` (sFlow v5 flow_sample): the format sits in the top two bits
/// of the compact form.
public struct SFlowInterface: Hashable, Sendable {
    /// 0: a single ifIndex; 1: packet discarded, value is the reason; 2: several interfaces,
    /// value is their count (0 = unknown). The value 0x3FFFFFFF in format 0 means the device itself.
    public var format: UInt32
    public var value: UInt32

    public init(format: UInt32, value: UInt32) {
        self.format = format
        self.value = value
    }

    public static func ifIndex(_ i: UInt32) -> SFlowInterface { .init(format: 0, value: i) }
    public static func discarded(reason: UInt32) -> SFlowInterface { .init(format: 1, value: reason) }
    public static func multiple(_ n: UInt32) -> SFlowInterface { .init(format: 2, value: n) }

    /// The "internal" interface: the switch itself, as source or destination.
    public static let internalValue: UInt32 = 0x3FFF_FFFF

    public init(compact raw: UInt32) {
        format = raw >> 30
        value = raw & 0x3FFF_FFFF
    }

    public var compact: UInt32 { format << 30 | (value & 0x3FFF_FFFF) }

    /// The ifIndex when this names exactly one real port.
    public var singleIfIndex: UInt32? {
        format == 0 && value != Self.internalValue && value != 0 ? value : nil
    }
}

public struct FlowSample: Sendable, Equatable {
    /// Whether the sample was (or will be encoded) as an expanded flow sample (format 3).
    public var expanded: Bool
    /// The sample sequence number, per data source.
    public var sequence: UInt32
    public var source: DataSource
    public var samplingRate: UInt32
    public var samplePool: UInt32
    public var drops: UInt32
    public var input: SFlowInterface
    public var output: SFlowInterface
    public var records: [FlowRecord]

    public init(expanded: Bool = false, sequence: UInt32, source: DataSource, samplingRate: UInt32,
                samplePool: UInt32, drops: UInt32, input: SFlowInterface, output: SFlowInterface,
                records: [FlowRecord]) {
        self.expanded = expanded
        self.sequence = sequence
        self.source = source
        self.samplingRate = samplingRate
        self.samplePool = samplePool
        self.drops = drops
        self.input = input
        self.output = output
        self.records = records
    }
}

public struct CounterSample: Sendable, Equatable {
    public var expanded: Bool
    public var sequence: UInt32
    public var source: DataSource
    public var records: [CounterRecord]

    public init(expanded: Bool = false, sequence: UInt32, source: DataSource, records: [CounterRecord]) {
        self.expanded = expanded
        self.sequence = sequence
        self.source = source
        self.records = records
    }
}

// MARK: Flow records

public enum FlowRecord: Sendable, Equatable {
    case rawPacketHeader(RawPacketHeader)
    case ethernetFrameData(EthernetFrameData)
    case ipv4Data(IPv4Data)
    case ipv6Data(IPv6Data)
    case extendedSwitch(ExtendedSwitch)
    case extendedRouter(ExtendedRouter)
    case extendedGateway(ExtendedGateway)
    case unknown(format: DataFormat, data: [UInt8])

    public var format: DataFormat {
        switch self {
        case .rawPacketHeader: .rawPacketHeader
        case .ethernetFrameData: .ethernetFrameData
        case .ipv4Data: .ipv4Data
        case .ipv6Data: .ipv6Data
        case .extendedSwitch: .extendedSwitch
        case .extendedRouter: .extendedRouter
        case .extendedGateway: .extendedGateway
        case .unknown(let f, _): f
        }
    }
}

/// `sampled_header` (flow format 1).
public struct RawPacketHeader: Sendable, Equatable {
    /// `header_protocol`: 1 Ethernet, 11 IPv4, 12 IPv6, others kept as numbers.
    public var headerProtocol: UInt32
    /// Length of the original frame, including what was stripped.
    public var frameLength: UInt32
    /// Bytes removed before sampling (e.g. the FCS).
    public var stripped: UInt32
    public var header: [UInt8]

    public init(headerProtocol: UInt32, frameLength: UInt32, stripped: UInt32, header: [UInt8]) {
        self.headerProtocol = headerProtocol
        self.frameLength = frameLength
        self.stripped = stripped
        self.header = header
    }

    public static let ethernet: UInt32 = 1
    public static let ipv4: UInt32 = 11
    public static let ipv6: UInt32 = 12

    /// The sampled bytes parsed layer by layer.
    public var parsed: ParsedHeader {
        header.withUnsafeBytes { SFlowDecoder.parseSampledHeader(protocol: headerProtocol, $0) }
    }
}

/// `sampled_ethernet` (flow format 2).
public struct EthernetFrameData: Sendable, Equatable {
    public var length: UInt32
    public var srcMac: MACAddress
    public var dstMac: MACAddress
    public var type: UInt32

    public init(length: UInt32, srcMac: MACAddress, dstMac: MACAddress, type: UInt32) {
        self.length = length
        self.srcMac = srcMac
        self.dstMac = dstMac
        self.type = type
    }
}

/// `sampled_ipv4` (flow format 3).
public struct IPv4Data: Sendable, Equatable {
    public var length: UInt32
    public var `protocol`: UInt32
    public var srcIp: IPv4Address
    public var dstIp: IPv4Address
    public var srcPort: UInt32
    public var dstPort: UInt32
    public var tcpFlags: UInt32
    public var tos: UInt32

    public init(length: UInt32, protocol: UInt32, srcIp: IPv4Address, dstIp: IPv4Address,
                srcPort: UInt32, dstPort: UInt32, tcpFlags: UInt32, tos: UInt32) {
        self.length = length
        self.protocol = `protocol`
        self.srcIp = srcIp
        self.dstIp = dstIp
        self.srcPort = srcPort
        self.dstPort = dstPort
        self.tcpFlags = tcpFlags
        self.tos = tos
    }
}

/// `sampled_ipv6` (flow format 4).
public struct IPv6Data: Sendable, Equatable {
    public var length: UInt32
    public var `protocol`: UInt32
    public var srcIp: IPv6Address
    public var dstIp: IPv6Address
    public var srcPort: UInt32
    public var dstPort: UInt32
    public var tcpFlags: UInt32
    public var priority: UInt32

    public init(length: UInt32, protocol: UInt32, srcIp: IPv6Address, dstIp: IPv6Address,
                srcPort: UInt32, dstPort: UInt32, tcpFlags: UInt32, priority: UInt32) {
        self.length = length
        self.protocol = `protocol`
        self.srcIp = srcIp
        self.dstIp = dstIp
        self.srcPort = srcPort
        self.dstPort = dstPort
        self.tcpFlags = tcpFlags
        self.priority = priority
    }
}

/// `extended_switch` (flow format 1001).
public struct ExtendedSwitch: Sendable, Equatable {
    public var srcVlan: UInt32
    public var srcPriority: UInt32
    public var dstVlan: UInt32
    public var dstPriority: UInt32

    public init(srcVlan: UInt32, srcPriority: UInt32, dstVlan: UInt32, dstPriority: UInt32) {
        self.srcVlan = srcVlan
        self.srcPriority = srcPriority
        self.dstVlan = dstVlan
        self.dstPriority = dstPriority
    }
}

/// `extended_router` (flow format 1002).
public struct ExtendedRouter: Sendable, Equatable {
    public var nexthop: SFlowAddress
    public var srcMaskLen: UInt32
    public var dstMaskLen: UInt32

    public init(nexthop: SFlowAddress, srcMaskLen: UInt32, dstMaskLen: UInt32) {
        self.nexthop = nexthop
        self.srcMaskLen = srcMaskLen
        self.dstMaskLen = dstMaskLen
    }
}

/// An AS path segment of `extended_gateway`: type 1 AS_SET, 2 AS_SEQUENCE.
public struct ASPathSegment: Sendable, Equatable {
    public var type: UInt32
    public var asNumbers: [UInt32]

    public init(type: UInt32, asNumbers: [UInt32]) {
        self.type = type
        self.asNumbers = asNumbers
    }
}

/// `extended_gateway` (flow format 1003).
public struct ExtendedGateway: Sendable, Equatable {
    public var nexthop: SFlowAddress
    public var `as`: UInt32
    public var srcAs: UInt32
    public var srcPeerAs: UInt32
    public var dstAsPath: [ASPathSegment]
    public var communities: [UInt32]
    public var localpref: UInt32

    public init(nexthop: SFlowAddress, as: UInt32, srcAs: UInt32, srcPeerAs: UInt32,
                dstAsPath: [ASPathSegment], communities: [UInt32], localpref: UInt32) {
        self.nexthop = nexthop
        self.as = `as`
        self.srcAs = srcAs
        self.srcPeerAs = srcPeerAs
        self.dstAsPath = dstAsPath
        self.communities = communities
        self.localpref = localpref
    }
}

/// `address`: type 0 unknown (no bytes), 1 IPv4, 2 IPv6.
public enum SFlowAddress: Sendable, Equatable {
    case unknown
    case v4(IPv4Address)
    case v6(IPv6Address)

    public var ipAddress: IPAddress? {
        switch self {
        case .unknown: nil
        case .v4(let a): .v4(a)
        case .v6(let a): .v6(a)
        }
    }
}

// MARK: Counter records

public enum CounterRecord: Sendable, Equatable {
    case genericInterface(GenericInterfaceCounters)
    case ethernetInterface(EthernetInterfaceCounters)
    case vlan(VLANCounters)
    case lacp(LACPCounters)
    case processor(ProcessorCounters)
    case openFlowPort(OpenFlowPort)
    case portName(PortName)
    case hostDescription(HostDescription)
    case hostAdapters(HostAdapters)
    case hostCPU(HostCPU)
    case hostMemory(HostMemory)
    case unknown(format: DataFormat, data: [UInt8])

    public var format: DataFormat {
        switch self {
        case .genericInterface: .genericInterface
        case .ethernetInterface: .ethernetInterface
        case .vlan: .vlanCounters
        case .lacp: .lacpCounters
        case .processor: .processor
        case .openFlowPort: .openFlowPort
        case .portName: .portName
        case .hostDescription: .hostDescription
        case .hostAdapters: .hostAdapters
        case .hostCPU: .hostCPU
        case .hostMemory: .hostMemory
        case .unknown(let f, _): f
        }
    }
}

/// `if_counters` (counter format 1).
public struct GenericInterfaceCounters: Sendable, Equatable {
    public var ifIndex: UInt32 = 0
    public var ifType: UInt32 = 0
    public var ifSpeed: UInt64 = 0
    /// 0 unknown, 1 full duplex, 2 half, 3 in, 4 out.
    public var ifDirection: UInt32 = 0
    /// bit 0 admin up, bit 1 oper up.
    public var ifStatus: UInt32 = 0
    public var ifInOctets: UInt64 = 0
    public var ifInUcastPkts: UInt32 = 0
    public var ifInMulticastPkts: UInt32 = 0
    public var ifInBroadcastPkts: UInt32 = 0
    public var ifInDiscards: UInt32 = 0
    public var ifInErrors: UInt32 = 0
    public var ifInUnknownProtos: UInt32 = 0
    public var ifOutOctets: UInt64 = 0
    public var ifOutUcastPkts: UInt32 = 0
    public var ifOutMulticastPkts: UInt32 = 0
    public var ifOutBroadcastPkts: UInt32 = 0
    public var ifOutDiscards: UInt32 = 0
    public var ifOutErrors: UInt32 = 0
    public var ifPromiscuousMode: UInt32 = 0

    public init() {}
}

/// `ethernet_counters` (counter format 2).
public struct EthernetInterfaceCounters: Sendable, Equatable {
    public var dot3StatsAlignmentErrors: UInt32 = 0
    public var dot3StatsFCSErrors: UInt32 = 0
    public var dot3StatsSingleCollisionFrames: UInt32 = 0
    public var dot3StatsMultipleCollisionFrames: UInt32 = 0
    public var dot3StatsSQETestErrors: UInt32 = 0
    public var dot3StatsDeferredTransmissions: UInt32 = 0
    public var dot3StatsLateCollisions: UInt32 = 0
    public var dot3StatsExcessiveCollisions: UInt32 = 0
    public var dot3StatsInternalMacTransmitErrors: UInt32 = 0
    public var dot3StatsCarrierSenseErrors: UInt32 = 0
    public var dot3StatsFrameTooLongs: UInt32 = 0
    public var dot3StatsInternalMacReceiveErrors: UInt32 = 0
    public var dot3StatsSymbolErrors: UInt32 = 0

    public init() {}
}

/// `vlan_counters` (counter format 5).
public struct VLANCounters: Sendable, Equatable {
    public var vlanId: UInt32 = 0
    public var octets: UInt64 = 0
    public var ucastPkts: UInt32 = 0
    public var multicastPkts: UInt32 = 0
    public var broadcastPkts: UInt32 = 0
    public var discards: UInt32 = 0

    public init() {}
}

/// `lag_port_stats` (counter format 7, sFlow LAG extension, IEEE 802.1AX).
public struct LACPCounters: Sendable, Equatable {
    public var actorSystemID = MACAddress(0)
    public var partnerSystemID = MACAddress(0)
    public var attachedAggID: UInt32 = 0
    public var actorAdminPortState: UInt8 = 0
    public var actorOperPortState: UInt8 = 0
    public var partnerAdminPortState: UInt8 = 0
    public var partnerOperPortState: UInt8 = 0
    public var lacpdusRx: UInt32 = 0
    public var markerPDUsRx: UInt32 = 0
    public var markerResponsePDUsRx: UInt32 = 0
    public var unknownRx: UInt32 = 0
    public var illegalRx: UInt32 = 0
    public var lacpdusTx: UInt32 = 0
    public var markerPDUsTx: UInt32 = 0
    public var markerResponsePDUsTx: UInt32 = 0

    public init() {}
}

/// `processor` (counter format 1001): CPU as percent × 100.
public struct ProcessorCounters: Sendable, Equatable {
    public var cpu5s: UInt32 = 0
    public var cpu1m: UInt32 = 0
    public var cpu5m: UInt32 = 0
    public var totalMemory: UInt64 = 0
    public var freeMemory: UInt64 = 0

    public init() {}
}

/// `of_port` (counter format 1004, sFlow OpenFlow extension): maps the sample's ifIndex to
/// an OpenFlow datapath and port.
public struct OpenFlowPort: Sendable, Equatable {
    public var datapathId: UInt64
    public var portNo: UInt32

    public init(datapathId: UInt64, portNo: UInt32) {
        self.datapathId = datapathId
        self.portNo = portNo
    }
}

/// `port_name` (counter format 1005).
public struct PortName: Sendable, Equatable {
    public var name: String

    public init(name: String) { self.name = name }
}

/// `host_descr` (counter format 2000, sFlow host extension).
public struct HostDescription: Sendable, Equatable {
    public var hostname: String
    public var uuid: [UInt8]
    public var machineType: UInt32
    public var osName: UInt32
    public var osRelease: String

    public init(hostname: String, uuid: [UInt8], machineType: UInt32, osName: UInt32, osRelease: String) {
        self.hostname = hostname
        self.uuid = uuid
        self.machineType = machineType
        self.osName = osName
        self.osRelease = osRelease
    }
}

/// One adapter of `host_adapters`.
public struct HostAdapter: Sendable, Equatable {
    public var ifIndex: UInt32
    public var macAddresses: [MACAddress]

    public init(ifIndex: UInt32, macAddresses: [MACAddress]) {
        self.ifIndex = ifIndex
        self.macAddresses = macAddresses
    }
}

/// `host_adapters` (counter format 2001).
public struct HostAdapters: Sendable, Equatable {
    public var adapters: [HostAdapter]

    public init(adapters: [HostAdapter]) { self.adapters = adapters }
}

/// `host_cpu` (counter format 2003). Later revisions append `cpuSteal`, `cpuGuest`, `cpuGuestNice`;
/// they are decoded when present.
public struct HostCPU: Sendable, Equatable {
    public var loadOne: Float = 0
    public var loadFive: Float = 0
    public var loadFifteen: Float = 0
    public var procRun: UInt32 = 0
    public var procTotal: UInt32 = 0
    public var cpuNum: UInt32 = 0
    public var cpuSpeed: UInt32 = 0
    public var uptime: UInt32 = 0
    public var cpuUser: UInt32 = 0
    public var cpuNice: UInt32 = 0
    public var cpuSystem: UInt32 = 0
    public var cpuIdle: UInt32 = 0
    public var cpuWio: UInt32 = 0
    public var cpuIntr: UInt32 = 0
    public var cpuSintr: UInt32 = 0
    public var interrupts: UInt32 = 0
    public var contexts: UInt32 = 0
    /// Fields of later revisions, in order (cpu_steal, cpu_guest, cpu_guest_nice), as present.
    public var extra: [UInt32] = []

    public init() {}
}

/// `host_memory` (counter format 2004), bytes and pages.
public struct HostMemory: Sendable, Equatable {
    public var memTotal: UInt64 = 0
    public var memFree: UInt64 = 0
    public var memShared: UInt64 = 0
    public var memBuffers: UInt64 = 0
    public var memCached: UInt64 = 0
    public var swapTotal: UInt64 = 0
    public var swapFree: UInt64 = 0
    public var pageIn: UInt32 = 0
    public var pageOut: UInt32 = 0
    public var swapIn: UInt32 = 0
    public var swapOut: UInt32 = 0

    public init() {}
}
