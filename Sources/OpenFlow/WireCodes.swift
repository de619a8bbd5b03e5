// Wire codes as open structs with static members (the NIOWebSocket `WebSocketOpcode` pattern):
// a value the codec has no name for still decodes, is kept, and is written back unchanged.
// Values are from OF 1.3.5 (openflow.h of the spec, §7.1 to §7.5).

/// `ofp_type` (OF 1.3.5 §7.1.1).
public struct OpenFlowMessageType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public init(_ rawValue: UInt8) { self.rawValue = rawValue }

    public static let hello = Self(0)
    public static let error = Self(1)
    public static let echoRequest = Self(2)
    public static let echoReply = Self(3)
    public static let experimenter = Self(4)
    public static let featuresRequest = Self(5)
    public static let featuresReply = Self(6)
    public static let getConfigRequest = Self(7)
    public static let getConfigReply = Self(8)
    public static let setConfig = Self(9)
    public static let packetIn = Self(10)
    public static let flowRemoved = Self(11)
    public static let portStatus = Self(12)
    public static let packetOut = Self(13)
    public static let flowMod = Self(14)
    public static let groupMod = Self(15)
    public static let portMod = Self(16)
    public static let tableMod = Self(17)
    public static let multipartRequest = Self(18)
    public static let multipartReply = Self(19)
    public static let barrierRequest = Self(20)
    public static let barrierReply = Self(21)
    public static let queueGetConfigRequest = Self(22)
    public static let queueGetConfigReply = Self(23)
    public static let roleRequest = Self(24)
    public static let roleReply = Self(25)
    public static let getAsyncRequest = Self(26)
    public static let getAsyncReply = Self(27)
    public static let setAsync = Self(28)
    public static let meterMod = Self(29)

    static let names = [
        "hello", "error", "echo_request", "echo_reply", "experimenter", "features_request",
        "features_reply", "get_config_request", "get_config_reply", "set_config", "packet_in",
        "flow_removed", "port_status", "packet_out", "flow_mod", "group_mod", "port_mod", "table_mod",
        "multipart_request", "multipart_reply", "barrier_request", "barrier_reply",
        "queue_get_config_request", "queue_get_config_reply", "role_request", "role_reply",
        "get_async_request", "get_async_reply", "set_async", "meter_mod",
    ]
    /// The spec's name in lower case without the `OFPT_` prefix (`flow_mod`), or `type_N`.
    public var description: String {
        Int(rawValue) < Self.names.count ? Self.names[Int(rawValue)] : "type_\(rawValue)"
    }
}

/// A port number (`ofp_port_no`, OF 1.3.5 §7.2.1), with the reserved ports named.
public struct PortNumber: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt32) { self.rawValue = value }

    /// Highest number of a physical or logical port.
    public static let max = Self(0xFFFF_FF00)
    public static let inPort = Self(0xFFFF_FFF8)
    public static let table = Self(0xFFFF_FFF9)
    public static let normal = Self(0xFFFF_FFFA)
    public static let flood = Self(0xFFFF_FFFB)
    public static let all = Self(0xFFFF_FFFC)
    public static let controller = Self(0xFFFF_FFFD)
    public static let local = Self(0xFFFF_FFFE)
    /// "Any port": a wildcard in requests and `out_port`.
    public static let any = Self(0xFFFF_FFFF)

    public var description: String {
        switch self {
        case .inPort: "IN_PORT"
        case .table: "TABLE"
        case .normal: "NORMAL"
        case .flood: "FLOOD"
        case .all: "ALL"
        case .controller: "CONTROLLER"
        case .local: "LOCAL"
        case .any: "ANY"
        default: String(rawValue)
        }
    }
}

