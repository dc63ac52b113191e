// swift-tools-version:6.0
// A libFuzzer target for rnnspec's case loader and golden reader, kept out of the main
// package so that its build and `swift test` are unaffected. Run it with `Fuzz/run` (see
// docs/bad-input.md, "What rnnspec does with bad input").
import PackageDescription

let package = Package(
    name: "rnnspec-fuzz",
    dependencies: [
        .package(name: "rnnspec", path: "..")
    ],
    targets: [
        .executableTarget(
            name: "FuzzLoaders",
            dependencies: [.product(name: "RNNSpec", package: "rnnspec")],
            swiftSettings: [.unsafeFlags(["-sanitize=fuzzer"])],
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer"])]
        )
    ]
)
