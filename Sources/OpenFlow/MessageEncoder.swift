// Writing messages. Every length field is computed from the bytes written (a placeholder, then a
// patch), never copied from a model value, and every pad is written as zeros.
//
//  ofp_header (OF 1.3.5 §7.1):
//  +---------+--------+-----------------+---------------------------------+
//  | version |  type  |     length      |               xid               |
//  |    8    |   8    |       16        |                32               |
//  +---------+--------+-----------------+---------------------------------+
//  | body (length - 8 bytes)                                              |

import NIOCore
import Packets

extension ByteBuffer {
    /// Appends one whole message. Throws `messageTooLong` (and writes nothing) when the message
    /// would not fit the 16-bit length.
    @inlinable
    @discardableResult
    public mutating func writeOpenFlowMessage(_ message: OpenFlowMessage, xid: UInt32,
                                              version: UInt8 = openFlow13Version) throws(OpenFlowError) -> Int {
        if case .flowMod(let f) = message {
            // The hot path: the whole flow-mod through one reserved span (see RawWriter); the
            // length is what was written, patched into the header.
            let start = writerIndex
            let length = writeRaw(bound: f.encodedLengthBound) { w in
                w.u8(version); w.u8(OpenFlowMessageType.flowMod.rawValue); w.u16(0); w.u32(xid)
                w.flowModBody(f)
                w.patch16(at: 2, w.offset)
            }
            guard length <= OpenFlowLimits.maximumMessageLength else {
                moveWriterIndex(to: start)
                throw OpenFlowError(.messageTooLong, "flow_mod would be \(length) bytes", xid: xid, messageType: .flowMod)
            }
            return length
        }
        let start = writerIndex
        writeInteger(version)
        writeInteger(message.type.rawValue)
        writeInteger(UInt16(0))
        writeInteger(xid)
        writeMessageBody(message)
        let length = writerIndex - start
        guard length <= OpenFlowLimits.maximumMessageLength else {
            moveWriterIndex(to: start)
            throw OpenFlowError(.messageTooLong, "\(message.type) would be \(length) bytes", xid: xid,
                                messageType: message.type)
        }
        patchLength(at: start + 2, length)
        return length
    }

    @inlinable
    @discardableResult
    public mutating func writeOpenFlowEnvelope(_ envelope: OpenFlowEnvelope) throws(OpenFlowError) -> Int {
        try writeOpenFlowMessage(envelope.message, xid: envelope.xid, version: envelope.version)
    }

