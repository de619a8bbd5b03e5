#if canImport(Glibc)
import Glibc
#endif
import CTuskSys
import Packets

public struct SendError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

/// Sends UDP datagrams to one destination with `sendmmsg`, in batches, paced to a target rate.
/// Blocking and single-threaded on purpose: it is a load generator and replay tool.
public final class UDPSender {
    private let fd: Int32
    private var destination = sockaddr_storage()
    private let destinationLength: socklen_t
    public private(set) var sent: UInt64 = 0
    public private(set) var failed: UInt64 = 0

    public init(host: String, port: Int, sendBufferBytes: Int = 8 << 20) throws {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var res: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &res)
        guard rc == 0, let ai = res else {
            throw SendError(message: "cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(res) }
        fd = socket(ai.pointee.ai_family, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw SendError(message: "socket: \(String(cString: strerror(errno)))") }
        withUnsafeMutableBytes(of: &destination) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(start: ai.pointee.ai_addr, count: Int(ai.pointee.ai_addrlen)))
        }
        destinationLength = ai.pointee.ai_addrlen
        var size = Int32(sendBufferBytes)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    /// Sends every datagram once, in sendmmsg(2) batches of up to 256; returns how many the
    /// kernel accepted. A refused or failed send is counted in `failed` and the rest go on.
    @discardableResult
    public func send(_ datagrams: ArraySlice<[UInt8]>) -> Int {
        var ok = 0
        var i = datagrams.startIndex
        while i < datagrams.endIndex {
            let end = min(i + 256, datagrams.endIndex)
            // One contiguous copy of the batch: simple pointer lifetimes, and cheap next to the
            // system call it saves.
            var arena: [UInt8] = []
            var offsets: [Int] = []
            var lengths: [Int] = []
            for d in datagrams[i..<end] {
                offsets.append(arena.count)
                lengths.append(d.count)
                arena.append(contentsOf: d)
            }
            let n = end - i
            if arena.isEmpty { arena = [0] } // all empty datagrams: still a valid base address
            arena.withUnsafeBytes { base in
                guard let start = base.baseAddress else { return }
                var pointers = offsets.map { start + $0 } as [UnsafeRawPointer?]
                var done = 0
                while done < n {
                    let r = pointers.withUnsafeMutableBufferPointer { p in
                        lengths.withUnsafeBufferPointer { l in
                            withUnsafePointer(to: &destination) { dst in
                                dst.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                                    tusk_sendmmsg(fd, p.baseAddress! + done, l.baseAddress! + done, UInt32(n - done), sa, destinationLength)
                                }
                            }
                        }
                    }
                    if r > 0 { done += Int(r); ok += Int(r); continue }
                    if errno == EINTR { continue }
                    if errno == EAGAIN || errno == ENOBUFS { usleep(20); continue }
                    failed += 1 // e.g. ECONNREFUSED: skip this datagram, go on with the rest
                    done += 1
                }
            }
            i = end
        }
        sent += UInt64(ok)
        return ok
    }
}

/// Monotonic clock in nanoseconds (the I/O edge's clock; the core never reads it).
public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Wall clock in nanoseconds since the epoch (for stamping live datagrams).
public func wallClockNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Sleeps until the monotonic clock reaches `deadline`.
public func sleepUntil(_ deadline: UInt64) {
    let now = monotonicNanos()
    guard deadline > now else { return }
    let d = deadline - now
    var ts = timespec(tv_sec: Int(d / 1_000_000_000), tv_nsec: Int(d % 1_000_000_000))
    var rem = timespec()
    while nanosleep(&ts, &rem) != 0 && errno == EINTR { ts = rem }
}
