#!/usr/bin/env bash
# The consumer test: a throwaway package outside the repository depends on rnnspec BY VERSION (a
# tagged clone, `.package(url: "file://...", from: VERSION)`), registers a kernel of its own, runs
# cases it writes through RNNSpecTesting in `swift test`, and passes; one more case, meant to fail,
# must be reported at its case file's line. VERSION is the newest heading of CHANGELOG.md.
#
#   .ci/consumer-test.sh              clones this repository's committed HEAD
#   RNNSPEC_REPO=DIR .ci/consumer-test.sh   clones another checkout's HEAD instead
#
# rnnspec's own dependencies resolve as in any package here (git reads github.com from the local
# package mirror); the clone is reached through a file:// URL, which needs no network.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
repo=${RNNSPEC_REPO:-$here}
version=$(sed -n 's/^## \([0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*\)$/\1/p' "$here/CHANGELOG.md" | head -n 1)
[ -n "$version" ] || { echo "error: no '## X.Y.Z' heading in CHANGELOG.md" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/rnnspec-consumer.XXXXXX")
trap 'rm -rf "$work"' EXIT
git clone -q "$repo" "$work/rnnspec"
git -C "$work/rnnspec" -c user.name=consumer-test -c user.email=consumer-test@localhost tag -a "$version" -m "rnnspec $version"
echo "consumer test: rnnspec $version from a tagged clone of $repo ($(git -C "$work/rnnspec" rev-parse --short HEAD))"

pkg="$work/consumer"
mkdir -p "$pkg/Sources/MyKernels" "$pkg/Tests/MyKernelsTests" "$pkg/cases/elman" "$pkg/cases/builtin" "$pkg/cases/failing"

cat > "$pkg/Package.swift" <<EOF
// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "MyKernels",
    dependencies: [
        .package(url: "file://$work/rnnspec", from: "$version"),
    ],
    targets: [
        .target(name: "MyKernels", dependencies: [
            .product(name: "RNNSpec", package: "rnnspec"),
            .product(name: "RNNKernels", package: "rnnspec"),
        ]),
        .testTarget(name: "MyKernelsTests", dependencies: [
            "MyKernels",
            .product(name: "RNNSpec", package: "rnnspec"),
            .product(name: "RNNSpecTesting", package: "rnnspec"),
        ]),
    ]
)
EOF

# The user's own kernel: an Elman step written with plain loops, declared with symbolic shapes.
cat > "$pkg/Sources/MyKernels/ElmanStep.swift" <<'EOF'
import Foundation
import RNNKernels
import RNNSpec

/// `my.elman_step`: h = tanh(W_xh x + W_hh h_prev + b_h), computed here, not by rnnspec.
public struct ElmanStep: Kernel {
    public init() {}

    public let spec = KernelSpec(
        name: "my.elman_step",
        summary: "h = tanh(W_xh x + W_hh h_prev + b_h)",
        inputs: [
            .real("x", ["I"], "input", example: "[1.0, -1.0]"),
            .real("h_prev", ["H"], "previous hidden state", example: "[0.5, 0.0]"),
            .real("W_xh", ["H", "I"], "input weights", example: "{eye: 2}"),
            .real("W_hh", ["H", "H"], "recurrent weights", example: "{eye: 2, scale: 0.5}"),
            .real("b_h", ["H"], optional: true, "bias (zeros if absent)", example: "[0.0, 0.0]"),
        ],
        outputs: [
            OutputSpec("a", "[H]", "pre-activation"),
            OutputSpec("h", "[H]", "new hidden state"),
        ],
        sizes: KernelSpec.boundedByInputs)

    public func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let x: Tensor<T> = try c.real("x"), h: Tensor<T> = try c.real("h_prev")
        let wx: Tensor<T> = try c.real("W_xh"), wh: Tensor<T> = try c.real("W_hh")
        let b: Tensor<T>? = try c.optionalReal("b_h")
        let H = h.count, I = x.count
        var a = [T](repeating: 0, count: H)
        for i in 0..<H {
            var s: T = b?.scalars[i] ?? 0
            for j in 0..<I { s += wx.scalars[i * I + j] * x.scalars[j] }
            for j in 0..<H { s += wh.scalars[i * H + j] * h.scalars[j] }
            a[i] = s
        }
        var out = KernelOutputs()
        out["a"] = .real(Tensor(a))
        out["h"] = .real(Tensor(a.map { T(Foundation.tanh(Double($0))) }))
        return out
    }
}
EOF

# Cases with values known by hand (tanh from the C library, to 17 digits).
cat > "$pkg/cases/elman/identity_weights.yaml" <<'EOF'
kernel: my.elman_step
inputs:
  x: [1.0, -1.0]
  h_prev: [0.5, 0.0]
  W_xh: {eye: 2}
  W_hh: {eye: 2, scale: 0.5}
