import Packets

/// The analytics' small ids of ports and observation points, found by agent and index (an ifIndex
/// or a data source's index) on the per-sample path without hashing the pair.
///
/// Every sample names its agent, its data source and up to two ports. Looking each up in a
/// dictionary keyed by (agent, index) costs three hashes of an address per sample; at 65,536 hosts
/// that was a third of ingesting a sample. Here the agent alone is looked up, and only when it
/// changes (the samples of a datagram share it), and each index is then an array read.
///
/// It only remembers what the caller's dictionaries already hold, so it answers exactly as they do.
/// An agent's array grows only while it stays within twice the ids it holds plus 64: indexes that
/// are sparse, or chosen by a hostile agent, cost no more memory than the ids themselves and are
/// left to the dictionaries (`id` answers nil and `remember` keeps nothing).
struct AgentIDs<Agent: Hashable> {
    /// Per agent (by its slot): index → id + 1 (0: not known here).
    private var byIndex: [[Int32]] = []
    private var held: [Int] = []
    private var slots: [Agent: Int32] = [:]
    private var lastAgent: Agent?
    private var lastSlot = 0

    /// The agent's slot; new agents get one.
    @inline(__always)
    mutating func slot(_ agent: Agent) -> Int {
        if let a = lastAgent, a == agent { return lastSlot }
        let s: Int
        if let found = slots[agent] {
            s = Int(found)
        } else {
            s = byIndex.count
            slots[agent] = Int32(s)
            byIndex.append([])
            held.append(0)
        }
        lastAgent = agent
        lastSlot = s
        return s
    }

    /// The id remembered for an agent's index, or nil, without changing anything (for prefetching
    /// ahead of the samples being applied).
    @inline(__always)
    func peek(_ agent: Agent, index: UInt32) -> Int32? {
        let s: Int
        if let a = lastAgent, a == agent { s = lastSlot } else if let f = slots[agent] { s = Int(f) } else { return nil }
        return id(slot: s, index: index)
    }

    /// The id remembered for an index of the agent in `slot`, or nil.
    @inline(__always)
    func id(slot: Int, index: UInt32) -> Int32? {
        byIndex[slot].withUnsafeBufferPointer { b in
            let i = Int(index)
            guard i < b.count else { return nil }
            let v = b[i]
            return v > 0 ? v - 1 : nil
        }
    }

    /// The length of the agent's array (for the tests of its bound).
    func capacity(slot: Int) -> Int { byIndex[slot].count }

    /// Remembers an id (one the caller's dictionary now holds) where the agent's array allows.
    mutating func remember(slot: Int, index: UInt32, id: Int32) {
        let i = Int(index)
        if i >= byIndex[slot].count {
            let limit = 2 * (held[slot] + 1) + 64
            guard i < limit else { return }
            byIndex[slot].append(contentsOf: repeatElement(0, count: min(limit, max(i + 1, 2 * byIndex[slot].count)) - byIndex[slot].count))
        }
        if byIndex[slot][i] == 0 { held[slot] += 1 }
        byIndex[slot][i] = id + 1
    }
}

/// An agent and one of its sub-agents: what observation points are grouped by.
struct AgentAndSubAgent: Hashable {
    var agent: IPAddress
    var subAgentId: UInt32
}
