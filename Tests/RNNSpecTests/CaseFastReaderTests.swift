import Foundation
import RNNKernels
import TestAssertions
import Testing

@testable import RNNSpec
@testable import RNNSpecBench

/// The fast case reader gives, for every file it reads, the case the general path (YAML nodes) gives,
/// field by field, locations and digest included; it declines (nil) everything else, errors among
/// them, so a file means the same and fails the same whichever path takes it.
@Suite struct CaseFastReaderTests {
    static let loader = CaseLoader()

    /// Every field of a case as text, for comparing and for showing where two differ.
    static func describe(_ c: Case) -> [String] {
        var out = [
            "id \(c.id)", "path \(c.path)", "kernel \(c.kernel.spec.name)", "title \(String(describing: c.title))",
            "source \(String(describing: c.source))", "tags \(c.tags)", "dims \(c.dims.sorted { $0.key < $1.key })",
            "expectations \(c.expectations.count)", "tolerance \(String(describing: c.tolerance))",
            "outputTolerances \(c.outputTolerances.count)", "gradcheck \(c.gradcheck == nil ? "none" : "some")",
            "xfail \(String(describing: c.xfail))", "skip \(String(describing: c.skip))",
            "timeout \(String(describing: c.timeout))", "digest \(c.digest)", "text \(c.text.text.debugDescription)",
            "textPath \(c.text.path)",
        ]
        for (k, v) in c.params.sorted(by: { $0.key < $1.key }) { out.append("param \(k) \(v)") }
        for (k, v) in c.inputs.sorted(by: { $0.key < $1.key }) {
            var bits = ""
            CaseDigest.canonical(v, into: &bits)
            out.append("input \(k) \(bits)")
        }
        for (k, v) in c.locations.sorted(by: { $0.key < $1.key }) { out.append("location \(k) \(v)") }
        for (name, e) in c.expectations {
            var bits = ""
            CaseDigest.canonical(e.value, into: &bits)
            out.append(
                "expect \(name) \(bits) \(String(describing: e.tolerance)) \(String(describing: e.source)) \(e.location)"
            )
        }
        if let g = c.gradcheck {
            out.append(
                "gradcheck \(g.wrt) \(g.eps) \(g.tolerance) \(g.loss) \(g.mode) \(g.directions) \(g.seed) \(g.location)"
            )
        }
        return out
    }

    /// Whether the fast reader read `text`; fails where its case differs from the general path's, or
    /// where it read a text the general path refuses.
    @discardableResult
    func check(_ text: String, _ context: String, loader: CaseLoader = loader) -> Bool {
        let source = SourceText(path: "cases/x.yaml", text: text)
        guard let fast = loader.fastCase(source, id: "x") else { return false }
        do {
            let general = try loader.generalLoad(source, id: "x")
            let (a, b) = (Self.describe(fast), Self.describe(general))
            if a != b {
                let k = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
                XCTFail(
                    "\(context): fast \(k < a.count ? a[k] : "(none)"), general \(k < b.count ? b[k] : "(none)"), for\n\(text)"
                )
            }
            XCTAssertEqual(fast.inputs, general.inputs, context)
            XCTAssertEqual(fast.params, general.params, context)
        } catch {
            XCTFail("\(context): the fast reader read a case the general path refuses (\(error)):\n\(text)")
        }
        return true
    }

    /// The repository's cases and a generated bench suite: every file the fast reader reads is the
    /// general path's case, and it reads every bench case.
    @Test func testEveryCaseItReadsIsTheGeneralPathsCase() {
        var files = FastComposerTests.texts(under: repositoryRoot.appendingPathComponent("cases"))
        files += FastComposerTests.texts(under: repositoryRoot.appendingPathComponent("Fuzz/corpus"))
        let bench = BenchSuite.cases(count: 240)
        var read = 0
        for (path, text) in files where check(text, path) { read += 1 }
        var expecting = 0, checking = 0
        for c in bench {
            XCTAssertTrue(check(c.text, c.id), "the fast reader declined a bench case:\n\(c.text)")
            if c.text.contains("\nexpect:") { expecting += 1 }
            if c.text.contains("\ngradcheck:") { checking += 1 }
        }
        XCTAssertGreaterThan(expecting, 10)
        XCTAssertGreaterThan(checking, 10)
        XCTAssertGreaterThan(read, 0)
    }

