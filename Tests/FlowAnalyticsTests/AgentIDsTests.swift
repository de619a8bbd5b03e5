import Testing
@testable import FlowAnalytics
import Packets

/// `AgentIDs` stands in front of the analytics' dictionaries of port and point ids on the
/// per-sample path. It must answer exactly as they do, and bound its memory by the ids it holds
/// whatever indexes the agents send.
@Suite struct AgentIDsTests {
    @Test("answers as the dictionary does, for dense, sparse and hostile indexes from many agents")
    func answersAsTheDictionary() {
        var rng = SystemRandomNumberGenerator()
        var fast = AgentIDs<IPAddress>()
        var dict: [AgentPort: Int32] = [:]
        let agents = (0..<40).map { IPAddress.v4(IPv4Address(0xAC10_0000 + UInt32($0))) }
        var denseHits = 0
        for step in 0..<60_000 {
            let agent = agents[Int.random(in: 0..<agents.count, using: &rng)]
            // Mostly switch-like ifIndexes (1...64), some large and sparse ones, some at the top.
            let index: UInt32 = switch step % 10 {
            case 0: UInt32.random(in: 1_000...5_000_000, using: &rng)
            case 1: UInt32.max - UInt32.random(in: 0...3, using: &rng)
            default: UInt32.random(in: 1...64, using: &rng)
            }
            let p = AgentPort(agent: agent, ifIndex: index)
            let slot = fast.slot(agent)
            let expected = dict[p]
            let got = fast.id(slot: slot, index: index)
            // Never a wrong id: either the dictionary's or nothing (then the caller asks it).
            if let got { #expect(got == expected); denseHits += 1 }
            #expect(fast.peek(agent, index: index) == got)
            if expected == nil {
                let id = Int32(dict.count)
                dict[p] = id
                fast.remember(slot: slot, index: index, id: id)
                #expect(fast.id(slot: slot, index: index) == nil || fast.id(slot: slot, index: index) == id)
            } else if got == nil {
                fast.remember(slot: slot, index: index, id: expected!)
            }
        }
        // The dense part serves the switch-like indexes (most of the lookups) ...
        #expect(denseHits > 40_000)
        for a in agents {
            for i in UInt32(1)...64 where dict[AgentPort(agent: a, ifIndex: i)] != nil {
                #expect(fast.id(slot: fast.slot(a), index: i) == dict[AgentPort(agent: a, ifIndex: i)])
            }
            // ... and never the sparse ones, whose arrays would cost more than their ids.
            #expect(fast.id(slot: fast.slot(a), index: UInt32.max) == nil)
        }
        #expect(fast.peek(.v4(IPv4Address(9, 9, 9, 9)), index: 1) == nil)
    }

    @Test("an agent's array stays within twice its ids plus 64")
    func memoryIsBounded() {
        var fast = AgentIDs<IPAddress>()
        let agent = IPAddress.v4(IPv4Address(10, 0, 0, 1))
        let slot = fast.slot(agent)
        // Rising indexes 30 apart: past the first few, each would stretch the array by 30 for one id.
        var kept = 0
        for k in 0..<1_000 {
            let index = UInt32(k * 30)
            fast.remember(slot: slot, index: index, id: Int32(k))
            if fast.id(slot: slot, index: index) == Int32(k) { kept += 1 }
        }
        #expect(kept >= 2 && kept < 10)
        #expect(fast.capacity(slot: slot) <= 2 * (kept + 1) + 64)
        // Dense indexes are all kept.
        let other = fast.slot(.v4(IPv4Address(10, 0, 0, 2)))
        for i in 0..<5_000 { fast.remember(slot: other, index: UInt32(i), id: Int32(i)) }
        #expect((0..<5_000).allSatisfy { fast.id(slot: other, index: UInt32($0)) == Int32($0) })
    }
}
