import Foundation
import RNNKernels

// The worker protocol's decoding side: hello, requests and replies read from JSON lines, every
// violation a located `Violation`, never trusted.
extension WorkerProtocol {
    // MARK: Decoding

    static func object(_ line: Data) throws(Violation) -> [String: Any] {
        let parsed: Any
        // rnnspec's own reader first, which reads numbers exactly; Foundation's for what it declines
        // (duplicate keys, nesting beyond 64, a number beyond a double, text that is not JSON), to give
        // its result or its error.
        if let j = WorkerProtocolFastPath.parse(line), let value = WorkerProtocolFastPath.foundation(j) {
            parsed = value
        } else {
            do { parsed = try JSONSerialization.jsonObject(with: line, options: [.fragmentsAllowed]) } catch {
                throw Violation("not a JSON line: \(quoteStart(line))")
            }
        }
        guard let object = parsed as? [String: Any] else { throw Violation("not a JSON object: \(quoteStart(line))") }
        guard let version = object["protocol"] as? Int else {
            throw Violation("no \"protocol\" field: \(quoteStart(line))")
        }
        guard version == WorkerProtocol.version else {
            throw Violation("speaks protocol \(version); this rnnspec speaks \(WorkerProtocol.version)")
        }
        return object
    }

    /// The start of a line that is not a message, quoted for an error.
    public static func quoteStart(_ line: Data) -> String {
        let text = String(decoding: line.prefix(120), as: UTF8.self)
        return "'"
            + text.unicodeScalars.map {
                $0.value < 0x20 || $0.value == 0x7F ? "\\u{\(String($0.value, radix: 16))}" : String($0)
            }.joined()
            + (line.count > 120 ? "…" : "") + "'"
    }

    /// Checks a hello line: the worker's name, and the kernels it implements if it lists them.
    public static func decodeHello(_ line: Data) throws(Violation) -> (name: String, kernels: Set<String>?) {
        let o = try object(line)
        guard let name = o["worker"] as? String else {
            throw Violation("the first line is not a hello: \(quoteStart(line))")
        }
        guard let list = o["kernels"] else { return (name, nil) }
        guard let kernels = list as? [String] else {
            throw Violation("\"kernels\" in the hello must be a list of kernel names")
        }
        return (name, Set(kernels))
    }

    /// Reads a request line; params are typed by the kernel's declaration.
    public static func decodeRequest(_ line: Data, registry: KernelRegistry) throws(Violation) -> ExecutionRequest {
        if let request = WorkerProtocolFastPath.request(line, registry: registry) { return request }
        let o = try object(line)
        guard let id = o["id"] as? String, let kernel = o["kernel"] as? String else {
            throw Violation("a request needs \"id\" and \"kernel\"")
        }
        let spec = registry.kernel(named: kernel)?.spec
        var params: [String: ParamValue] = [:]
        for (name, raw) in (o["params"] as? [String: Any]) ?? [:] {
            params[name] = try param(raw, type: spec?.params.first { $0.name == name }?.type, name: name)
        }
        var inputs: [String: Value] = [:]
        for item in (o["inputs"] as? [Any]) ?? [] {
            guard let named = item as? [String: Any], let name = named["name"] as? String else {
                throw Violation("an input without a name")
            }
            inputs[name] = try value(named, what: "input '\(name)'")
        }
        var dims: [String: Int] = [:]
        for (name, raw) in (o["dims"] as? [String: Any]) ?? [:] {
            guard let n = raw as? Int else { throw Violation("dim '\(name)' is not an integer") }
            dims[name] = n
        }
        var plan: GradCheckPlan? = nil
        if let g = o["gradcheck"] as? [String: Any] {
            guard let wrt = g["wrt"] as? [String], let eps = g["eps"] as? Double, let loss = g["loss"] as? String else {
                throw Violation("gradcheck needs wrt, eps and loss")
            }
            var p = GradCheckPlan(wrt: wrt, eps: eps, loss: loss)
            if let raw = g["mode"] {
                guard let text = raw as? String, let mode = GradCheckMode(rawValue: text) else {
                    throw Violation("gradcheck mode must be \"fast\" or \"full\"")
                }
                p.mode = mode
            }
            if let raw = g["directions"] {
                guard let k = raw as? Int, (1...GradCheck.maxDirections).contains(k) else {
                    throw Violation("gradcheck directions must be an integer from 1 to \(GradCheck.maxDirections)")
                }
                p.directions = k
            }
            if let raw = g["seed"] {
                guard let seed = raw as? Int, seed >= 0 else {
                    throw Violation("gradcheck seed must be an integer ≥ 0")
                }
                p.seed = UInt64(seed)
            }
            if let a = g["abs"] {
                guard let v = a as? Double else { throw Violation("gradcheck abs must be a number") };
                p.tolerance.abs = v
            }
            if let r = g["rel"] {
                guard let v = r as? Double else { throw Violation("gradcheck rel must be a number") };
                p.tolerance.rel = v
            }
            plan = p
        }
        return ExecutionRequest(id: id, kernel: kernel, params: params, inputs: inputs, dims: dims, gradcheck: plan)
    }

