// OpenFlow 1.3 messages (OF 1.3.5 §7.3 controller-to-switch, §7.4 asynchronous, §7.5 symmetric):
// one type per message, its reader and writer side by side (the SSHMessages habit).
// Bytes the spec calls `pad` are written as zeros and skipped on reading.

import NIOCore
import Packets

/// The OpenFlow version this codec speaks (`OFP_VERSION` for 1.3).
public let openFlow13Version: UInt8 = 4

// MARK: - Symmetric messages (§7.5)

/// `OFPT_HELLO` (OF 1.3.5 §7.5.1): optional elements; the version bitmap is the only one defined.
public struct Hello: Hashable, Sendable {
    public var elements: [HelloElement]
    public init(elements: [HelloElement] = []) { self.elements = elements }

    /// A HELLO that advertises exactly `versions` (e.g. `[4]` for OpenFlow 1.3 only).
    public init(versions: [UInt8]) {
        var words: [UInt32] = []
        for v in versions {
            let i = Int(v / 32)
            while words.count <= i { words.append(0) }
            words[i] |= 1 << UInt32(v % 32)
        }
        elements = [.versionBitmap(words)]
    }

    /// The versions in the first bitmap element, or nil when there is none.
    public var versions: [UInt8]? {
        for case .versionBitmap(let words) in elements {
            var out: [UInt8] = []
            for (i, w) in words.enumerated() where i < 8 {
                for bit in 0..<32 where w & (1 << UInt32(bit)) != 0 { out.append(UInt8(i * 32 + bit)) }
            }
            return out
        }
        return nil
    }
}

public enum HelloElement: Hashable, Sendable {
    /// `OFPHET_VERSIONBITMAP`: bit N of the bitmap words set = version N supported.
    case versionBitmap([UInt32])
    case unknown(type: UInt16, body: ByteBuffer)
}

/// `OFPT_ERROR` (OF 1.3.5 §7.5.4). For `OFPET_EXPERIMENTER`, `code` holds `exp_type` and
/// `experimenter` the experimenter id.
public struct ErrorMessage: Hashable, Sendable {
    public var type: OpenFlowErrorType
    public var code: UInt16
    public var experimenter: UInt32?
    /// For most errors, at least the first 64 bytes of the offending message.
    public var data: ByteBuffer

    public init(kind: OpenFlowErrorKind, data: ByteBuffer = ByteBuffer()) {
        type = kind.type
        code = kind.code
        experimenter = nil
        self.data = data
    }

    public init(experimenter: UInt32, expType: UInt16, data: ByteBuffer = ByteBuffer()) {
        type = .experimenter
        code = expType
        self.experimenter = experimenter
        self.data = data
    }

    public var kind: OpenFlowErrorKind { OpenFlowErrorKind(type: type, code: code) }
}

/// `OFPT_EXPERIMENTER` (OF 1.3.5 §7.5.5), kept raw.
public struct ExperimenterMessage: Hashable, Sendable {
    public var experimenter: UInt32
    public var expType: UInt32
    public var data: ByteBuffer
    public init(experimenter: UInt32, expType: UInt32, data: ByteBuffer = ByteBuffer()) {
        self.experimenter = experimenter
        self.expType = expType
        self.data = data
    }
}

// MARK: - Switch configuration (§7.3.1, §7.3.2)

/// `OFPT_FEATURES_REPLY` (`ofp_switch_features`, OF 1.3.5 §7.3.1).
public struct FeaturesReply: Hashable, Sendable {
    public var datapathID: UInt64
    public var nBuffers: UInt32
    public var nTables: UInt8
    public var auxiliaryID: UInt8
    public var capabilities: UInt32
    public var reserved: UInt32
    public init(datapathID: UInt64, nBuffers: UInt32 = 0, nTables: UInt8 = 254, auxiliaryID: UInt8 = 0,
                capabilities: UInt32 = 0, reserved: UInt32 = 0) {
        self.datapathID = datapathID
        self.nBuffers = nBuffers
        self.nTables = nTables
        self.auxiliaryID = auxiliaryID
        self.capabilities = capabilities
        self.reserved = reserved
    }
}

/// `ofp_switch_config` (OF 1.3.5 §7.3.2), the body of GET_CONFIG_REPLY and SET_CONFIG.
public struct SwitchConfig: Hashable, Sendable {
    public var flags: SwitchConfigFlags
    /// `miss_send_len`: bytes of a table-miss packet sent to the controller.
    public var missSendLength: UInt16
    public init(flags: SwitchConfigFlags = .fragNormal, missSendLength: UInt16 = 128) {
        self.flags = flags
        self.missSendLength = missSendLength
    }
}

// MARK: - Asynchronous messages (§7.4)

