// Target FabricProgramming.
