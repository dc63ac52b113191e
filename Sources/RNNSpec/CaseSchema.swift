import Foundation

/// The JSON Schema (draft 2020-12) of case files, generated from the kernel registry so it can
/// never drift from it: each kernel's inputs, params (types, enums, defaults, descriptions) and
/// outputs (for `expect:`) are selected by the `kernel` value with if/then. `rnnspec schema`
/// prints it; `rnnspec new` points new cases at it for the YAML language server.
public enum CaseSchema {
    /// The schema file's name beside the cases root (`rnnspec schema > rnnspec.schema.json`).
    public static let fileName = "rnnspec.schema.json"

    static func ref(_ name: String) -> [String: Any] { ["$ref": "#/$defs/\(name)"] }

    static func valueSchema(_ kind: ValueKind) -> [String: Any] {
        switch kind {
        case .real: return ref("real")
        case .integer: return ref("integer")
        case .string: return ref("strings")
        case .boolean: return ref("booleans")
        case .realList: return ["anyOf": [["type": "array", "items": ref("real")], ref("real")]]
        }
    }

    static func paramSchema(_ p: ParamSpec) -> [String: Any] {
        var s: [String: Any]
        switch p.type {
        case .integer(let lo, let hi):
            s = ["type": "integer"]
            if let lo { s["minimum"] = lo }
            if let hi { s["maximum"] = hi }
        case .real: s = ["type": "number"]
        case .boolean: s = ["type": "boolean"]
        case .string: s = ["type": "string"]
        case .choice(let words): s = ["enum": words]
        case .integerList: s = ["type": "array", "items": ["type": "integer"]]
        case .realList: s = ["type": "array", "items": ["type": "number"]]
        case .stringList: s = ["type": "array", "items": ["type": "string"]]
        }
        s["description"] = p.doc
        if let d = p.defaultValue {
            switch d {
            case .integer(let v): s["default"] = v
            case .real(let v): if v.isFinite { s["default"] = v }
            case .boolean(let v): s["default"] = v
            case .string(let v): s["default"] = v
            case .integerList(let v): s["default"] = v
            case .realList(let v): if v.allSatisfy(\.isFinite) { s["default"] = v }
            case .stringList(let v): s["default"] = v
            }
        }
        return s
    }

    /// The `then` part for one kernel: its params, inputs and outputs, nothing else.
    static func kernelSchema(_ spec: KernelSpec) -> [String: Any] {
        var params: [String: Any] = [:], inputs: [String: Any] = [:], outputs: [String: Any] = [:]
        for p in spec.params { params[p.name] = paramSchema(p) }
        for i in spec.inputs {
            var s = valueSchema(i.kind)
            s["description"] = "\(i.doc) (shape \(i.shapes.map { "\($0)" }.joined(separator: " or ")))"
            inputs[i.name] = s
        }
        for o in spec.outputs {
            outputs[o.name] = [
                "anyOf": [valueSchema(o.kind), ref("expectation")], "description": "\(o.doc) (shape \(o.shape))",
            ]
        }
        var paramsSchema: [String: Any] = [
            "type": ["object", "null"], "properties": params, "additionalProperties": false,
        ]
        let required = spec.params.filter { $0.defaultValue == nil && !$0.optional }.map(\.name)
        if !required.isEmpty { paramsSchema["required"] = required }
        var inputsSchema: [String: Any] = [
            "type": ["object", "null"], "properties": inputs, "additionalProperties": false,
        ]
        let requiredInputs = spec.inputs.filter { !$0.optional }.map(\.name)
        if !requiredInputs.isEmpty { inputsSchema["required"] = requiredInputs }
        var then: [String: Any] = [
            "description": spec.summary,
            "properties": [
                "params": paramsSchema,
                "inputs": inputsSchema,
                "expect": ["type": ["object", "null"], "properties": outputs, "additionalProperties": false]
                    as [String: Any],
                "tolerance": [
                    "properties": ["outputs": ["type": "object", "propertyNames": ["enum": spec.outputs.map(\.name)]]]
                ],
                "gradcheck": ["properties": ["wrt": ["type": "array", "items": ["enum": spec.inputs.map(\.name)]]]],
            ] as [String: Any],
        ]
        if !required.isEmpty { then["required"] = ["params"] }
        return then
    }

    static let generators = ["eye", "zeros", "ones", "full", "range", "linspace", "random"]