    @inlinable
    mutating func writeMessageBody(_ message: OpenFlowMessage) {
        switch message {
        case .hello(let h): writeHello(h)
        case .error(let e):
            writeInteger(e.type.rawValue)
            writeInteger(e.code)
            if e.type == .experimenter { writeInteger(e.experimenter ?? 0) }
            var d = e.data
            writeBuffer(&d)
        case .echoRequest(let d), .echoReply(let d):
            var d = d
            writeBuffer(&d)
        case .experimenter(let x):
            writeInteger(x.experimenter)
            writeInteger(x.expType)
            var d = x.data
            writeBuffer(&d)
        case .featuresRequest, .getConfigRequest, .barrierRequest, .barrierReply, .getAsyncRequest:
            break
        case .featuresReply(let f):
            writeInteger(f.datapathID)
            writeInteger(f.nBuffers)
            writeInteger(f.nTables)
            writeInteger(f.auxiliaryID)
            writeZeros(2)
            writeInteger(f.capabilities)
            writeInteger(f.reserved)
        case .getConfigReply(let c), .setConfig(let c):
            writeInteger(c.flags.rawValue)
            writeInteger(c.missSendLength)
        case .packetIn(let p):
            writeInteger(p.bufferID)
            writeInteger(p.totalLength)
            writeInteger(p.reason.rawValue)
            writeInteger(p.tableID)
            writeInteger(p.cookie)
            writeMatch(p.match)
            writeZeros(2)
            var d = p.data
            writeBuffer(&d)
        case .flowRemoved(let f):
            writeInteger(f.cookie)
            writeInteger(f.priority)
            writeInteger(f.reason.rawValue)
            writeInteger(f.tableID)
            writeInteger(f.durationSec)
            writeInteger(f.durationNsec)
            writeInteger(f.idleTimeout)
            writeInteger(f.hardTimeout)
            writeInteger(f.packetCount)
            writeInteger(f.byteCount)
            writeMatch(f.match)
        case .portStatus(let s):
            writeInteger(s.reason.rawValue)
            writeZeros(7)
            writePort(s.port)
        case .packetOut(let p):
            // ofp_packet_out: buffer_id, in_port, actions_len, pad[6], actions, data (§7.3.7)
            writeInteger(p.bufferID)
            writeInteger(p.inPort.rawValue)
            let lenAt = writerIndex
            writeInteger(UInt16(0))
            writeZeros(6)
            let actionsStart = writerIndex
            writeActions(p.actions)
            patchLength(at: lenAt, writerIndex - actionsStart)
            var d = p.data
            writeBuffer(&d)
        case .flowMod(let f): writeFlowModBody(f)
        case .groupMod(let g):
            writeInteger(g.command.rawValue)
            writeInteger(g.type.rawValue)
            writeInteger(UInt8(0))
            writeInteger(g.groupID.rawValue)
            for b in g.buckets { writeBucket(b) }
        case .portMod(let p):
            writeInteger(p.portNumber.rawValue)
            writeZeros(4)
            writeMAC(p.hardwareAddress)
            writeZeros(2)
            writeInteger(p.config)
            writeInteger(p.mask)
            writeInteger(p.advertise)
            writeZeros(4)
        case .tableMod(let t):
            writeInteger(t.tableID)
            writeZeros(3)
            writeInteger(t.config)
        case .multipartRequest(let r): writeMultipartRequest(r)
        case .multipartReply(let r): writeMultipartReply(r)
        case .queueGetConfigRequest(let port):
            writeInteger(port.rawValue)
            writeZeros(4)
        case .queueGetConfigReply(let r):
            writeInteger(r.port.rawValue)
            writeZeros(4)
            var q = r.queues
            writeBuffer(&q)
        case .roleRequest(let r), .roleReply(let r):
            writeInteger(r.role.rawValue)
            writeZeros(4)
            writeInteger(r.generationID)
        case .getAsyncReply(let a), .setAsync(let a):
            for m in [a.packetInMask, a.portStatusMask, a.flowRemovedMask] {
                writeInteger(m.masterOrEqual)
                writeInteger(m.slave)
            }
        case .meterMod(let m):
            writeInteger(m.command.rawValue)
            writeInteger(m.flags.rawValue)
            writeInteger(m.meterID.rawValue)
            for b in m.bands { writeMeterBand(b) }
        case .unknown(_, let body):
            var b = body
            writeBuffer(&b)
        }
    }

    @inlinable
    mutating func writeFlowModBody(_ f: FlowMod) {
        writeRaw(length: f.encodedLength - 8) { $0.flowModBody(f) }
    }

    @inlinable
    mutating func writeHello(_ h: Hello) {
        for e in h.elements {
            let start = writerIndex
            switch e {
            case .versionBitmap(let words):
                writeInteger(UInt16(1)) // OFPHET_VERSIONBITMAP
                writeInteger(UInt16(0))
                for w in words { writeInteger(w) }
            case .unknown(let type, let body):
                writeInteger(type)
                writeInteger(UInt16(0))
                var b = body
                writeBuffer(&b)
            }
            // The element's length excludes the padding that follows it (OF 1.3.5 §7.5.1).
            let length = writerIndex - start
            patchLength(at: start + 2, length)
            writeZeros(paddingTo8(length))
        }
    }

    /// Writes one `ofp_bucket` (OF 1.3.5 §7.3.4.3), its length computed.
    @inlinable
    public mutating func writeBucket(_ b: Bucket) {
        writeRaw(length: b.encodedLength) { $0.bucket(b) }
    }

