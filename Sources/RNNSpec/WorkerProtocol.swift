import Foundation
import RNNKernels

/// The worker protocol, version 1: how `rnnspec run` hands a case to a worker process and reads
/// back its outputs. It is written so that any program can implement it (docs/worker-protocol.md
/// describes it for implementers).
///
/// Messages are JSON objects, one per line (UTF-8, no raw line breaks inside), over the worker's
/// standard input (requests) and standard output (replies). The worker writes a hello line when it
/// is ready, then answers each request with one reply, in order:
///
///     worker → {"protocol":1,"worker":"rnnspec 0.x"}
///     rnnspec → {"protocol":1,"id":"exercises/ex01","kernel":"rnn.step","params":{"activation":"tanh"},
///                "inputs":[{"name":"x","dtype":"float64","shape":[2],"data":"AAAAAAAA8D8AAAAAAADwvw=="}],
///                "dims":{"H":2}}
///     worker → {"protocol":1,"id":"exercises/ex01","outputs":[{"name":"h","dtype":"float64","shape":[2],"data":"..."}]}
///
/// A tensor is `dtype` (`float64`, `float32`, `int64`, `bool`, `string`, or `list`), `shape` (row-major
/// extents) and `data`: the elements' little-endian bytes in base64 (`bool`: one byte, 0 or 1), a
/// JSON array of strings for `string`, and for `list` an array of tensors under `items`. Params
/// carry every declared parameter with its default filled in: numbers, booleans, strings and lists
/// of them, with non-finite reals written as the strings `"nan"`, `"inf"`, `"-inf"`. A request may
/// carry `"gradcheck":{"wrt":["W"],"eps":1e-6,"loss":"loss","mode":"fast","directions":4,"seed":0,"abs":1e-7,"rel":1e-5}`;
/// a worker that computes the finite differences then replies with
/// `"gradients":[{"name":"dW","analytic":TENSOR,"numeric":TENSOR}]` (`numeric` element by element,
/// left out after a fast check that passed) and, for a fast check, `"directional":[numbers]`. Instead of `outputs`, a reply
/// may say `"error":{"message":"...","at":"input:x"}` (the kernel rejected the case; `at` names an
/// input, a param, `kernel` or `gradcheck`) or `"unsupported":"reason"`.
public enum WorkerProtocol {
    /// The protocol version every message carries.
    public static let version = 1

    /// A worker's answer to one request.
    public enum Answer: Sendable {
        case outputs(ExecutionReply)
        case failure(ExecutionFailure)
        case unsupported(String)
    }

    /// A message that does not follow the protocol.
    public struct Violation: Error, Sendable, CustomStringConvertible {
        /// What the message breaks, with the start of the offending line.
        public var description: String
        init(_ description: String) { self.description = description }
    }

    // MARK: Encoding

    /// The hello line a worker writes when it is ready: its name and, optionally, the kernels it
    /// implements (a case of another kernel is then UNSUPPORTED without a request).
    public static func hello(_ name: String, kernels: [String]? = nil) -> String {
        var line = "{\"protocol\":\(version),\"worker\":\(JSONText.string(name))"
        if let kernels { line += ",\"kernels\":[" + kernels.map(JSONText.string).joined(separator: ",") + "]" }
        return line + "}\n"
    }

    /// One request line.
    public static func encode(_ request: ExecutionRequest) -> String {
        var out =
            "{\"protocol\":\(version),\"id\":\(JSONText.string(request.id)),\"kernel\":\(JSONText.string(request.kernel)),\"params\":{"
        out += request.params.keys.sorted().map { "\(JSONText.string($0)):\(encode(request.params[$0]!))" }.joined(
            separator: ",")
        out += "},\"inputs\":["
        out += request.inputs.keys.sorted().map { encodeNamed($0, request.inputs[$0]!) }.joined(separator: ",")
        out += "],\"dims\":{"
        out += request.dims.keys.sorted().map { "\(JSONText.string($0)):\(request.dims[$0]!)" }.joined(separator: ",")
        out += "}"
        if let g = request.gradcheck {
            out += ",\"gradcheck\":{\"wrt\":[" + g.wrt.map(JSONText.string).joined(separator: ",")
            out +=
                "],\"eps\":\(JSONText.number(g.eps)),\"loss\":\(JSONText.string(g.loss)),\"mode\":\"\(g.mode.rawValue)\""
            if g.mode == .fast { out += ",\"directions\":\(g.directions),\"seed\":\(g.seed)" }
            out += ",\"abs\":\(JSONText.number(g.tolerance.abs)),\"rel\":\(JSONText.number(g.tolerance.rel))}"
        }
        return out + "}\n"
    }

