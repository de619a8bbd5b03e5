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

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A producer and a consumer on two threads, with up to `depth` items between them: `run` makes
/// items on a thread of its own and hands each to `consume` on the calling thread, in the order made.
///
/// `inParallel` joins both sides after every item, so each step lasts as long as the slower side's
/// item and one side idles; here the producer runs ahead while the consumer is busy with a costly
/// item, and the other way round, so the whole lasts about as long as the slower side's total.
/// The items are kept and reused, from run to run too: `produce` gets one back as it was left
/// (with its memory) and fills it again.
/// As with `inParallel`, the caller keeps the two sides apart: each touches only its own state and
/// the item it holds. Items are consumed in the order they were made, so the result is the same as
/// making and consuming them one after the other on one thread. One run at a time: a pipeline's
/// items belong to the run in progress.
public final class Pipeline<Item>: @unchecked Sendable {
    public let depth: Int
    private let slots: UnsafeMutablePointer<Item>

    public init(depth: Int, _ make: () -> Item) {
        precondition(depth >= 1)
        self.depth = depth
        slots = .allocate(capacity: depth)
        for i in 0..<depth { (slots + i).initialize(to: make()) }
    }

    deinit {
        slots.deinitialize(count: depth)
        slots.deallocate()
    }

    /// Calls `produce` on a second thread, each time with an item to fill, until it returns false
    /// (that item is then not consumed), and `consume` on this thread with every item filled, in
    /// order. Returns when both are done.
    public func run(produce: (inout Item) -> Bool, consume: (inout Item) -> Void) {
        // (Both start at zero: libdispatch traps when a semaphore is released below its initial value.)
        let free = DispatchSemaphore(value: 0), filled = DispatchSemaphore(value: 0)
        for _ in 0..<depth { free.signal() }
        // Written by the producer before its last `filled.signal()`, read by the consumer after the
        // matching wait: the semaphore orders the two.
        let total = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        total.initialize(to: -1)
        defer { total.deallocate() }
        let slots = slots, depth = depth
        withoutActuallyEscaping(produce) { produce in
            let producer = JoinableThread {
                var n = 0
                while true {
                    free.wait()
                    guard produce(&slots[n % depth]) else { break }
                    n += 1
                    filled.signal()
                }
                total.pointee = n
                filled.signal()
            }
            var n = 0
            while true {
                filled.wait()
                if total.pointee == n { break }
                consume(&slots[n % depth])
                n += 1
                free.signal()
            }
            producer.join()
        }
    }
}

/// A POSIX thread that runs `body` once; `join` waits for it (and must be called).
private struct JoinableThread {
    private final class Body: @unchecked Sendable {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    private var id = pthread_t()

    init(_ body: @escaping () -> Void) {
        let box = Unmanaged.passRetained(Body(body)).toOpaque()
        let rc = pthread_create(&id, nil, startThread, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

    func join() { pthread_join(id, nil) }

    fileprivate static func start(_ box: UnsafeMutableRawPointer) {
        Unmanaged<Body>.fromOpaque(box).takeRetainedValue().run()
    }
}

private func startThread(_ box: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    JoinableThread.start(box!)
    return nil
}
