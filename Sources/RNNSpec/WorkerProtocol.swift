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
        String(decoding: encodeBytes(request), as: UTF8.self)
    }

    /// One request line, as the bytes sent.
    static func encodeBytes(_ request: ExecutionRequest) -> [UInt8] {
        // Written into one buffer of bytes (the pieces joined from arrays were a tenth of a small
        // case's cost in the coordinator; appending to a string, and base64 through `Data`, most of
        // the rest).
        var out = ByteText()
        out.bytes.reserveCapacity(256 + request.inputs.values.reduce(0) { $0 + 12 * $1.elementCount })
        out += "{\"protocol\":\(version),\"id\":"
        out.appendJSONString(request.id)
        out += ",\"kernel\":"
        out.appendJSONString(request.kernel)
        /// `"name":value,...` with the names sorted.
        func members<V>(_ dictionary: [String: V], _ text: (V) -> String) {
            for (k, name) in dictionary.keys.sorted().enumerated() {
                if k > 0 { out += "," }
                out.appendJSONString(name)
                out += ":"
                out += text(dictionary[name]!)
            }
        }
        out += ",\"params\":{"
        members(request.params, encode)
        out += "},\"inputs\":["
        for (k, name) in request.inputs.keys.sorted().enumerated() {
            if k > 0 { out += "," }
            appendNamed(name, request.inputs[name]!, to: &out)
        }
        out += "],\"dims\":{"
        members(request.dims) { String($0) }
        out += "}"
        if let g = request.gradcheck {
            out += ",\"gradcheck\":{\"wrt\":[" + g.wrt.map(JSONText.string).joined(separator: ",")
            out +=
                "],\"eps\":\(JSONText.number(g.eps)),\"loss\":\(JSONText.string(g.loss)),\"mode\":\"\(g.mode.rawValue)\""
            if g.mode == .fast { out += ",\"directions\":\(g.directions),\"seed\":\(g.seed)" }
            out += ",\"abs\":\(JSONText.number(g.tolerance.abs)),\"rel\":\(JSONText.number(g.tolerance.rel))}"
        }
        out += "}\n"
        return out.bytes
    }

    /// One reply line.
    public static func encode(_ answer: Answer, id: String) -> String {
        String(decoding: encodeBytes(answer, id: id), as: UTF8.self)
    }

    /// One reply line, as the bytes sent.
    static func encodeBytes(_ answer: Answer, id: String) -> [UInt8] {
        var out = ByteText()
        out += "{\"protocol\":\(version),\"id\":"
        out.appendJSONString(id)
        out += ","
        switch answer {
        case .outputs(let reply):
            out.bytes.reserveCapacity(
                out.bytes.count + 128
                    + reply.outputs.entries.reduce(0) { $0 + 64 + 12 * $1.value.elementCount }
                    + reply.gradients.reduce(0) { $0 + 128 + 24 * $1.analytic.tensor.count })
            out += "\"outputs\":["
            for (k, entry) in reply.outputs.entries.enumerated() {
                if k > 0 { out += "," }
                appendNamed(entry.name, entry.value, to: &out)
            }
            out += "]"
            if !reply.gradients.isEmpty {
                out += ",\"gradients\":["
                for (k, pair) in reply.gradients.enumerated() {
                    if k > 0 { out += "," }
                    out += "{\"name\":"
                    out.appendJSONString(pair.name)
                    out += ",\"analytic\":{"
                    appendFields(.real(pair.analytic), to: &out)
                    if let numeric = pair.numeric {
                        out += ",\"numeric\":{"
                        appendFields(.real(numeric), to: &out)
                    }
                    out += "}"
                }
                out += "]"
            }
            if !reply.directional.isEmpty {
                out += ",\"directional\":[" + reply.directional.map(JSONText.number).joined(separator: ",") + "]"
            }
        case .failure(let f):
            out += "\"error\":{\"message\":\(JSONText.string(f.message)),\"at\":\(JSONText.string(f.at))}"
        case .unsupported(let reason):
            out += "\"unsupported\":\(JSONText.string(reason))"
        }
        out += "}\n"
        return out.bytes
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

    /// `{"name":...,` then the value's fields.
    static func appendNamed(_ name: String, _ value: Value, to out: inout ByteText) {
        out += "{\"name\":"
        out.appendJSONString(name)
        out += ","
        appendFields(value, to: &out)
    }

    /// A value's fields and the object's closing brace (the opening one is the caller's):
    /// `"dtype":"float64","shape":[2,3],"data":"<base64>"}`, or `"dtype":"list","items":[...]}`.
    static func appendFields(_ value: Value, to out: inout ByteText) {
        func tensor(_ dtype: String, _ shape: [Int], data: () -> Void) {
            out += "\"dtype\":\""
            out += dtype
            out += "\",\"shape\":["
            for (k, d) in shape.enumerated() {
                if k > 0 { out += "," }
                out += String(d)
            }
            out += "],\"data\":"
            data()
            out += "}"
        }
        /// The words' little-endian bytes in base64, quoted.
        func base64<U: FixedWidthInteger>(_ words: [U]) {
            out.bytes.append(0x22)
            #if _endian(little)
            // The words' memory is their little-endian bytes already.
            words.withUnsafeBytes { out.appendBase64($0) }
            #else
            littleEndianBytes(words).withUnsafeBytes { out.appendBase64($0) }
            #endif
            out.bytes.append(0x22)
        }
        switch value {
        case .real(let r):
            tensor(r.dtype.rawValue, r.shape) {
                if r.dtype == .float32 {
                    base64(r.tensor.scalars.map { Float($0).bitPattern })
                } else {
                    #if _endian(little)
                    // A double's memory is its bit pattern's little-endian bytes: no copy of the words.
                    out.bytes.append(0x22)
                    r.tensor.scalars.withUnsafeBytes { out.appendBase64($0) }
                    out.bytes.append(0x22)
                    #else
                    base64(r.tensor.scalars.map(\.bitPattern))
                    #endif
                }
            }
        case .integer(let t):
            tensor("int64", t.shape) { base64(t.scalars.map { UInt64(bitPattern: Int64($0)) }) }
        case .boolean(let t):
            tensor("bool", t.shape) { base64(t.scalars.map { UInt8($0 ? 1 : 0) }) }
        case .string(let t):
            tensor("string", t.shape) { out += "[" + t.scalars.map(JSONText.string).joined(separator: ",") + "]" }
        case .list(let items):
            out += "\"dtype\":\"list\",\"items\":["
            for (k, item) in items.enumerated() {
                if k > 0 { out += "," }
                out += "{"
                appendFields(item, to: &out)
            }
            out += "]}"
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

extension ByteText {
    static func += (text: inout ByteText, string: String) { text.write(string) }

    /// `raw` in base64 (RFC 4648's alphabet, padded with `=`, no line breaks), as Foundation's
    /// `base64EncodedString()` writes it.
    mutating func appendBase64(_ raw: UnsafeRawBufferPointer) {
        let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        alphabet.withUTF8Buffer { a in
            bytes.reserveCapacity(bytes.count + (raw.count + 2) / 3 * 4)
            var i = 0
            while i + 3 <= raw.count {
                let n = UInt32(raw[i]) << 16 | UInt32(raw[i + 1]) << 8 | UInt32(raw[i + 2])
                bytes.append(a[Int(n >> 18 & 63)])
                bytes.append(a[Int(n >> 12 & 63)])
                bytes.append(a[Int(n >> 6 & 63)])
                bytes.append(a[Int(n & 63)])
                i += 3
            }
            let rest = raw.count - i
            if rest > 0 {
                let n = UInt32(raw[i]) << 16 | (rest == 2 ? UInt32(raw[i + 1]) << 8 : 0)
                bytes.append(a[Int(n >> 18 & 63)])
                bytes.append(a[Int(n >> 12 & 63)])
                bytes.append(rest == 2 ? a[Int(n >> 6 & 63)] : 0x3D)
                bytes.append(0x3D)
            }
        }
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