    @inlinable
    mutating func writePort(_ p: SwitchPort) {
        writeInteger(p.portNumber.rawValue)
        writeZeros(4)
        writeMAC(p.hardwareAddress)
        writeZeros(2)
        writeBytes(p.name.bytes)
        writeInteger(p.config)
        writeInteger(p.state)
        writeInteger(p.current)
        writeInteger(p.advertised)
        writeInteger(p.supported)
        writeInteger(p.peer)
        writeInteger(p.currentSpeed)
        writeInteger(p.maxSpeed)
    }

    //  ofp_meter_band_header (OF 1.3.5 §7.3.4.5): type(16) len(16) rate(32) burst_size(32), then
    //  per type: drop pad[4]; dscp_remark prec_level(8) pad[3]; experimenter experimenter(32).
    @inlinable
    mutating func writeMeterBand(_ band: MeterBand) {
        let start = writerIndex
        switch band {
        case .drop(let rate, let burst):
            writeInteger(MeterBandType.drop.rawValue)
            writeInteger(UInt16(0))
            writeInteger(rate)
            writeInteger(burst)
            writeZeros(4)
        case .dscpRemark(let rate, let burst, let prec):
            writeInteger(MeterBandType.dscpRemark.rawValue)
            writeInteger(UInt16(0))
            writeInteger(rate)
            writeInteger(burst)
            writeInteger(prec)
            writeZeros(3)
        case .experimenter(let rate, let burst, let exp, let data):
            writeInteger(MeterBandType.experimenter.rawValue)
            writeInteger(UInt16(0))
            writeInteger(rate)
            writeInteger(burst)
            writeInteger(exp)
            var d = data
            writeBuffer(&d)
        case .unknown(let type, let body):
            writeInteger(type.rawValue)
            writeInteger(UInt16(0))
            var b = body
            writeBuffer(&b)
        }
        patchLength(at: start + 2, writerIndex - start)
    }

    //  ofp_multipart_request / reply (OF 1.3.5 §7.3.5): type(16) flags(16) pad[4] body
    @inlinable
    mutating func writeMultipartRequest(_ r: MultipartRequest) {
        writeInteger(r.body.type.rawValue)
        writeInteger(r.flags.rawValue)
        writeZeros(4)
        switch r.body {
        case .desc, .table, .groupDesc, .groupFeatures, .meterFeatures, .portDesc: break
        case .flow(let f), .aggregate(let f):
            writeInteger(f.tableID)
            writeZeros(3)
            writeInteger(f.outPort.rawValue)
            writeInteger(f.outGroup.rawValue)
            writeZeros(4)
            writeInteger(f.cookie)
            writeInteger(f.cookieMask)
            writeMatch(f.match)
        case .portStats(let p):
            writeInteger(p.rawValue)
            writeZeros(4)
        case .queue(let p, let q):
            writeInteger(p.rawValue)
            writeInteger(q)
        case .group(let g):
            writeInteger(g.rawValue)
            writeZeros(4)
        case .meter(let m), .meterConfig(let m):
            writeInteger(m.rawValue)
            writeZeros(4)
        case .experimenter(let e, let t, let d):
            writeInteger(e)
            writeInteger(t)
            var d = d
            writeBuffer(&d)
        case .other(_, let b):
            var b = b
            writeBuffer(&b)
        }
    }

