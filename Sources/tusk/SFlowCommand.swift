import ArgumentParser

// Placeholder until the sflow command lands; replaced by its owner.
struct SFlowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sflow")
    func run() async throws { throw ValidationError("'tusk sflow' is not implemented yet") }
}
