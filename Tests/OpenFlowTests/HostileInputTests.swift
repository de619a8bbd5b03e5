// Hostile input: nothing may crash or hang. Every case either decodes (and then re-encodes to
// the same bytes) or throws an OpenFlowError; the specific cases also check which error.

import NIOCore
import OpenFlow
import Packets
import Testing

/// What decoding some bytes should do.
enum Outcome: Sendable {
    case error(OpenFlowError.Code)
    case decodes
}

struct Hostile: Sendable, CustomStringConvertible {
    var name: String
    var bytes: [UInt8]
    var outcome: Outcome
    var description: String { name }
}

/// A flow-mod around `tail` (match + instructions), with its length computed here.
func flowMod(_ tail: [UInt8]) -> [UInt8] {
    let body = hex("0000000000000000 0000000000000000 00 00 0000 0000 8000 ffffffff ffffffff ffffffff 0000 0000") + tail
    let len = 8 + body.count
    return [4, 14, UInt8(len >> 8), UInt8(len & 0xFF), 0, 0, 0, 0x2A] + body
}

let emptyMatch = hex("0001 0004 00000000")

let hostileCases: [Hostile] = [
    Hostile(name: "length below the header", bytes: hex("04 02 0004 00000001"), outcome: .error(.lengthBelowHeader)),
    Hostile(name: "length zero", bytes: hex("04 02 0000 00000001"), outcome: .error(.lengthBelowHeader)),
    Hostile(name: "length past the end", bytes: hex("04 02 0100 00000001 aabb"), outcome: .error(.truncated)),
    Hostile(name: "huge length, few bytes", bytes: hex("04 0e ffff 00000001"), outcome: .error(.truncated)),
    Hostile(name: "bytes after the message", bytes: hex("04 14 0008 00000001 00"), outcome: .error(.trailingBytes)),
    Hostile(name: "empty body where one is required", bytes: hex("04 0e 0008 00000001"), outcome: .error(.truncated)),
    Hostile(name: "body where none is allowed", bytes: hex("04 14 000c 00000001 00000000"), outcome: .error(.trailingBytes)),
    Hostile(name: "version 1 flow-mod", bytes: hex("01 0e 0008 00000001"), outcome: .error(.unsupportedVersion)),
    Hostile(name: "version 6 hello still decodes", bytes: hex("06 00 0010 00000001 0001 0008 00000050"), outcome: .decodes),
    Hostile(name: "unknown message type kept raw", bytes: hex("04 63 000a 00000001 abcd"), outcome: .decodes),
    Hostile(name: "match type not OXM", bytes: flowMod(hex("0000 0004 00000000")), outcome: .error(.badMatch)),
    Hostile(name: "match length below 4", bytes: flowMod(hex("0001 0002 00000000")), outcome: .error(.badMatch)),
    Hostile(name: "match length past the end", bytes: flowMod(hex("0001 0100 00000000")), outcome: .error(.badMatch)),
    Hostile(name: "OXM length past the match", bytes: flowMod(hex("0001 000c 800000ff 00000001 00000000")),
            outcome: .error(.badMatch)),
    Hostile(name: "OXM header cut short", bytes: flowMod(hex("0001 0006 8000 0000 0000")), outcome: .error(.truncated)),
    Hostile(name: "zero-length OXM kept raw", bytes: flowMod(hex("0001 0008 80000000")), outcome: .decodes),
    Hostile(name: "zero-length instruction", bytes: flowMod(emptyMatch + hex("0004 0000 00000000")),
            outcome: .error(.badInstruction)),
    Hostile(name: "instruction length 4", bytes: flowMod(emptyMatch + hex("0004 0004 00000000")),
            outcome: .error(.badInstruction)),
    Hostile(name: "instruction length past the end", bytes: flowMod(emptyMatch + hex("0004 0100 00000000")),
            outcome: .error(.badInstruction)),
    Hostile(name: "instruction length not a multiple of 8", bytes: flowMod(emptyMatch + hex("0001 000c 01000000 00000000")),
            outcome: .error(.badInstruction)),
    Hostile(name: "goto-table with the wrong length", bytes: flowMod(emptyMatch + hex("0001 0010 01000000 00000000")),
            outcome: .error(.badInstruction)),
    Hostile(name: "zero-length action", bytes: flowMod(emptyMatch + hex("0004 0010 00000000 0000 0000 00000000")),
            outcome: .error(.badAction)),
    Hostile(name: "action length past the instruction",
            bytes: flowMod(emptyMatch + hex("0004 0010 00000000 0000 0018 00000001")), outcome: .error(.badAction)),
    Hostile(name: "output action with length 8", bytes: flowMod(emptyMatch + hex("0004 0010 00000000 0000 0008 00000001")),
            outcome: .error(.badAction)),
    Hostile(name: "set-field with a bad OXM length",
            bytes: flowMod(emptyMatch + hex("0004 0018 00000000 0019 0010 800000ff 00000001 00000000")),
            outcome: .error(.badAction)),
    Hostile(name: "unknown action kept raw", bytes: flowMod(emptyMatch + hex("0004 0010 00000000 00fe 0008 01020304")),
            outcome: .decodes),
    Hostile(name: "unknown instruction kept raw", bytes: flowMod(emptyMatch + hex("00fe 0008 01020304")), outcome: .decodes),
    Hostile(name: "experimenter instruction kept raw", bytes: flowMod(emptyMatch + hex("ffff 0010 00002320 0102030405060708")),
            outcome: .decodes),
    Hostile(name: "zero-length bucket", bytes: hex("04 0f 0018 00000001 0000 01 00 00000001 0000 0000 00000000"),
            outcome: .error(.badLength)),
    Hostile(name: "bucket length past the end", bytes: hex("04 0f 001c 00000001 0000 01 00 00000001 0100 0000 ffffffff ffffffff"),
            outcome: .error(.badLength)),
    Hostile(name: "zero-length meter band", bytes: hex("04 1d 0018 00000001 0000 0001 00000001 0001 0000 00000000"),
            outcome: .error(.badLength)),
    Hostile(name: "zero-length hello element", bytes: hex("04 00 0010 00000001 0001 0000 00000010"), outcome: .error(.badLength)),
    Hostile(name: "hello element past the end", bytes: hex("04 00 0010 00000001 0001 00ff 00000010"), outcome: .error(.badLength)),
    Hostile(name: "packet-out actions_len past the end",
            bytes: hex("04 0d 0018 00000001 ffffffff fffffffd 0100 000000000000"), outcome: .error(.badLength)),
    Hostile(name: "flow stats entry of length 0",
            bytes: hex("04 13 0018 00000001 0001 0000 00000000 0000 0000 00000000"), outcome: .error(.badLength)),
    Hostile(name: "group desc entry of length 2",
            bytes: hex("04 13 0018 00000001 0007 0000 00000000 0002 0000 00000000"), outcome: .error(.badLength)),
    Hostile(name: "meter stats entry of length 0",
            bytes: hex("04 13 0038 00000001 0009 0000 00000000 00000001 0000 000000000000", "00000000 0000000000000000 0000000000000000 00000000 00000000"),
            outcome: .error(.badLength)),
    Hostile(name: "port stats entry cut short", bytes: hex("04 13 0018 00000001 0004 0000 00000000 00000001 00000000"),
            outcome: .error(.truncated)),
    Hostile(name: "error message without a code", bytes: hex("04 01 000a 00000001 0001"), outcome: .error(.truncated)),
    Hostile(name: "multipart of an unknown type kept raw", bytes: hex("04 13 0014 00000001 7777 0000 00000000 01020304"),
            outcome: .decodes),
]

