import ArgumentParser

@main
struct Tusk: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tusk",
        abstract: "Tusk: an SDN controller that moves elephant flows onto the least-loaded ECMP/LAG member.",
        subcommands: [
            SFlowCommand.self,
            FlowsCommand.self,
            TopologyCommand.self,
            SimulateCommand.self,
            ControllerCommand.self,
            ReplayCommand.self,
            OpenFlowCommand.self,
            PolicyCommand.self,
        ]
    )
}
