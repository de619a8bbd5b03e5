// Target OpenFlow.
