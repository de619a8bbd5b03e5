// Max-min fair rates by progressive filling (Bertsekas and Gallager, Data Networks §6.5.2), the
// usual fluid model of long-lived TCP flows sharing links.
//
// Raising every unfrozen flow's rate together, the first link to fill is the one with the smallest
// fair share residual/unfrozen; its flows freeze at that share, which is removed from every other
// link they cross, and filling goes on. Instead of scanning all links per step, each link's share
// sits in a binary heap (lazy deletion: a popped entry whose version is stale is skipped), and each
// link lists its flows (CSR arrays, rebuilt per call), so one allocation costs
// O(Σ path lengths · log links) rather than O(links · flows) per bottleneck.

/// Reusable scratch space for `allocate`; one per simulator, so allocations don't churn.
public struct MaxMinAllocator: Sendable {
    private var residual: [Double] = []
    private var unfrozen: [Int32] = []
    private var version: [UInt32] = []
    private var offsets: [Int32] = []
    private var members: [Int32] = []
    private var fill: [Int32] = []
    private var frozen: [Bool] = []
    private var heap: [HeapEntry] = []
    private var touched: [Int32] = []

    struct HeapEntry {
        var share: Double
        var link: Int32
        var version: UInt32

        @inline(__always) static func before(_ a: HeapEntry, _ b: HeapEntry) -> Bool {
            a.share < b.share || (a.share == b.share && a.link < b.link) // ties by link: deterministic
        }
    }

    public init() {}

    /// Computes max-min fair rates.
    /// - Parameters:
    ///   - capacities: capacity of each directed link (any unit; rates come out in the same unit).
    ///   - flowCount: number of flows.
    ///   - path: the links of flow `i` (no repeats within one path).
    ///   - rates: resized to `flowCount` and filled. A flow with an empty path gets `.infinity`.
    public mutating func allocate(capacities: [Double], flowCount: Int,
                                  path: (Int) -> ArraySlice<Int32>, rates: inout [Double]) {
        let linkCount = capacities.count
        if residual.count != linkCount {
            residual = [Double](repeating: 0, count: linkCount)
            unfrozen = [Int32](repeating: 0, count: linkCount)
            version = [UInt32](repeating: 0, count: linkCount)
            offsets = [Int32](repeating: 0, count: linkCount + 1)
            fill = [Int32](repeating: 0, count: linkCount)
        }
        if rates.count != flowCount { rates = [Double](repeating: .infinity, count: flowCount) }
        if frozen.count < flowCount { frozen = [Bool](repeating: false, count: flowCount) }

        // Count flows per link (only links in use are touched, so cost follows the flows).
        touched.removeAll(keepingCapacity: true)
        var total = 0
        for f in 0..<flowCount {
            frozen[f] = false
            rates[f] = .infinity
            for l in path(f) {
                let li = Int(l)
                if unfrozen[li] == 0 { touched.append(l) }
                unfrozen[li] += 1
                total += 1
            }
        }
        touched.sort() // a fixed link order keeps the CSR layout, and so every tie, deterministic
        var running: Int32 = 0
        for l in touched {
            let li = Int(l)
            offsets[li] = running
            fill[li] = running
            running += unfrozen[li]
            residual[li] = max(0, capacities[li])
        }
        if members.count < total { members = [Int32](repeating: 0, count: total) }
        for f in 0..<flowCount {
            for l in path(f) {
                let li = Int(l)
                members[Int(fill[li])] = Int32(f)
                fill[li] += 1
            }
        }
        heap.removeAll(keepingCapacity: true)
        for l in touched {
            let li = Int(l)
            version[li] &+= 1
            push(HeapEntry(share: residual[li] / Double(unfrozen[li]), link: l, version: version[li]))
        }

        while let top = pop() {
            let li = Int(top.link)
            guard top.version == version[li], unfrozen[li] > 0 else { continue }
            let share = top.share
            let start = Int(offsets[li]), end = Int(fill[li])
            for m in start..<end {
                let f = Int(members[m])
                guard !frozen[f] else { continue }
                frozen[f] = true
                rates[f] = share
                for l2 in path(f) {
                    let i2 = Int(l2)
                    residual[i2] = max(0, residual[i2] - share)
                    unfrozen[i2] -= 1
                    if i2 != li, unfrozen[i2] > 0 {
                        version[i2] &+= 1
                        push(HeapEntry(share: residual[i2] / Double(unfrozen[i2]), link: l2, version: version[i2]))
                    }
                }
            }
            unfrozen[li] = 0
        }
        for l in touched { unfrozen[Int(l)] = 0 }
    }

    private mutating func push(_ e: HeapEntry) {
        heap.append(e)
        var i = heap.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard HeapEntry.before(heap[i], heap[p]) else { break }
            heap.swapAt(i, p)
            i = p
        }
    }

    private mutating func pop() -> HeapEntry? {
        guard let last = heap.popLast() else { return nil }
        guard !heap.isEmpty else { return last }
        let top = heap[0]
        heap[0] = last
        var i = 0
        let n = heap.count
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < n, HeapEntry.before(heap[l], heap[m]) { m = l }
            if r < n, HeapEntry.before(heap[r], heap[m]) { m = r }
            if m == i { break }
            heap.swapAt(i, m)
            i = m
        }
        return top
    }
}

/// Convenience for tests and small cases: rates for flows given as link lists.
public func maxMinRates(capacities: [Double], paths: [[Int]]) -> [Double] {
    var a = MaxMinAllocator()
    var rates: [Double] = []
    let p32 = paths.map { $0.map(Int32.init) }
    a.allocate(capacities: capacities, flowCount: paths.count, path: { p32[$0][...] }, rates: &rates)
    return rates
}
