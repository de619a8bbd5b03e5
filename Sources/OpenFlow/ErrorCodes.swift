// OpenFlow ERROR types and codes (OF 1.3.5 §7.4.4), every one named. A code only has a meaning
// together with its type, so the named constants are (type, code) pairs: `OpenFlowErrorKind`.
// Unknown pairs survive a round trip like every other wire code.

/// `ofp_error_type` (OF 1.3.5 §7.4.4).
public struct OpenFlowErrorType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    /// `OFPET_HELLO_FAILED`
    public static let helloFailed = Self(0)
    /// `OFPET_BAD_REQUEST`
    public static let badRequest = Self(1)
    /// `OFPET_BAD_ACTION`
    public static let badAction = Self(2)
    /// `OFPET_BAD_INSTRUCTION`
    public static let badInstruction = Self(3)
    /// `OFPET_BAD_MATCH`
    public static let badMatch = Self(4)
    /// `OFPET_FLOW_MOD_FAILED`
    public static let flowModFailed = Self(5)
    /// `OFPET_GROUP_MOD_FAILED`
    public static let groupModFailed = Self(6)
    /// `OFPET_PORT_MOD_FAILED`
    public static let portModFailed = Self(7)
    /// `OFPET_TABLE_MOD_FAILED`
    public static let tableModFailed = Self(8)
    /// `OFPET_QUEUE_OP_FAILED`
    public static let queueOpFailed = Self(9)
    /// `OFPET_SWITCH_CONFIG_FAILED`
    public static let switchConfigFailed = Self(10)
    /// `OFPET_ROLE_REQUEST_FAILED`
    public static let roleRequestFailed = Self(11)
    /// `OFPET_METER_MOD_FAILED`
    public static let meterModFailed = Self(12)
    /// `OFPET_TABLE_FEATURES_FAILED`
    public static let tableFeaturesFailed = Self(13)
    /// `OFPET_EXPERIMENTER`: the body is `exp_type`, `experimenter`, data (§7.4.4).
    public static let experimenter = Self(0xFFFF)

    /// The spec's name (`OFPET_BAD_REQUEST`), or `OFPET_N` for a type the codec does not know.
    public var description: String {
        if rawValue == 0xFFFF { return "OFPET_EXPERIMENTER" }
        guard Int(rawValue) < errorTable.count else { return "OFPET_\(rawValue)" }
        return "OFPET_" + errorTable[Int(rawValue)].type
    }
}

/// A (type, code) pair: what an ERROR message says went wrong.
public struct OpenFlowErrorKind: Hashable, Sendable, CustomStringConvertible {
    public var type: OpenFlowErrorType
    public var code: UInt16
    public init(type: OpenFlowErrorType, code: UInt16) {
        self.type = type
        self.code = code
    }

