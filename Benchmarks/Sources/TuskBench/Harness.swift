// A small benchmark harness: runs a body several times and reports the median, so noisy
// machines still give comparable figures. Each benchmark file registers itself in `main.swift`.

#if canImport(Glibc)
import Glibc
#endif

struct Measurement {
    var name: String
    var unit: String
    /// One value per run (e.g. items per second).
    var values: [Double]

    var median: Double {
        let s = values.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    func report() {
        let vs = values.map { formatNumber($0) }.joined(separator: " ")
        print("\(name): median \(formatNumber(median)) \(unit) (runs: \(vs))")
    }
}

func formatNumber(_ v: Double) -> String {
    if v >= 100 { return String(Int(v.rounded())) }
    let scaled = (v * 1000).rounded() / 1000
    return "\(scaled)"
}

/// Monotonic nanoseconds.
func nowNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// CPU time of the calling thread in nanoseconds: on a shared, noisy machine this counts only
/// the time the benchmark actually ran, not the time other processes held the core.
func threadCPUNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// CPU time of the whole process (every thread) in nanoseconds: for work that runs on both cores.
func processCPUNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Runs `body` `runs` times; `body` returns how many items it processed; reports items per second
/// of thread CPU time (one core), and the wall-clock figure beside it. `allThreads`: CPU time of
/// the whole process instead, for work that runs on more than one thread.
func measureThroughput(_ name: String, unit: String = "items/s", runs: Int = 7, warmUp: Bool = true, allThreads: Bool = false,
                       _ body: () -> Int) -> Measurement {
    if warmUp { _ = body() }
    let cpu = allThreads ? processCPUNanos : threadCPUNanos
    var values: [Double] = []
    var wall: [Double] = []
    for _ in 0..<runs {
        let t0 = nowNanos(), c0 = cpu()
        let n = body()
        let dt = Double(cpu() - c0) / 1e9
        let dw = Double(nowNanos() - t0) / 1e9
        values.append(Double(n) / dt)
        wall.append(Double(n) / dw)
    }
    let m = Measurement(name: name, unit: unit + (allThreads ? " (per CPU-second, all threads)" : " (per CPU-second, one core)"), values: values)
    m.report()
    let w = Measurement(name: name, unit: unit + " (wall clock)", values: wall)
    print("  wall-clock median \(formatNumber(w.median))")
    return m
}

/// Resident set size in bytes (from /proc/self/statm).
func residentBytes() -> Int {
    guard let f = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(f) }
    var size = 0, resident = 0
    guard withUnsafeMutablePointer(to: &size, { s in
        withUnsafeMutablePointer(to: &resident) { r in
            vfscanf_wrapper(f, s, r)
        }
    }) else { return 0 }
    return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
}

private func vfscanf_wrapper(_ f: UnsafeMutablePointer<FILE>, _ s: UnsafeMutablePointer<Int>, _ r: UnsafeMutablePointer<Int>) -> Bool {
    var buf = [CChar](repeating: 0, count: 256)
    guard fgets(&buf, 256, f) != nil else { return false }
    let text = String(cString: buf)
    let parts = text.split(separator: " ")
    guard parts.count >= 2, let a = Int(parts[0]), let b = Int(parts[1]) else { return false }
    s.pointee = a
    r.pointee = b
    return true
}