    /// Texts at the edges of the layout: each is read as the general path reads it, or declined.
    @Test func testEdgesAreReadAsTheGeneralPathReadsThemOrDeclined() {
        let body =
            "inputs:\n  x: [1.0, 2.0, 3.0]\n  h_prev: [0.5, -0.5]\n  W_xh: {random: normal, shape: [2, 3], seed: 1, std: 0.5}\n  W_hh: {random: uniform, shape: [2, 2], seed: 2, low: -1, high: 1}\n  b_h: [0.1, 0.2]\n"
        let accepted = [
            "kernel: rnn.step\n" + body,
            "kernel: rnn.step\n\ntitle: \"a title: with # and ü ‖x‖\"\nsource: \"s\"\ntags: [a, b-c, d.e]\n" + body,
            body + "kernel: rnn.step\nparams: {activation: relu, dtype: float32}\n",
            "kernel: rnn.step\nparams: {activation: tanh}\n" + body + "tags: [x]\n",
            "kernel: rnn.step\n" + body.replacingOccurrences(of: "std: 0.5", with: "mean: 1e-3, std: 2"),
            "kernel: grad.clip_norm\nparams: {max_norm: 139.0}\ninputs:\n  g: [105.0, 140.0]\n",
            "kernel: loss.masked_mean\ninputs:\n  losses: [0.7751, 0.6756, 0.3335]\n  mask: [1, 0, 1]\n",
            "kernel: rnn.step\n" + body + "expect:\n  h: [0.0, 0.0]\n",
            "kernel: grad.clip_norm\nparams: {max_norm: 1.0}\ninputs:\n  g: [3.0, 4.0]\nexpect:\n  norm: 5.0\n  scale: 0.2\n",
            "kernel: rnn.bptt\ninputs:\n  x: {random: normal, shape: [3, 2], seed: 1, std: 1.0}\n  W_xh: {random: normal, shape: [2, 2], seed: 2, std: 0.5}\n  W_hh: {random: normal, shape: [2, 2], seed: 3, std: 0.5}\n  W_hy: {random: normal, shape: [2, 2], seed: 4, std: 0.5}\n  targets: [0, 1, 1]\ngradcheck: {wrt: [W_xh, W_hh], eps: 1e-6, abs: 1e-7, rel: 1e-5, mode: fast, directions: 3, seed: 7}\n",
            // A scalar input, and a batch of one as nested lists.
            "kernel: grad.clip_norm\nparams: {max_norm: 1.0}\ninputs:\n  g: 3.0\n",
            "kernel: rnn.step\n"
                + body.replacingOccurrences(of: "[1.0, 2.0, 3.0]", with: "[[1.0, 2.0, 3.0]]")
                .replacingOccurrences(of: "[0.5, -0.5]", with: "[[0.5, -0.5]]"),
            // An optional input left out.
            "kernel: rnn.step\n" + body.replacingOccurrences(of: "  b_h: [0.1, 0.2]\n", with: ""),
        ]
        for text in accepted { XCTAssertTrue(check(text, "accepted"), "declined:\n\(text)") }
        let k = "kernel: rnn.step\n"
        // Texts before the inputs.
        let heads: [String] = [
            "kernel: nope\n", k + k, "kernel: rnn.step # c\n", "kernel: rnn.step \n", "kernel:  rnn.step\n",
            "kernel: rnn.step\r\n", "\u{FEFF}" + k, "kernel: rnn.step\ttitle: x\n", k + "title: \"a\\tb\"\n",
            k + "title: 'a'\n", k + "title: plain\n", k + "title: \"a\u{85}b\"\n", k + "title: \"a\u{FEFF}b\"\n",
            k + "notes: \"n\"\n", k + "params: {activation: nope}\n", k + "params: {nope: 1}\n",
            k + "params: {activation: relu, activation: tanh}\n", k + "params: { activation: relu }\n",
            k + "params: {}\n", k + "tags: [a,b]\n", k + "tags: []\n", k + "---\n",
        ]
        // Edits of the inputs.
        let edits: [(String, String)] = [
            ("[0.5, -0.5]", "[0.5, x]"), ("[0.5, -0.5]", "[0.5, -0.5, 1.0]"), ("seed: 1", "seed: 1.5"),
            ("std: 0.5", "std: -0.5"), ("std: 0.5", "low: 0.5"), ("shape: [2, 3]", "shape: [2, 0]"),
            ("shape: [2, 3]", "shape: [2, 4]"), ("normal", "gumbel"), ("random: normal, ", "zeros: [2, 3], "),
            ("  x:", "    x:"), ("  b_h: [0.1, 0.2]\n", "\n  b_h: [0.1, 0.2]\n"),
            ("[1.0, 2.0, 3.0]", "[[1.0, 2.0], [3.0]]"), ("[1.0, 2.0, 3.0]", "[[1.0, 2.0, 3.0], 4.0]"),
            ("[1.0, 2.0, 3.0]", "[[], []]"), ("[1.0, 2.0, 3.0]", "[1.0,2.0, 3.0]"),
            ("[1.0, 2.0, 3.0]", "[1.0, 2.0, 3.0,]"), ("[1.0, 2.0, 3.0]", "[-, 2.0, 3.0]"),
            ("[1.0, 2.0, 3.0]", "[1e999, 2.0, 3.0]"),
        ]
        // Nesting the general path refuses (64 levels, the block mappings above the list counted).
        let deep = String(repeating: "[", count: 63) + "1.0" + String(repeating: "]", count: 63)
        var declined = ["", k, k + body + "expect:\n  h: " + deep + "\n"] + heads.map { $0 + body }
        declined += edits.map { k + body.replacingOccurrences(of: $0.0, with: $0.1) }
        declined += [
            k + body + "  nope: [1.0]\n", k + body + "  x: [1.0]\n", k + body + "expect:\n  nope: [0.0, 0.0]\n",
            k + body + "expect:\n  h: [0.0, x]\n", k + body + "expect:\n  h: {value: [0.0, 0.0], abs: 0.1}\n",
            k + body + "expect:\n", k + body + "gradcheck: {wrt: [W_xh]}\n",
            k + body + "expect:\n  h: {random: normal}\n",
        ]
        for text in declined {
            let source = SourceText(path: "cases/x.yaml", text: text)
            XCTAssertNil(Self.loader.fastCase(source, id: "x").map(Self.describe), "read:\n\(text)")
        }
        // The limits: more elements or scalars than allowed are left to the general path's errors.
        var small = CaseLoader()
        small.limits.maxElements = 10
        XCTAssertNil(small.fastCase(SourceText(path: "x", text: accepted[0]), id: "x").map(Self.describe))
        small.limits.maxElements = 1_000_000
        XCTAssertNotNil(small.fastCase(SourceText(path: "x", text: accepted[0]), id: "x").map(Self.describe))
        XCTAssertNil(CaseFastReader.fields(accepted[0], maxScalars: 10))
        XCTAssertNotNil(CaseFastReader.fields(accepted[0], maxScalars: 100))
    }

    /// Seeded mutations of bench cases (a character inserted, deleted or replaced): whatever the fast
    /// reader reads, the general path reads the same.
    @Test func testMutatedCasesAreReadAsTheGeneralPathReadsThemOrDeclined() {
        let sources = BenchSuite.cases(count: 48).map(\.text)
        let alphabet = Array(" \n:-,[]{}#'\"&*!|>?%@`\\x1.e09_".utf8)
        var stream = SeededStream(seed: 0xCA5E_FA57)
        var read = 0
        let count = fullTests ? 20_000 : 1_500
        for k in 0..<count {
            let mutant = FastComposerTests.mutant(of: sources[k % sources.count], edits: 2, alphabet, &stream)
            if check(mutant, "mutant \(k)") { read += 1 }
        }
        XCTAssertGreaterThan(read, count / 10, "many mutants should still be in the layout")
    }
}