    /// `OFPHFC_INCOMPATIBLE`
    public static let helloFailedIncompatible = Self(type: .helloFailed, code: 0)
    /// `OFPHFC_EPERM`
    public static let helloFailedEPERM = Self(type: .helloFailed, code: 1)
    /// `OFPBRC_BAD_VERSION`
    public static let badRequestBadVersion = Self(type: .badRequest, code: 0)
    /// `OFPBRC_BAD_TYPE`
    public static let badRequestBadType = Self(type: .badRequest, code: 1)
    /// `OFPBRC_BAD_MULTIPART`
    public static let badRequestBadMultipart = Self(type: .badRequest, code: 2)
    /// `OFPBRC_BAD_EXPERIMENTER`
    public static let badRequestBadExperimenter = Self(type: .badRequest, code: 3)
    /// `OFPBRC_BAD_EXP_TYPE`
    public static let badRequestBadExpType = Self(type: .badRequest, code: 4)
    /// `OFPBRC_EPERM`
    public static let badRequestEPERM = Self(type: .badRequest, code: 5)
    /// `OFPBRC_BAD_LEN`
    public static let badRequestBadLen = Self(type: .badRequest, code: 6)
    /// `OFPBRC_BUFFER_EMPTY`
    public static let badRequestBufferEmpty = Self(type: .badRequest, code: 7)
    /// `OFPBRC_BUFFER_UNKNOWN`
    public static let badRequestBufferUnknown = Self(type: .badRequest, code: 8)
    /// `OFPBRC_BAD_TABLE_ID`
    public static let badRequestBadTableId = Self(type: .badRequest, code: 9)
    /// `OFPBRC_IS_SLAVE`
    public static let badRequestIsSlave = Self(type: .badRequest, code: 10)
    /// `OFPBRC_BAD_PORT`
    public static let badRequestBadPort = Self(type: .badRequest, code: 11)
    /// `OFPBRC_BAD_PACKET`
    public static let badRequestBadPacket = Self(type: .badRequest, code: 12)
    /// `OFPBRC_MULTIPART_BUFFER_OVERFLOW`
    public static let badRequestMultipartBufferOverflow = Self(type: .badRequest, code: 13)
    /// `OFPBAC_BAD_TYPE`
    public static let badActionBadType = Self(type: .badAction, code: 0)
    /// `OFPBAC_BAD_LEN`
    public static let badActionBadLen = Self(type: .badAction, code: 1)
    /// `OFPBAC_BAD_EXPERIMENTER`
    public static let badActionBadExperimenter = Self(type: .badAction, code: 2)
    /// `OFPBAC_BAD_EXP_TYPE`
    public static let badActionBadExpType = Self(type: .badAction, code: 3)
    /// `OFPBAC_BAD_OUT_PORT`
    public static let badActionBadOutPort = Self(type: .badAction, code: 4)
    /// `OFPBAC_BAD_ARGUMENT`
    public static let badActionBadArgument = Self(type: .badAction, code: 5)
    /// `OFPBAC_EPERM`
    public static let badActionEPERM = Self(type: .badAction, code: 6)
    /// `OFPBAC_TOO_MANY`
    public static let badActionTooMany = Self(type: .badAction, code: 7)
    /// `OFPBAC_BAD_QUEUE`
    public static let badActionBadQueue = Self(type: .badAction, code: 8)
    /// `OFPBAC_BAD_OUT_GROUP`
    public static let badActionBadOutGroup = Self(type: .badAction, code: 9)
    /// `OFPBAC_MATCH_INCONSISTENT`
    public static let badActionMatchInconsistent = Self(type: .badAction, code: 10)
    /// `OFPBAC_UNSUPPORTED_ORDER`
    public static let badActionUnsupportedOrder = Self(type: .badAction, code: 11)
    /// `OFPBAC_BAD_TAG`
    public static let badActionBadTag = Self(type: .badAction, code: 12)
    /// `OFPBAC_BAD_SET_TYPE`
    public static let badActionBadSetType = Self(type: .badAction, code: 13)
    /// `OFPBAC_BAD_SET_LEN`
    public static let badActionBadSetLen = Self(type: .badAction, code: 14)
    /// `OFPBAC_BAD_SET_ARGUMENT`
    public static let badActionBadSetArgument = Self(type: .badAction, code: 15)
    /// `OFPBIC_UNKNOWN_INST`
    public static let badInstructionUnknownInst = Self(type: .badInstruction, code: 0)
    /// `OFPBIC_UNSUP_INST`
    public static let badInstructionUnsupInst = Self(type: .badInstruction, code: 1)
    /// `OFPBIC_BAD_TABLE_ID`
    public static let badInstructionBadTableId = Self(type: .badInstruction, code: 2)
    /// `OFPBIC_UNSUP_METADATA`
    public static let badInstructionUnsupMetadata = Self(type: .badInstruction, code: 3)
    /// `OFPBIC_UNSUP_METADATA_MASK`
    public static let badInstructionUnsupMetadataMask = Self(type: .badInstruction, code: 4)
    /// `OFPBIC_BAD_EXPERIMENTER`
    public static let badInstructionBadExperimenter = Self(type: .badInstruction, code: 5)
    /// `OFPBIC_BAD_EXP_TYPE`
    public static let badInstructionBadExpType = Self(type: .badInstruction, code: 6)
    /// `OFPBIC_BAD_LEN`
    public static let badInstructionBadLen = Self(type: .badInstruction, code: 7)
    /// `OFPBIC_EPERM`
    public static let badInstructionEPERM = Self(type: .badInstruction, code: 8)
    /// `OFPBMC_BAD_TYPE`
    public static let badMatchBadType = Self(type: .badMatch, code: 0)
    /// `OFPBMC_BAD_LEN`
    public static let badMatchBadLen = Self(type: .badMatch, code: 1)
    /// `OFPBMC_BAD_TAG`
    public static let badMatchBadTag = Self(type: .badMatch, code: 2)
    /// `OFPBMC_BAD_DL_ADDR_MASK`
    public static let badMatchBadDlAddrMask = Self(type: .badMatch, code: 3)
    /// `OFPBMC_BAD_NW_ADDR_MASK`
    public static let badMatchBadNwAddrMask = Self(type: .badMatch, code: 4)
    /// `OFPBMC_BAD_WILDCARDS`
    public static let badMatchBadWildcards = Self(type: .badMatch, code: 5)
    /// `OFPBMC_BAD_FIELD`
    public static let badMatchBadField = Self(type: .badMatch, code: 6)
    /// `OFPBMC_BAD_VALUE`
    public static let badMatchBadValue = Self(type: .badMatch, code: 7)
    /// `OFPBMC_BAD_MASK`
    public static let badMatchBadMask = Self(type: .badMatch, code: 8)
    /// `OFPBMC_BAD_PREREQ`
    public static let badMatchBadPrereq = Self(type: .badMatch, code: 9)
    /// `OFPBMC_DUP_FIELD`
    public static let badMatchDupField = Self(type: .badMatch, code: 10)
    /// `OFPBMC_EPERM`
    public static let badMatchEPERM = Self(type: .badMatch, code: 11)
    /// `OFPFMFC_UNKNOWN`
    public static let flowModFailedUnknown = Self(type: .flowModFailed, code: 0)
    /// `OFPFMFC_TABLE_FULL`
    public static let flowModFailedTableFull = Self(type: .flowModFailed, code: 1)
    /// `OFPFMFC_BAD_TABLE_ID`
    public static let flowModFailedBadTableId = Self(type: .flowModFailed, code: 2)
    /// `OFPFMFC_OVERLAP`
    public static let flowModFailedOverlap = Self(type: .flowModFailed, code: 3)
    /// `OFPFMFC_EPERM`
    public static let flowModFailedEPERM = Self(type: .flowModFailed, code: 4)
    /// `OFPFMFC_BAD_TIMEOUT`
    public static let flowModFailedBadTimeout = Self(type: .flowModFailed, code: 5)
    /// `OFPFMFC_BAD_COMMAND`
    public static let flowModFailedBadCommand = Self(type: .flowModFailed, code: 6)
    /// `OFPFMFC_BAD_FLAGS`
    public static let flowModFailedBadFlags = Self(type: .flowModFailed, code: 7)
    /// `OFPGMFC_GROUP_EXISTS`
    public static let groupModFailedGroupExists = Self(type: .groupModFailed, code: 0)
    /// `OFPGMFC_INVALID_GROUP`
    public static let groupModFailedInvalidGroup = Self(type: .groupModFailed, code: 1)
    /// `OFPGMFC_WEIGHT_UNSUPPORTED`
    public static let groupModFailedWeightUnsupported = Self(type: .groupModFailed, code: 2)
    /// `OFPGMFC_OUT_OF_GROUPS`
    public static let groupModFailedOutOfGroups = Self(type: .groupModFailed, code: 3)
    /// `OFPGMFC_OUT_OF_BUCKETS`
    public static let groupModFailedOutOfBuckets = Self(type: .groupModFailed, code: 4)
    /// `OFPGMFC_CHAINING_UNSUPPORTED`
    public static let groupModFailedChainingUnsupported = Self(type: .groupModFailed, code: 5)
    /// `OFPGMFC_WATCH_UNSUPPORTED`
    public static let groupModFailedWatchUnsupported = Self(type: .groupModFailed, code: 6)
    /// `OFPGMFC_LOOP`
    public static let groupModFailedLoop = Self(type: .groupModFailed, code: 7)
    /// `OFPGMFC_UNKNOWN_GROUP`
    public static let groupModFailedUnknownGroup = Self(type: .groupModFailed, code: 8)
    /// `OFPGMFC_CHAINED_GROUP`
    public static let groupModFailedChainedGroup = Self(type: .groupModFailed, code: 9)
    /// `OFPGMFC_BAD_TYPE`
    public static let groupModFailedBadType = Self(type: .groupModFailed, code: 10)
    /// `OFPGMFC_BAD_COMMAND`
    public static let groupModFailedBadCommand = Self(type: .groupModFailed, code: 11)
    /// `OFPGMFC_BAD_BUCKET`
    public static let groupModFailedBadBucket = Self(type: .groupModFailed, code: 12)
    /// `OFPGMFC_BAD_WATCH`
    public static let groupModFailedBadWatch = Self(type: .groupModFailed, code: 13)
    /// `OFPGMFC_EPERM`
    public static let groupModFailedEPERM = Self(type: .groupModFailed, code: 14)
    /// `OFPPMFC_BAD_PORT`
    public static let portModFailedBadPort = Self(type: .portModFailed, code: 0)
    /// `OFPPMFC_BAD_HW_ADDR`
    public static let portModFailedBadHwAddr = Self(type: .portModFailed, code: 1)
    /// `OFPPMFC_BAD_CONFIG`
    public static let portModFailedBadConfig = Self(type: .portModFailed, code: 2)
    /// `OFPPMFC_BAD_ADVERTISE`
    public static let portModFailedBadAdvertise = Self(type: .portModFailed, code: 3)
    /// `OFPPMFC_EPERM`
    public static let portModFailedEPERM = Self(type: .portModFailed, code: 4)
    /// `OFPTMFC_BAD_TABLE`
    public static let tableModFailedBadTable = Self(type: .tableModFailed, code: 0)
    /// `OFPTMFC_BAD_CONFIG`
    public static let tableModFailedBadConfig = Self(type: .tableModFailed, code: 1)
    /// `OFPTMFC_EPERM`
    public static let tableModFailedEPERM = Self(type: .tableModFailed, code: 2)
    /// `OFPQOFC_BAD_PORT`
    public static let queueOpFailedBadPort = Self(type: .queueOpFailed, code: 0)
    /// `OFPQOFC_BAD_QUEUE`
    public static let queueOpFailedBadQueue = Self(type: .queueOpFailed, code: 1)
    /// `OFPQOFC_EPERM`
    public static let queueOpFailedEPERM = Self(type: .queueOpFailed, code: 2)
    /// `OFPSCFC_BAD_FLAGS`
    public static let switchConfigFailedBadFlags = Self(type: .switchConfigFailed, code: 0)
    /// `OFPSCFC_BAD_LEN`
    public static let switchConfigFailedBadLen = Self(type: .switchConfigFailed, code: 1)
    /// `OFPSCFC_EPERM`
    public static let switchConfigFailedEPERM = Self(type: .switchConfigFailed, code: 2)
    /// `OFPRRFC_STALE`
    public static let roleRequestFailedStale = Self(type: .roleRequestFailed, code: 0)
    /// `OFPRRFC_UNSUP`
    public static let roleRequestFailedUnsup = Self(type: .roleRequestFailed, code: 1)
    /// `OFPRRFC_BAD_ROLE`
    public static let roleRequestFailedBadRole = Self(type: .roleRequestFailed, code: 2)
    /// `OFPMMFC_UNKNOWN`
    public static let meterModFailedUnknown = Self(type: .meterModFailed, code: 0)
    /// `OFPMMFC_METER_EXISTS`
    public static let meterModFailedMeterExists = Self(type: .meterModFailed, code: 1)
    /// `OFPMMFC_INVALID_METER`
    public static let meterModFailedInvalidMeter = Self(type: .meterModFailed, code: 2)
    /// `OFPMMFC_UNKNOWN_METER`
    public static let meterModFailedUnknownMeter = Self(type: .meterModFailed, code: 3)
    /// `OFPMMFC_BAD_COMMAND`
    public static let meterModFailedBadCommand = Self(type: .meterModFailed, code: 4)
    /// `OFPMMFC_BAD_FLAGS`
    public static let meterModFailedBadFlags = Self(type: .meterModFailed, code: 5)
    /// `OFPMMFC_BAD_RATE`
    public static let meterModFailedBadRate = Self(type: .meterModFailed, code: 6)
    /// `OFPMMFC_BAD_BURST`
    public static let meterModFailedBadBurst = Self(type: .meterModFailed, code: 7)
    /// `OFPMMFC_BAD_BAND`
    public static let meterModFailedBadBand = Self(type: .meterModFailed, code: 8)
    /// `OFPMMFC_BAD_BAND_VALUE`
    public static let meterModFailedBadBandValue = Self(type: .meterModFailed, code: 9)
    /// `OFPMMFC_OUT_OF_METERS`
    public static let meterModFailedOutOfMeters = Self(type: .meterModFailed, code: 10)
    /// `OFPMMFC_OUT_OF_BANDS`
    public static let meterModFailedOutOfBands = Self(type: .meterModFailed, code: 11)
    /// `OFPTFFC_BAD_TABLE`
    public static let tableFeaturesFailedBadTable = Self(type: .tableFeaturesFailed, code: 0)
    /// `OFPTFFC_BAD_METADATA`
    public static let tableFeaturesFailedBadMetadata = Self(type: .tableFeaturesFailed, code: 1)
    /// `OFPTFFC_BAD_TYPE`
    public static let tableFeaturesFailedBadType = Self(type: .tableFeaturesFailed, code: 2)
    /// `OFPTFFC_BAD_LEN`
    public static let tableFeaturesFailedBadLen = Self(type: .tableFeaturesFailed, code: 3)
    /// `OFPTFFC_BAD_ARGUMENT`
    public static let tableFeaturesFailedBadArgument = Self(type: .tableFeaturesFailed, code: 4)
    /// `OFPTFFC_EPERM`
    public static let tableFeaturesFailedEPERM = Self(type: .tableFeaturesFailed, code: 5)