    /// One reply line.
    public static func encode(_ answer: Answer, id: String) -> String {
        var out = "{\"protocol\":\(version),\"id\":\(JSONText.string(id)),"
        switch answer {
        case .outputs(let reply):
            out +=
                "\"outputs\":[" + reply.outputs.entries.map { encodeNamed($0.name, $0.value) }.joined(separator: ",")
                + "]"
            if !reply.gradients.isEmpty {
                out +=
                    ",\"gradients\":["
                    + reply.gradients.map {
                        "{\"name\":\(JSONText.string($0.name)),\"analytic\":\(encode(.real($0.analytic)))"
                            + ($0.numeric.map { ",\"numeric\":\(encode(.real($0)))" } ?? "") + "}"
                    }.joined(separator: ",") + "]"
            }
            if !reply.directional.isEmpty {
                out += ",\"directional\":[" + reply.directional.map(JSONText.number).joined(separator: ",") + "]"
            }
        case .failure(let f):
            out += "\"error\":{\"message\":\(JSONText.string(f.message)),\"at\":\(JSONText.string(f.at))}"
        case .unsupported(let reason):
            out += "\"unsupported\":\(JSONText.string(reason))"
        }
        return out + "}\n"
    }

    static func encode(_ p: ParamValue) -> String {
        switch p {
        case .integer(let v): return "\(v)"
        case .real(let v): return JSONText.number(v)
        case .boolean(let v): return v ? "true" : "false"
        case .string(let v): return JSONText.string(v)
        case .integerList(let v): return "[" + v.map { "\($0)" }.joined(separator: ",") + "]"
        case .realList(let v): return "[" + v.map(JSONText.number).joined(separator: ",") + "]"
        case .stringList(let v): return "[" + v.map(JSONText.string).joined(separator: ",") + "]"
        }
    }

    static func encodeNamed(_ name: String, _ value: Value) -> String {
        let body = encode(value)
        return "{\"name\":\(JSONText.string(name)),\(body.dropFirst())"
    }

    static func encode(_ value: Value) -> String {
        func tensor(_ dtype: String, _ shape: [Int], _ data: String) -> String {
            "{\"dtype\":\"\(dtype)\",\"shape\":[\(shape.map { "\($0)" }.joined(separator: ","))],\"data\":\(data)}"
        }
        switch value {
        case .real(let r):
            let bytes: Data
            if r.dtype == .float32 {
                bytes = littleEndianBytes(r.tensor.scalars.map { Float($0).bitPattern })
            } else {
                bytes = littleEndianBytes(r.tensor.scalars.map(\.bitPattern))
            }
            return tensor(r.dtype.rawValue, r.shape, "\"" + bytes.base64EncodedString() + "\"")
        case .integer(let t):
            return tensor(
                "int64", t.shape,
                "\"" + littleEndianBytes(t.scalars.map { UInt64(bitPattern: Int64($0)) }).base64EncodedString() + "\"")
        case .boolean(let t):
            return tensor("bool", t.shape, "\"" + Data(t.scalars.map { $0 ? 1 : 0 }).base64EncodedString() + "\"")
        case .string(let t):
            return tensor("string", t.shape, "[" + t.scalars.map(JSONText.string).joined(separator: ",") + "]")
        case .list(let items):
            return "{\"dtype\":\"list\",\"items\":[" + items.map(encode).joined(separator: ",") + "]}"
        }
    }

    static func littleEndianBytes<U: FixedWidthInteger>(_ words: [U]) -> Data {
        #if _endian(little)
        // The words' memory is their little-endian bytes already.
        return words.withUnsafeBytes { Data($0) }
        #else
        var data = Data(capacity: words.count * MemoryLayout<U>.size)
        for w in words { withUnsafeBytes(of: w.littleEndian) { data.append(contentsOf: $0) } }
        return data
        #endif
    }
}

/// JSON text for the worker protocol: strings escaped per RFC 8259, numbers in Swift's shortest
/// round-trip form (non-finite ones as the strings "nan", "inf", "-inf").
enum JSONText {
    /// A JSON string: YAML's double-quoted form is one (`\"`, `\\`, `\n`, `\r`, `\t`, and `\uXXXX`
    /// for the other control characters and line separators), so both formats share it.
    static func string(_ s: String) -> String { YAMLText.quoted(s) }

    static func number(_ x: Double) -> String {
        if x.isNaN { return "\"nan\"" }
        if x.isInfinite { return x > 0 ? "\"inf\"" : "\"-inf\"" }
        return "\(x)"
    }
}
