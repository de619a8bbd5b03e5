import NIOCore
import OpenFlow
import Packets

/// Bytes from hex text; spaces, newlines and `|` separators are ignored. Test vectors are
/// written by hand from the OF 1.3.5 structure layouts, never produced by the encoder.
func hex(_ parts: String...) -> [UInt8] {
    let digits = parts.joined().filter { $0.isHexDigit }
    var out: [UInt8] = []
    var i = digits.startIndex
    while i < digits.endIndex {
        let j = digits.index(i, offsetBy: 2)
        out.append(UInt8(digits[i..<j], radix: 16) ?? 0)
        i = j
    }
    return out
}

/// `text` as a NUL-padded field of `width` bytes, written as the spec lays it out.
func fixed(_ text: String, _ width: Int) -> [UInt8] {
    Array(text.utf8) + [UInt8](repeating: 0, count: width - text.utf8.count)
}

func encode(_ env: OpenFlowEnvelope) throws(OpenFlowError) -> [UInt8] {
    var b = ByteBuffer()
    try b.writeOpenFlowEnvelope(env)
    return Array(b.readableBytesView)
}

func decode(_ bytes: [UInt8]) throws(OpenFlowError) -> OpenFlowEnvelope {
    try OpenFlowEnvelope(bytes: ByteBuffer(bytes: bytes))
}

func buf(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

func mac(_ s: String) -> MACAddress { MACAddress(s) ?? MACAddress(0) }
func v4(_ s: String) -> IPv4Address { IPv4Address(s) ?? IPv4Address(0) }
func v6(_ s: String) -> IPv6Address { IPv6Address(s) ?? IPv6Address(high: 0, low: 0) }

/// One golden vector: the wire bytes and the message they mean.
struct Golden: Sendable, CustomStringConvertible {
    var name: String
    var bytes: [UInt8]
    var envelope: OpenFlowEnvelope
    var description: String { name }
}