/// A group id (`ofp_group`, OF 1.3.5 §7.3.4.2).
public struct GroupID: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt32) { self.rawValue = value }
    public static let max = Self(0xFFFF_FF00)
    /// All groups (group delete, group stats).
    public static let all = Self(0xFFFF_FFFC)
    /// Wildcard (`out_group` in flow-mods and flow stats requests).
    public static let any = Self(0xFFFF_FFFF)
    public var description: String {
        switch self {
        case .all: "ALL"
        case .any: "ANY"
        default: String(rawValue)
        }
    }
}

/// A meter id (`ofp_meter`, OF 1.3.5 §7.3.4.4).
public struct MeterID: RawRepresentable, Hashable, Sendable, ExpressibleByIntegerLiteral {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt32) { self.rawValue = value }
    public static let max = Self(0xFFFF_0000)
    public static let slowpath = Self(0xFFFF_FFFD)
    public static let controller = Self(0xFFFF_FFFE)
    public static let all = Self(0xFFFF_FFFF)
}

/// `OFP_NO_BUFFER` (OF 1.3.5 §7.2.6.1): the packet is not buffered on the switch.
public let openFlowNoBuffer: UInt32 = 0xFFFF_FFFF

/// `ofp_flow_mod_command` (OF 1.3.5 §7.3.4.2).
public struct FlowModCommand: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let add = Self(rawValue: 0)
    public static let modify = Self(rawValue: 1)
    public static let modifyStrict = Self(rawValue: 2)
    public static let delete = Self(rawValue: 3)
    public static let deleteStrict = Self(rawValue: 4)
}

/// `ofp_flow_mod_flags` (OF 1.3.5 §7.3.4.2).
public struct FlowModFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let sendFlowRemoved = Self(rawValue: 1 << 0)
    public static let checkOverlap = Self(rawValue: 1 << 1)
    public static let resetCounts = Self(rawValue: 1 << 2)
    public static let noPacketCounts = Self(rawValue: 1 << 3)
    public static let noByteCounts = Self(rawValue: 1 << 4)
}

/// `ofp_group_mod_command` (OF 1.3.5 §7.3.4.3).
public struct GroupModCommand: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let add = Self(rawValue: 0)
    public static let modify = Self(rawValue: 1)
    public static let delete = Self(rawValue: 2)
}

/// `ofp_group_type` (OF 1.3.5 §7.3.4.3).
public struct GroupType: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let all = Self(rawValue: 0)
    /// One bucket per packet, chosen by the switch; `ofp_bucket.weight` gives each bucket's share.
    public static let select = Self(rawValue: 1)
    public static let indirect = Self(rawValue: 2)
    public static let fastFailover = Self(rawValue: 3)
}

/// `ofp_meter_mod_command` (OF 1.3.5 §7.3.4.4).
public struct MeterModCommand: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let add = Self(rawValue: 0)
    public static let modify = Self(rawValue: 1)
    public static let delete = Self(rawValue: 2)
}

/// `ofp_meter_flags` (OF 1.3.5 §7.3.4.4).
public struct MeterFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let kbps = Self(rawValue: 1 << 0)
    public static let pktps = Self(rawValue: 1 << 1)
    public static let burst = Self(rawValue: 1 << 2)
    public static let stats = Self(rawValue: 1 << 3)
}

/// `ofp_meter_band_type` (OF 1.3.5 §7.3.4.4).
public struct MeterBandType: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let drop = Self(rawValue: 1)
    public static let dscpRemark = Self(rawValue: 2)
    public static let experimenter = Self(rawValue: 0xFFFF)
}

