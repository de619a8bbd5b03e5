import ArgumentParser

// Placeholder until the simulate command lands; replaced by its owner.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "simulate")
    func run() async throws { throw ValidationError("'tusk simulate' is not implemented yet") }
}
