import Packets

/// Hex with whitespace ignored and `#` comments to the end of the line.
func hex(_ text: String) -> [UInt8] {
    var out: [UInt8] = []
    var high: UInt8?
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        for c in line.prefix(while: { $0 != "#" }).utf8 {
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = c - UInt8(ascii: "A") + 10
            case UInt8(ascii: " "), UInt8(ascii: "\t"): continue
            default: preconditionFailure("bad hex character")
            }
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
    }
    precondition(high == nil, "odd number of hex digits")
    return out
}

func v4(_ s: String) -> IPAddress { .v4(IPv4Address(s)!) }
func v6(_ s: String) -> IPAddress { .v6(IPv6Address(s)!) }
