import ArgumentParser
import Foundation
import Topology

/// `tusk topology`: build fabric files and check them.
struct TopologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Build, validate and summarise topology files.",
        subcommands: [FatTree.self, LeafSpine.self, Show.self]
    )

    struct Output: ParsableArguments {
        @Option(name: [.short, .long], help: "File to write ('-' for standard output; default NAME.yaml).")
        var output: String?

        func write(_ t: Topology) throws {
            let path = output ?? "\(t.name).yaml"
            if path == "-" {
                print(t.yaml, terminator: "")
                return
            }
            try t.yaml.write(toFile: path, atomically: true, encoding: .utf8)
            print("wrote \(path): \(t.switches.count) switches, \(t.fabricLinkCount) fabric links, \(t.hosts.count) hosts")
        }
    }

    struct FatTree: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "fat-tree", abstract: "Write a k-ary fat-tree (k³/4 hosts).")
        @Option(help: "Switch radix (even).") var k: Int
        @Option(help: "Link capacity, e.g. 1G.") var capacity = "1G"
        @OptionGroup var out: Output

        func validate() throws {
            guard k >= 2, k % 2 == 0, k <= 254 else { throw ValidationError("--k must be even, 2...254") }
            guard parseCapacity(capacity).map({ $0 > 0 }) == true else { throw ValidationError("--capacity '\(capacity)' is not a rate") }
        }

        func run() async throws {
            try out.write(Topology.fatTree(k: k, capacity: parseCapacity(capacity) ?? 1_000_000_000))
        }
    }

    struct LeafSpine: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "leaf-spine", abstract: "Write a leaf-spine fabric.")
        @Option(help: "Number of leaf switches.") var leaves: Int
        @Option(help: "Number of spine switches.") var spines: Int
        @Option(name: .customLong("hosts-per-leaf"), help: "Hosts on each leaf.") var hostsPerLeaf: Int
        @Option(help: "Fabric link capacity, e.g. 100M.") var capacity = "100M"
        @Option(name: .customLong("host-capacity"), help: "Host link capacity (default: --capacity).") var hostCapacity: String?
        @OptionGroup var out: Output

        func validate() throws {
            guard leaves >= 1, spines >= 0, hostsPerLeaf >= 0 else { throw ValidationError("need at least one leaf") }
            guard parseCapacity(capacity).map({ $0 > 0 }) == true else { throw ValidationError("--capacity '\(capacity)' is not a rate") }
            if let h = hostCapacity, parseCapacity(h).map({ $0 > 0 }) != true { throw ValidationError("--host-capacity '\(h)' is not a rate") }
        }

        func run() async throws {
            try out.write(Topology.leafSpine(leaves: leaves, spines: spines, hostsPerLeaf: hostsPerLeaf,
                                             capacity: parseCapacity(capacity) ?? 100_000_000,
                                             hostCapacity: hostCapacity.flatMap(parseCapacity)))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Validate a topology file and summarise it.")
        @Argument(help: "Topology file.") var file: String

        func run() async throws {
            let text: String
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw ValidationError("cannot read \(file): \(error.localizedDescription)")
            }
            let t: Topology
            do { t = try Topology(yaml: text) } catch {
                // file:line: reason, as compilers print it, and no usage text: the command was right.
                FileHandle.standardError.write(Data("\(file):\(error.line.map { "\($0):" } ?? "") \(error.message)\n".utf8))
                throw ExitCode.failure
            }
            print(TopologyCommand.summary(t))
        }
    }

    static func summary(_ t: Topology) -> String {
        var lines: [String] = ["\(t.name): valid"]
        var roles: [SwitchRole: Int] = [:]
        for s in t.switches { roles[s.role, default: 0] += 1 }
        let roleText = roles.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        lines.append("  switches: \(t.switches.count) (\(roleText))")
        var caps: [UInt64: Int] = [:]
        for l in t.links.prefix(t.fabricLinkCount) { caps[l.capacity, default: 0] += 1 }
        let capText = caps.sorted { $0.key < $1.key }.map { "\($0.value) × \(formatCapacity($0.key))" }.joined(separator: ", ")
        lines.append("  fabric links: \(t.fabricLinkCount)\(capText.isEmpty ? "" : " (\(capText))")")
        lines.append("  hosts: \(t.hosts.count), total host capacity \(formatCapacity(t.totalHostCapacity))bit/s")
        for s in t.switchIDs.prefix(12) {
            let sw = t[s]
            let ports = t.ports(of: s).map { "\($0.number)→\(t.describe($0.peer))" }.joined(separator: " ")
            lines.append("  \(sw.name) dpid \(sw.dpid) \(sw.role): \(ports)")
        }
        if t.switches.count > 12 { lines.append("  ... \(t.switches.count - 12) more switches") }
        if let first = t.hostIDs.first, let last = t.hostIDs.last, first != last {
            let paths = t.equalCostPaths(from: first, to: last)
            lines.append("  equal-cost paths \(t[first].name) → \(t[last].name): \(paths.count)" +
                         (paths.first.map { ", \($0.links.count - 1) switches on each" } ?? ""))
        }
        return lines.joined(separator: "\n")
    }
}
