// One error type for the whole module (the swift-asn1 habit): a small open code, a message for
// people, and, when the failure is inside a message that was framed correctly, the xid and type
// of that message so that the session can answer with an OpenFlow ERROR (OF 1.3.5 §7.4.4) instead
// of dropping the connection.

import NIOCore

/// Why the codec refused some bytes or a value.
public struct OpenFlowError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, as an open code (new codes may appear; switch with a `default`).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }

        /// The header's length field is below 8, the size of `ofp_header` itself. Fatal for a stream:
        /// nothing after it can be framed.
        public static let lengthBelowHeader = Code(rawValue: 1)
        /// The header's length field is above the decoder's cap. Fatal for a stream.
        public static let lengthAboveCap = Code(rawValue: 2)
        /// A field inside the message runs past the end of the message (or of its parent structure).
        public static let truncated = Code(rawValue: 3)
        /// A length field inside the message is impossible (too small, misaligned, or would loop).
        public static let badLength = Code(rawValue: 4)
        /// The message carries bytes after its last structure where none are allowed.
        public static let trailingBytes = Code(rawValue: 5)
        /// The OXM match is malformed (wrong `ofp_match.type`, a bad TLV length).
        public static let badMatch = Code(rawValue: 6)
        /// An action is malformed.
        public static let badAction = Code(rawValue: 7)
        /// An instruction is malformed.
        public static let badInstruction = Code(rawValue: 8)
        /// A count or a nesting went past a hard cap.
        public static let tooMany = Code(rawValue: 9)
        /// The message is longer than 65535 bytes once encoded.
        public static let messageTooLong = Code(rawValue: 10)
        /// The message's version is not 4 (OpenFlow 1.3), where a 1.3 body was required.
        public static let unsupportedVersion = Code(rawValue: 11)

        public var description: String {
            switch self {
            case .lengthBelowHeader: "lengthBelowHeader"
            case .lengthAboveCap: "lengthAboveCap"
            case .truncated: "truncated"
            case .badLength: "badLength"
            case .trailingBytes: "trailingBytes"
            case .badMatch: "badMatch"
            case .badAction: "badAction"
            case .badInstruction: "badInstruction"
            case .tooMany: "tooMany"
            case .messageTooLong: "messageTooLong"
            case .unsupportedVersion: "unsupportedVersion"
            default: "code\(rawValue)"
            }
        }
    }

    public var code: Code
    /// What was being read or written, for logs.
    public var context: String
    /// The xid of the offending message, when its header was read.
    public var xid: UInt32?
    /// The type of the offending message, when its header was read.
    public var messageType: OpenFlowMessageType?
    /// The first 64 bytes (header included) of the offending message, when it was framed: what
    /// an ERROR's `data` must carry (OF 1.3.5 §7.4.4, "at least 64 bytes of the failed request").
    public var offendingMessage: ByteBuffer?

    public init(_ code: Code, _ context: String, xid: UInt32? = nil, messageType: OpenFlowMessageType? = nil) {
        self.code = code
        self.context = context
        self.xid = xid
        self.messageType = messageType
    }

    /// The OpenFlow error a switch-side or controller-side peer should receive for this failure
    /// (OF 1.3.5 §7.4.4 and §6.4: a malformed message is answered with an ERROR carrying its xid).
    public var suggestedReply: OpenFlowErrorKind {
        switch code {
        case .badMatch: .badMatchBadLen
        case .badAction: .badActionBadLen
        case .badInstruction: .badInstructionBadLen
        case .unsupportedVersion: .badRequestBadVersion
        default: .badRequestBadLen
        }
    }

    /// The OpenFlow ERROR to send back for this failure: `suggestedReply` with the first 64 bytes
    /// of the offending message. Send it with the offending message's `xid`.
    public var errorReply: OpenFlowMessage {
        .error(ErrorMessage(kind: suggestedReply, data: offendingMessage ?? ByteBuffer()))
    }

    public var description: String {
        var s = "OpenFlowError(\(code)): \(context)"
        if let xid { s += " xid=\(xid)" }
        if let messageType { s += " type=\(messageType)" }
        return s
    }
}
