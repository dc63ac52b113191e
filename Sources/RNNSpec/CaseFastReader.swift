import Foundation
import RNNKernels

/// Reads the case files `rnnspec bench` writes, and hand-written ones laid out the same way,
/// straight from their bytes: no YAML nodes are built (composing and walking nodes was most of
/// the cost of loading a small case). The layout, one field to a line:
///
///     kernel: rnn.step
///     title: "text without backslashes"
///     source: "..."
///     tags: [word, word]
///     params: {name: plain, name: plain}
///     inputs:
///       name: {random: normal, shape: [2, 3], seed: 1, std: 0.5}
///       name: [[0.5, -1.0], [2.0, 0.0]]
///       name: 0.5
///     expect:
///       name: [1.0, 2.0]
///     gradcheck: {wrt: [name, name], eps: 1e-6, abs: 1e-7, rel: 1e-5, mode: fast, directions: 4, seed: 0}
///
/// Only `kernel` and `inputs` are required, fields come in any order, blank lines between fields
/// are allowed; plain scalars are words of letters, digits and `_ . + -`, items are separated by
/// `, ` exactly, nested lists are rectangular. Anything else (another field, a comment, other spacing, a value that does not read
/// or an error of any kind) gives nil, and the file goes the general way, which gives it its
/// meaning or its error: the reader gives the same `Case` as the general path for every file it
/// accepts (`CaseFastReaderTests` compares them field by field, locations included, on every
/// case of the repository, generated suites and seeded mutants).
struct CaseFastReader {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var pos = 0
    private var line = 1
    private var lineStart = 0
    /// Scalars read, against `LoadLimits.maxScalars`.
    private var scalars = 0

    /// A plain scalar and the column it starts at.
    struct Word {
        var text: String
        var column: Int
    }

    /// A value in a flow mapping or a field: a plain scalar or a flat list of them.
    enum Item {
        case word(Word)
        /// The items and the column of `[`.
        case list([Word], column: Int)
    }

    /// The fields read, before their meaning is checked.
    struct Fields {
        var kernel: Word? = nil
        var kernelLine = 0
        var title: String? = nil
        var source: String? = nil
        var tags: [String]? = nil
        /// The params, each with its value.
        var params: [(key: String, value: Word)] = []
        /// The inputs: a generator mapping (its entries and the column of `{`), nested lists or a word.
        var inputs: [(name: String, line: Int, value: InputText)] = []
        /// The expected values, at their line (a mapping is the general path's).
        var expect: [(name: String, line: Int, value: InputText)] = []
        /// The gradcheck mapping's entries, its line and the column of `{`.
        var gradcheck: (entries: [(key: String, value: Item)], line: Int, column: Int)? = nil
        /// Each field's line, in file order.
        var lines: [(key: String, line: Int)] = []
    }

    enum InputText {
        case mapping([(key: String, value: Item)], column: Int)
        /// Nested lists: their shape, their words in order, the column of `[`.
        case list([Int], [Word], column: Int)
    }

    private init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// The fields of `text` in the layout above, or nil.
    static func fields(_ text: String, maxScalars: Int) -> Fields? {
        var copy = text
        return copy.withUTF8 { buffer -> Fields? in
            var reader = CaseFastReader(bytes: buffer)
            guard let fields = reader.document(), reader.scalars <= maxScalars else { return nil }
            return fields
        }
    }

    // MARK: Bytes

    private static let newline: UInt8 = 0x0A, space: UInt8 = 0x20, colon: UInt8 = 0x3A, comma: UInt8 = 0x2C

    private var atEnd: Bool { pos >= bytes.count }
    private var current: UInt8 { pos < bytes.count ? bytes[pos] : Self.newline }
    private var column: Int { pos - lineStart + 1 }

    /// A byte of a plain word: a letter, a digit, `_`, `.`, `+` or `-`.
    private static func isWordByte(_ b: UInt8) -> Bool {
        (0x61...0x7A).contains(b) || (0x41...0x5A).contains(b) || (0x30...0x39).contains(b) || b == 0x5F
            || b == 0x2E || b == 0x2B || b == 0x2D
    }

