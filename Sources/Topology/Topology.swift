// Target Topology.
