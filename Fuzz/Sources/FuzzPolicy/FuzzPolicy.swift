import PathSelection

/// libFuzzer entry: the input is a policy file (bytes that are not UTF-8 are replaced, as when a
/// file is read). Checks: nothing crashes, hangs or leaks (ASan); an accepted policy, written back
/// out, reads again to the same policy.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let policy = try? Policy(yaml: text) else { return 0 }
    let written = policy.yaml
    do {
        let again = try Policy(yaml: written)
        if again != policy { fatalError("a policy written back out reads differently:\n\(written)") }
    } catch {
        fatalError("a policy written back out does not read: \(error)\n\(written)")
    }
    return 0
}
