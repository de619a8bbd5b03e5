import FlowAnalytics
import Foundation
import Packets
import PathSelection
import Testing

@Suite struct PolicyTests {
    @Test func emptyFileIsAllDefaults() throws {
        #expect(try Policy(yaml: "") == Policy())
        #expect(try Policy(yaml: "# nothing\n") == Policy())
        let p = Policy()
        #expect(p.algorithm == .tusk && p.minGain == 0.1 && p.holdTime == 3 && p.flowTableBudget == 1000)
        #expect(p.settleTime == 10 && p.stabilityRules(16).settleTime == 10)
        #expect(p.maxMoves(hosts: 4) == 8 && p.maxMoves(hosts: 8192) == 8192)
    }

    @Test func fullFile() throws {
        let text = """
        elephant:
          threshold: 100M
          min-samples: 4
          smoothing-time: 1500ms
        sflow:
          sampling-rate: 512
          polling-interval: 2s
        selector:
          algorithm: gff
          control-interval: 500ms
          smoothing: 30%
          min-gain: 0.05
          hold-time: 10
          settle-time: 20s
          max-moves-per-interval: 32
        flow-table:
          budget: 200
          priority: 41000
          idle-timeout: 8s
          cookie-prefix: 0x1234
        rules:
          - match: {src: 10.1.0.0/16, proto: udp}
            action: exclude
          - match: {dst: 10.2.0.0/16, proto: tcp, dport: 5000-5100}
            action: prioritise
            priority: 7
        """
        let p = try Policy(yaml: text)
        #expect(p.elephantThreshold == .bitsPerSecond(1e8))
        #expect(p.minSamples == 4 && p.smoothingTime == 1.5)
        #expect(p.samplingRate == 512 && p.pollingInterval == 2)
        #expect(p.algorithm == .gff && p.controlInterval == 0.5 && p.smoothing == 0.3 && p.minGain == 0.05)
        #expect(p.holdTime == 10 && p.settleTime == 20 && p.maxMovesPerInterval == 32)
        #expect(p.stabilityRules(16).settleTime == 20)
        #expect(p.flowTableBudget == 200 && p.entryPriority == 41000 && p.idleTimeout == 8 && p.cookiePrefix == 0x1234)
        #expect(p.rules.count == 2)
        #expect(p.rules[0].line == 22)
        let udp = FlowKey(src: .v4(IPv4Address(10, 1, 2, 3)), dst: .v4(IPv4Address(10, 2, 0, 1)), proto: 17, sport: 1, dport: 5050)
        let tcp = FlowKey(src: .v4(IPv4Address(10, 3, 2, 3)), dst: .v4(IPv4Address(10, 2, 9, 1)), proto: 6, sport: 1, dport: 5050)
        let other = FlowKey(src: .v4(IPv4Address(10, 3, 2, 3)), dst: .v4(IPv4Address(10, 2, 9, 1)), proto: 6, sport: 1, dport: 80)
        #expect(p.classify(udp) == (true, 0))
        #expect(p.classify(tcp) == (false, 7))
        #expect(p.classify(other) == (false, 0))
        // The effective settings read back the same.
        #expect(try Policy(yaml: p.yaml) == p)
        #expect(try Policy(yaml: Policy().yaml) == Policy())
    }

    /// Found by `FuzzPolicy`: a threshold of 1001234 (bits per second) was written back as `1M`.
    /// Values the short spellings cannot say exactly are written in full.
    @Test(arguments: [
        "elephant:\n  threshold: 1001234\nrules:\n  - match: {src: 10.1.0.0/16, proto: udp}\n    action: exclude\n",
        "elephant: {threshold: 33.333333%, min-samples: 2.5, smoothing-time: 1.0005s}\n",
        "selector: {smoothing: 0.123456, min-gain: 12.34567%, hot-threshold: 0.7777777, hold-time: 0.0001234s, settle-time: 12.5s}\n",
        "flow-table: {idle-timeout: 2.00001}\nsflow: {polling-interval: 999.9999ms}\n",
        // Also found by `FuzzPolicy`: an IPv6 prefix was written unquoted, `{src: ::9/128}`, not YAML.
        "rules:\n  - match: {src: 0::9}\n    action: exclude\n",
        "rules:\n  - match: {src: \"fd00::/8\", dst: \"2001:db8::1\"}\n    action: prioritise\n    priority: 3\n",
    ])
    func writtenValuesReadBackExactly(_ text: String) throws {
        let p = try Policy(yaml: text)
        #expect(try Policy(yaml: p.yaml) == p, "\(p.yaml)")
    }

    @Test func theThresholdOfTheFuzzInputIsKept() throws {
        let p = try Policy(yaml: "elephant:\n  threshold: 1001234\n")
        #expect(p.elephantThreshold == .bitsPerSecond(1_001_234))
        #expect(try Policy(yaml: p.yaml).elephantThreshold == .bitsPerSecond(1_001_234))
        #expect(try Policy(yaml: "elephant: {threshold: 100M}\n").yaml.contains("threshold: 100M"))
    }

    @Test func theExampleInDocsIsValid() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/policy-example.yaml")
        let text = try String(contentsOf: url, encoding: .utf8)
        let p = try Policy(yaml: text)
        #expect(!p.rules.isEmpty)
    }

    @Test(arguments: [
        ("selector:\n  algorithm: magic\n", 2, "unknown algorithm 'magic'"),
        ("selector:\n  min-gain: lots\n", 2, "min-gain 'lots'"),
        ("elephant:\n  threshold: fast\n", 2, "threshold 'fast'"),
        ("flow-table:\n  budget: -3\n", 2, "budget '-3'"),
        ("flow-table:\n  priority: 100\n", 2, "priority '100'"),
        ("sflow:\n  sampling-rate: 1000\n  sampling-rate: 10\n", 3, "given twice"),
        ("selector:\n  control-interval: soon\n", 2, "control-interval 'soon'"),
        ("nonsense: 1\n", 1, "unknown section 'nonsense'"),
        ("selector:\n  colour: red\n", 2, "unknown selector setting 'colour'"),
        ("rules:\n  - match: {proto: tcp}\n", 2, "no 'action'"),
        ("rules:\n  - action: exclude\n", 2, "no 'match'"),
        ("rules:\n  - match: {src: 10.0.0.0/99}\n    action: exclude\n", 2, "src '10.0.0.0/99'"),
        ("rules:\n  - match: {proto: icmp, dport: 80}\n    action: exclude\n", 2, "ports need proto"),
        ("rules:\n  - match: {dport: 90-80}\n    action: exclude\n", 2, "dport '90-80'"),
        ("rules:\n  - match: {proto: tcp}\n    action: shove\n", 3, "unknown rule action 'shove'"),
        ("rules:\n  - match: {proto: tcp}\n    action: exclude\n    priority: 3\n", 4, "only applies to action prioritise"),
        ("selector: [1, 2]\n", 1, "must be a mapping"),
        ("elephant:\n  threshold: 10%\n  x: y: z\n", 3, "not valid YAML"),
        ("rules:\n  - match: {proto: tcp, proto: udp}\n    action: exclude\n", 2, "'proto' is given twice"),
    ])
    func errorsNameTheLine(_ text: String, _ line: Int, _ fragment: String) {
        do {
            _ = try Policy(yaml: text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.message.contains(fragment), "\(error)")
        }
    }
}
