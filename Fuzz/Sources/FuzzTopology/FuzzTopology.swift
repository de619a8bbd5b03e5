import Topology

/// libFuzzer entry: the input is a topology file (bytes that are not UTF-8 are replaced, as when a
/// file is read). Checks: nothing crashes, hangs or leaks (ASan); an accepted topology, written
/// back out, reads again to the same topology.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let topology = try? Topology(yaml: text) else { return 0 }
    let written = topology.yaml
    do {
        let again = try Topology(yaml: written)
        if again != topology { fatalError("a topology written back out reads differently:\n\(written)") }
    } catch {
        fatalError("a topology written back out does not read: \(error)\n\(written)")
    }
    return 0
}
