// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets, built apart from the main package with `--sanitize=fuzzer,address`.
// `make fuzz` (Fuzz/run.sh) builds and runs them for a bounded time.
let package = Package(
    name: "TuskFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "Tusk", path: "..")],
    targets: [
        .executableTarget(
            name: "FuzzSFlow",
            dependencies: [.product(name: "TuskDecoding", package: "Tusk")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ],
    swiftLanguageModes: [.v6]
)
