// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "rnnspec",
    products: [
        .executable(name: "rnnspec", targets: ["rnnspec"]),
        .library(name: "RNNSpec", targets: ["RNNSpec"]),
        .library(name: "RNNKernels", targets: ["RNNKernels"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
    ],
    targets: [
        // The math only: no files, no printing, no YAML.
        .target(name: "RNNKernels"),
        // Case model, loading, registry, comparison, golden store, running, reporting.
        .target(name: "RNNSpec", dependencies: [
            "RNNKernels",
            .product(name: "Yams", package: "Yams"),
        ]),
        // The thin command-line front end.
        .executableTarget(name: "rnnspec", dependencies: [
            "RNNSpec",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "RNNKernelsTests", dependencies: ["RNNKernels"]),
        .testTarget(name: "RNNSpecTests", dependencies: ["RNNSpec", "RNNKernels", "rnnspec"]),
    ]
)