    /// The whole schema as a JSON-compatible dictionary.
    public static func schema(_ registry: KernelRegistry = .standard) -> [String: Any] {
        let names = registry.names
        let number: [String: Any] = ["type": "number"]
        let nested: (String, [String: Any]) -> [String: Any] = { name, leaf in
            ["anyOf": [leaf, ["type": "array", "items": ref(name)]]]
        }
        let tol: [String: Any] = [
            "type": "object", "properties": ["abs": number, "rel": number], "additionalProperties": false,
        ]
        let draw: [String: Any] = [
            "type": "object", "required": ["draw"], "additionalProperties": false,
            "description": "A draw from the case's NumPy stream (rng:), made in the order the inputs are written",
            "properties": [
                "draw": [
                    "enum": [
                        "random", "standard_normal", "normal", "uniform", "integers", "choice", "rand", "random_sample",
                        "randn", "randint",
                    ]
                ],
                "size": [
                    "anyOf": [
                        ["type": "integer", "minimum": 0],
                        ["type": "array", "items": ["type": "integer", "minimum": 0]],
                    ]
                ],
                "loc": number, "scale": number, "low": number, "high": number, "times": number,
                "n": ["type": "integer", "minimum": 1], "p": ["type": "array", "items": number],
                "one_hot": [
                    "type": "integer", "minimum": 1,
                    "description": "one-hot rows of the drawn ids: np.eye(one_hot)[ids]",
                ],
            ] as [String: Any],
        ]
        let file: [String: Any] = [
            "oneOf": [
                [
                    "type": "object", "required": ["npy"], "additionalProperties": false,
                    "properties": ["npy": ["type": "string"]],
                ],
                [
                    "type": "object", "required": ["npz", "key"], "additionalProperties": false,
                    "properties": ["npz": ["type": "string"], "key": ["type": "string"]],
                ],
            ]
        ]
        var generator: [String: Any] = [
            "type": "object", "additionalProperties": false,
            "description": "{shape, data} or a generator: eye, zeros, ones, full, range, linspace, random",
            "properties": [
                "shape": ["anyOf": [["type": "integer"], ["type": "array", "items": ["type": "integer"]]]],
                "data": ["type": "array"], "eye": [:] as [String: Any], "zeros": [:] as [String: Any],
                "ones": [:] as [String: Any],
                "full": [:] as [String: Any], "range": [:] as [String: Any], "linspace": [:] as [String: Any],
                "random": ["enum": ["normal", "uniform"]], "scale": number, "value": number,
                "seed": ["type": "integer"],
                "mean": number, "std": number, "low": number, "high": number,
            ] as [String: Any],
        ]
        generator["anyOf"] = (generators + ["data"]).map { ["required": [$0]] }
        let defs: [String: Any] = [
            "realNested": nested("realNested", number),
            "integerNested": nested("integerNested", ["type": "integer"]),
            "stringNested": nested("stringNested", ["type": "string"]),
            "booleanNested": nested("booleanNested", ["type": "boolean"]),
            "draw": draw, "file": file, "generator": generator,
            "real": ["anyOf": [ref("realNested"), ref("generator"), ref("draw"), ref("file")]],
            "integer": ["anyOf": [ref("integerNested"), ref("draw"), ref("file")]],
            "strings": ref("stringNested"),
            "booleans": ["anyOf": [ref("booleanNested"), ref("file")]],
            "expectation": [
                "type": "object", "required": ["value"], "additionalProperties": false,
                "properties": [
                    "value": [:] as [String: Any], "abs": number, "rel": number, "source": ["type": "string"],
                ],
            ] as [String: Any],
        ]
        let properties: [String: Any] = [
            "kernel": ["enum": names, "description": "a name in the kernel registry (`rnnspec kernels`)"],
            "title": ["type": "string"], "source": ["type": "string"], "notes": ["type": "string"],
            "tags": ["type": "array", "items": ["type": "string"]],
            "xfail": ["type": "string"], "skip": ["type": "string"],
            "timeout": ["type": "number", "exclusiveMinimum": 0, "maximum": 86_400],
            "params": ["type": ["object", "null"]], "inputs": ["type": ["object", "null"]],
            "expect": ["type": ["object", "null"]],
            "tolerance": [
                "type": "object",
                "properties": [
                    "abs": number, "rel": number, "outputs": ["type": "object", "additionalProperties": tol],
                ] as [String: Any],
                "additionalProperties": false,
            ],
            "gradcheck": [
                "type": "object", "required": ["wrt"], "additionalProperties": false,
                "properties": [
                    "wrt": ["type": "array", "description": "the inputs to differentiate with respect to"],
                    "eps": [
                        "type": "number", "exclusiveMinimum": 0,
                        "description": "step of the central difference (default 1e-6)",
                    ],
                    "abs": number, "rel": number,
                    "mode": [
                        "enum": GradCheckMode.allCases.map(\.rawValue),
                        "description":
                            "fast (default): the gradient's projections on a few seeded random unit directions against central differences along them, 1 + 2·directions kernel runs, falling back to full when it fails; full: every element, 1 + 2·elements runs",
                    ],
                    "directions": [
                        "type": "integer", "minimum": 1, "maximum": GradCheck.maxDirections,
                        "description": "random directions of a fast check (default \(GradCheck.defaultDirections))",
                    ],
                    "seed": [
                        "type": "integer", "minimum": 0,
                        "description": "seed of the fast check's directions (default \(GradCheck.defaultSeed))",
                    ],
                ] as [String: Any],
            ],
            "rng": [
                "type": "object", "required": ["numpy", "seed"], "additionalProperties": false,
                "properties": [
                    "numpy": ["enum": ["default_rng", "legacy"]], "seed": ["type": "integer", "minimum": 0],
                    "discard": ["type": "array", "items": ref("draw")],
                ] as [String: Any],
            ],
        ]
        let selected: [[String: Any]] = registry.names.compactMap { name in
            guard let k = registry.kernel(named: name) else { return nil }
            return [
                "if": ["properties": ["kernel": ["const": name]], "required": ["kernel"]], "then": kernelSchema(k.spec),
            ]
        }
        return [
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://rnnspec.invalid/\(fileName)",
            "title": "rnnspec case file (format 1)",
            "description": "Generated by `rnnspec schema` from the kernel registry; do not edit.",
            "type": "object", "required": ["kernel"], "additionalProperties": false,
            "properties": properties, "allOf": selected, "$defs": defs,
        ]
    }

    /// The schema as pretty-printed JSON with sorted keys (byte-stable), ending in a newline.
    public static func text(_ registry: KernelRegistry = .standard) -> String {
        let data = try! JSONSerialization.data(
            withJSONObject: schema(registry), options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// The `# yaml-language-server: $schema=...` line for a case at `relative` under the cases
    /// root, pointing at the schema file beside the cases root.
    public static func modeline(forCaseAt relative: String) -> String {
        // directories below the cases root, plus one for the root itself
        let depth = relative.split(separator: "/").count
        return "# yaml-language-server: $schema=" + String(repeating: "../", count: depth) + fileName + "\n"
    }
}
