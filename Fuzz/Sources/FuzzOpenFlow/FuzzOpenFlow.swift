import NIOCore
import NIOEmbedded
import OpenFlow

/// libFuzzer entry: the input is a switch's byte stream. The first byte chooses how the rest is cut
/// into reads (1 to 16 reads of equal size, the cuts shifted by up to 15 bytes), so that frames
/// also arrive split across reads, headers included. The stream goes
/// through `OpenFlowMessageDecoder` in a channel pipeline until it ends or framing fails. Checks:
/// nothing crashes, hangs or leaks (ASan); the messages do not depend on how the stream was cut
/// (the plain frame decoder over the whole stream gives the same results, and a stream that ends
/// inside a message fails the pipeline's last decode exactly when bytes are left over); a decoded message
/// that encodes decodes again to the same message.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let stream = bytes[1...]
    let reads = Int(bytes[0] & 0x0F) + 1
    let shift = Int(bytes[0] >> 4)
    let step = Swift.max(1, (stream.count + reads - 1) / reads)

    // Through the pipeline, `step` bytes at a time.
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(OpenFlowMessageDecoder()))
    var piped: [OpenFlowDecodeResult] = []
    var pipeFailed = false
    var at = stream.startIndex
    var first = true
    while at < stream.endIndex {
        let end = Swift.min(at + step + (first ? shift : 0), stream.endIndex)
        first = false
        do {
            try channel.writeInbound(ByteBuffer(bytes: stream[at..<end]))
        } catch {
            pipeFailed = true
            break
        }
        while let r = try? channel.readInbound(as: OpenFlowDecodeResult.self) { piped.append(r) }
        at = end
    }
    // Always finish: a channel left open keeps its pipeline alive (a leak the harness would make).
    if (try? channel.finish()) == nil { pipeFailed = true }
    while let r = try? channel.readInbound(as: OpenFlowDecodeResult.self) { piped.append(r) }

    // The whole stream at once, through the plain frame decoder.
    var whole = ByteBuffer(bytes: stream)
    var frames = OpenFlowFrameDecoder()
    var direct: [OpenFlowDecodeResult] = []
    var directFailed = false
    while true {
        do {
            guard let frame = try frames.nextFrame(from: &whole) else { break }
            do {
                direct.append(.success(try OpenFlowEnvelope(frame: frame)))
            } catch {
                direct.append(.failure(error))
            }
        } catch {
            directFailed = true
            break
        }
    }
    // Bytes left over when the stream ends are a message cut off: the pipeline's last decode says so
    // (an error: "the stream ended inside a message"), the frame decoder just waits for more.
    let cutOff = !directFailed && whole.readableBytes > 0
    if piped != direct || pipeFailed != (directFailed || cutOff) {
        fatalError("the messages depend on how the stream was cut into reads:\n\(piped)\n\(direct)")
    }

    for case .success(let env) in direct {
        var out = ByteBuffer()
        guard (try? out.writeOpenFlowEnvelope(env)) != nil else { continue }
        guard let again = try? OpenFlowEnvelope(bytes: out) else {
            fatalError("a decoded message re-encodes to bytes that do not decode: \(env)")
        }
        if again != env { fatalError("a decoded message re-encodes to a different message: \(env) -> \(again)") }
    }
    return 0
}
