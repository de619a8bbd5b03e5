import NIOCore
import OpenFlow
import Packets
import Testing

@Suite("Golden vectors (OF 1.3.5)")
struct GoldenTests {
    @Test("decodes to the expected message", arguments: allGolden)
    func decodes(_ v: Golden) throws {
        let got = try decode(v.bytes)
        #expect(got == v.envelope)
        #expect(got.message.type == v.envelope.message.type)
    }

    @Test("encodes to the expected bytes", arguments: allGolden)
    func encodes(_ v: Golden) throws {
        let bytes = try encode(v.envelope)
        #expect(bytes == v.bytes, "\(v.name): encoded \(bytes.count) bytes, vector has \(v.bytes.count)")
    }

    @Test("the header's length equals the vector's size", arguments: allGolden)
    func lengthField(_ v: Golden) {
        #expect(v.bytes.count >= 8)
        #expect(Int(v.bytes[2]) << 8 | Int(v.bytes[3]) == v.bytes.count)
    }

    @Test("every message type of the brief has a vector")
    func coverage() {
        let types = Set(allGolden.map { $0.envelope.message.type.rawValue })
        // 0...29 are every ofp_type of OF 1.3 (HELLO ... METER_MOD).
        for t in UInt8(0)...29 {
            #expect(types.contains(t), "no golden vector for \(OpenFlowMessageType(t))")
        }
        let commands = Set(allGolden.compactMap { v -> UInt8? in
            if case .flowMod(let f) = v.envelope.message { f.command.rawValue } else { nil }
        })
        #expect(commands == [0, 1, 2, 3, 4])
        let groupTypes = Set(allGolden.compactMap { v -> UInt8? in
            if case .groupMod(let gm) = v.envelope.message { gm.type.rawValue } else { nil }
        })
        #expect(groupTypes == [0, 1, 2, 3])
    }

    @Test("select group buckets keep their weights")
    func selectWeights() throws {
        let v = try #require(allGolden.first { $0.name == "group_mod_select" })
        guard case .groupMod(let gm) = try decode(v.bytes).message else {
            Issue.record("not a group mod")
            return
        }
        #expect(gm.type == .select)
        #expect(gm.buckets.map(\.weight) == [50, 30, 20])
    }

    @Test("hello version bitmap")
    func helloVersions() {
        #expect(Hello(versions: [1, 4, 6]).versions == [1, 4, 6])
        #expect(Hello(versions: [4]).elements == [.versionBitmap([0x10])])
        #expect(Hello(versions: [33]).elements == [.versionBitmap([0, 2])])
        #expect(Hello().versions == nil)
    }

    @Test("error kinds carry the spec's names")
    func errorNames() {
        #expect(OpenFlowErrorKind.badRequestBadLen.description == "OFPBRC_BAD_LEN")
        #expect(OpenFlowErrorKind.groupModFailedWeightUnsupported.description == "OFPGMFC_WEIGHT_UNSUPPORTED")
        #expect(OpenFlowErrorKind.tableFeaturesFailedEPERM.description == "OFPTFFC_EPERM")
        #expect(OpenFlowErrorKind(type: .badMatch, code: 99).description == "OFPBMC_99")
        #expect(OpenFlowErrorType(0xFFFF).description == "OFPET_EXPERIMENTER")
        #expect(OpenFlowErrorKind.meterModFailedOutOfBands.code == 11)
    }

    @Test("a message over 65535 bytes is refused and nothing is written")
    func tooLong() {
        var b = ByteBuffer()
        b.writeString("keep")
        let big = OpenFlowMessage.echoRequest(ByteBuffer(repeating: 0, count: 65535))
        #expect(throws: OpenFlowError.self) { try b.writeOpenFlowMessage(big, xid: 1) }
        #expect(b.readableBytes == 4)
        do {
            try b.writeOpenFlowMessage(big, xid: 9)
        } catch {
            #expect(error.code == .messageTooLong)
            #expect(error.xid == 9)
        }
    }

    @Test("unknown OXM classes and experimenter fields re-encode identically")
    func rawOXM() throws {
        // Nicira NXM_NX_REG0 (class 1, field 0) and an ONF experimenter field (class 0xffff):
        // match length 4 + 8 + 11 = 23, one byte of pad.
        let msg = hex("04 0e 0048 00000001",
                      "0000000000000000 0000000000000000 00 00 0000 0000 8000 ffffffff ffffffff ffffffff 0000 0000",
                      "0001 0017", "00010004 00001234", "ffff0007 4f4e4600 0a00 01", "00")
        let env = try decode(msg)
        guard case .flowMod(let f) = env.message else {
            Issue.record("not a flow mod")
            return
        }
        #expect(f.match.fields.count == 2)
        guard case .raw(let nx) = f.match.fields[0], case .raw(let onf) = f.match.fields[1] else {
            Issue.record("expected raw fields")
            return
        }
        #expect(nx.oxmClass == .nxm1 && nx.field == 0 && !nx.hasMask)
        #expect(onf.oxmClass == .experimenter && onf.experimenter == 0x4F4E_4600)
        #expect(try encode(env) == msg)
    }

    @Test("a known field with an unexpected length is kept raw, not misread")
    func oddLengthKnownField() throws {
        // in_port with length 2 (the spec says 4): kept raw.
        var b = ByteBuffer(bytes: hex("80000002 0003"))
        let f = try b.readOXM()
        guard case .raw(let r) = f else {
            Issue.record("decoded \(f)")
            return
        }
        #expect(r.payload.readableBytes == 2)
        var out = ByteBuffer()
        out.writeOXM(f)
        #expect(Array(out.readableBytesView) == hex("80000002 0003"))
    }
}

