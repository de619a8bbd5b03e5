// swift-tools-version:6.1
import PackageDescription

// Benchmarks live in their own package so that `make test` never builds them.
// `make bench` (Benchmarks/run.sh) builds this in release mode and runs every benchmark.
let package = Package(
    name: "TuskBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Tusk", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "TuskBench",
            dependencies: [.product(name: "TuskKit", package: "Tusk")],
        ),
    ],
    swiftLanguageModes: [.v6]
)
