import Dispatch

/// Runs `a` and `b` at the same time on two threads and returns when both have finished (fork and
/// join). The caller keeps them apart: neither may touch what the other changes. Work split this
/// way gives the same result on one core or two, so seeded runs stay repeatable.
public func inParallel(_ a: () -> Void, _ b: () -> Void) {
    struct Pair: @unchecked Sendable {
        let a: () -> Void
        let b: () -> Void
    }
    withoutActuallyEscaping(a) { a in
        withoutActuallyEscaping(b) { b in
            let pair = Pair(a: a, b: b)
            DispatchQueue.concurrentPerform(iterations: 2) { i in i == 0 ? pair.a() : pair.b() }
        }
    }
}
