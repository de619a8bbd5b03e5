import ArgumentParser

// Placeholder until the controller command lands; replaced by its owner.
struct ControllerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "controller")
    func run() async throws { throw ValidationError("'tusk controller' is not implemented yet") }
}
