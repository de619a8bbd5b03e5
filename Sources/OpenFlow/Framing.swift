// Framing (the GRPCMessageDecoder habit): read the 8-byte header, check its length against 8 and
// a cap, then cut the whole message before anything looks inside it. A bad body is an error for
// that one message (with its xid); the stream stays aligned on the next header. Only a length the
// header itself makes impossible (below 8, above the cap) ends the stream: nothing after it can be
// framed.

import NIOCore

/// `ofp_header` (OF 1.3.5 §7.1).
public struct OpenFlowHeader: Hashable, Sendable {
    public var version: UInt8
    public var type: OpenFlowMessageType
    /// The whole message's length, header included.
    public var length: UInt16
    public var xid: UInt32
    public init(version: UInt8, type: OpenFlowMessageType, length: UInt16, xid: UInt32) {
        self.version = version
        self.type = type
        self.length = length
        self.xid = xid
    }
    public static let size = 8
}

/// One framed message: its header and its body, not yet parsed.
public struct OpenFlowFrame: Hashable, Sendable {
    public var header: OpenFlowHeader
    /// `header.length - 8` bytes.
    public var body: ByteBuffer
    public init(header: OpenFlowHeader, body: ByteBuffer) {
        self.header = header
        self.body = body
    }
}

/// A plain-struct frame decoder: feed it the stream's bytes, take whole frames out.
public struct OpenFlowFrameDecoder: Sendable {
    /// Largest message accepted (at most 65535, what the 16-bit length can say).
    public let maximumLength: Int

    public init(maximumLength: Int = OpenFlowLimits.maximumMessageLength) {
        self.maximumLength = Swift.max(OpenFlowHeader.size, Swift.min(maximumLength, OpenFlowLimits.maximumMessageLength))
    }

    /// The next whole frame in `buffer`, or nil when more bytes are needed (nothing is consumed
    /// then). Throws, consuming nothing, when the header's length is below 8 or above the cap: the
    /// stream cannot be resynchronised and must be closed.
    public mutating func nextFrame(from buffer: inout ByteBuffer) throws(OpenFlowError) -> OpenFlowFrame? {
        guard buffer.readableBytes >= OpenFlowHeader.size,
              let version = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
              let type = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self),
              let length = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt16.self),
              let xid = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt32.self)
        else { return nil }
        let t = OpenFlowMessageType(type)
        guard Int(length) >= OpenFlowHeader.size else {
            throw OpenFlowError(.lengthBelowHeader, "ofp_header.length \(length) < 8", xid: xid, messageType: t)
        }
        guard Int(length) <= maximumLength else {
            throw OpenFlowError(.lengthAboveCap, "ofp_header.length \(length) > cap \(maximumLength)", xid: xid,
                                messageType: t)
        }
        guard buffer.readableBytes >= Int(length), var whole = buffer.readSlice(length: Int(length)) else { return nil }
        whole.moveReaderIndex(forwardBy: OpenFlowHeader.size)
        return OpenFlowFrame(header: OpenFlowHeader(version: version, type: t, length: length, xid: xid), body: whole)
    }

    /// Bytes a buffer must hold before the next frame can come out of it (for messages).
    static func needed(_ b: ByteBuffer) -> Int {
        guard let len = b.getInteger(at: b.readerIndex + 2, as: UInt16.self) else { return OpenFlowHeader.size }
        return Int(len)
    }
}

/// What the NIO decoder passes on for each framed message: the decoded message, or the error for
/// that message (with its xid) so that the session can answer with an OpenFlow ERROR.
public typealias OpenFlowDecodeResult = Result<OpenFlowEnvelope, OpenFlowError>

/// `ByteToMessageDecoder` around `OpenFlowFrameDecoder` and the message decoder. A framing error
/// (length < 8 or above the cap) is thrown, which closes the stream; a body error is passed on
/// as `.failure` and the stream goes on.
public struct OpenFlowMessageDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = OpenFlowDecodeResult

    private var frames: OpenFlowFrameDecoder

    public init(maximumLength: Int = OpenFlowLimits.maximumMessageLength) {
        frames = OpenFlowFrameDecoder(maximumLength: maximumLength)
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try frames.nextFrame(from: &buffer) else { return .needMoreData }
        let result: OpenFlowDecodeResult
        do {
            result = .success(try OpenFlowEnvelope(frame: frame))
        } catch {
            result = .failure(error)
        }
        context.fireChannelRead(wrapInboundOut(result))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer,
                                    seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        // A partial message when the stream ends can never complete: it is dropped, and said (the
        // session's close reason), so that a switch cut off mid-message is told from one that hung up.
        if buffer.readableBytes > 0 {
            let have = buffer.readableBytes
            let want = buffer.readableBytes >= 4 ? OpenFlowFrameDecoder.needed(buffer) : OpenFlowHeader.size
            buffer.moveReaderIndex(forwardBy: have)
            throw OpenFlowError(.truncated, "the stream ended inside a message: \(have) of \(want) bytes")
        }
        return .needMoreData
    }
}

/// `MessageToByteEncoder` for outgoing messages.
public struct OpenFlowMessageEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = OpenFlowEnvelope
    public init() {}
    public func encode(data: OpenFlowEnvelope, out: inout ByteBuffer) throws {
        try out.writeOpenFlowEnvelope(data)
    }
}
