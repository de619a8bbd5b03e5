/// Something that takes nested objects, arrays and scalar values: JSON, or an indented text
/// layout. Renderers are written once against this and produce either.
public protocol StructuredWriter {
    mutating func beginObject()
    mutating func endObject()
    mutating func beginArray()
    mutating func endArray()
    mutating func key(_ k: String)
    mutating func string(_ s: String)
    mutating func int<T: BinaryInteger>(_ v: T)
    mutating func double(_ v: Double)
    mutating func bool(_ b: Bool)
    mutating func null()
    /// Bytes as a lowercase hex string value.
    mutating func hex(_ bytes: [UInt8])
}

extension StructuredWriter {
    /// Writes `"key": value` pairs in one call.
    @inlinable public mutating func field(_ k: String, _ v: String) { key(k); string(v) }
    @inlinable public mutating func field<T: BinaryInteger>(_ k: String, _ v: T) { key(k); int(v) }
    @inlinable public mutating func field(_ k: String, _ v: Double) { key(k); double(v) }
    @inlinable public mutating func field(_ k: String, _ v: Bool) { key(k); bool(v) }
}

/// An indented `key value` layout for people (in the spirit of classic sFlow tools' text output).
public struct TextWriter: StructuredWriter, Sendable {
    public var bytes: [UInt8] = []
    private var depth = 0
    private var pendingKey: String?
    private var arrayIndex: [Int] = []

    public init() {}

    public mutating func reset() { bytes.removeAll(keepingCapacity: true); depth = 0; pendingKey = nil; arrayIndex = [] }

    private mutating func line(_ value: String?) {
        var label = pendingKey ?? ""
        pendingKey = nil
        if label.isEmpty, var last = arrayIndex.last, last >= 0 {
            label = "[\(last)]"
            last += 1
            arrayIndex[arrayIndex.count - 1] = last
        }
        let indent = String(repeating: "  ", count: max(0, depth - 1))
        if let value { bytes.append(contentsOf: Array("\(indent)\(label) \(value)\n".utf8)) }
        else if !label.isEmpty { bytes.append(contentsOf: Array("\(indent)\(label)\n".utf8)) }
    }

    public mutating func beginObject() {
        if depth > 0 { line(nil) }
        depth += 1
        arrayIndex.append(-1)
    }
    public mutating func endObject() { depth -= 1; arrayIndex.removeLast(); if depth == 0 { bytes.append(UInt8(ascii: "\n")) } }
    public mutating func beginArray() { line(nil); depth += 1; arrayIndex.append(0) }
    public mutating func endArray() { depth -= 1; arrayIndex.removeLast() }
    public mutating func key(_ k: String) { pendingKey = k }
    public mutating func string(_ s: String) { line(s) }
    public mutating func int<T: BinaryInteger>(_ v: T) { line(String(v)) }
    public mutating func double(_ v: Double) {
        var j = JSONWriter(capacity: 16)
        j.double(v)
        line(String(decoding: j.bytes, as: UTF8.self))
    }
    public mutating func bool(_ b: Bool) { line(b ? "true" : "false") }
    public mutating func null() { line("-") }
    public mutating func hex(_ bytes: [UInt8]) { line(hexString(bytes)) }
}

// A small streaming JSON writer into a byte buffer. The command-line tools print one object a
// line for millions of samples, so this avoids Foundation's encoders and intermediate trees.

public struct JSONWriter: StructuredWriter, Sendable {
    public var bytes: [UInt8] = []
    /// Whether the current container already holds a member (so the next needs a comma).
    @usableFromInline var needsComma: [Bool] = [false]
    @usableFromInline var afterKey = false

