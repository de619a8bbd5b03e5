// Target Simulation.
