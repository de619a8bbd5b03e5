import ArgumentParser

// Placeholder until the topology command lands; replaced by its owner.
struct TopologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "topology")
    func run() async throws { throw ValidationError("'tusk topology' is not implemented yet") }
}