    public init(capacity: Int = 1024) { bytes.reserveCapacity(capacity) }

    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        needsComma = [false]
        afterKey = false
    }

    @usableFromInline
    mutating func separator() {
        if afterKey { afterKey = false; return }
        if needsComma[needsComma.count - 1] { bytes.append(UInt8(ascii: ",")) }
        needsComma[needsComma.count - 1] = true
    }

    public mutating func beginObject() { separator(); bytes.append(UInt8(ascii: "{")); needsComma.append(false) }
    public mutating func endObject() { needsComma.removeLast(); bytes.append(UInt8(ascii: "}")) }
    public mutating func beginArray() { separator(); bytes.append(UInt8(ascii: "[")); needsComma.append(false) }
    public mutating func endArray() { needsComma.removeLast(); bytes.append(UInt8(ascii: "]")) }

    public mutating func key(_ k: String) {
        separator()
        writeString(k)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    public mutating func string(_ s: String) { separator(); writeString(s) }
    public mutating func null() { separator(); bytes.append(contentsOf: [110, 117, 108, 108]) }

    /// Writes bytes as a quoted lowercase hex string, straight into the buffer.
    public mutating func hex(_ data: [UInt8]) {
        separator()
        bytes.append(UInt8(ascii: "\""))
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: data.count * 2))
        bytes.withUnsafeMutableBufferPointer { out in
            data.withUnsafeBufferPointer { src in
                var o = start
                for b in src {
                    out[o] = JSONWriter.hexDigit(b >> 4)
                    out[o + 1] = JSONWriter.hexDigit(b & 15)
                    o += 2
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    @inline(__always)
    static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 48 + v : 87 + v }
    public mutating func bool(_ b: Bool) { separator(); bytes.append(contentsOf: Array((b ? "true" : "false").utf8)) }

    @inlinable
    public mutating func int<T: BinaryInteger>(_ v: T) {
        separator()
        if v < 0 {
            bytes.append(UInt8(ascii: "-"))
            writeUnsigned(UInt64(truncatingIfNeeded: v.magnitude))
        } else {
            writeUnsigned(UInt64(truncatingIfNeeded: v))
        }
    }

    public mutating func double(_ v: Double) { double(v, digits: 6) }

    public mutating func double(_ v: Double, digits: Int) {
        separator()
        guard v.isFinite else { bytes.append(contentsOf: [110, 117, 108, 108]); return }
        if v == v.rounded(), abs(v) < 1e15 {
            let i = Int64(v)
            if i < 0 { bytes.append(UInt8(ascii: "-")) }
            writeUnsigned(i.magnitude)
            return
        }
        // Fixed-point with trailing zeros trimmed: stable across platforms, unlike "\(v)".
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let negative = v < 0
        let scaled = (abs(v) * scale).rounded()
        guard scaled < 9e18 else { bytes.append(contentsOf: Array("\(v)".utf8)); return }
        let n = UInt64(scaled)
        let whole = n / UInt64(scale)
        var frac = n % UInt64(scale)
        if negative, n != 0 { bytes.append(UInt8(ascii: "-")) }
        writeUnsigned(whole)
        if frac != 0 {
            var fd = digits
            while frac % 10 == 0 { frac /= 10; fd -= 1 }
            bytes.append(UInt8(ascii: "."))
            var digitsOut = [UInt8](repeating: UInt8(ascii: "0"), count: fd)
            var f = frac
            for i in stride(from: fd - 1, through: 0, by: -1) {
                digitsOut[i] = UInt8(ascii: "0") + UInt8(f % 10)
                f /= 10
            }
            bytes.append(contentsOf: digitsOut)
        }
    }


    /// Appends pre-rendered JSON as one value.
    public mutating func raw(_ json: String) { separator(); bytes.append(contentsOf: Array(json.utf8)) }

    @usableFromInline
    mutating func writeUnsigned(_ v: UInt64) {
        if v < 10 { bytes.append(UInt8(ascii: "0") + UInt8(v)); return }
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var n = 0
        var m = v
        withUnsafeMutableBytes(of: &tmp) { buf in
            while m > 0 {
                buf[23 - n] = UInt8(ascii: "0") + UInt8(m % 10)
                m /= 10
                n += 1
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[(24 - n)...]))
        }
    }

    private mutating func writeString(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        // Fast path: most strings (addresses, names, hex) need no escaping.
        var str = s
        let done: Bool = str.withUTF8 { u in
            for c in u where c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") { return false }
            bytes.append(contentsOf: u)
            return true
        }
        if done {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [92, 92])
            case 0x0A: bytes.append(contentsOf: [92, 110])
            case 0x0D: bytes.append(contentsOf: [92, 114])
            case 0x09: bytes.append(contentsOf: [92, 116])
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [92, 117, 48, 48, hex[Int(c >> 4)], hex[Int(c & 15)]])
            default: bytes.append(c)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

/// Lowercase hex of bytes (for raw data in JSON and text output).
@inlinable
public func hexString(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 15)])
    }
    return String(decoding: out, as: UTF8.self)
}
