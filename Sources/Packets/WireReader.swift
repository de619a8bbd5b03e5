// A bounds-checked big-endian cursor over bytes the caller keeps alive.
//
// Every read checks the bytes that remain first and returns nil (or throws in the throwing
// variants) instead of trapping, so no count or length taken from the wire can walk past the end.
// The decoders build on this rather than on ad-hoc subscripts: one place to get the checks right.

public struct WireReader {
    public let base: UnsafeRawBufferPointer
    /// Offset of the next byte to read, from the start of `base`.
    @usableFromInline var offset: Int
    /// Offset of the next byte to read (public, read-only view).
    @inlinable public var position: Int { offset }
    /// One past the last byte this reader may touch (a sub-reader's limit is inside its parent's).
    public let limit: Int

    @inlinable
    public init(_ base: UnsafeRawBufferPointer) {
        self.base = base
        self.offset = 0
        self.limit = base.count
    }

    @inlinable @usableFromInline
    init(base: UnsafeRawBufferPointer, offset: Int, limit: Int) {
        self.base = base
        self.offset = offset
        self.limit = limit
    }

    @inlinable public var remaining: Int { limit - offset }
    @inlinable public var isAtEnd: Bool { offset >= limit }

    @inlinable
    public mutating func readUInt8() -> UInt8? {
        guard offset < limit else { return nil }
        defer { offset += 1 }
        return base.load(fromByteOffset: offset, as: UInt8.self)
    }

    @inlinable
    public mutating func readUInt16() -> UInt16? {
        guard limit - offset >= 2 else { return nil }
        defer { offset += 2 }
        return UInt16(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inlinable
    public mutating func readUInt32() -> UInt32? {
        guard limit - offset >= 4 else { return nil }
        defer { offset += 4 }
        return UInt32(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inlinable
    public mutating func readUInt64() -> UInt64? {
        guard limit - offset >= 8 else { return nil }
        defer { offset += 8 }
        return UInt64(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// Peeks without moving.
    @inlinable
    public func peekUInt16(at delta: Int = 0) -> UInt16? {
        guard delta >= 0, limit - offset - delta >= 2 else { return nil }
        return UInt16(bigEndian: base.loadUnaligned(fromByteOffset: offset + delta, as: UInt16.self))
    }

    @inlinable
    public func peekUInt8(at delta: Int = 0) -> UInt8? {
        guard delta >= 0, limit - offset - delta >= 1 else { return nil }
        return base.load(fromByteOffset: offset + delta, as: UInt8.self)
    }

    @inlinable
    public mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, limit - offset >= count else { return false }
        offset += count
        return true
    }

    /// Splits off the next `count` bytes as their own reader and moves past them.
    @inlinable
    public mutating func readSlice(_ count: Int) -> WireReader? {
        guard count >= 0, limit - offset >= count else { return nil }
        let slice = WireReader(base: base, offset: offset, limit: offset + count)
        offset += count
        return slice
    }

    /// The unread bytes of this reader as a buffer (valid while the underlying memory is).
    @inlinable
    public var remainingBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: base[offset..<limit])
    }

    @inlinable
    public mutating func readBytes(_ count: Int) -> [UInt8]? {
        guard count >= 0, limit - offset >= count else { return nil }
        defer { offset += count }
        return [UInt8](UnsafeRawBufferPointer(rebasing: base[offset..<(offset + count)]))
    }

    @inlinable
    public mutating func readIPv4() -> IPv4Address? { readUInt32().map(IPv4Address.init) }

    @inlinable
    public mutating func readIPv6() -> IPv6Address? {
        guard limit - offset >= 16, let h = readUInt64(), let l = readUInt64() else { return nil }
        return IPv6Address(high: h, low: l)
    }

    @inlinable
    public mutating func readMAC() -> MACAddress? {
        guard limit - offset >= 6, let h = readUInt16(), let l = readUInt32() else { return nil }
        return MACAddress(UInt64(h) << 32 | UInt64(l))
    }
}

/// A growable big-endian byte writer for encoders (tests, the simulator's sFlow synthesis).
public struct WireWriter: Sendable {
    public var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inlinable public var count: Int { bytes.count }

    @inlinable public mutating func write(_ v: UInt8) { bytes.append(v) }
    @inlinable public mutating func write(_ v: UInt16) {
        bytes.append(UInt8(v >> 8)); bytes.append(UInt8(truncatingIfNeeded: v))
    }
    @inlinable public mutating func write(_ v: UInt32) {
        bytes.append(UInt8(v >> 24)); bytes.append(UInt8(truncatingIfNeeded: v >> 16))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8)); bytes.append(UInt8(truncatingIfNeeded: v))
    }
    @inlinable public mutating func write(_ v: UInt64) {
        write(UInt32(v >> 32)); write(UInt32(truncatingIfNeeded: v))
    }
    @inlinable public mutating func write(_ v: IPv4Address) { write(v.value) }
    @inlinable public mutating func write(_ v: IPv6Address) { write(v.high); write(v.low) }
    @inlinable public mutating func write(_ v: MACAddress) {
        write(UInt16(truncatingIfNeeded: v.value >> 32)); write(UInt32(truncatingIfNeeded: v.value))
    }
    @inlinable public mutating func write(bytes b: some Sequence<UInt8>) { bytes.append(contentsOf: b) }
    @inlinable public mutating func writeZeros(_ n: Int) {
        if n > 0 { bytes.append(contentsOf: repeatElement(0, count: n)) }
    }

    /// Reserves a 32-bit length to fill in later with `patchUInt32(at:_:)`.
    @inlinable public mutating func reserveUInt32() -> Int {
        let at = bytes.count
        write(UInt32(0))
        return at
    }

    @inlinable public mutating func patchUInt32(at index: Int, _ v: UInt32) {
        bytes[index] = UInt8(v >> 24); bytes[index + 1] = UInt8(truncatingIfNeeded: v >> 16)
        bytes[index + 2] = UInt8(truncatingIfNeeded: v >> 8); bytes[index + 3] = UInt8(truncatingIfNeeded: v)
    }

    @inlinable public mutating func patchUInt16(at index: Int, _ v: UInt16) {
        bytes[index] = UInt8(v >> 8); bytes[index + 1] = UInt8(truncatingIfNeeded: v)
    }
}