expect:
  a: {value: [1.25, -1.0], source: "by hand"}
  h: {value: [0.84828363995751289, -0.76159415595576489], abs: 1e-15}
EOF
cat > "$pkg/cases/elman/bias_only.yaml" <<'EOF'
kernel: my.elman_step
inputs:
  x: [0.0, 0.0]
  h_prev: [0.0, 0.0]
  W_xh: {eye: 2}
  W_hh: {eye: 2}
  b_h: [0.5, -0.5]
expect:
  a: [0.5, -0.5]
  h: {value: [0.46211715726000974, -0.46211715726000974], abs: 1e-15}
EOF
cat > "$pkg/cases/elman/float32.yaml" <<'EOF'
kernel: my.elman_step
params: {dtype: float32}
inputs:
  x: [2.0]
  h_prev: [0.0]
  W_xh: [[0.5]]
  W_hh: [[1.0]]
expect:
  h: {value: [0.76159415595576489], abs: 1e-6}
EOF
# One of rnnspec's own kernels, from the same suite.
cat > "$pkg/cases/builtin/rnn_step.yaml" <<'EOF'
kernel: rnn.step
inputs:
  x: [1.0, -1.0]
  h_prev: [0.5, 0.0]
  W_xh: {eye: 2}
  W_hh: {eye: 2, scale: 0.5}
expect:
  h: {value: [0.84828363995751289, -0.76159415595576489], abs: 1e-15}
EOF
# Meant to fail: line 8 expects a wrong sign.
cat > "$pkg/cases/failing/wrong_sign.yaml" <<'EOF'
kernel: my.elman_step
inputs:
  x: [1.0, -1.0]
  h_prev: [0.5, 0.0]
  W_xh: {eye: 2}
  W_hh: {eye: 2, scale: 0.5}
expect:
  a: [1.25, 1.0]
EOF

cat > "$pkg/Tests/MyKernelsTests/ElmanSwiftTests.swift" <<'EOF'
import Foundation
import MyKernels
import RNNSpec
import RNNSpecTesting
import Testing

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

@Test func myElmanStepPassesItsCases() throws {
    let suite = try CaseSuite(root: packageRoot, paths: ["cases/elman", "cases/builtin"],
                              registering: [ElmanStep()], requireGoldens: false)
    let report = expectCasesPass(suite)
    #expect(report?.results.count == 4 && report?.passed == 4)
}

@Test func aWrongExpectationIsAnIssueAtItsLine() throws {
    let suite = try CaseSuite(root: packageRoot, paths: ["cases/failing"], registering: [ElmanStep()], requireGoldens: false)
    withKnownIssue {
        _ = expectCasesPass(suite)
    } matching: { issue in
        issue.sourceLocation?.filePath == packageRoot + "/cases/failing/wrong_sign.yaml" && issue.sourceLocation?.line == 8
    }
}
EOF
cat > "$pkg/Tests/MyKernelsTests/ElmanXCTests.swift" <<'EOF'
import Foundation
import MyKernels
import RNNSpecTesting
import XCTest

final class ElmanXCTests: XCTestCase {
    func testMyElmanStep() throws {
        assertCasesPass(try CaseSuite(root: packageRoot, paths: ["cases/elman"], registering: [ElmanStep()], requireGoldens: false))
    }

    /// Fails for real, for the script to read where the failure points; run only when asked.
    func testMeantToFail() throws {
        guard ProcessInfo.processInfo.environment["CONSUMER_MEANT_TO_FAIL"] == "1" else { return }
        assertCasesPass(try CaseSuite(root: packageRoot, paths: ["cases/failing"], registering: [ElmanStep()], requireGoldens: false))
    }
}
EOF

cd "$pkg"
echo "== consumer: swift test (4 cases pass; the failing one is a known issue)"
swift test 2>&1 | tee "$work/pass.log" | grep -E "error:|known issue|Test run with" || true
[ "${PIPESTATUS[0]}" -eq 0 ] || { tail -n 40 "$work/pass.log"; echo "error: the consumer's swift test failed" >&2; exit 1; }

echo "== consumer: the case meant to fail fails at its case file"
if CONSUMER_MEANT_TO_FAIL=1 swift test --skip-build --filter ElmanXCTests.testMeantToFail > "$work/fail.log" 2>&1; then
  cat "$work/fail.log"; echo "error: the case meant to fail passed" >&2; exit 1
fi
expected="$pkg/cases/failing/wrong_sign.yaml:8: error: ElmanXCTests.testMeantToFail : FAIL: failing/wrong_sign"
if ! grep -F -q "$expected" "$work/fail.log"; then
  cat "$work/fail.log"; echo "error: no failure at $pkg/cases/failing/wrong_sign.yaml:8" >&2; exit 1
fi
sed -n "/wrong_sign.yaml:8: error:/,/testMeantToFail' failed/p" "$work/fail.log" | sed "s|$work|\$TMP|"
echo "consumer test: passed"
