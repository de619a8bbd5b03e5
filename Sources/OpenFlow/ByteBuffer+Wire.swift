// Checked reads and small writes shared by every decoder and encoder in the module.
//
// Every read checks what remains in the slice first and throws `OpenFlowError.truncated`
// instead of trapping (DESIGN habit 2). Decoders always work on a slice cut to the length the
// enclosing structure declared, so a structure can never read into its neighbour.

import NIOCore
import Packets

/// Hard caps on counts taken from the wire, on top of the byte lengths that already bound them
/// (habit 2: "checked against the bytes left and a hard cap").
public enum OpenFlowLimits {
    /// The largest message OpenFlow can express (`ofp_header.length` is 16 bits).
    public static let maximumMessageLength = 65535
    /// The most entries any one list (OXM fields, actions, instructions, buckets, stats) may hold.
    public static let maximumListEntries = 8192
}

extension ByteBuffer {
    @inlinable
    mutating func ofRead<T: FixedWidthInteger>(_: T.Type, _ context: StaticString) throws(OpenFlowError) -> T {
        guard let v = readInteger(as: T.self) else {
            throw OpenFlowError(.truncated, "\(context): needs \(MemoryLayout<T>.size) bytes, \(readableBytes) left")
        }
        return v
    }

    @inlinable
    mutating func ofReadSlice(_ length: Int, _ context: StaticString) throws(OpenFlowError) -> ByteBuffer {
        guard length >= 0, let s = readSlice(length: length) else {
            throw OpenFlowError(.truncated, "\(context): needs \(length) bytes, \(readableBytes) left")
        }
        return s
    }

    @inlinable
    mutating func ofSkip(_ count: Int, _ context: StaticString) throws(OpenFlowError) {
        guard count >= 0, readableBytes >= count else {
            throw OpenFlowError(.truncated, "\(context): needs \(count) bytes of padding, \(readableBytes) left")
        }
        moveReaderIndex(forwardBy: count)
    }

    @inlinable
    mutating func ofReadBytes(_ count: Int, _ context: StaticString) throws(OpenFlowError) -> [UInt8] {
        guard count >= 0, let b = readBytes(length: count) else {
            throw OpenFlowError(.truncated, "\(context): needs \(count) bytes, \(readableBytes) left")
        }
        return b
    }

    @inlinable
    func ofExpectEnd(_ context: StaticString) throws(OpenFlowError) {
        if readableBytes != 0 {
            throw OpenFlowError(.trailingBytes, "\(context): \(readableBytes) unexpected bytes")
        }
    }

    @inlinable
    mutating func ofReadMAC(_ context: StaticString) throws(OpenFlowError) -> MACAddress {
        let hi = try ofRead(UInt16.self, context)
        let lo = try ofRead(UInt32.self, context)
        return MACAddress(UInt64(hi) << 32 | UInt64(lo))
    }

    @inlinable
    mutating func ofReadIPv6(_ context: StaticString) throws(OpenFlowError) -> IPv6Address {
        let hi = try ofRead(UInt64.self, context)
        let lo = try ofRead(UInt64.self, context)
        return IPv6Address(high: hi, low: lo)
    }

    @inlinable
    mutating func writeMAC(_ mac: MACAddress) {
        writeInteger(UInt16(truncatingIfNeeded: mac.value >> 32))
        writeInteger(UInt32(truncatingIfNeeded: mac.value))
    }

    @inlinable
    mutating func writeIPv6(_ a: IPv6Address) {
        writeInteger(a.high)
        writeInteger(a.low)
    }

    @inlinable
    mutating func writeZeros(_ count: Int) {
        if count > 0 { writeRepeatingByte(0, count: count) }
    }

    /// Writes a 16-bit length at `at`: lengths are computed from what was written, never copied.
    @inlinable
    mutating func patchLength(at index: Int, _ length: Int) {
        setInteger(UInt16(truncatingIfNeeded: length), at: index)
    }
}

/// Bytes of padding that bring `length` up to a multiple of 8 (the "64-bit aligned" rule of
/// OF 1.3.5 §7.2.2, §7.2.4, §7.2.5).
@inlinable
func paddingTo8(_ length: Int) -> Int { (8 - length % 8) % 8 }



/// A fixed-width, NUL-padded text field (`ofp_port.name`, `ofp_desc.mfr_desc`...). The wire bytes
/// are kept as they were, so a name with bytes after its NUL still re-encodes byte for byte.
public struct FixedString: Hashable, Sendable, CustomStringConvertible {
    public private(set) var bytes: [UInt8]

    /// `text`'s UTF-8 bytes cut to `width - 1` and padded with NULs to `width`.
    public init(_ text: String, width: Int) {
        var b = Array(text.utf8.prefix(max(0, width - 1)))
        b.append(contentsOf: repeatElement(0, count: width - b.count))
        bytes = b
    }

    init(wireBytes: [UInt8]) { bytes = wireBytes }

    /// The text before the first NUL (invalid UTF-8 is repaired).
    public var string: String {
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[..<end], as: UTF8.self)
    }

    public var description: String { string }
}