/// `ofp_multipart_type` (OF 1.3.5 §7.3.5).
public struct MultipartType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let desc = Self(rawValue: 0)
    public static let flow = Self(rawValue: 1)
    public static let aggregate = Self(rawValue: 2)
    public static let table = Self(rawValue: 3)
    public static let portStats = Self(rawValue: 4)
    public static let queue = Self(rawValue: 5)
    public static let group = Self(rawValue: 6)
    public static let groupDesc = Self(rawValue: 7)
    public static let groupFeatures = Self(rawValue: 8)
    public static let meter = Self(rawValue: 9)
    public static let meterConfig = Self(rawValue: 10)
    public static let meterFeatures = Self(rawValue: 11)
    public static let tableFeatures = Self(rawValue: 12)
    public static let portDesc = Self(rawValue: 13)
    public static let experimenter = Self(rawValue: 0xFFFF)

    static let names = [
        "desc", "flow", "aggregate", "table", "port_stats", "queue", "group", "group_desc",
        "group_features", "meter", "meter_config", "meter_features", "table_features", "port_desc",
    ]
    public var description: String {
        if rawValue == 0xFFFF { return "experimenter" }
        return Int(rawValue) < Self.names.count ? Self.names[Int(rawValue)] : "multipart_\(rawValue)"
    }
}

/// `ofp_multipart_request_flags` / `ofp_multipart_reply_flags` (OF 1.3.5 §7.3.5).
public struct MultipartFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// More requests / replies follow this one.
    public static let more = Self(rawValue: 1 << 0)
}

/// `ofp_packet_in_reason` (OF 1.3.5 §7.4.1).
public struct PacketInReason: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let noMatch = Self(rawValue: 0)
    public static let action = Self(rawValue: 1)
    public static let invalidTTL = Self(rawValue: 2)
}

/// `ofp_flow_removed_reason` (OF 1.3.5 §7.4.2).
public struct FlowRemovedReason: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let idleTimeout = Self(rawValue: 0)
    public static let hardTimeout = Self(rawValue: 1)
    public static let delete = Self(rawValue: 2)
    public static let groupDelete = Self(rawValue: 3)
}

/// `ofp_port_reason` (OF 1.3.5 §7.4.3).
public struct PortStatusReason: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let add = Self(rawValue: 0)
    public static let delete = Self(rawValue: 1)
    public static let modify = Self(rawValue: 2)
}

/// `ofp_controller_role` (OF 1.3.5 §7.3.9).
public struct ControllerRole: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let noChange = Self(rawValue: 0)
    public static let equal = Self(rawValue: 1)
    public static let master = Self(rawValue: 2)
    public static let slave = Self(rawValue: 3)
}

/// `ofp_config_flags` (OF 1.3.5 §7.3.2).
public struct SwitchConfigFlags: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let fragNormal = Self(rawValue: 0)
    public static let fragDrop = Self(rawValue: 1)
    public static let fragReassemble = Self(rawValue: 2)
}

/// `ofp_action_type` (OF 1.3.5 §7.2.5).
public struct ActionType: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let output = Self(rawValue: 0)
    public static let copyTTLOut = Self(rawValue: 11)
    public static let copyTTLIn = Self(rawValue: 12)
    public static let setMPLSTTL = Self(rawValue: 15)
    public static let decMPLSTTL = Self(rawValue: 16)
    public static let pushVLAN = Self(rawValue: 17)
    public static let popVLAN = Self(rawValue: 18)
    public static let pushMPLS = Self(rawValue: 19)
    public static let popMPLS = Self(rawValue: 20)
    public static let setQueue = Self(rawValue: 21)
    public static let group = Self(rawValue: 22)
    public static let setNwTTL = Self(rawValue: 23)
    public static let decNwTTL = Self(rawValue: 24)
    public static let setField = Self(rawValue: 25)
    public static let pushPBB = Self(rawValue: 26)
    public static let popPBB = Self(rawValue: 27)
    public static let experimenter = Self(rawValue: 0xFFFF)
}

/// `ofp_instruction_type` (OF 1.3.5 §7.2.4).
public struct InstructionType: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let gotoTable = Self(rawValue: 1)
    public static let writeMetadata = Self(rawValue: 2)
    public static let writeActions = Self(rawValue: 3)
    public static let applyActions = Self(rawValue: 4)
    public static let clearActions = Self(rawValue: 5)
    public static let meter = Self(rawValue: 6)
    public static let experimenter = Self(rawValue: 0xFFFF)
}