    /// A plain word at `pos`; it may not start with `-` or `.` followed by nothing of it (YAML
    /// reads a lone `-` as a list entry), nor be `-`, `.`, `+` alone.
    private mutating func word() -> Word? {
        let start = pos
        while pos < bytes.count && Self.isWordByte(bytes[pos]) { pos += 1 }
        guard pos > start else { return nil }
        if pos - start == 1 && !Self.isAlphanumeric(bytes[start]) { return nil }
        // A word starting with `-` then not a digit or a letter (`--x`, `-.5` is fine: a number).
        if bytes[start] == 0x2D, pos - start > 1, bytes[start + 1] == 0x2D { return nil }
        scalars += 1
        return Word(
            text: String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self),
            column: start - lineStart + 1)
    }

    private static func isAlphanumeric(_ b: UInt8) -> Bool {
        (0x61...0x7A).contains(b) || (0x41...0x5A).contains(b) || (0x30...0x39).contains(b)
    }

    /// A key: a letter or `_`, then letters, digits and `_`, then `: ` (or `:` at the line's end
    /// when `endOK`).
    private mutating func key(endOK: Bool = false) -> String? {
        let start = pos
        guard pos < bytes.count,
            (0x61...0x7A).contains(bytes[pos]) || (0x41...0x5A).contains(bytes[pos])
                || bytes[pos] == 0x5F
        else { return nil }
        while pos < bytes.count && (Self.isAlphanumeric(bytes[pos]) || bytes[pos] == 0x5F) { pos += 1 }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
        guard current == Self.colon else { return nil }
        pos += 1
        if current == Self.space {
            pos += 1
            guard current != Self.space && current != Self.newline else { return nil }
        } else if !(endOK && current == Self.newline) {
            return nil
        }
        scalars += 1
        return text
    }

    /// The end of a line: a line feed, or the end of the text.
    private mutating func endOfLine() -> Bool {
        if atEnd { return true }
        guard bytes[pos] == Self.newline else { return false }
        pos += 1
        line += 1
        lineStart = pos
        return true
    }

    /// `[w, w, w]` on one line (not empty).
    private mutating func list() -> (items: [Word], column: Int)? {
        guard let (shape, items, column) = nested(depth: 1), shape.count == 1 else { return nil }
        return (items, column)
    }

    /// Nested lists on one line, `[[w, w], [w, w]]`: rectangular, none empty, at most 16 deep (well
    /// inside the general path's 64 levels, which count the block mappings above the list too); their
    /// shape, their words in order and the column of the outer `[`.
    private mutating func nested(depth: Int) -> (shape: [Int], items: [Word], column: Int)? {
        guard current == 0x5B, depth <= 16 else { return nil }
        let column = self.column
        pos += 1
        var items: [Word] = []
        var inner: [Int]? = nil
        var count = 0
        while true {
            if current == 0x5B {
                guard let (shape, words, _) = nested(depth: depth + 1), inner == nil || inner! == shape else {
                    return nil
                }
                inner = shape
                items += words
            } else {
                guard inner == nil || inner!.isEmpty, let w = word() else { return nil }
                inner = []
                items.append(w)
            }
            count += 1
            if current == 0x5D {
                pos += 1
                break
            }
            guard current == Self.comma, pos + 1 < bytes.count, bytes[pos + 1] == Self.space else { return nil }
            pos += 2
        }
        return ([count] + (inner ?? []), items, column)
    }

    /// `{k: v, k: v}` on one line, each value a word or a flat list (not empty).
    private mutating func mapping() -> (entries: [(key: String, value: Item)], column: Int)? {
        guard current == 0x7B else { return nil }
        let column = self.column
        pos += 1
        var entries: [(key: String, value: Item)] = []
        while true {
            guard let k = key(), !entries.contains(where: { $0.key == k }) else { return nil }
            if current == 0x5B {
                guard let (items, at) = list() else { return nil }
                entries.append((k, .list(items, column: at)))
            } else {
                guard let w = word() else { return nil }
                entries.append((k, .word(w)))
            }
            if current == 0x7D {
                pos += 1
                break
            }
            guard current == Self.comma, pos + 1 < bytes.count, bytes[pos + 1] == Self.space else { return nil }
            pos += 2
        }
        return (entries, column)
    }

    /// `"text"` to the line's end: no backslash, no control character, nothing YAML reads as a line
    /// break or drops (NEL, LS, PS, a byte order mark, noncharacters).
    private mutating func quoted() -> String? {
        guard current == 0x22 else { return nil }
        pos += 1
        let start = pos
        while pos < bytes.count && bytes[pos] != 0x22 {
            let b = bytes[pos]
            if b < 0x20 || b == 0x7F || b == 0x5C { return nil }
            if b >= 0x80 && FastComposer.leftToLibyaml(bytes, at: pos) { return nil }
            pos += 1
        }
        guard pos < bytes.count else { return nil }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
        pos += 1
        scalars += 1
        return text
    }

    /// After `key:` at a line's end, the `  name: value` lines below it: each value a generator mapping,
    /// nested lists or a word (a tensor of shape []); names not repeated.
    private mutating func block() -> [(name: String, line: Int, value: InputText)]? {
        guard current == Self.newline, endOfLine() else { return nil }
        var entries: [(name: String, line: Int, value: InputText)] = []
        while !atEnd && current == Self.space {
            guard pos + 2 < bytes.count, bytes[pos + 1] == Self.space, bytes[pos + 2] != Self.space else { return nil }
            pos += 2
            let entryLine = line
            guard let name = key(), !entries.contains(where: { $0.name == name }) else { return nil }
            switch current {
            case 0x7B:
                guard let (pairs, column) = mapping() else { return nil }
                entries.append((name, entryLine, .mapping(pairs, column: column)))
            case 0x5B:
                guard let (shape, items, column) = nested(depth: 1) else { return nil }
                entries.append((name, entryLine, .list(shape, items, column: column)))
            default:
                guard let w = word() else { return nil }
                entries.append((name, entryLine, .list([], [w], column: w.column)))
            }
            guard endOfLine() else { return nil }
        }
        return entries
    }

    // MARK: The document

    private mutating func document() -> Fields? {
        var fields = Fields()
        while !atEnd {
            if current == Self.newline {
                _ = endOfLine()  // a blank line
                continue
            }
            let keyLine = line
            guard let k = key(endOK: true), !fields.lines.contains(where: { $0.key == k }) else { return nil }
            fields.lines.append((k, keyLine))
            switch k {
            case "kernel":
                guard let w = word() else { return nil }
                fields.kernel = w
                fields.kernelLine = keyLine
            case "title":
                guard let t = quoted() else { return nil }
                fields.title = t
            case "source":
                guard let t = quoted() else { return nil }
                fields.source = t
            case "tags":
                guard let (items, _) = list() else { return nil }
                fields.tags = items.map(\.text)
            case "params":
                guard let (entries, _) = mapping() else { return nil }
                for entry in entries {
                    guard case .word(let w) = entry.value else { return nil }
                    fields.params.append((entry.key, w))
                }
            case "gradcheck":
                guard let (entries, column) = mapping() else { return nil }
                fields.gradcheck = (entries, keyLine, column)
            case "expect":
                guard let block = block(), !block.isEmpty else { return nil }
                fields.expect = block
                continue
            case "inputs":
                guard let block = block(), !block.isEmpty else { return nil }
                fields.inputs = block
                continue
            default:
                return nil
            }
            guard endOfLine() else { return nil }
        }
        return fields.kernel == nil ? nil : fields
    }
}