    /// Reads a reply line for the request `id`, within `maxElements` scalars.
    public static func decodeReply(_ line: Data, id: String, maxElements: Int) throws(Violation) -> Answer {
        if let answer = WorkerProtocolFastPath.reply(line, id: id, maxElements: maxElements) { return answer }
        let o = try object(line)
        guard let replyID = o["id"] as? String else { throw Violation("a reply without \"id\": \(quoteStart(line))") }
        guard replyID == id else { throw Violation("a reply for '\(replyID)' where '\(id)' was asked") }
        var budget = maxElements
        if let e = o["error"] as? [String: Any] {
            return .failure(
                ExecutionFailure((e["message"] as? String) ?? "(no message)", at: (e["at"] as? String) ?? "kernel"))
        }
        if let reason = o["unsupported"] as? String { return .unsupported(reason) }
        guard let list = o["outputs"] as? [Any] else {
            throw Violation("a reply needs \"outputs\", \"error\" or \"unsupported\"")
        }
        var outputs = KernelOutputs()
        for item in list {
            guard let named = item as? [String: Any], let name = named["name"] as? String else {
                throw Violation("an output without a name")
            }
            guard outputs[name] == nil else { throw Violation("output '\(name)' twice") }
            outputs[name] = try value(named, what: "output '\(name)'", budget: &budget)
        }
        var gradients: [GradientPair] = []
        for item in (o["gradients"] as? [Any]) ?? [] {
            guard let g = item as? [String: Any], let name = g["name"] as? String,
                let a = g["analytic"] as? [String: Any],
                case .real(let analytic) = try value(a, what: "gradient", budget: &budget)
            else {
                throw Violation("a gradient needs a name and an analytic real tensor")
            }
            var numeric: RealTensor? = nil
            if let n = g["numeric"] {
                guard let n = n as? [String: Any], case .real(let r) = try value(n, what: "gradient", budget: &budget)
                else {
                    throw Violation("a gradient's numeric must be a real tensor")
                }
                numeric = r
            }
            gradients.append(GradientPair(name: name, analytic: analytic, numeric: numeric))
        }
        var directional: [Double] = []
        if let raw = o["directional"] {
            guard let list = raw as? [Any], list.count <= GradCheck.maxDirections else {
                throw Violation("\"directional\" must be a list of at most \(GradCheck.maxDirections) numbers")
            }
            for x in list {
                if let v = x as? Double {
                    directional.append(v)
                } else if let s = x as? String, let v = ["nan": Double.nan, "inf": .infinity, "-inf": -.infinity][s] {
                    directional.append(v)
                } else {
                    throw Violation("\"directional\" must be a list of numbers")
                }
            }
        }
        return .outputs(ExecutionReply(outputs: outputs, gradients: gradients, directional: directional))
    }

