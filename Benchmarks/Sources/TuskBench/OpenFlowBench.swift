import NIOCore
import OpenFlow
import Packets

/// OpenFlow 1.3 codec throughput: the flow-mod Tusk sends to move an elephant (7 OXM fields, one
/// masked, apply-actions output), encoded straight into a reused ByteBuffer; and the same bytes
/// framed and decoded back into the message model.
func openFlowBenchmarks() {
    let flowMod = FlowMod(
        command: .add, cookie: 0x7475_736B_0000_0001, tableID: 0, idleTimeout: 30, hardTimeout: 300, priority: 40000,
        flags: [.sendFlowRemoved],
        match: [.inPort(3), .ethType(0x0800), .ipv4Src(IPv4Address(10, 0, 1, 2)),
                .ipv4Dst(IPv4Address(10, 2, 0, 0), mask: IPv4Address(255, 255, 0, 0)), .ipProto(6),
                .tcpSrc(40000), .tcpDst(5201)],
        instructions: [.applyActions([.output(port: 7, maxLength: 0)])])
    let message = OpenFlowMessage.flowMod(flowMod)
    var buffer = ByteBuffer()
    buffer.reserveCapacity(4096)
    let perRun = 2_000_000
    var sink = 0

    _ = measureThroughput("openflow.flow-mod-encode", unit: "flow-mods/s") {
        for i in 0..<perRun {
            buffer.clear()
            sink &+= (try? buffer.writeOpenFlowMessage(message, xid: UInt32(truncatingIfNeeded: i))) ?? 0
        }
        return perRun
    }

    // A stream of 256 flow-mods back to back, framed and decoded as a session would.
    var stream = ByteBuffer()
    for i in 0..<256 { _ = try? stream.writeOpenFlowMessage(message, xid: UInt32(i)) }
    print("flow-mod: \(stream.readableBytes / 256) bytes on the wire")
    let decodeRuns = 2000
    _ = measureThroughput("openflow.flow-mod-frame-and-decode", unit: "flow-mods/s") {
        var n = 0
        for _ in 0..<decodeRuns {
            var input = stream
            var frames = OpenFlowFrameDecoder()
            while let frame = try? frames.nextFrame(from: &input) {
                if let env = try? OpenFlowEnvelope(frame: frame), case .flowMod(let f) = env.message {
                    sink &+= f.match.fields.count
                    n += 1
                }
            }
        }
        return n
    }
    if sink == 42 { print("") } // keeps the work observable
}