extension CaseLoader {
    /// The case in `source` when `CaseFastReader` reads its layout and nothing in it is an error;
    /// nil otherwise (the general path then reads it, and says what is wrong).
    func fastCase(_ source: SourceText, id: String) -> Case? {
        guard let f = CaseFastReader.fields(source.text, maxScalars: limits.maxScalars), let kernelWord = f.kernel,
            let kernel = registry.kernel(named: kernelWord.text)
        else { return nil }
        let spec = kernel.spec
        var locations: [String: SourceLocation] = [:]
        // Room for the usual fields, params and inputs: growing a dictionary rehashes every key.
        locations.reserveCapacity(24)
        for (key, line) in f.lines { locations[key] = source.location(line: line, column: 1) }
        locations["kernel"] = source.location(line: f.kernelLine, column: kernelWord.column)
        let paramsLine = f.lines.first { $0.key == "params" }?.line

        var params: [String: ParamValue] = [:]
        params.reserveCapacity(spec.params.count)
        for (key, word) in f.params {
            guard let ps = spec.param(key), let value = Self.paramValue(word.text, ps.type),
                ps.problem(with: value) == nil
            else { return nil }
            params[key] = value
            locations["param:\(key)"] = source.location(line: paramsLine ?? 0, column: word.column)
        }
        for ps in spec.params where params[ps.name] == nil {
            if let d = ps.defaultValue {
                params[ps.name] = d
            } else if !ps.optional {
                return nil
            }
        }

        var inputs: [String: Value] = [:]
        inputs.reserveCapacity(spec.inputs.count)
        var elements = 0
        for (name, line, text) in f.inputs {
            guard let input = spec.input(name) else { return nil }
            let value: Value
            let column: Int
            switch text {
            case .mapping(let entries, let at):
                guard input.kind == .real || input.kind == .realList,
                    let t = Self.random(entries, limits: limits, elements: &elements)
                else { return nil }
                value = input.kind == .real ? .real(RealTensor(t)) : .list([.real(RealTensor(t))])
                column = at
            case .list(let shape, let words, let at):
                elements += words.count
                guard elements <= limits.maxElements, let v = Self.tensor(words, shape, input.kind) else { return nil }
                value = v
                column = at
            }
            inputs[name] = value
            locations["input:\(name)"] = source.location(line: line, column: column)
        }
        let inputsLine = f.lines.first { $0.key == "inputs" }?.line ?? 0
        guard
            let dims = try? checkInputs(
                spec, params, inputs, locations, source, missingAt: source.location(line: inputsLine, column: 1))
        else { return nil }
        // Expectations, counted against the element limit after the inputs, as the general path counts them.
        var expectations: [(String, Expectation)] = []
        for (name, line, item) in f.expect {
            guard let output = spec.output(name), case .list(let shape, let words, let column) = item else {
                return nil
            }
            elements += words.count
            guard elements <= limits.maxElements, let value = Self.tensor(words, shape, output.kind) else { return nil }
            expectations.append(
                (
                    name,
                    Expectation(
                        value: value, tolerance: nil, source: nil, location: source.location(line: line, column: column)
                    )
                ))
        }
        var gradcheck: GradCheckRequest? = nil
        if let g = f.gradcheck {
            guard
                let request = Self.gradCheck(
                    g.entries, spec, inputs, location: source.location(line: g.line, column: g.column))
            else { return nil }
            gradcheck = request
        }
        let digest = CaseDigest.compute(kernel: spec.name, params: params, inputs: inputs)
        return Case(
            id: id, path: source.path, kernel: kernel, title: f.title, source: f.source, tags: f.tags ?? [],
            params: params, inputs: inputs, dims: dims, expectations: expectations, tolerance: nil,
            outputTolerances: [:], gradcheck: gradcheck, xfail: nil, skip: nil, locations: locations, text: source,
            digest: digest)
    }

