import Packets
import Topology

extension FlowAnalytics {
    /// Applies what a topology file states: every port's speed (used instead of ifSpeed), and,
    /// for switches that name their sFlow `agent`, the ifIndex → OpenFlow port mapping that
    /// switches without OpenFlow port (1004) and port name (1005) records cannot send
    /// (ifIndex = `ifIndexBase` + port number).
    public mutating func apply(topology: Topology) {
        for (i, sw) in topology.switches.enumerated() {
            for port in topology.ports(of: SwitchID(i)) {
                setLinkSpeed(dpid: sw.dpid, port: port.number, bps: Double(port.capacity))
                if let agent = sw.agent {
                    setPortIdentity(AgentPort(agent: agent, ifIndex: sw.ifIndexBase &+ port.number),
                                    PortIdentity(datapathId: sw.dpid, portNo: port.number, name: "\(sw.name)-\(port.number)"))
                }
            }
        }
    }
}