    /// The spec's name of the code (`OFPBRC_BAD_LEN`), or `TYPE_CODE` numbers when unknown.
    public var description: String {
        let t = Int(type.rawValue)
        guard t < errorTable.count else { return "\(type)_\(code)" }
        let row = errorTable[t]
        guard Int(code) < row.codes.count else { return "OFP\(row.prefix)_\(code)" }
        return "OFP\(row.prefix)_" + row.codes[Int(code)]
    }
}

private let errorTable: [(type: String, prefix: String, codes: [String])] = [
    ("HELLO_FAILED", "HFC", ["INCOMPATIBLE", "EPERM"]),
    ("BAD_REQUEST", "BRC", ["BAD_VERSION", "BAD_TYPE", "BAD_MULTIPART", "BAD_EXPERIMENTER", "BAD_EXP_TYPE", "EPERM", "BAD_LEN", "BUFFER_EMPTY", "BUFFER_UNKNOWN", "BAD_TABLE_ID", "IS_SLAVE", "BAD_PORT", "BAD_PACKET", "MULTIPART_BUFFER_OVERFLOW"]),
    ("BAD_ACTION", "BAC", ["BAD_TYPE", "BAD_LEN", "BAD_EXPERIMENTER", "BAD_EXP_TYPE", "BAD_OUT_PORT", "BAD_ARGUMENT", "EPERM", "TOO_MANY", "BAD_QUEUE", "BAD_OUT_GROUP", "MATCH_INCONSISTENT", "UNSUPPORTED_ORDER", "BAD_TAG", "BAD_SET_TYPE", "BAD_SET_LEN", "BAD_SET_ARGUMENT"]),
    ("BAD_INSTRUCTION", "BIC", ["UNKNOWN_INST", "UNSUP_INST", "BAD_TABLE_ID", "UNSUP_METADATA", "UNSUP_METADATA_MASK", "BAD_EXPERIMENTER", "BAD_EXP_TYPE", "BAD_LEN", "EPERM"]),
    ("BAD_MATCH", "BMC", ["BAD_TYPE", "BAD_LEN", "BAD_TAG", "BAD_DL_ADDR_MASK", "BAD_NW_ADDR_MASK", "BAD_WILDCARDS", "BAD_FIELD", "BAD_VALUE", "BAD_MASK", "BAD_PREREQ", "DUP_FIELD", "EPERM"]),
    ("FLOW_MOD_FAILED", "FMFC", ["UNKNOWN", "TABLE_FULL", "BAD_TABLE_ID", "OVERLAP", "EPERM", "BAD_TIMEOUT", "BAD_COMMAND", "BAD_FLAGS"]),
    ("GROUP_MOD_FAILED", "GMFC", ["GROUP_EXISTS", "INVALID_GROUP", "WEIGHT_UNSUPPORTED", "OUT_OF_GROUPS", "OUT_OF_BUCKETS", "CHAINING_UNSUPPORTED", "WATCH_UNSUPPORTED", "LOOP", "UNKNOWN_GROUP", "CHAINED_GROUP", "BAD_TYPE", "BAD_COMMAND", "BAD_BUCKET", "BAD_WATCH", "EPERM"]),
    ("PORT_MOD_FAILED", "PMFC", ["BAD_PORT", "BAD_HW_ADDR", "BAD_CONFIG", "BAD_ADVERTISE", "EPERM"]),
    ("TABLE_MOD_FAILED", "TMFC", ["BAD_TABLE", "BAD_CONFIG", "EPERM"]),
    ("QUEUE_OP_FAILED", "QOFC", ["BAD_PORT", "BAD_QUEUE", "EPERM"]),
    ("SWITCH_CONFIG_FAILED", "SCFC", ["BAD_FLAGS", "BAD_LEN", "EPERM"]),
    ("ROLE_REQUEST_FAILED", "RRFC", ["STALE", "UNSUP", "BAD_ROLE"]),
    ("METER_MOD_FAILED", "MMFC", ["UNKNOWN", "METER_EXISTS", "INVALID_METER", "UNKNOWN_METER", "BAD_COMMAND", "BAD_FLAGS", "BAD_RATE", "BAD_BURST", "BAD_BAND", "BAD_BAND_VALUE", "OUT_OF_METERS", "OUT_OF_BANDS"]),
    ("TABLE_FEATURES_FAILED", "TFFC", ["BAD_TABLE", "BAD_METADATA", "BAD_TYPE", "BAD_LEN", "BAD_ARGUMENT", "EPERM"]),
]