    /// A `gradcheck:` mapping as `gradCheckRequest` reads it; nil for anything it would refuse.
    static func gradCheck(
        _ entries: [(key: String, value: CaseFastReader.Item)], _ spec: KernelSpec, _ inputs: [String: Value],
        location: SourceLocation
    ) -> GradCheckRequest? {
        guard let loss = spec.lossOutput,
            entries.allSatisfy({ ["wrt", "eps", "abs", "rel", "mode", "directions", "seed"].contains($0.key) }),
            case .list(let wrtWords, _)? = entries.first(where: { $0.key == "wrt" })?.value
        else { return nil }
        func word(_ key: String) -> String?? {
            guard let e = entries.first(where: { $0.key == key }) else { return .some(nil) }
            if case .word(let w) = e.value { return .some(w.text) }
            return nil  // a list where a word belongs
        }
        let candidates = spec.inputs.filter {
            ($0.kind == .real || $0.kind == .realList) && spec.output("d" + $0.name) != nil
        }.map(\.name)
        var wrt: [String] = []
        for w in wrtWords {
            guard candidates.contains(w.text), inputs[w.text] != nil, !wrt.contains(w.text) else { return nil }
            wrt.append(w.text)
        }
        guard let epsText = word("eps"), let absText = word("abs"), let relText = word("rel"),
            let modeText = word("mode"), let directionsText = word("directions"), let seedText = word("seed")
        else { return nil }
        var eps = 1e-6
        if let epsText {
            guard let v = NumberText.parseReal(epsText), v > 0, v.isFinite else { return nil }
            eps = v
        }
        var tolerance = GradCheck.defaultTolerance
        for (text, isAbs) in [(absText, true), (relText, false)] {
            guard let text else { continue }
            guard let v = NumberText.parseReal(text), v >= 0, v.isFinite else { return nil }
            if isAbs { tolerance.abs = v } else { tolerance.rel = v }
        }
        var request = GradCheckRequest(wrt: wrt, eps: eps, tolerance: tolerance, loss: loss, location: location)
        if let modeText {
            guard let mode = GradCheckMode(rawValue: modeText) else { return nil }
            request.mode = mode
        }
        if let directionsText {
            guard let k = NumberText.parseInteger(directionsText), (1...GradCheck.maxDirections).contains(k) else {
                return nil
            }
            request.directions = k
        }
        if let seedText {
            guard let seed = NumberText.parseInteger(seedText), seed >= 0 else { return nil }
            request.seed = UInt64(seed)
        }
        if request.mode == .full && (directionsText != nil || seedText != nil) { return nil }
        return request
    }

