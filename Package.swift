// swift-tools-version:6.0
import PackageDescription

// The `rnnspec` executable links the Swift runtime and Foundation statically on Linux: each run
// starts a coordinator and one worker process per job, and loading and relocating the shared
// libraries cost each dynamically linked process about 10 ms and 6 MB resident before any work
// (`rnnspec --version`: 21 ms and 20 MB dynamic, 11 ms and 14 MB static; docs/performance.md, "Runner"). These are the only unsafe flags in the package, on an
// executable target that no library product contains, so SwiftPM still accepts the package as a
// dependency by version (`.ci/consumer-test.sh` builds one; `ManifestTests` keeps them here).
// `-static-stdlib` links the runtime; the group adds the static libraries that Foundation's static
// modules link (the dynamic modules the other targets compile against do not name them), in a
// group because they refer to one another. The list is the Swift 6.3 toolchain's; older
// compilers link dynamically. `-no-pie` links the executable at a fixed address: as a
// position-independent executable it had 82,000 relocations to apply in every process before `main`
// (one case end to end 14.5 -> 13.0 ms, a worker's start 7.3 -> 6.2 ms, 370 fewer page faults); the
// price is that the executable's own code is not placed at a random address.
#if compiler(>=6.3)
let staticSwiftRuntime: [LinkerSetting] = [
    .unsafeFlags(
        [
            "-static-stdlib", "-Xlinker", "--start-group",
            "-Xlinker", "-l_FoundationICU", "-Xlinker", "-lCoreFoundation", "-Xlinker", "-lFoundation",
            "-Xlinker", "-lFoundationEssentials", "-Xlinker", "-lFoundationInternationalization",
            "-Xlinker", "-l_FoundationCShims", "-Xlinker", "-l_FoundationCollections",
            "-Xlinker", "-lswiftSynchronization", "-Xlinker", "--end-group", "-Xclang-linker", "-no-pie",
        ], .when(platforms: [.linux]))
]
#else
let staticSwiftRuntime: [LinkerSetting] = []
#endif

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
        // SHA-256 rounds with the CPU's SHA extensions (x86), for RNNSpec's case digests: function
        // attributes, no compiler flags; RNNSpec checks the CPU and otherwise hashes in Swift.
        .target(name: "RNNSpecDigest"),
        // Case model, loading, registry, comparison, golden store, running, reporting: values and
        // strings only (no printing, terminal or signal handling; the only processes it starts are the
        // runner's workers).
        .target(
            name: "RNNSpec",
            dependencies: [
                "RNNKernels",
                "RNNPlatform",
                "RNNSpecDigest",
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
        // review keys, exit codes and the process-wide signal setting. Not a product: the
        // executable below and the tests use it.
        .target(
            name: "RNNSpecCLI",
            dependencies: [
                "RNNSpec",
                "RNNSpecBench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // The executable: `main.swift` only, so that the linker settings below are its alone.
        .executableTarget(name: "rnnspec", dependencies: ["RNNSpecCLI"], linkerSettings: staticSwiftRuntime),
        .executableTarget(name: "gemm-bench", dependencies: ["RNNKernels", "RNNKernelsSIMD", "RNNPlatform"]),
        // XCTest's assertions recording Swift Testing issues, for the tests below: Swift Testing runs them
        // in parallel (Tests/TestAssertions). Not a product.
        .target(name: "TestAssertions", path: "Tests/TestAssertions"),
        .testTarget(
            name: "RNNKernelsTests", dependencies: ["RNNKernels", "RNNKernelsSIMD", "RNNPlatform", "TestAssertions"]),
        .testTarget(name: "SVGPlotTests", dependencies: ["SVGPlot", "TestAssertions"]),
        .testTarget(
            name: "RNNSpecTests",
            dependencies: ["RNNSpec", "RNNKernels", "RNNSpecBench", "RNNSpecCLI", "TestAssertions"]),
        .testTarget(name: "RNNSpecTestingTests", dependencies: ["RNNSpecTesting", "RNNSpec", "RNNKernels"]),
    ]
)
