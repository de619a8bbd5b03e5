// Target PcapIO.
