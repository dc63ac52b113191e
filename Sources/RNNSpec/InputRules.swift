import Foundation

/// A rule about which of a kernel's optional inputs go together, declared with the kernel so
/// that loading a case (and so `rnnspec check`), `rnnspec kernels NAME` and `rnnspec new` know
/// it before any kernel runs. The kernel's adapter may check the same at run time (a backend can
/// be any program); the loader's error points at the offending input's line.
public struct InputRule: Sendable, CustomStringConvertible {
    /// What a rule asks of its inputs.
    public enum Kind: Sendable {
        /// Give every one of the inputs or none of them.
        case allOrNone
        /// The inputs must be given.
        case required
        /// The inputs must not be given.
        case unused
        /// At most one of the inputs may be given.
        case atMostOne
    }

    /// When the rule applies.
    public enum Condition: Sendable {
        case always
        /// The param has one of these values.
        case param(String, [ParamValue])
        /// The input is given.
        case given(String)
    }

    /// What the rule asks.
    public var kind: Kind
    /// The inputs it is about.
    public var inputs: [String]
    /// When it applies (a param's value), or always.
    public var condition: Condition
    /// Why, in a few words (`layout concat_fiog`), for messages.
    public var reason: String?

    /// A rule of `kind` over `inputs`, applying when `condition` holds, with the reason the error gives.
    public init(_ kind: Kind, _ inputs: [String], when condition: Condition = .always, because reason: String? = nil) {
        self.kind = kind
        self.inputs = inputs
        self.condition = condition
        self.reason = reason
    }

    /// All of `inputs` or none of them (the GRU's three biases).
    public static func allOrNone(_ inputs: [String], when condition: Condition = .always) -> InputRule {
        InputRule(.allOrNone, inputs, when: condition)
    }
    /// Every one of `inputs` must be given when `condition` holds.
    public static func required(_ inputs: [String], when condition: Condition, because reason: String) -> InputRule {
        InputRule(.required, inputs, when: condition, because: reason)
    }
    /// None of `inputs` may be given when `condition` holds: the kernel would ignore them.
    public static func unused(_ inputs: [String], when condition: Condition, because reason: String) -> InputRule {
        InputRule(.unused, inputs, when: condition, because: reason)
    }
    /// At most one of `inputs`.
    public static func atMostOne(_ inputs: [String], because reason: String? = nil) -> InputRule {
        InputRule(.atMostOne, inputs, because: reason)
    }

    var conditionText: String? {
        switch condition {
        case .always: return nil
        case .param(let name, let values): return "\(name) is \(values.map(\.description).joined(separator: " or "))"
        case .given(let input): return "\(input) is given"
        }
    }

    /// `give all of b_z, b_r, b_h or none`, `when layout is torch: W_ih, W_hh are required`.
    public var description: String {
        let names = inputs.joined(separator: ", ")
        var text: String
        switch kind {
        case .allOrNone: text = "give all of \(names) or none"
        case .required: text = "\(names) \(inputs.count == 1 ? "is" : "are") required"
        case .unused: text = "\(names) \(inputs.count == 1 ? "is" : "are") not used"
        case .atMostOne: text = "give at most one of \(names)"
        }
        if let c = conditionText { text = "when \(c): " + text }
        if let reason { text += " (\(reason))" }
        return text
    }

    func applies(params: [String: ParamValue], given: Set<String>) -> Bool {
        switch condition {
        case .always: return true
        case .param(let name, let values): return values.contains { $0 == params[name] }
        case .given(let input): return given.contains(input)
        }
    }

    /// The input the error points at (nil: the case's `inputs:` or the param) and the message,
    /// when the case breaks the rule.
    func violation(params: [String: ParamValue], given: Set<String>, kernel: String) -> (
        input: String?, param: String?, message: String
    )? {
        guard applies(params: params, given: given) else { return nil }
        let present = inputs.filter(given.contains), absent = inputs.filter { !given.contains($0) }
        let why = [conditionText, reason].compactMap { $0 }.joined(separator: "; ")
        let suffix = why.isEmpty ? "" : " (\(why))"
        var param: String? = nil
        if case .param(let name, _) = condition { param = name }
        switch kind {
        case .allOrNone:
            guard !present.isEmpty, !absent.isEmpty else { return nil }
            return (
                present[0], nil,
                "\(kernel): give all of \(listPhrase(inputs, conjunction: "and")) or none; \(listPhrase(absent, conjunction: "and")) \(absent.count == 1 ? "is" : "are") missing"
            )
        case .required:
            guard let first = absent.first else { return nil }
            return (nil, param, "\(kernel) needs input '\(first)'\(suffix)")
        case .unused:
            guard let first = present.first else { return nil }
            return (first, nil, "\(kernel) does not use input '\(first)'\(suffix); remove it")
        case .atMostOne:
            guard present.count > 1 else { return nil }
            return (
                present[1], nil,
                "\(kernel): give at most one of \(listPhrase(inputs)), not \(listPhrase(present, conjunction: "and"))\(suffix)"
            )
        }
    }
}

extension KernelSpec {
    /// The same kernel with these input rules.
    public func rules(_ rules: [InputRule]) -> KernelSpec {
        var copy = self
        copy.inputRules += rules
        return copy
    }

    /// The first input rule the case breaks.
    func inputRuleViolation(params: [String: ParamValue], given: Set<String>) -> (
        input: String?, param: String?, message: String
    )? {
        for rule in inputRules {
            if let v = rule.violation(params: params, given: given, kernel: name) { return v }
        }
        return nil
    }
}