/// `OFPT_PACKET_IN` (OF 1.3.5 §7.4.1).
public struct PacketIn: Hashable, Sendable {
    public var bufferID: UInt32
    public var totalLength: UInt16
    public var reason: PacketInReason
    public var tableID: UInt8
    public var cookie: UInt64
    public var match: OpenFlowMatch
    public var data: ByteBuffer
    public init(bufferID: UInt32 = openFlowNoBuffer, totalLength: UInt16, reason: PacketInReason, tableID: UInt8,
                cookie: UInt64, match: OpenFlowMatch, data: ByteBuffer) {
        self.bufferID = bufferID
        self.totalLength = totalLength
        self.reason = reason
        self.tableID = tableID
        self.cookie = cookie
        self.match = match
        self.data = data
    }
}

/// `OFPT_FLOW_REMOVED` (OF 1.3.5 §7.4.2).
public struct FlowRemoved: Hashable, Sendable {
    public var cookie: UInt64
    public var priority: UInt16
    public var reason: FlowRemovedReason
    public var tableID: UInt8
    public var durationSec: UInt32
    public var durationNsec: UInt32
    public var idleTimeout: UInt16
    public var hardTimeout: UInt16
    public var packetCount: UInt64
    public var byteCount: UInt64
    public var match: OpenFlowMatch
    public init(cookie: UInt64, priority: UInt16, reason: FlowRemovedReason, tableID: UInt8, durationSec: UInt32,
                durationNsec: UInt32, idleTimeout: UInt16, hardTimeout: UInt16, packetCount: UInt64,
                byteCount: UInt64, match: OpenFlowMatch) {
        self.cookie = cookie
        self.priority = priority
        self.reason = reason
        self.tableID = tableID
        self.durationSec = durationSec
        self.durationNsec = durationNsec
        self.idleTimeout = idleTimeout
        self.hardTimeout = hardTimeout
        self.packetCount = packetCount
        self.byteCount = byteCount
        self.match = match
    }
}

/// `ofp_port` (OF 1.3.5 §7.2.1), 64 bytes.
public struct SwitchPort: Hashable, Sendable {
    public var portNumber: PortNumber
    public var hardwareAddress: MACAddress
    /// `name[OFP_MAX_PORT_NAME_LEN]` (16 bytes, NUL-padded).
    public var name: FixedString
    public var config: UInt32
    public var state: UInt32
    public var current: UInt32
    public var advertised: UInt32
    public var supported: UInt32
    public var peer: UInt32
    /// kbps.
    public var currentSpeed: UInt32
    public var maxSpeed: UInt32
    public init(portNumber: PortNumber, hardwareAddress: MACAddress, name: String, config: UInt32 = 0,
                state: UInt32 = 0, current: UInt32 = 0, advertised: UInt32 = 0, supported: UInt32 = 0,
                peer: UInt32 = 0, currentSpeed: UInt32 = 0, maxSpeed: UInt32 = 0) {
        self.portNumber = portNumber
        self.hardwareAddress = hardwareAddress
        self.name = FixedString(name, width: 16)
        self.config = config
        self.state = state
        self.current = current
        self.advertised = advertised
        self.supported = supported
        self.peer = peer
        self.currentSpeed = currentSpeed
        self.maxSpeed = maxSpeed
    }
}

/// `OFPT_PORT_STATUS` (OF 1.3.5 §7.4.3).
public struct PortStatus: Hashable, Sendable {
    public var reason: PortStatusReason
    public var port: SwitchPort
    public init(reason: PortStatusReason, port: SwitchPort) {
        self.reason = reason
        self.port = port
    }
}

// MARK: - Controller-to-switch messages (§7.3)

/// `OFPT_PACKET_OUT` (OF 1.3.5 §7.3.7).
public struct PacketOut: Hashable, Sendable {
    public var bufferID: UInt32
    public var inPort: PortNumber
    public var actions: [OpenFlowAction]
    /// The packet, when `bufferID` is `OFP_NO_BUFFER`.
    public var data: ByteBuffer
    public init(bufferID: UInt32 = openFlowNoBuffer, inPort: PortNumber = .controller, actions: [OpenFlowAction],
                data: ByteBuffer = ByteBuffer()) {
        self.bufferID = bufferID
        self.inPort = inPort
        self.actions = actions
        self.data = data
    }
}

/// `OFPT_FLOW_MOD` (OF 1.3.5 §7.3.4.1).
public struct FlowMod: Hashable, Sendable {
    public var cookie: UInt64
    public var cookieMask: UInt64
    public var tableID: UInt8
    public var command: FlowModCommand
    public var idleTimeout: UInt16
    public var hardTimeout: UInt16
    public var priority: UInt16
    public var bufferID: UInt32
    /// For delete commands: only flows that output to this port (`.any`: no restriction).
    public var outPort: PortNumber
    /// For delete commands: only flows that output to this group (`.any`: no restriction).
    public var outGroup: GroupID
    public var flags: FlowModFlags
    public var match: OpenFlowMatch
    public var instructions: [OpenFlowInstruction]

