// swift-tools-version:6.1
import PackageDescription

// Dependency rule: Packets, SFlow, OpenFlow, Topology, FlowAnalytics, PathSelection,
// FabricProgramming, ElephantControl and Simulation are pure (no sockets, no global clock or RNG).
// I/O lives in SFlowIngest (libpcap, UDP), Controller (NIO services) and the tusk executable.
let package = Package(
    name: "Tusk",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tusk", targets: ["tusk"]),
        // The decoding core alone (no NIO, no libpcap): what the fuzz targets link.
        .library(name: "TuskDecoding", targets: ["Packets", "SFlow"]),
        // The OpenFlow codec (NIOCore only) and the YAML file readers: what the other fuzz targets link.
        .library(name: "TuskOpenFlowCodec", targets: ["Packets", "OpenFlow"]),
        .library(name: "TuskFiles", targets: ["Packets", "Topology", "PathSelection"]),
        .library(name: "TuskKit", targets: [
            "Packets", "SFlow", "OpenFlow", "Topology", "FlowAnalytics",
            "PathSelection", "FabricProgramming", "ElephantControl", "Simulation", "SFlowIngest", "Controller",
        ]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
    ],
    targets: [
        // Pure core.
        .target(name: "Packets"),
        .target(name: "SFlow", dependencies: ["Packets"]),
        .target(name: "OpenFlow", dependencies: [
            "Packets",
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .target(name: "Topology", dependencies: [
            "Packets",
            .product(name: "Yams", package: "Yams"),
        ]),
        .target(name: "FlowAnalytics", dependencies: ["CTuskSys", "Packets", "SFlow", "Topology"]),
        .target(name: "PathSelection", dependencies: [
            "CTuskSys", "Packets", "Topology", "FlowAnalytics",
            .product(name: "Yams", package: "Yams"),
        ]),
        .target(name: "FabricProgramming", dependencies: ["Packets", "Topology", "PathSelection", "OpenFlow"]),
        // The control round, pure: what the simulator, `tusk replay` and the daemon all drive.
        .target(name: "ElephantControl", dependencies: [
            "Packets", "Topology", "FlowAnalytics", "PathSelection", "FabricProgramming",
        ]),
        .target(name: "Simulation", dependencies: [
            "Packets", "SFlow", "Topology", "FlowAnalytics", "PathSelection", "FabricProgramming", "ElephantControl",
        ]),

        // I/O edges.
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        .target(name: "CTuskSys"),
        // sFlow in and out: pcap/pcapng files and live capture (libpcap), the UDP collector and sender.
        .target(name: "SFlowIngest", dependencies: [
            "CPcap", "CTuskSys", "Packets", "SFlow",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        .target(name: "Controller", dependencies: [
            "Packets", "SFlow", "OpenFlow", "Topology", "FlowAnalytics", "PathSelection",
            "FabricProgramming", "ElephantControl", "SFlowIngest",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ]),
        .executableTarget(name: "tusk", dependencies: [
            "Packets", "SFlow", "OpenFlow", "Topology", "FlowAnalytics", "PathSelection",
            "FabricProgramming", "ElephantControl", "Simulation", "SFlowIngest", "Controller",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Benchmarks (release: `make bench`); kept in this package so they reuse its build.
        .executableTarget(
            name: "TuskBench",
            dependencies: ["Packets", "SFlow", "OpenFlow", "Topology", "FlowAnalytics", "PathSelection",
                           "FabricProgramming", "ElephantControl", "Simulation",
                           .product(name: "NIOCore", package: "swift-nio")],
            path: "Benchmarks/Sources/TuskBench"
        ),

        .testTarget(name: "PacketsTests", dependencies: ["Packets"]),
        .testTarget(name: "SFlowTests", dependencies: ["SFlow", "Packets", "SFlowIngest"]),
        .testTarget(name: "OpenFlowTests", dependencies: [
            "OpenFlow", "Packets", .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOTestUtils", package: "swift-nio"),
        ]),
        .testTarget(name: "TopologyTests", dependencies: ["Topology", "Packets"]),
        .testTarget(name: "FlowAnalyticsTests", dependencies: ["FlowAnalytics", "SFlow", "Packets", "Topology"]),
        .testTarget(name: "SimulationTests", dependencies: [
            "Simulation", "Topology", "PathSelection", "FlowAnalytics", "SFlow", "Packets",
        ]),
        .testTarget(name: "PathSelectionTests", dependencies: [
            "PathSelection", "FabricProgramming", "Simulation", "Topology", "FlowAnalytics", "SFlow", "OpenFlow", "Packets",
        ]),
        .testTarget(name: "ElephantControlTests", dependencies: [
            "ElephantControl", "Simulation", "PathSelection", "FabricProgramming", "FlowAnalytics", "Topology", "SFlow", "OpenFlow", "Packets",
        ]),
        .testTarget(name: "ControllerTests", dependencies: [
            "Controller", "OpenFlow", "SFlow", "SFlowIngest", "Packets", "FabricProgramming", "Topology", "FlowAnalytics",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
