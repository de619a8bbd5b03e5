import Packets
@testable import SFlow

/// Parses a hex vector written for people: whitespace is ignored and `#` starts a comment that
/// runs to the end of the line, so every field can carry its own note.
func hexVector(_ text: String) -> [UInt8] {
    var out: [UInt8] = []
    var high: UInt8?
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        let code = line.prefix { $0 != "#" }
        for c in code.utf8 {
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = c - UInt8(ascii: "A") + 10
            case UInt8(ascii: " "), UInt8(ascii: "\t"): continue
            default: preconditionFailure("bad character \(Character(UnicodeScalar(c))) in hex vector")
            }
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
    }
    precondition(high == nil, "odd number of hex digits in vector")
    return out
}

func decodeOrNil(_ bytes: [UInt8]) -> DecodedDatagram? { try? SFlowDecoder.decode(bytes) }

/// Big-endian helpers for building hostile datagrams field by field.
struct Bytes {
    var b: [UInt8] = []
    @discardableResult mutating func u32(_ v: UInt32) -> Self {
        b += [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
        return self
    }
    @discardableResult mutating func raw(_ x: [UInt8]) -> Self { b += x; return self }
}

func u32(_ v: UInt32) -> [UInt8] { var x = Bytes(); x.u32(v); return x.b }

/// A datagram header (IPv4 agent 192.0.2.9) with `count` samples, followed by `body`.
func datagram(count: UInt32, _ body: [UInt8], sequence: UInt32 = 1) -> [UInt8] {
    u32(5) + u32(1) + [192, 0, 2, 9] + u32(0) + u32(sequence) + u32(1000) + u32(count) + body
}

/// `data_format | length | body` with the length taken from the body unless given.
func framed(_ format: UInt32, _ body: [UInt8], length: UInt32? = nil) -> [UInt8] {
    u32(format) + u32(length ?? UInt32(body.count)) + body
}

/// A compact flow sample body holding `records` (already framed), with the record count given or counted.
func flowSampleBody(records: [[UInt8]], count: UInt32? = nil, sequence: UInt32 = 1) -> [UInt8] {
    u32(sequence) + u32(3) + u32(100) + u32(100 * sequence) + u32(0) + u32(3) + u32(4)
        + u32(count ?? UInt32(records.count)) + records.flatMap { $0 }
}

func counterSampleBody(records: [[UInt8]], count: UInt32? = nil) -> [UInt8] {
    u32(1) + u32(3) + u32(count ?? UInt32(records.count)) + records.flatMap { $0 }
}

let extendedSwitchRecord = framed(1001, u32(10) + u32(0) + u32(20) + u32(0))