    public init(command: FlowModCommand = .add, cookie: UInt64 = 0, cookieMask: UInt64 = 0, tableID: UInt8 = 0,
                idleTimeout: UInt16 = 0, hardTimeout: UInt16 = 0, priority: UInt16 = 0x8000,
                bufferID: UInt32 = openFlowNoBuffer, outPort: PortNumber = .any, outGroup: GroupID = .any,
                flags: FlowModFlags = [], match: OpenFlowMatch = [], instructions: [OpenFlowInstruction] = []) {
        self.cookie = cookie
        self.cookieMask = cookieMask
        self.tableID = tableID
        self.command = command
        self.idleTimeout = idleTimeout
        self.hardTimeout = hardTimeout
        self.priority = priority
        self.bufferID = bufferID
        self.outPort = outPort
        self.outGroup = outGroup
        self.flags = flags
        self.match = match
        self.instructions = instructions
    }
}

/// `ofp_bucket` (OF 1.3.5 §7.3.4.3).
public struct Bucket: Hashable, Sendable {
    /// Relative share of traffic for a SELECT group (0 for other group types).
    public var weight: UInt16
    /// Port whose liveness gates this bucket (FAST_FAILOVER); `.any` otherwise.
    public var watchPort: PortNumber
    public var watchGroup: GroupID
    public var actions: [OpenFlowAction]
    public init(weight: UInt16 = 0, watchPort: PortNumber = .any, watchGroup: GroupID = .any,
                actions: [OpenFlowAction]) {
        self.weight = weight
        self.watchPort = watchPort
        self.watchGroup = watchGroup
        self.actions = actions
    }
}

/// `OFPT_GROUP_MOD` (OF 1.3.5 §7.3.4.3).
public struct GroupMod: Hashable, Sendable {
    public var command: GroupModCommand
    public var type: GroupType
    public var groupID: GroupID
    public var buckets: [Bucket]
    public init(command: GroupModCommand, type: GroupType, groupID: GroupID, buckets: [Bucket] = []) {
        self.command = command
        self.type = type
        self.groupID = groupID
        self.buckets = buckets
    }
}

/// `OFPT_PORT_MOD` (OF 1.3.5 §7.3.4.4 in 1.3.5's numbering: "Port Modification Message").
public struct PortMod: Hashable, Sendable {
    public var portNumber: PortNumber
    public var hardwareAddress: MACAddress
    public var config: UInt32
    public var mask: UInt32
    public var advertise: UInt32
    public init(portNumber: PortNumber, hardwareAddress: MACAddress, config: UInt32, mask: UInt32, advertise: UInt32) {
        self.portNumber = portNumber
        self.hardwareAddress = hardwareAddress
        self.config = config
        self.mask = mask
        self.advertise = advertise
    }
}

/// `OFPT_TABLE_MOD` (OF 1.3.5 §7.3.3).
public struct TableMod: Hashable, Sendable {
    public var tableID: UInt8
    public var config: UInt32
    public init(tableID: UInt8, config: UInt32) {
        self.tableID = tableID
        self.config = config
    }
}

/// A meter band (`ofp_meter_band_*`, OF 1.3.5 §7.3.4.5).
public enum MeterBand: Hashable, Sendable {
    case drop(rate: UInt32, burstSize: UInt32)
    case dscpRemark(rate: UInt32, burstSize: UInt32, precLevel: UInt8)
    /// `data` is what follows the experimenter id.
    case experimenter(rate: UInt32, burstSize: UInt32, experimenter: UInt32, data: ByteBuffer = ByteBuffer())
    /// Another band type: the body after `type` and `len`.
    case unknown(type: MeterBandType, body: ByteBuffer)
}

/// `OFPT_METER_MOD` (OF 1.3.5 §7.3.4.5).
public struct MeterMod: Hashable, Sendable {
    public var command: MeterModCommand
    public var flags: MeterFlags
    public var meterID: MeterID
    public var bands: [MeterBand]
    public init(command: MeterModCommand, flags: MeterFlags, meterID: MeterID, bands: [MeterBand] = []) {
        self.command = command
        self.flags = flags
        self.meterID = meterID
        self.bands = bands
    }
}

/// `OFPT_ROLE_REQUEST` / `OFPT_ROLE_REPLY` (`ofp_role_request`, OF 1.3.5 §7.3.9).
public struct RoleMessage: Hashable, Sendable {
    public var role: ControllerRole
    public var generationID: UInt64
    public init(role: ControllerRole, generationID: UInt64 = 0) {
        self.role = role
        self.generationID = generationID
    }
}

