// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets, built apart from the main package. `make fuzz` (Fuzz/run.sh) builds them with
// `-Xswiftc -sanitize=fuzzer,address` (one flag: see docs/fuzzing.md for why not two `--sanitize`
// options) so that every Swift module they link, Tusk's decoders included, carries coverage
// counters and ASan checks, and runs each target for a bounded time.
let package = Package(
    name: "TuskFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Tusk", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // sFlow datagrams (and the same bytes as a captured frame and a sampled header).
        .executableTarget(
            name: "FuzzSFlow",
            dependencies: [.product(name: "TuskDecoding", package: "Tusk")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        // An OpenFlow 1.3 byte stream through the NIO frame and message decoder.
        .executableTarget(
            name: "FuzzOpenFlow",
            dependencies: [
                .product(name: "TuskOpenFlowCodec", package: "Tusk"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        // A policy file (YAML).
        .executableTarget(
            name: "FuzzPolicy",
            dependencies: [.product(name: "TuskFiles", package: "Tusk")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        // A topology file (YAML).
        .executableTarget(
            name: "FuzzTopology",
            dependencies: [.product(name: "TuskFiles", package: "Tusk")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ],
    swiftLanguageModes: [.v6]
)
