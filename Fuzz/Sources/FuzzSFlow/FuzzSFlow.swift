import Packets
import SFlow

/// libFuzzer entry: every input is a candidate sFlow datagram (and, reinterpreted, a captured
/// frame and a sampled header). Nothing may crash, hang or read out of bounds (ASan checks).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = UnsafeRawBufferPointer(start: data, count: size)
    if let d = try? SFlowDecoder.decode(raw) {
        // A clean decode must re-encode to exactly the input (lengths computed, padding zero)
        // whenever the input's padding was zero; at least it must decode again identically.
        let again = SFlowEncoder.encode(d.datagram)
        // (Only when both decodes are clean: a string that is not UTF-8 re-encodes longer.) A NaN
        // in a float counter (host CPU loads) makes a datagram unequal to itself: then the two
        // decodes must at least encode to the same bytes.
        if d.isClean, let d2 = try? SFlowDecoder.decode(again), d2.isClean,
           d2.datagram != d.datagram, SFlowEncoder.encode(d2.datagram) != again {
            fatalError("re-encoded datagram decodes differently:\n\(d.datagram)\n\(d2.datagram)")
        }
        var w = JSONWriter()
        for s in d.datagram.samples { SFlowRendering.writeSample(s, of: d.datagram, time: 0, into: &w) }
    }
    // The scanner's two forms must agree: the closure form and the one that parses into an array.
    var keys: [FlowKey?] = []
    let viaClosure = try? SFlowDecoder.scanFlowSamples(raw) { s in keys.append(s.header.flowKey) }
    var batch: [FlowSampleSummary] = []
    let viaArray = try? SFlowDecoder.scanFlowSamples(raw, appendingTo: &batch)
    if viaClosure != viaArray || (viaArray != nil && batch.map(\.header.flowKey) != keys) {
        fatalError("the scanner's two forms disagree: \(String(describing: viaClosure)) against \(String(describing: viaArray))")
    }
    _ = HeaderParser.parseEthernet(raw)
    _ = HeaderParser.parseIPv6Packet(raw)
    var x = UDPExtractor()
    _ = x.extract(linkType: .ethernet, frame: raw)
    _ = x.extract(linkType: .linuxSLL2, frame: raw)
    return 0
}