/// A pair of masks, one for the master/equal role and one for the slave role.
public struct AsyncMask: Hashable, Sendable {
    public var masterOrEqual: UInt32
    public var slave: UInt32
    public init(masterOrEqual: UInt32, slave: UInt32) {
        self.masterOrEqual = masterOrEqual
        self.slave = slave
    }
}

/// `ofp_async_config` (OF 1.3.5 §7.3.10): GET_ASYNC_REPLY and SET_ASYNC.
public struct AsyncConfig: Hashable, Sendable {
    public var packetInMask: AsyncMask
    public var portStatusMask: AsyncMask
    public var flowRemovedMask: AsyncMask
    public init(packetInMask: AsyncMask, portStatusMask: AsyncMask, flowRemovedMask: AsyncMask) {
        self.packetInMask = packetInMask
        self.portStatusMask = portStatusMask
        self.flowRemovedMask = flowRemovedMask
    }
}

/// `OFPT_QUEUE_GET_CONFIG_REPLY` (OF 1.3.5 §7.3.6): the queue list is kept raw.
public struct QueueGetConfigReply: Hashable, Sendable {
    public var port: PortNumber
    /// `ofp_packet_queue` structures, as they came.
    public var queues: ByteBuffer
    public init(port: PortNumber, queues: ByteBuffer) {
        self.port = port
        self.queues = queues
    }
}

// MARK: - The message sum

/// Every OpenFlow 1.3 message, by type. Types the codec does not model are kept as `.unknown`.
public enum OpenFlowMessage: Hashable, Sendable {
    case hello(Hello)
    case error(ErrorMessage)
    case echoRequest(ByteBuffer)
    case echoReply(ByteBuffer)
    case experimenter(ExperimenterMessage)
    case featuresRequest
    case featuresReply(FeaturesReply)
    case getConfigRequest
    case getConfigReply(SwitchConfig)
    case setConfig(SwitchConfig)
    case packetIn(PacketIn)
    case flowRemoved(FlowRemoved)
    case portStatus(PortStatus)
    case packetOut(PacketOut)
    case flowMod(FlowMod)
    case groupMod(GroupMod)
    case portMod(PortMod)
    case tableMod(TableMod)
    case multipartRequest(MultipartRequest)
    case multipartReply(MultipartReply)
    case barrierRequest
    case barrierReply
    case queueGetConfigRequest(port: PortNumber)
    case queueGetConfigReply(QueueGetConfigReply)
    case roleRequest(RoleMessage)
    case roleReply(RoleMessage)
    case getAsyncRequest
    case getAsyncReply(AsyncConfig)
    case setAsync(AsyncConfig)
    case meterMod(MeterMod)
    /// A message type this codec does not know (a later version's, say): its body as it came.
    case unknown(type: OpenFlowMessageType, body: ByteBuffer)

    public var type: OpenFlowMessageType {
        switch self {
        case .hello: .hello
        case .error: .error
        case .echoRequest: .echoRequest
        case .echoReply: .echoReply
        case .experimenter: .experimenter
        case .featuresRequest: .featuresRequest
        case .featuresReply: .featuresReply
        case .getConfigRequest: .getConfigRequest
        case .getConfigReply: .getConfigReply
        case .setConfig: .setConfig
        case .packetIn: .packetIn
        case .flowRemoved: .flowRemoved
        case .portStatus: .portStatus
        case .packetOut: .packetOut
        case .flowMod: .flowMod
        case .groupMod: .groupMod
        case .portMod: .portMod
        case .tableMod: .tableMod
        case .multipartRequest: .multipartRequest
        case .multipartReply: .multipartReply
        case .barrierRequest: .barrierRequest
        case .barrierReply: .barrierReply
        case .queueGetConfigRequest: .queueGetConfigRequest
        case .queueGetConfigReply: .queueGetConfigReply
        case .roleRequest: .roleRequest
        case .roleReply: .roleReply
        case .getAsyncRequest: .getAsyncRequest
        case .getAsyncReply: .getAsyncReply
        case .setAsync: .setAsync
        case .meterMod: .meterMod
        case .unknown(let t, _): t
        }
    }
}

/// A decoded message with its header fields: what the session reads and writes.
public struct OpenFlowEnvelope: Hashable, Sendable {
    public var version: UInt8
    public var xid: UInt32
    public var message: OpenFlowMessage
    public init(version: UInt8 = openFlow13Version, xid: UInt32, message: OpenFlowMessage) {
        self.version = version
        self.xid = xid
        self.message = message
    }
}
