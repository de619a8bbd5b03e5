import Packets
import SFlow

/// Counts kept while pulling sFlow datagrams out of a capture.
public struct CaptureCounts: Sendable, Equatable {
    public var frames = 0
    public var udpDatagrams = 0
    /// UDP datagrams to other ports, and frames that are not UDP over IP.
    public var ignored = 0
    /// Frames broken at the link, IP or UDP layer.
    public var malformedFrames = 0
    public var fragmentsHeld = 0
    public var reassembled = 0
    public init() {}
}

/// Pulls the sFlow datagrams (UDP payloads to the collector port) out of a pcap/pcapng file or a
/// live interface, reassembling IP fragments. The capture's timestamps are the clock.
public final class SFlowCaptureReader {
    public let source: PcapSource
    /// Collector port to accept (0: any UDP datagram).
    public let port: UInt16
    public private(set) var counts = CaptureCounts()
    private var extractor = UDPExtractor()
    /// Time of the first frame read, in seconds.
    public private(set) var firstTime: Double?

    public init(file: String, port: UInt16 = 6343) throws {
        source = try PcapSource(file: file)
        self.port = port
        try checkLinkType()
    }

    public init(interface: String, port: UInt16 = 6343) throws {
        source = try PcapSource(interface: interface, filter: port == 0 ? "udp" : "udp port \(port) or (ip[6:2] & 0x1fff != 0)")
        self.port = port
        try checkLinkType()
    }

    private func checkLinkType() throws {
        guard source.linkType.isSupported else {
            throw PcapError("\(source.path): link type \(source.linkType.rawValue) is not supported (Ethernet, Linux cooked SLL/SLL2, raw IP, loopback are)")
        }
    }

    public enum Item {
        case datagram(UDPDatagram, time: Double, timeNanos: UInt64)
        case malformed(String, time: Double)
    }

    /// Calls `body` for each sFlow datagram (and each malformed frame) until the capture ends.
    /// Returns false when stopped by `body` returning false.
    @discardableResult
    public func forEach(_ body: (Item) throws -> Bool) throws -> Bool {
        var keepGoing = true
        while keepGoing {
            let next = try source.next { frame in
                counts.frames += 1
                if firstTime == nil { firstTime = frame.time }
                switch extractor.extract(linkType: source.linkType, frame: frame.bytes, now: frame.timeNanos) {
                case .datagram(let d):
                    counts.udpDatagrams += 1
                    guard port == 0 || d.dstPort == port else { counts.ignored += 1; return }
                    keepGoing = try body(.datagram(d, time: frame.time, timeNanos: frame.timeNanos))
                case .fragmentHeld:
                    counts.fragmentsHeld += 1
                case .notUDP:
                    counts.ignored += 1
                case .malformed(let why):
                    counts.malformedFrames += 1
                    keepGoing = try body(.malformed("frame \(counts.frames): \(why)", time: frame.time))
                }
            }
            switch next {
            case .frame, .timeout: continue
            case .end:
                counts.reassembled = extractor.reassembled
                return true
            }
        }
        counts.reassembled = extractor.reassembled
        return false
    }
}
