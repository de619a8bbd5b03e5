// Framing: whole messages come out however the bytes arrive, and a bad body never moves the
// stream off the next header.

import NIOCore
import NIOEmbedded
import NIOTestUtils
import OpenFlow
import Packets
import Testing

@Suite("Framing")
struct FramingTests {
    /// Golden vectors of mixed sizes (8 bytes to over 1 KiB).
    static let stream: [Golden] = allGolden.filter {
        ["hello", "echo_request", "flow_mod_add", "group_mod_select", "mp_desc_reply", "barrier_request",
         "flow_mod_modify_fields", "meter_mod", "packet_in"].contains($0.name)
    }

    @Test("ByteToMessageDecoderVerifier: one byte at a time, in batches, all at once")
    func verifier() throws {
        let pairs = Self.stream.map { (ByteBuffer(bytes: $0.bytes), [OpenFlowDecodeResult.success($0.envelope)]) }
        #expect(pairs.count == 9)
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { OpenFlowMessageDecoder() }
    }

    @Test("the plain frame decoder, fed one byte at a time")
    func byteAtATime() throws {
        let all = Self.stream.flatMap(\.bytes)
        var decoder = OpenFlowFrameDecoder()
        var buffer = ByteBuffer()
        var got: [OpenFlowEnvelope] = []
        for byte in all {
            buffer.writeInteger(byte)
            while let frame = try decoder.nextFrame(from: &buffer) {
                got.append(try OpenFlowEnvelope(frame: frame))
            }
        }
        #expect(got == Self.stream.map(\.envelope))
        #expect(buffer.readableBytes == 0)
    }

    @Test("the plain frame decoder, fed in uneven batches", arguments: [2, 3, 7, 13, 64, 500])
    func batches(_ size: Int) throws {
        let all = Self.stream.flatMap(\.bytes)
        var decoder = OpenFlowFrameDecoder()
        var buffer = ByteBuffer()
        var got: [OpenFlowEnvelope] = []
        var i = 0
        while i < all.count {
            buffer.writeBytes(all[i..<min(all.count, i + size)])
            i += size
            while let frame = try decoder.nextFrame(from: &buffer) {
                got.append(try OpenFlowEnvelope(frame: frame))
            }
        }
        #expect(got == Self.stream.map(\.envelope))
    }

    @Test("a bad body is an error for that message; the next message still decodes")
    func badBodyDoesNotDesync() throws {
        // A flow-mod whose instruction has len 0, between two good messages.
        let bad = flowMod(emptyMatch + hex("0004 0000 00000000"))
        let good1 = hex("04 02 000c 00000001 61626364")
        let good2 = hex("04 14 0008 00000003")
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(OpenFlowMessageDecoder()))
        try channel.writeInbound(ByteBuffer(bytes: good1 + bad + good2))
        let r1 = try channel.readInbound(as: OpenFlowDecodeResult.self)
        let r2 = try channel.readInbound(as: OpenFlowDecodeResult.self)
        let r3 = try channel.readInbound(as: OpenFlowDecodeResult.self)
        #expect(try r1?.get() == OpenFlowEnvelope(xid: 1, message: .echoRequest(ByteBuffer(bytes: hex("61626364")))))
        guard case .failure(let e) = r2 else {
            Issue.record("the bad flow-mod decoded: \(String(describing: r2))")
            return
        }
        #expect(e.xid == 0x2A && e.code == .badInstruction)
        #expect(try r3?.get() == OpenFlowEnvelope(xid: 3, message: .barrierRequest))
        #expect(try channel.finish().isClean)
    }

    @Test("a length below 8 closes the stream with an error")
    func framingErrorIsFatal() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(OpenFlowMessageDecoder()))
        #expect(throws: OpenFlowError.self) {
            try channel.writeInbound(ByteBuffer(bytes: hex("04 02 0004 00000001 00000000")))
        }
        _ = try? channel.finish()
    }

    @Test("the encoder handler writes what writeOpenFlowEnvelope writes")
    func encoderHandler() throws {
        let channel = EmbeddedChannel(handler: MessageToByteHandler(OpenFlowMessageEncoder()))
        for v in Self.stream { try channel.writeOutbound(v.envelope) }
        var out: [UInt8] = []
        while let b = try channel.readOutbound(as: ByteBuffer.self) { out += Array(b.readableBytesView) }
        #expect(out == Self.stream.flatMap(\.bytes))
        #expect(try channel.finish().isClean)
    }
}
