import CTuskSys
import Packets

/// An open-addressing hash index from flow keys to cache slots, built for the sample path:
/// linear probing over one flat array of (full hash, slot) buckets (one cache line per probe), a seeded multiply-xor hash of
/// the packed 5-tuple instead of SipHash, and deletion by backward shift (no tombstones), so
/// probe sequences stay short however many flows come and go. Growing rehashes from the stored
/// hashes alone.
///
/// The seed keeps the probe pattern unpredictable to whoever chooses the traffic (the daemon
/// seeds it at start-up; the simulator and tests pass a fixed one, so runs stay reproducible).
struct FlowIndex {
    struct Bucket {
        var hash: UInt64
        var slot: Int32
        static let empty = Bucket(hash: 0, slot: -1)
    }

    private var buckets: [Bucket]
    private var mask: Int
    private(set) var count = 0
    let seed: UInt64

    init(capacity: Int, seed: UInt64) {
        var n = 16
        while n < capacity * 2 { n <<= 1 }
        buckets = Array(repeating: .empty, count: n)
        mask = n - 1
        self.seed = seed
    }

    @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 {
        // The 64-bit finaliser of MurmurHash3: every input bit affects every output bit.
        var z = x
        z ^= z >> 33
        z &*= 0xFF51_AFD7_ED55_8CCD
        z ^= z >> 33
        z &*= 0xC4CE_B9FE_1A85_EC53
        z ^= z >> 33
        return z
    }

    @inline(__always)
    func hash(_ k: FlowKey) -> UInt64 {
        var a: UInt64
        switch k.src {
        case .v4(let s): a = UInt64(s.value)
        case .v6(let s): a = s.high ^ Self.mix(s.low ^ 0x5151)
        }
        switch k.dst {
        case .v4(let d): a = a << 32 ^ UInt64(d.value)
        case .v6(let d): a ^= Self.mix(d.high ^ 0xA3A3) ^ d.low
        }
        let b = UInt64(k.proto) << 32 | UInt64(k.sport) << 16 | UInt64(k.dport)
        return Self.mix(Self.mix(a ^ seed) ^ b)
    }

    /// The slot holding `key`; `keyAt` gives the key stored in a slot, to confirm a hash match.
    @inline(__always)
    func find(_ key: FlowKey, keyAt: (Int32) -> FlowKey) -> Int32? {
        let h = hash(key)
        var i = Int(truncatingIfNeeded: h) & mask
        return buckets.withUnsafeBufferPointer { b in
            while true {
                let s = b[i].slot
                if s < 0 { return nil }
                if b[i].hash == h, keyAt(s) == key { return s }
                i = (i + 1) & mask
            }
        }
    }

    /// Starts loading the bucket where a lookup of a key with hash `h` begins (a hint).
    @inline(__always)
    func prefetch(hash h: UInt64) {
        buckets.withUnsafeBufferPointer { tusk_prefetch($0.baseAddress! + (Int(truncatingIfNeeded: h) & mask)) }
    }

    /// The slot of the first entry whose full hash is `h`, without reading the entry (so without
    /// waiting for it): almost always the key's slot; for prefetching only.
    @inline(__always)
    func candidate(hash h: UInt64) -> Int32? {
        var i = Int(truncatingIfNeeded: h) & mask
        return buckets.withUnsafeBufferPointer { b in
            while true {
                let s = b[i].slot
                if s < 0 { return nil }
                if b[i].hash == h { return s }
                i = (i + 1) & mask
            }
        }
    }

    mutating func insert(_ key: FlowKey, slot: Int32) {
        if (count + 1) * 4 > buckets.count * 3 { grow() }
        place(hash(key), slot)
        count += 1
    }

    private mutating func place(_ h: UInt64, _ slot: Int32) {
        var i = Int(truncatingIfNeeded: h) & mask
        while buckets[i].slot >= 0 { i = (i + 1) & mask }
        buckets[i] = Bucket(hash: h, slot: slot)
    }

    /// Removes the entry for `key`, whose slot is `slot`.
    mutating func remove(_ key: FlowKey, slot: Int32) {
        var i = Int(truncatingIfNeeded: hash(key)) & mask
        while buckets[i].slot >= 0, buckets[i].slot != slot { i = (i + 1) & mask }
        guard buckets[i].slot == slot else { return }
        buckets[i] = .empty
        count -= 1
        // Backward shift: later members of the cluster move into the hole when their home
        // position is not cyclically inside (hole, j], so no probe sequence is broken.
        var hole = i
        var j = (i + 1) & mask
        while buckets[j].slot >= 0 {
            let home = Int(truncatingIfNeeded: buckets[j].hash) & mask
            let inside = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j)
            if !inside {
                buckets[hole] = buckets[j]
                buckets[j] = .empty
                hole = j
            }
            j = (j + 1) & mask
        }
    }

    private mutating func grow() {
        let old = buckets
        let n = buckets.count * 2
        buckets = Array(repeating: .empty, count: n)
        mask = n - 1
        for b in old where b.slot >= 0 { place(b.hash, b.slot) }
    }
}
