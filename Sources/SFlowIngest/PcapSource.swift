import CPcap
import Packets

/// A frame from a capture, with the capture's own timestamp.
public struct CapturedFrame {
    /// Seconds since the epoch, from the capture (microsecond or nanosecond resolution).
    public var time: Double
    /// Nanoseconds since the epoch (for reassembly timeouts and replay pacing).
    public var timeNanos: UInt64
    /// Bytes as captured (may be less than `wireLength`).
    public var bytes: UnsafeRawBufferPointer
    public var wireLength: Int
}

public struct PcapError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Reads pcap and pcapng files (and live interfaces) through libpcap.
public final class PcapSource {
    private let handle: OpaquePointer
    public let linkType: LinkType
    public let path: String
    /// True when timestamps are nanoseconds (pcap opened with nanosecond precision).
    private let nanos: Bool

    /// Opens a pcap or pcapng file. The error names the file and says what libpcap said.
    public init(file path: String) throws {
        var err = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let h = pcap_open_offline_with_tstamp_precision(path, UInt32(PCAP_TSTAMP_PRECISION_NANO), &err) else {
            let msg = String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw PcapError("\(path): not a readable pcap or pcapng capture (\(msg))")
        }
        handle = h
        self.path = path
        nanos = pcap_get_tstamp_precision(h) == Int32(PCAP_TSTAMP_PRECISION_NANO)
        linkType = LinkType(rawValue: pcap_datalink(h))
    }

    /// Opens a live capture on an interface, with an optional BPF filter (e.g. `udp port 6343`).
    public init(interface: String, filter: String?, snapLength: Int32 = 65_535) throws {
        var err = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let h = pcap_create(interface, &err) else {
            throw PcapError("\(interface): \(String(cString: err))")
        }
        pcap_set_snaplen(h, snapLength)
        pcap_set_timeout(h, 100)
        pcap_set_immediate_mode(h, 1)
        _ = pcap_set_tstamp_precision(h, Int32(PCAP_TSTAMP_PRECISION_NANO))
        let rc = pcap_activate(h)
        if rc < 0 {
            let msg = String(cString: pcap_geterr(h))
            pcap_close(h)
            throw PcapError("\(interface): cannot capture (\(msg))")
        }
        if let filter {
            var prog = bpf_program()
            if pcap_compile(h, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0 || pcap_setfilter(h, &prog) != 0 {
                let msg = String(cString: pcap_geterr(h))
                pcap_freecode(&prog)
                pcap_close(h)
                throw PcapError("bad capture filter '\(filter)': \(msg)")
            }
            pcap_freecode(&prog)
        }
        handle = h
        path = interface
        nanos = pcap_get_tstamp_precision(h) == Int32(PCAP_TSTAMP_PRECISION_NANO)
        linkType = LinkType(rawValue: pcap_datalink(h))
    }

    deinit { pcap_close(handle) }

    public enum Next {
        case frame
        /// Live capture: the read timed out with nothing new.
        case timeout
        case end
    }

    /// Reads the next frame and hands it to `body` (the bytes are valid only inside it).
    /// Throws when the file is corrupt part-way (libpcap's message, and how far it got).
    public func next(_ body: (CapturedFrame) throws -> Void) throws -> Next {
        var hdr: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        let rc = pcap_next_ex(handle, &hdr, &data)
        switch rc {
        case 1:
            guard let hdr, let data else { return .timeout }
            let h = hdr.pointee
            let sub = UInt64(h.ts.tv_usec) * (nanos ? 1 : 1000)
            let tn = UInt64(max(0, h.ts.tv_sec)) * 1_000_000_000 + sub
            try body(CapturedFrame(time: Double(h.ts.tv_sec) + Double(sub) / 1e9, timeNanos: tn,
                                   bytes: UnsafeRawBufferPointer(start: data, count: Int(h.caplen)),
                                   wireLength: Int(h.len)))
            return .frame
        case 0:
            return .timeout
        case -2:
            return .end
        default:
            throw PcapError("\(path): capture is damaged (\(String(cString: pcap_geterr(handle))))")
        }
    }

    /// Stops a live capture blocked in `next` (safe from another thread).
    public func breakLoop() { pcap_breakloop(handle) }
}

/// Writes a classic pcap file (Ethernet or raw IP frames); used to produce captures for `make run`,
/// tests and benchmarks.
public final class PcapWriter {
    private let dead: OpaquePointer
    private let dumper: OpaquePointer

    public init(path: String, linkType: LinkType = .ethernet, snapLength: Int32 = 65_535) throws {
        // libpcap takes DLT_ values here; raw IP is LINKTYPE_RAW (101) in files but DLT_RAW (12) here.
        let dlt = linkType == .rawIP ? LinkType.rawIPAlt.rawValue : linkType.rawValue
        guard let d = pcap_open_dead_with_tstamp_precision(dlt, snapLength, UInt32(PCAP_TSTAMP_PRECISION_MICRO)) else {
            throw PcapError("cannot create a pcap writer")
        }
        guard let w = pcap_dump_open(d, path) else {
            let msg = String(cString: pcap_geterr(d))
            pcap_close(d)
            throw PcapError("\(path): \(msg)")
        }
        dead = d
        dumper = w
    }

    public func write(_ frame: [UInt8], timeNanos: UInt64) {
        var h = pcap_pkthdr()
        h.ts.tv_sec = Int(timeNanos / 1_000_000_000)
        h.ts.tv_usec = Int((timeNanos % 1_000_000_000) / 1000)
        h.caplen = UInt32(frame.count)
        h.len = UInt32(frame.count)
        frame.withUnsafeBufferPointer { buf in
            pcap_dump(UnsafeMutableRawPointer(dumper).assumingMemoryBound(to: UInt8.self), &h, buf.baseAddress)
        }
    }

    public func close() {
        pcap_dump_close(dumper)
        pcap_close(dead)
    }
}