    @inlinable
    mutating func writeMultipartReply(_ r: MultipartReply) {
        writeInteger(r.body.type.rawValue)
        writeInteger(r.flags.rawValue)
        writeZeros(4)
        switch r.body {
        case .desc(let d):
            for s in [d.manufacturer, d.hardware, d.software, d.serialNumber, d.datapath] { writeBytes(s.bytes) }
        case .flow(let stats):
            for s in stats {
                let start = writerIndex
                writeInteger(UInt16(0))
                writeInteger(s.tableID)
                writeInteger(UInt8(0))
                writeInteger(s.durationSec)
                writeInteger(s.durationNsec)
                writeInteger(s.priority)
                writeInteger(s.idleTimeout)
                writeInteger(s.hardTimeout)
                writeInteger(s.flags.rawValue)
                writeZeros(4)
                writeInteger(s.cookie)
                writeInteger(s.packetCount)
                writeInteger(s.byteCount)
                writeMatch(s.match)
                writeInstructions(s.instructions)
                patchLength(at: start, writerIndex - start)
            }
        case .aggregate(let a):
            writeInteger(a.packetCount)
            writeInteger(a.byteCount)
            writeInteger(a.flowCount)
            writeZeros(4)
        case .table(let stats):
            for s in stats {
                writeInteger(s.tableID)
                writeZeros(3)
                writeInteger(s.activeCount)
                writeInteger(s.lookupCount)
                writeInteger(s.matchedCount)
            }
        case .portStats(let stats):
            for s in stats {
                writeInteger(s.portNumber.rawValue)
                writeZeros(4)
                for v in [s.rxPackets, s.txPackets, s.rxBytes, s.txBytes, s.rxDropped, s.txDropped, s.rxErrors,
                          s.txErrors, s.rxFrameErrors, s.rxOverErrors, s.rxCRCErrors, s.collisions] {
                    writeInteger(v)
                }
                writeInteger(s.durationSec)
                writeInteger(s.durationNsec)
            }
        case .queue(let stats):
            for s in stats {
                writeInteger(s.portNumber.rawValue)
                writeInteger(s.queueID)
                writeInteger(s.txBytes)
                writeInteger(s.txPackets)
                writeInteger(s.txErrors)
                writeInteger(s.durationSec)
                writeInteger(s.durationNsec)
            }
        case .group(let stats):
            for s in stats {
                let start = writerIndex
                writeInteger(UInt16(0))
                writeZeros(2)
                writeInteger(s.groupID.rawValue)
                writeInteger(s.refCount)
                writeZeros(4)
                writeInteger(s.packetCount)
                writeInteger(s.byteCount)
                writeInteger(s.durationSec)
                writeInteger(s.durationNsec)
                for b in s.bucketStats {
                    writeInteger(b.packetCount)
                    writeInteger(b.byteCount)
                }
                patchLength(at: start, writerIndex - start)
            }
        case .groupDesc(let descs):
            for d in descs {
                let start = writerIndex
                writeInteger(UInt16(0))
                writeInteger(d.type.rawValue)
                writeInteger(UInt8(0))
                writeInteger(d.groupID.rawValue)
                for b in d.buckets { writeBucket(b) }
                patchLength(at: start, writerIndex - start)
            }
        case .groupFeatures(let f):
            writeInteger(f.types)
            writeInteger(f.capabilities)
            for i in 0..<4 { writeInteger(i < f.maxGroups.count ? f.maxGroups[i] : 0) }
            for i in 0..<4 { writeInteger(i < f.actions.count ? f.actions[i] : 0) }
        case .meter(let stats):
            for s in stats {
                writeInteger(s.meterID.rawValue)
                let lenAt = writerIndex
                writeInteger(UInt16(0))
                writeZeros(6)
                writeInteger(s.flowCount)
                writeInteger(s.packetInCount)
                writeInteger(s.byteInCount)
                writeInteger(s.durationSec)
                writeInteger(s.durationNsec)
                for b in s.bandStats {
                    writeInteger(b.packetBandCount)
                    writeInteger(b.byteBandCount)
                }
                patchLength(at: lenAt, writerIndex - (lenAt - 4))
            }
        case .meterConfig(let configs):
            for c in configs {
                let start = writerIndex
                writeInteger(UInt16(0))
                writeInteger(c.flags.rawValue)
                writeInteger(c.meterID.rawValue)
                for b in c.bands { writeMeterBand(b) }
                patchLength(at: start, writerIndex - start)
            }
        case .meterFeatures(let f):
            writeInteger(f.maxMeter)
            writeInteger(f.bandTypes)
            writeInteger(f.capabilities)
            writeInteger(f.maxBands)
            writeInteger(f.maxColor)
            writeZeros(2)
        case .portDesc(let ports):
            for p in ports { writePort(p) }
        case .experimenter(let e, let t, let d):
            writeInteger(e)
            writeInteger(t)
            var d = d
            writeBuffer(&d)
        case .other(_, let b):
            var b = b
            writeBuffer(&b)
        }
    }
}