    static func param(_ raw: Any, type: ParamType?, name: String) throws(Violation) -> ParamValue {
        func real(_ x: Any) throws(Violation) -> Double {
            if let s = x as? String {
                switch s {
                case "nan": return .nan
                case "inf": return .infinity
                case "-inf": return -.infinity
                default: throw Violation("param '\(name)': '\(s)' is not a number")
                }
            }
            if let d = (x as? NSNumber)?.doubleValue { return d }
            throw Violation("param '\(name)' is not a number")
        }
        switch type {
        case .integer?:
            guard let n = raw as? Int else { throw Violation("param '\(name)' is not an integer") }
            return .integer(n)
        case .real?: return .real(try real(raw))
        case .boolean?:
            guard let b = raw as? Bool else { throw Violation("param '\(name)' is not a boolean") }
            return .boolean(b)
        case .string?, .choice?:
            guard let s = raw as? String else { throw Violation("param '\(name)' is not a string") }
            return .string(s)
        case .integerList?:
            guard let v = raw as? [Int] else { throw Violation("param '\(name)' is not a list of integers") }
            return .integerList(v)
        case .realList?:
            guard let v = raw as? [Any] else { throw Violation("param '\(name)' is not a list of numbers") }
            var out: [Double] = []
            for x in v { out.append(try real(x)) }
            return .realList(out)
        case .stringList?:
            guard let v = raw as? [String] else { throw Violation("param '\(name)' is not a list of strings") }
            return .stringList(v)
        case nil:
            if let b = raw as? Bool { return .boolean(b) }
            if let n = raw as? Int { return .integer(n) }
            if let s = raw as? String { return .string(s) }
            return .real(try real(raw))
        }
    }

    static func value(_ o: [String: Any], what: String) throws(Violation) -> Value {
        var unlimited = Int.max
        return try value(o, what: what, budget: &unlimited)
    }

    /// A tensor from its JSON form, checking that the shape and the data agree before building it.
    static func value(_ o: [String: Any], what: String, budget: inout Int) throws(Violation) -> Value {
        guard let dtype = o["dtype"] as? String else { throw Violation("\(what) has no dtype") }
        if dtype == "list" {
            guard let items = o["items"] as? [Any] else { throw Violation("\(what): a list needs items") }
            var values: [Value] = []
            for item in items {
                guard let t = item as? [String: Any] else { throw Violation("\(what): a list item is not a tensor") }
                values.append(try value(t, what: what, budget: &budget))
            }
            return .list(values)
        }
        guard let shape = o["shape"] as? [Int], shape.allSatisfy({ $0 >= 0 }) else {
            throw Violation("\(what): shape must be a list of non-negative integers")
        }
        var count = 1
        for d in shape {
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw Violation("\(what): shape \(shape) overflows") }
            count = p
        }
        guard count <= budget else {
            throw Violation("\(what): shape \(shape) holds \(count) elements, over the limit")
        }
        budget -= count
        if dtype == "string" {
            guard let strings = o["data"] as? [String], strings.count == count else {
                throw Violation("\(what): a string tensor of shape \(shape) needs \(count) strings")
            }
            return .string(Tensor(shape: shape, scalars: strings))
        }
        guard let text = o["data"] as? String, let data = Data(base64Encoded: text) else {
            throw Violation("\(what): data must be base64 text")
        }
        let width: Int
        switch dtype {
        case "float64", "int64": width = 8
        case "float32": width = 4
        case "bool": width = 1
        default: throw Violation("\(what): unknown dtype '\(dtype)'")
        }
        let (bytes, tooMany) = count.multipliedReportingOverflow(by: width)
        guard !tooMany, data.count == bytes else {
            throw Violation(
                "\(what): shape \(shape) in \(dtype) needs \(tooMany ? "more than \(Int.max)" : "\(bytes)") bytes, the data has \(data.count)"
            )
        }
        switch dtype {
        case "float64":
            let bits: [UInt64] = words(data)
            return .real(
                RealTensor(Tensor(shape: shape, scalars: bits.map { Double(bitPattern: $0) }), dtype: .float64))
        case "float32":
            let bits: [UInt32] = words(data)
            return .real(
                RealTensor(Tensor(shape: shape, scalars: bits.map { Double(Float(bitPattern: $0)) }), dtype: .float32))
        case "int64":
            let bits: [UInt64] = words(data)
            return .integer(Tensor(shape: shape, scalars: bits.map { Int(Int64(bitPattern: $0)) }))
        default:
            return .boolean(Tensor(shape: shape, scalars: data.map { $0 != 0 }))
        }
    }

    static func words<U: FixedWidthInteger>(_ data: Data) -> [U] {
        let n = data.count / MemoryLayout<U>.size
        return data.withUnsafeBytes { raw in
            (0..<n).map { U(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<U>.size, as: U.self)) }
        }
    }
}