@Suite("Hostile input")
struct HostileInputTests {
    @Test("each case decodes or fails as expected", arguments: hostileCases)
    func table(_ c: Hostile) throws {
        switch c.outcome {
        case .decodes:
            let env = try decode(c.bytes)
            #expect(try encode(env) == c.bytes, "re-encoding differs")
        case .error(let code):
            do {
                let env = try decode(c.bytes)
                Issue.record("decoded \(env) but expected \(code)")
            } catch {
                #expect(error.code == code, "\(error)")
            }
        }
    }

    @Test("errors inside a framed message carry its xid")
    func errorCarriesXID() {
        do {
            _ = try decode(flowMod(emptyMatch + hex("0004 0000 00000000")))
            Issue.record("decoded a zero-length instruction")
        } catch {
            #expect(error.xid == 0x2A)
            #expect(error.messageType == .flowMod)
            #expect(error.suggestedReply == .badInstructionBadLen)
            // The reply carries the first 64 bytes of the offending message (OF 1.3.5 §7.4.4).
            let sent = flowMod(emptyMatch + hex("0004 0000 00000000"))
            #expect(error.offendingMessage.map { Array($0.readableBytesView) } == Array(sent.prefix(64)))
            guard case .error(let reply) = error.errorReply else {
                Issue.record("errorReply is not an ERROR")
                return
            }
            #expect(reply.kind == .badInstructionBadLen)
            #expect(Array(reply.data.readableBytesView) == Array(sent.prefix(64)))
        }
    }

