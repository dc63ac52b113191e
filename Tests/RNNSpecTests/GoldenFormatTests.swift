import Foundation
import RNNKernels
import TestAssertions
import Testing

@testable import RNNSpec

/// The golden file format: numbers in their shortest round-trip form, one row per line, round trips,
/// the digest of what a golden was computed from, and the SHA-256 behind it.
@Suite final class GoldenFormatTests {
    @Test func testNumbersUseShortestRoundTripFormAndYAMLSpecials() {
        XCTAssertEqual(NumberText.format(0.1), "0.1")
        XCTAssertEqual(NumberText.format(1e-05), "1e-05")
        XCTAssertEqual(NumberText.format(.nan), ".nan")
        XCTAssertEqual(NumberText.format(-.infinity), "-.inf")
        XCTAssertEqual(NumberText.format(Double(Float(0.1)), dtype: .float32), "0.1")
        for x in [0.1, 1.0 / 3, Double.leastNonzeroMagnitude, 1.7976931348623157e308, -2.5e-7] {
            XCTAssertEqual(NumberText.parseReal(NumberText.format(x)), x)
        }
        XCTAssertEqual(NumberText.parseReal("-.inf"), -.infinity)
        XCTAssertNil(NumberText.parseReal("0x10"))
        XCTAssertNil(NumberText.parseReal("one"))
    }

    func golden(_ outputs: [(String, Value)]) -> Golden {
        Golden(caseID: "t/x", kernel: "k.x", digest: "d", outputs: outputs)
    }

    @Test func testGoldenLayoutIsOneRowPerLine() {
        let g = golden([
            ("m", .real(RealTensor(Tensor(shape: [2, 2, 2], scalars: [1, 2, 3, 4, 5, 6, 7, .nan])))),
            ("f", .real(Tensor<Float>([0.1, -.infinity]))),
            ("n", .integers([1, 2])),
            ("s", .string(Tensor(["a b", "c\"d"]))),
            ("e", .real(RealTensor(Tensor(shape: [0, 3], scalars: [])))),
            ("l", .list([.real(0.5), .integers([])])),
        ])
        XCTAssertEqual(
            g.serialized(),
            """
            # Golden file written by rnnspec; do not edit. Regenerate: rnnspec regen t/x
            format: 1
            case: "t/x"
            kernel: "k.x"
            digest: d
            outputs:
              m:
                type: real
                dtype: float64
                shape: [2, 2, 2]
                value:
                  - - [1.0, 2.0]
                    - [3.0, 4.0]
                  - - [5.0, 6.0]
                    - [7.0, .nan]
              f:
                type: real
                dtype: float32
                shape: [2]
                value: [0.1, -.inf]
              "n":
                type: integer
                shape: [2]
                value: [1, 2]
              s:
                type: string
                shape: [2]
                value: ["a b", "c\\"d"]
              e:
                type: real
                dtype: float64
                shape: [0, 3]
                value: []
              l:
                type: list
                items:
                - type: real
                  dtype: float64
                  shape: []
                  value: 0.5
                - type: integer
                  shape: [0]
                  value: []

            """)
    }

    @Test func testGoldenRoundTrips() throws {
        let outputs: [(String, Value)] = [
            ("m", .real(RealTensor(Tensor(shape: [3, 1, 2], scalars: [1, 2, 3, 4, 5, -0.0])))),
            ("f", .real(Tensor<Float>([0.1, 1e-30]))),
            ("n", .integers([-1, 2])),
            ("l", .list([.real(0.5), .list([])])),
        ]
        let text = golden(outputs).serialized()
        let back = try Golden.parse(SourceText(path: "g.yaml", text: text))
        XCTAssertEqual(back.caseID, "t/x")
        XCTAssertEqual(back.outputs.map(\.name), ["m", "f", "n", "l"])
        for (a, b) in zip(back.outputs, outputs) { XCTAssertEqual(a.value, b.1) }
        XCTAssertEqual(back.serialized(), text)
    }

    @Test func testDigestDependsOnKernelParamsAndInputsOnly() {
        let inputs: [String: Value] = ["x": .real(Tensor<Double>([1, 2]))]
        let d = CaseDigest.compute(kernel: "rnn.step", params: ["activation": .string("tanh")], inputs: inputs)
        XCTAssertEqual(d.count, 64)
        XCTAssertEqual(
            d, CaseDigest.compute(kernel: "rnn.step", params: ["activation": .string("tanh")], inputs: inputs))
        XCTAssertNotEqual(
            d, CaseDigest.compute(kernel: "rnn.step", params: ["activation": .string("relu")], inputs: inputs))
        XCTAssertNotEqual(
            d,
            CaseDigest.compute(
                kernel: "rnn.step", params: ["activation": .string("tanh")],
                inputs: ["x": .real(Tensor<Double>([1, 2.0000000000000004]))]))
        XCTAssertNotEqual(
            d,
            CaseDigest.compute(
                kernel: "rnn.step", params: ["activation": .string("tanh")],
                inputs: ["x": .real(RealTensor(Tensor(shape: [2, 1], scalars: [1.0, 2])))]))
    }

    @Test func testSHA256KnownVectors() {
        XCTAssertEqual(SHA256.hex("".utf8), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex("abc".utf8), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(
            SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}