    /// A param's value from a plain word, as `paramValue` reads a plain scalar; nil for what it
    /// would refuse, and for list types.
    static func paramValue(_ text: String, _ type: ParamType) -> ParamValue? {
        switch type {
        case .integer: return NumberText.parseInteger(text).map { .integer($0) }
        case .real: return NumberText.parseReal(text).map { .real($0) }
        case .boolean: return NumberText.parseBoolean(text).map { .boolean($0) }
        case .string: return .string(text)
        case .choice(let words): return words.contains(text) ? .string(text) : nil
        case .integerList, .realList, .stringList: return nil
        }
    }

    /// Words in `shape` (a bare word: shape []) as `NodeReader.value` reads them for `kind`; nil for
    /// what it would refuse (and for a list of tensors written as nested lists).
    static func tensor(_ words: [Word], _ shape: [Int], _ kind: ValueKind) -> Value? {
        /// Every word through `parse` (the general path's parse of a plain scalar), or nil.
        func scalars<T>(_ parse: (String) -> T?) -> [T]? {
            var out: [T] = []
            out.reserveCapacity(words.count)
            for w in words {
                guard let v = parse(w.text) else { return nil }
                out.append(v)
            }
            return out
        }
        switch kind {
        case .real, .realList:
            guard kind == .real || shape.count <= 1, let values = scalars(NumberText.parseReal) else { return nil }
            let t = RealTensor(Tensor(shape: shape, scalars: values))
            return kind == .real ? .real(t) : .list([.real(t)])
        case .integer: return scalars(NumberText.parseInteger).map { .integer(Tensor(shape: shape, scalars: $0)) }
        case .boolean: return scalars(NumberText.parseBoolean).map { .boolean(Tensor(shape: shape, scalars: $0)) }
        case .string: return nil
        }
    }

    typealias Word = CaseFastReader.Word

    /// A `random` generator as `NodeReader.generated` makes it; nil for anything it would refuse
    /// (and for the other generators).
    static func random(
        _ entries: [(key: String, value: CaseFastReader.Item)], limits: LoadLimits, elements: inout Int
    ) -> Tensor<Double>? {
        func word(_ key: String) -> String? {
            for e in entries where e.key == key {
                if case .word(let w) = e.value { return w.text }
                return nil
            }
            return nil
        }
        let allowed = ["random", "shape", "seed", "mean", "std", "low", "high"]
        guard entries.allSatisfy({ allowed.contains($0.key) }), let dist = word("random"),
            dist == "normal" || dist == "uniform", let seedText = word("seed"),
            let seed = NumberText.parseInteger(seedText),
            case .list(let shapeWords, _)? = entries.first(where: { $0.key == "shape" })?.value,
            shapeWords.count <= 64
        else { return nil }
        let own = dist == "normal" ? ["mean", "std"] : ["low", "high"]
        guard !entries.contains(where: { ["mean", "std", "low", "high"].contains($0.key) && !own.contains($0.key) })
        else { return nil }
        var shape: [Int] = []
        var count = 1
        for w in shapeWords {
            guard let d = NumberText.parseInteger(w.text), d > 0 else { return nil }
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { return nil }
            count = p
            shape.append(d)
        }
        let (total, overflow) = elements.addingReportingOverflow(count)
        guard !overflow, total <= limits.maxElements else { return nil }
        elements = total
        func parameter(_ key: String, _ value: Double) -> Double? {
            guard entries.contains(where: { $0.key == key }) else { return value }
            guard let text = word(key), let v = NumberText.parseReal(text), v.isFinite else { return nil }
            return v
        }
        let values: [Double]
        if dist == "normal" {
            guard let mean = parameter("mean", 0), let std = parameter("std", 1), std >= 0 else { return nil }
            values = NodeReader.randomValues(normal: true, count: count, seed: seed, mean, std)
        } else {
            guard let low = parameter("low", 0), let high = parameter("high", 1), (high - low).isFinite else {
                return nil
            }
            values = NodeReader.randomValues(normal: false, count: count, seed: seed, low, high)
        }
        guard values.allSatisfy(\.isFinite) else { return nil }
        return Tensor(shape: shape, scalars: values)
    }
}