    /// Cuts every golden vector at every offset. With the header's length left as it is, the
    /// frame is incomplete; with it patched to the cut, the body is short. Neither may crash, and
    /// a body that still decodes must re-encode to the same bytes.
    @Test("truncation at every offset", arguments: allGolden)
    func truncation(_ v: Golden) {
        for cut in 0..<v.bytes.count {
            var prefix = Array(v.bytes.prefix(cut))
            #expect(throws: OpenFlowError.self) { try decode(prefix) }
            guard cut >= 8 else { continue }
            prefix[2] = UInt8(cut >> 8)
            prefix[3] = UInt8(cut & 0xFF)
            if let env = try? decode(prefix) {
                #expect((try? encode(env)) == prefix, "\(v.name) cut at \(cut) decodes but does not round-trip")
            }
        }
    }

    /// Flips every byte of every golden vector (keeping the header's length so the frame stays
    /// whole): a decoder that trusts any field would crash or loop here.
    @Test("every byte corrupted", arguments: allGolden)
    func corruption(_ v: Golden) {
        for i in 8..<v.bytes.count {
            for value: UInt8 in [0x00, 0xFF, v.bytes[i] ^ 0x5A] {
                var b = v.bytes
                b[i] = value
                if let env = try? decode(b) {
                    #expect(env.xid == envelopeXID(v.bytes))
                }
            }
        }
    }

    @Test("a frame decoder cap below 65535 refuses bigger messages")
    func cap() {
        var d = OpenFlowFrameDecoder(maximumLength: 64)
        var b = ByteBuffer(bytes: hex("04 02 0100 00000001") + [UInt8](repeating: 0, count: 248))
        do {
            _ = try d.nextFrame(from: &b)
            Issue.record("accepted a 256-byte message with a 64-byte cap")
        } catch {
            #expect(error.code == .lengthAboveCap)
            #expect(b.readableBytes == 256, "nothing consumed")
        }
    }
}

func envelopeXID(_ bytes: [UInt8]) -> UInt32 {
    UInt32(bytes[4]) << 24 | UInt32(bytes[5]) << 16 | UInt32(bytes[6]) << 8 | UInt32(bytes[7])
}

/// A small seeded generator (SplitMix64), so the random test is the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Random input")
struct RandomInputTests {
    /// Well-framed messages of every type with random bodies, and golden bodies with random
    /// splices: each must decode and re-encode identically, or throw; never crash or hang.
    @Test("random bodies for every message and multipart type")
    func randomBodies() {
        var rng = SplitMix64(state: 0x7475_736B)
        var decoded = 0, refused = 0
        for i in 0..<20_000 {
            let type = UInt8(i % 32)
            var body: [UInt8]
            if i % 2 == 0 {
                body = (0..<Int.random(in: 0...96, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                if type == 18 || type == 19, body.count >= 2 { body[0] = 0; body[1] = UInt8.random(in: 0...14, using: &rng) }
            } else {
                // A golden body with a random stretch overwritten by small values (lengths of 0 to 16).
                let v = allGolden[Int.random(in: 0..<allGolden.count, using: &rng)]
                body = Array(v.bytes.dropFirst(8))
                if !body.isEmpty {
                    let at = Int.random(in: 0..<body.count, using: &rng)
                    for j in at..<min(body.count, at + 4) { body[j] = UInt8.random(in: 0...16, using: &rng) }
                }
                let msg = [UInt8(4), v.bytes[1], UInt8((8 + body.count) >> 8), UInt8((8 + body.count) & 0xFF), 0, 0, 0, 1] + body
                check(msg, &decoded, &refused)
                continue
            }
            let len = 8 + body.count
            let msg = [UInt8(4), type, UInt8(len >> 8), UInt8(len & 0xFF), 0, 0, 0, 1] + body
            check(msg, &decoded, &refused)
        }
        #expect(decoded + refused == 20_000)
        #expect(decoded > 0 && refused > 0)
    }

    func check(_ msg: [UInt8], _ decoded: inout Int, _ refused: inout Int) {
        do {
            let env = try decode(msg)
            decoded += 1
            // A decoded message re-encodes to the same bytes, except where the input had
            // non-zero padding or a hello element missing its pad (both normalised).
            if let again = try? encode(env) {
                #expect((try? decode(again)) == env, "re-encoding of \(msg) does not decode to the same message")
            }
        } catch {
            refused += 1
            #expect(error.xid == 1)
        }
    }
}
