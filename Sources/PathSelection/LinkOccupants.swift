/// The flows on each link (the chains' full flows; the ejection chains' and the search's movable
/// ones), in the order they came: a link's first three in one 16-byte slot (its count in the fourth
/// lane), any more in a list of their own. The chains ask who is on a link at every step, the
/// search at every trial; as an array per link, each question followed a pointer to a separate
/// allocation, most of the walks' time at k=32.
struct LinkOccupants {
    private var head: [SIMD4<Int32>]
    private var rest: [Int: [Int32]] = [:]

    init(links n: Int) { head = Array(repeating: SIMD4(repeating: 0), count: n) }

    @inline(__always) func count(_ l: Int) -> Int { Int(head[l][3]) }

    /// The `k`th flow on link `l` (`k` below its count).
    @inline(__always) func element(_ l: Int, _ k: Int) -> Int32 { k < 3 ? head[l][k] : rest[l]![k - 3] }

    /// Calls `body` with the flows on link `l`, in the order they came, until it returns false.
    @inline(__always) func forEach(_ l: Int, _ body: (Int32) -> Bool) {
        let h = head[l], c = Int(h[3])
        for k in 0..<min(c, 3) where !body(h[k]) { return }
        guard c > 3, let more = rest[l] else { return }
        for o in more where !body(o) { return }
    }

    /// True if a flow other than `f` is on link `l`.
    @inline(__always) func taken(_ l: Int, by f: Int32) -> Bool {
        let h = head[l], c = Int(h[3])
        for k in 0..<min(c, 3) where h[k] != f { return true }
        return c > 3 && rest[l]!.contains { $0 != f }
    }

    mutating func append(_ l: Int, _ f: Int32) {
        let c = count(l)
        if c < 3 { head[l][c] = f } else { rest[l, default: []].append(f) }
        head[l][3] = Int32(c + 1)
    }

    /// Takes the first `f` off link `l`; the others keep their order.
    mutating func remove(_ l: Int, _ f: Int32) {
        let c = count(l)
        guard let k = (0..<c).first(where: { element(l, $0) == f }) else { return }
        for m in k..<(c - 1) {
            let next = element(l, m + 1)
            if m < 3 { head[l][m] = next } else { rest[l]![m - 3] = next }
        }
        if c > 3 {
            rest[l]!.removeLast()
            if rest[l]!.isEmpty { rest[l] = nil }
        }
        head[l][3] = Int32(c - 1)
    }
}
