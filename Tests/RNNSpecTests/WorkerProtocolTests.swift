import Foundation
import TestAssertions
import Testing

@testable import RNNKernels
@testable import RNNSpec

/// The worker protocol's messages: every value kind round-trips bit for bit, and a reply that does
/// not follow the protocol is refused with a message, never trusted or trapped on.
@Suite final class WorkerProtocolTests {
    let registry = KernelRegistry.standard

    @Test func testRequestsRoundTripEveryValueKindBitForBit() throws {
        let request = ExecutionRequest(
            id: "dir/ünïcode \"quoted\"\n", kernel: "rnn.step",
            params: ["activation": .string("tanh"), "dtype": .string("float64")],
            inputs: [
                "x": .real(
                    RealTensor(
                        Tensor(
                            shape: [2, 3], scalars: [1.5, -0.0, .nan, .infinity, -.infinity, .leastNonzeroMagnitude]))),
                "ids": .integer(Tensor(shape: [3], scalars: [Int.min, 0, Int.max])),
                "mask": .boolean(Tensor(shape: [2], scalars: [true, false])),
                "words": .string(Tensor(shape: [2], scalars: ["a\u{0}b", "\u{2028}é"])),
                "list": .list([
                    .real(RealTensor(Tensor(shape: [], scalars: [0.1]))),
                    .real(RealTensor(Tensor(shape: [0, 4], scalars: []))),
                ]),
            ],
            dims: ["H": 3, "I": 2],
            gradcheck: GradCheckPlan(wrt: ["x"], eps: 1e-6, loss: "loss"))
        let line = WorkerProtocol.encode(request)
        XCTAssertTrue(line.hasSuffix("}\n"))
        XCTAssertEqual(line.filter { $0 == "\n" }.count, 1, "one message, one line")
        let back = try WorkerProtocol.decodeRequest(Data(line.utf8.dropLast()), registry: registry)
        XCTAssertEqual(back.id, request.id)
        XCTAssertEqual(back.kernel, request.kernel)
        XCTAssertEqual(back.params, request.params)
        XCTAssertEqual(back.dims, request.dims)
        XCTAssertEqual(back.gradcheck, request.gradcheck)
        XCTAssertEqual(Set(back.inputs.keys), Set(request.inputs.keys))
        for (name, value) in request.inputs { XCTAssertTrue(sameBits(back.inputs[name]!, value), name) }
    }

    @Test func testRepliesRoundTripFloat32OutputsGradientsErrorsAndUnsupported() throws {
        var outputs = KernelOutputs()
        outputs["h"] = .real(Tensor<Float>(shape: [2], scalars: [0.1, -Float.greatestFiniteMagnitude]))
        outputs["loss"] = .real(Tensor<Double>(shape: [], scalars: [2.5]))
        let pair = GradientPair(
            name: "dx", analytic: RealTensor(Tensor(shape: [1], scalars: [1])),
            numeric: RealTensor(Tensor(shape: [1], scalars: [1.0000001])))
        let line = WorkerProtocol.encode(.outputs(ExecutionReply(outputs: outputs, gradients: [pair])), id: "a")
        guard
            case .outputs(let reply) = try WorkerProtocol.decodeReply(
                Data(line.utf8.dropLast()), id: "a", maxElements: 100)
        else {
            return XCTFail("not outputs")
        }
        XCTAssertEqual(reply.outputs.entries.map(\.name), ["h", "loss"], "outputs keep their order")
        XCTAssertTrue(sameBits(reply.outputs["h"]!, outputs["h"]!))
        guard case .real(let h)? = reply.outputs["h"] else { return XCTFail() }
        XCTAssertEqual(h.dtype, .float32)
        XCTAssertEqual(reply.gradients, [pair])

        let error = WorkerProtocol.encode(.failure(ExecutionFailure("bad\nthing", at: "input:x")), id: "a")
        guard
            case .failure(let f) = try WorkerProtocol.decodeReply(Data(error.utf8.dropLast()), id: "a", maxElements: 1)
        else { return XCTFail() }
        XCTAssertEqual(f, ExecutionFailure("bad\nthing", at: "input:x"))
        let unsupported = WorkerProtocol.encode(.unsupported("not here"), id: "a")
        guard
            case .unsupported("not here") = try WorkerProtocol.decodeReply(
                Data(unsupported.utf8.dropLast()), id: "a", maxElements: 1)
        else { return XCTFail() }
    }

