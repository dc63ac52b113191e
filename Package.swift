// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "rnnspec",
    products: [
        .executable(name: "rnnspec", targets: ["rnnspec"]),
        .library(name: "RNNSpec", targets: ["RNNSpec"]),
        .library(name: "RNNKernels", targets: ["RNNKernels"]),
        .library(name: "RNNSpecTesting", targets: ["RNNSpecTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
        // `swift package generate-documentation`: the DocC catalogs of RNNSpec and RNNKernels.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // The math only: no files, no printing, no YAML.
        .target(name: "RNNKernels", dependencies: ["RNNKernelsSIMD", "RNNPlatform"]),
        // The C library module (Glibc, Musl or Darwin), named in one place.
        .target(name: "RNNPlatform"),
        // The matrix-product and vector-math kernels, in C: on x86-64 compiled for AVX2 + FMA by function
        // attributes (no compiler flags, so the package can be depended on by version); RNNKernels calls
        // them only after checking the CPU. See docs/performance.md.
        .target(name: "RNNKernelsSIMD"),
        // Case model, loading, registry, comparison, golden store, running, reporting: values and
        // strings only (no printing, terminal or signal handling; the only processes it starts are the
        // runner's workers).
        .target(
            name: "RNNSpec",
            dependencies: [
                "RNNKernels",
                "RNNPlatform",
                "SVGPlot",
                .product(name: "Yams", package: "Yams"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]),
        // Runs a suite inside a user's XCTest or Swift Testing test; each failing case is an issue at its case file.
        .target(name: "RNNSpecTesting", dependencies: ["RNNSpec"]),
        // SVG charts (scales, line, scatter, heatmap, histogram) for the HTML report; no dependencies.
        .target(name: "SVGPlot"),
        // `rnnspec bench`: runner and kernel throughput, against NumPy and ONNX Runtime run as child
        // processes (Python). Not a product; only the executable and its tests use it.
        .target(name: "RNNSpecBench", dependencies: ["RNNSpec", "RNNKernels", "RNNPlatform"]),
        // The command line: argument parsing (one file per subcommand under Commands/), and the
        // front end (FrontEnd/) that owns the terminal: printing, colour, the progress line, the
        // review keys, exit codes and the process-wide signal setting.
        .executableTarget(
            name: "rnnspec",
            dependencies: [
                "RNNSpec",
                "RNNSpecBench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "gemm-bench", dependencies: ["RNNKernels", "RNNPlatform"]),
        .testTarget(name: "RNNKernelsTests", dependencies: ["RNNKernels", "RNNPlatform"]),
        .testTarget(name: "SVGPlotTests", dependencies: ["SVGPlot"]),
        .testTarget(name: "RNNSpecTests", dependencies: ["RNNSpec", "RNNKernels", "RNNSpecBench", "rnnspec"]),
        .testTarget(name: "RNNSpecTestingTests", dependencies: ["RNNSpecTesting", "RNNSpec", "RNNKernels"]),
    ]
)
