// Max-min fair rates by progressive filling (Bertsekas and Gallager, Data Networks §6.5.2), the
// usual fluid model of long-lived TCP flows sharing links.
//
// Raising every unfrozen flow's rate together, the first link to fill is the one with the smallest
// fair share residual/unfrozen; its flows freeze at that share, which is removed from every other
// link they cross, and filling goes on. Instead of scanning all links per step, each link's share
// sits in a binary heap keyed by a lower bound of it (re-keyed when popped stale), and each
// link lists its flows (CSR arrays, rebuilt per call), so one allocation costs
// O(Σ path lengths · log links) rather than O(links · flows) per bottleneck.

/// Reusable scratch space for `allocate`; one per simulator, so allocations don't churn.
public struct MaxMinAllocator: Sendable {
    private var residual: [Double] = []
    private var unfrozen: [Int32] = []
    private var offsets: [Int32] = []
    private var members: [Int32] = []
    private var fill: [Int32] = []
    private var frozen: [Bool] = []
    private var heap: [HeapEntry] = []
    private var touched: [Int32] = []

    struct HeapEntry {
        var share: Double
        var link: Int32

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
        // No need to sort `touched`: each link has one heap entry, and entries are totally ordered
        // by (share, link), so the order links are processed in does not depend on the layout.
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
            heap.append(HeapEntry(share: residual[li] / Double(unfrozen[li]), link: l))
        }
        if heap.count > 1 {
            for i in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
        }

        // Shares only grow as filling goes on (a link loses flows frozen at the current minimum,
        // which is at most its own share), so an entry's key is a lower bound of its link's share.
        // A popped link whose share has grown since goes back in with its new key; one whose key
        // is still its share is the true minimum. This re-keys only links that reach the top,
        // instead of pushing every link of every frozen flow.
        while let top = heap.first {
            let li = Int(top.link)
            guard unfrozen[li] > 0 else { removeTop(); continue }
            let current = residual[li] / Double(unfrozen[li])
            if current > top.share {
                heap[0].share = current
                siftDown(0)
                continue
            }
            removeTop()
            let share = current
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
                }
            }
            unfrozen[li] = 0
        }
        for l in touched { unfrozen[Int(l)] = 0 }
    }

    /// Moves the entry at `start` down to its place (hole-based: one move per level).
    private mutating func siftDown(_ start: Int) {
        heap.withUnsafeMutableBufferPointer { h in
            let n = h.count
            let e = h[start]
            var i = start
            while true {
                let l = 2 * i + 1
                if l >= n { break }
                var m = l
                let r = l + 1
                if r < n, HeapEntry.before(h[r], h[l]) { m = r }
                guard HeapEntry.before(h[m], e) else { break }
                h[i] = h[m]
                i = m
            }
            h[i] = e
        }
    }

    private mutating func removeTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        siftDown(0)
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
