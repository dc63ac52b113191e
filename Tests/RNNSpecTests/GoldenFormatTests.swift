import Foundation
import RNNKernels
import TestAssertions
import Testing
import Yams

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

    /// The digest's text of a tensor is its shape and each number in `NumberText.format`'s spelling
    /// (the numbers are written in place, without a string each; a change of spelling would make
    /// every golden STALE).
    @Test func testTheDigestTextSpellsNumbersAsNumberTextDoes() {
        var rng = SystemRandomNumberGenerator()
        var values: [Double] = [
            0, -0.0, 1, -1, 0.1, 1e300, -1e-300, .leastNonzeroMagnitude, .leastNormalMagnitude,
            .greatestFiniteMagnitude, .nan,
            .infinity, -.infinity, 123_456_789_012_345_680, 1e16, 1e-5, 0.0001,
        ]
        for _ in 0..<2000 { values.append(Double(bitPattern: rng.next())) }
        for _ in 0..<2000 { values.append(Double.random(in: -4...4)) }
        var text = ""
        CaseDigest.canonical(.real(RealTensor(Tensor(shape: [values.count, 1], scalars: values))), into: &text)
        XCTAssertEqual(text, "real[\(values.count), 1] " + values.map { NumberText.format($0) }.joined(separator: " "))
        var ints = ""
        CaseDigest.canonical(.integer(Tensor<Int>(shape: [3], scalars: [0, -7, Int.max])), into: &ints)
        XCTAssertEqual(ints, "int[3] 0 -7 \(Int.max)")
    }

    /// A name is written plain exactly when YAML reads it back as that string: words YAML 1.1 reads as
    /// booleans or null are quoted in any case, and a name that only starts or ends like one is not; the
    /// same verdict as the spelled-out rule, and what Yams reads back is the name.
    @Test func testReservedWordsAreQuotedInAnyCaseAndNearMissesAreNot() throws {
        let words = ["true", "false", "yes", "no", "on", "off", "null", "y", "n"]
        var names: [String] = []
        for w in words {
            names += [
                w, w.uppercased(), w.prefix(1).uppercased() + w.dropFirst(), w + "s", "x" + w, String(w.dropLast()),
            ]
        }
        names += [
            "o", "nul", "tru", "fals", "onn", "W_hh", "b_h", "x", "h_prev", "dtype", "a.b", "a-b/c", "_", "Ye", "NO_",
        ]
        for name in names where !name.isEmpty {
            let spelled = !words.contains(name.lowercased())
            let plain = try XCTUnwrap(YAMLText.isPlainASCII(name), name)
            XCTAssertEqual(plain, spelled, name)
            let written = YAMLText.scalar(name)
            XCTAssertEqual(written == name, spelled, "\(name) written as \(written)")
            XCTAssertEqual(try Yams.load(yaml: "k: \(written)") as? [String: String], ["k": name], written)
        }
    }

    /// The one quoting of goldens and the worker protocol reads back as the same string in JSON and
    /// in YAML (but U+FEFF, see below), for every character up to U+2100 and the line separators,
    /// alone and in text; printable ASCII is written as it is.
    @Test func testQuotedStringsReadBackInJSONAndYAML() throws {
        var texts = (Array(0...0x2100) + [0x2028, 0x2029, 0xFEFF, 0x1F600]).compactMap(Unicode.Scalar.init).map {
            String($0)
        }
        texts += ["", "rnn_step/c00001", "a \"b\" c", "back\\slash", "tab\there", "é ü", "x\u{85}y", "end\n"]
        for s in texts {
            let q = YAMLText.quoted(s)
            let json = try JSONSerialization.jsonObject(with: Data(q.utf8), options: .fragmentsAllowed) as? String
            XCTAssertEqual(json, s, "\(s.unicodeScalars.map { $0.value })")
            // libyaml, through Yams, drops U+FEFF even when escaped: no quoting can keep it in YAML.
            if !s.unicodeScalars.contains("\u{FEFF}") {
                XCTAssertEqual(try Yams.load(yaml: "k: " + q) as? [String: String], ["k": s], "\(q)")
            }
            if s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }) {
                XCTAssertEqual(q, "\"" + s + "\"")
            }
        }
    }

    /// The hardware rounds (x86's SHA extensions) give the Swift rounds' words for every length
    /// from 0 to 300 bytes (every padding case, one to six blocks) and for random texts.
    @Test func testSHA256HardwareRoundsAgreeWithTheSwiftRounds() throws {
        try XCTSkipUnless(SHA256.hardware, "this CPU has no SHA extensions; digests use the Swift rounds")
        var rng = SystemRandomNumberGenerator()
        for length in Array(0...300) + (0..<50).map({ _ in Int.random(in: 301...5000) }) {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            XCTAssertEqual(SHA256.words(bytes, hardware: true), SHA256.words(bytes, hardware: false), "\(length) bytes")
        }
        XCTAssertEqual(
            SHA256.words(Array("abc".utf8), hardware: true),
            [0xba78_16bf, 0x8f01_cfea, 0x4141_40de, 0x5dae_2223, 0xb003_61a3, 0x9617_7a9c, 0xb410_ff61, 0xf200_15ad])
    }

    @Test func testSHA256KnownVectors() {
        XCTAssertEqual(SHA256.hex("".utf8), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex("abc".utf8), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(
            SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}