    @Test func testRepliesThatBreakTheProtocolAreRefused() {
        func refusal(_ text: String, maxElements: Int = 1000) -> String {
            do {
                _ = try WorkerProtocol.decodeReply(Data(text.utf8), id: "a", maxElements: maxElements);
                return "(accepted)"
            } catch { return "\(error)" }
        }
        XCTAssertEqual(refusal("Segmentation fault\u{1B}[2J"), "not a JSON line: 'Segmentation fault\\u{1b}[2J'")
        XCTAssertEqual(refusal("[1, 2]"), "not a JSON object: '[1, 2]'")
        XCTAssertEqual(refusal(#"{"id":"a"}"#), #"no "protocol" field: '{"id":"a"}'"#)
        XCTAssertEqual(refusal(#"{"protocol":2,"id":"a"}"#), "speaks protocol 2; this rnnspec speaks 1")
        XCTAssertEqual(refusal(#"{"protocol":1,"id":"a"}"#), #"a reply needs "outputs", "error" or "unsupported""#)
        XCTAssertEqual(
            refusal(#"{"protocol":1,"id":"a","outputs":[{"name":"h","dtype":"float64","shape":[-1],"data":""}]}"#),
            "output 'h': shape must be a list of non-negative integers")
        XCTAssertEqual(
            refusal(#"{"protocol":1,"id":"a","outputs":[{"name":"h","dtype":"float64","shape":[2000],"data":""}]}"#),
            "output 'h': shape [2000] holds 2000 elements, over the limit")
        XCTAssertEqual(
            refusal(
                #"{"protocol":1,"id":"a","outputs":[{"name":"h","dtype":"complex128","shape":[1],"data":"AAAA"}]}"#),
            "output 'h': unknown dtype 'complex128'")
        XCTAssertEqual(
            refusal(
                #"{"protocol":1,"id":"a","outputs":[{"name":"h","dtype":"float64","shape":[1],"data":"not base64!"}]}"#),
            "output 'h': data must be base64 text")
        XCTAssertEqual(
            refusal(#"{"protocol":1,"id":"a","outputs":[{"name":"h","dtype":"string","shape":[2],"data":["x"]}]}"#),
            "output 'h': a string tensor of shape [2] needs 2 strings")
        XCTAssertEqual(
            refusal(
                #"{"protocol":1,"id":"a","outputs":[{"name":"h","dtype":"float64","shape":[],"data":"AAAAAAAA8D8="},{"name":"h","dtype":"float64","shape":[],"data":"AAAAAAAA8D8="}]}"#
            ),
            "output 'h' twice")
    }

    /// The wire, byte for byte, as docs/worker-protocol.md describes it: keys in this order, names
    /// sorted, little-endian base64 data, gradcheck fields, gradients and directional derivatives.
    @Test func testTheWireIsByteForByteTheDocumentedOne() {
        var g = GradCheckPlan(wrt: ["W_xh"], eps: 1e-6, loss: "loss")
        g.mode = .fast
        let request = ExecutionRequest(
            id: "rnn_bptt/c1", kernel: "rnn.bptt", params: ["dtype": .string("float32"), "n": .integer(2)],
            inputs: [
                "x": .real(RealTensor(Tensor(shape: [2], scalars: [1, -0.5]), dtype: .float32)),
                "ids": .integer(Tensor(shape: [1], scalars: [3])),
            ],
            dims: ["T": 2], gradcheck: g)
        XCTAssertEqual(
            WorkerProtocol.encode(request),
            #"{"protocol":1,"id":"rnn_bptt/c1","kernel":"rnn.bptt","params":{"dtype":"float32","n":2},"inputs":[{"name":"ids","dtype":"int64","shape":[1],"data":"AwAAAAAAAAA="},{"name":"x","dtype":"float32","shape":[2],"data":"AACAPwAAAL8="}],"dims":{"T":2},"gradcheck":{"wrt":["W_xh"],"eps":1e-06,"loss":"loss","mode":"fast","directions":4,"seed":0,"abs":1e-07,"rel":1e-05}}"#
                + "\n")
        var outputs = KernelOutputs()
        outputs["h"] = .real(Tensor<Double>(shape: [1, 1], scalars: [0.25]))
        outputs["parts"] = .list([.boolean(Tensor(shape: [1], scalars: [true]))])
        let two = RealTensor(Tensor(shape: [1], scalars: [2]))
        let reply = ExecutionReply(
            outputs: outputs, gradients: [GradientPair(name: "dW_xh", analytic: two, numeric: two)],
            directional: [0.5, .nan])
        XCTAssertEqual(
            WorkerProtocol.encode(.outputs(reply), id: "rnn_bptt/c1"),
            #"{"protocol":1,"id":"rnn_bptt/c1","outputs":[{"name":"h","dtype":"float64","shape":[1,1],"data":"AAAAAAAA0D8="},{"name":"parts","dtype":"list","items":[{"dtype":"bool","shape":[1],"data":"AQ=="}]}],"gradients":[{"name":"dW_xh","analytic":{"dtype":"float64","shape":[1],"data":"AAAAAAAAAEA="},"numeric":{"dtype":"float64","shape":[1],"data":"AAAAAAAAAEA="}}],"directional":[0.5,"nan"]}"#
                + "\n")
    }

    /// The encoder's base64 is Foundation's, for every length up to 300 bytes (each padding case) and
    /// for random bytes.
    @Test func testTheEncodersBase64IsFoundations() {
        var stream = SeededStream(seed: 64)
        for length in 0...300 {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: stream.next()) }
            var text = ByteText()
            bytes.withUnsafeBytes { text.appendBase64($0) }
            XCTAssertEqual(String(decoding: text.bytes, as: UTF8.self), Data(bytes).base64EncodedString(), "\(length)")
        }
        // Read back without Foundation, and declined (for Foundation to read) when not in that form.
        for length in 0...64 {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: stream.next()) }
            let text = Data(bytes).base64EncodedString()
            XCTAssertEqual(WorkerProtocolFastPath.canonicalBase64(text), Data(bytes), "\(length)")
        }
        for odd in [
            "A", "AB", "ABC", "AB=C", "A===", "AB?=", "AB==CD==", "AB =", "AR==", "ABD=", "====", "AB\nC", "AB\u{80}C",
            "ABC\u{FF}", "-_AB", "ABCD=AB=",
        ] {
            XCTAssertNil(WorkerProtocolFastPath.canonicalBase64(odd), odd)
        }
        // Elements decoded straight into their array: the same values as through Foundation, for the
        // canonical form and for one Foundation reads alone (unused bits set before the padding); nil for
        // a wrong count.
        for count in 0...20 {
            let values = (0..<count).map { _ in Double(bitPattern: stream.next()) }
            let data = values.withUnsafeBytes { Data($0) }
            var texts = [data.base64EncodedString()]
            if let last = texts[0].utf8.firstIndex(of: UInt8(ascii: "=")) {
                // The character before the padding with its lowest bit set: "A" (0) becomes "B" (1).
                var u = Array(texts[0].utf8)
                let k = texts[0].utf8.distance(from: texts[0].utf8.startIndex, to: last) - 1
                let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
                u[k] = alphabet[alphabet.firstIndex(of: u[k])! | 1]
                let odd = String(decoding: u, as: UTF8.self)
                XCTAssertNil(WorkerProtocolFastPath.canonicalBase64(odd), odd)
                XCTAssertEqual(Data(base64Encoded: odd), data, odd)
                texts.append(odd)
            }
            for text in texts {
                let read = WorkerProtocolFastPath.base64Elements(text, count: count, as: Double.self)
                XCTAssertEqual(read?.map(\.bitPattern), values.map(\.bitPattern), "\(count)")
                XCTAssertNil(WorkerProtocolFastPath.base64Elements(text, count: count + 1, as: Double.self))
            }
            let bytes = WorkerProtocolFastPath.base64Elements(
                data.base64EncodedString(), count: 8 * count, as: UInt8.self)
            XCTAssertEqual(bytes, Array(data))
        }
        let all = (0...255).map(UInt8.init)
        var text = ByteText()
        all.withUnsafeBytes { text.appendBase64($0) }
        XCTAssertEqual(String(decoding: text.bytes, as: UTF8.self), Data(all).base64EncodedString())
    }

    /// Names written straight into the bytes are `JSONText.string`'s, escapes included.
    @Test func testJSONStringsWrittenAsBytesAreJSONTexts() {
        for name in [
            "", "x", "W_hh", "exercises/ex01", "a\"b", "a\\b", "tab\there", "\u{7F}", "é", "\u{2028}", "\u{1}x", " ",
        ] {
            var text = ByteText()
            text.appendJSONString(name)
            XCTAssertEqual(String(decoding: text.bytes, as: UTF8.self), JSONText.string(name), name.debugDescription)
        }
    }

    /// A request whose shape needs more bytes than an `Int` counts is refused as a protocol violation on
    /// both readers, not a trap that kills the worker.
    @Test func testAShapeBeyondAnyByteCountIsAViolation() {
        for shape in ["[2305843009213693952]", "[576460752303423488, 4]"] {
            let line =
                #"{"protocol":1,"id":"x","kernel":"rnn.step","params":{},"inputs":[{"name":"x","dtype":"float64","shape":"#
                + shape + #","data":""}]}"#
            XCTAssertThrowsError(try WorkerProtocol.decodeRequest(Data(line.utf8), registry: .standard), shape) {
                XCTAssertTrue("\($0)".contains("bytes"), "\($0)")
            }
        }
    }
}
