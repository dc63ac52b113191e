import Foundation
import TestAssertions
import Testing

/// The `RNNSpec` library returns values and strings; the `rnnspec` executable owns the terminal
/// and the process. This scan reads every `Sources/RNNSpec/**/*.swift` (comments left out) and
/// fails on a call that prints, asks or changes the terminal, changes a signal's disposition,
/// writes to the standard streams, ends the process, or starts a process, outside the files
/// named in `allowed`.
@Suite final class LibraryPurityTests {
    /// What the library must not do, each with the patterns that find it.
    static let forbidden: [(what: String, patterns: [String])] = [
        (
            "prints",
            [
                #"(?<![\w.])print\("#, #"(?<![\w.])debugPrint\("#, #"(?<![\w.])dump\("#,
                #"\bfputs\("#, #"\bfprintf\("#, #"\bputs\("#, #"\bsetvbuf\("#, #"\bfflush\("#,
            ]
        ),
        ("asks or changes the terminal", [#"\bisatty\("#, #"\btcgetattr\("#, #"\btcsetattr\("#, #"\bioctl\("#]),
        ("handles signals", [#"\bsignal\("#, #"\bsigaction\("#, #"\bSIG_IGN\b"#, #"\bSIG_DFL\b"#]),
        (
            "writes to the standard streams",
            [
                #"FileHandle\.standard(Output|Error|Input)"#, #"\bSTDOUT_FILENO\b"#,
                #"\bSTDERR_FILENO\b"#, #"\bSTDIN_FILENO\b"#, #"\bstdout\b"#, #"\bstderr\b"#,
            ]
        ),
        ("ends the process", [#"(?<![\w.])exit\("#, #"Foundation\.exit\("#, #"\b_exit\("#]),
        (
            "starts a process",
            [
                #"\bProcess\("#, #"\bposix_spawnp?\("#, #"\bfork\("#, #"\bexecv[pe]?\("#,
                #"\bpopen\("#, #"(?<![\w.])system\("#,
            ]
        ),
    ]

    /// Files allowed to do one of these things, and why.
    static let allowed: [String: (whats: Set<String>, why: String)] = [
        // The runner's worker processes: spawned with posix_spawn, and, inside a worker
        // (`rnnspec serve`), the worker protocol's replies on standard output and its errors on
        // standard error.
        "WorkerPool.swift": (["writes to the standard streams"], "the runner's worker pool and worker server"),
        // One worker process of the pool: spawned with posix_spawn.
        "WorkerProcess.swift": (["starts a process"], "one worker process of the runner's pool"),
        // Kernels that imitate a broken worker (garbage on standard output, a flood on standard error,
        // a crash), registered only under RNNSPEC_FAULT_KERNELS=1 to test the runner.
        "FaultKernels.swift": (
            ["writes to the standard streams", "ends the process"], "fault kernels for the worker tests"
        ),
    ]

    /// The code of a Swift file without its comments (`//` to the end of the line, `/* */`), line by
    /// line; string literals are kept.
    static func code(_ text: String) -> [String] {
        var lines: [String] = []
        var inBlock = false
        for raw in text.components(separatedBy: "\n") {
            var line = ""
            var inString = false
            var chars = Array(raw)[...]
            while let c = chars.first {
                if inBlock {
                    if chars.starts(with: "*/") {
                        inBlock = false; chars = chars.dropFirst(2)
                    } else {
                        chars = chars.dropFirst()
                    }
                    continue
                }
                if !inString && chars.starts(with: "//") { break }
                if !inString && chars.starts(with: "/*") { inBlock = true; chars = chars.dropFirst(2); continue }
                if c == "\\" && inString {
                    line.append(contentsOf: chars.prefix(2)); chars = chars.dropFirst(2); continue
                }
                if c == "\"" { inString.toggle() }
                line.append(c)
                chars = chars.dropFirst()
            }
            lines.append(line)
        }
        return lines
    }

    /// One expression per kind of forbidden call: its patterns as alternatives.
    static let expressions: [(what: String, regex: NSRegularExpression)] = forbidden.map { what, patterns in
        (what, try! NSRegularExpression(pattern: patterns.map { "(?:\($0))" }.joined(separator: "|")))
    }

    /// Each forbidden call in `text` (of the file `name`) that `allowed` does not allow, as
    /// `name:LINE: what: the line`. The code is scanned whole, once per kind, and each match is
    /// placed on its line.
    static func findings(in text: String, name: String) throws -> [String] {
        var out: [String] = []
        let exempt = allowed[name]?.whats ?? []
        let lines = code(text)
        let joined = lines.joined(separator: "\n") as NSString
        // The offset (UTF-16) at which each line starts.
        var starts: [Int] = []
        var offset = 0
        for line in lines {
            starts.append(offset)
            offset += (line as NSString).length + 1
        }
        for (what, regex) in expressions where !exempt.contains(what) {
            var seen = Set<Int>()
            for match in regex.matches(in: joined as String, range: NSRange(location: 0, length: joined.length)) {
                // The last line starting at or before the match.
                var lo = 0, hi = starts.count - 1
                while lo < hi {
                    let mid = (lo + hi + 1) / 2
                    if starts[mid] <= match.range.location { lo = mid } else { hi = mid - 1 }
                }
                if seen.insert(lo).inserted {
                    out.append("\(name):\(lo + 1): \(what): \(lines[lo].trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        return out
    }

    @Test func testTheLibraryNeitherPrintsNorHandlesSignalsNorSpawnsOutsideTheWorkerPool() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let dir = root.appendingPathComponent("Sources/RNNSpec")
        let files = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil)!
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }.sorted { $0.path < $1.path }
        XCTAssertGreaterThan(files.count, 50, "the scan found the library's files")
        var found: [String] = []
        for file in files {
            found += try Self.findings(in: String(contentsOf: file, encoding: .utf8), name: file.lastPathComponent)
        }
        XCTAssertEqual(
            found, [],
            "the RNNSpec library must leave printing, the terminal, signals and processes to the rnnspec executable:\n"
                + found.joined(separator: "\n"))
        // Every allowed file exists (a renamed file must be renamed here too, not silently dropped).
        for name in Self.allowed.keys {
            XCTAssertTrue(
                files.contains { $0.lastPathComponent == name }, "\(name) is allowed but not in Sources/RNNSpec")
        }
    }

    /// The scan itself: each kind of forbidden call is found, in code, and not in comments.
    @Test func testTheScanFindsEachForbiddenCall() throws {
        let calls = [
            "print(\"x\")", "debugPrint(x)", "fputs(\"x\", stderr)", "setvbuf(stdout, nil, _IOLBF, 0)",
            "FileHandle.standardError.write(data)", "FileHandle.standardOutput.write(data)",
            "writeAll(STDOUT_FILENO, text)", "if isatty(1) == 1 {}", "signal(SIGXFSZ, SIG_IGN)",
            "let p = Process()", "posix_spawn(&pid, path, nil, nil, argv, envp)", "exit(1)",
        ]
        for call in calls {
            XCTAssertFalse(try Self.findings(in: "func f() {\n    \(call)\n}\n", name: "Some.swift").isEmpty, call)
        }
        // Allowed in the worker pool, and ignored in comments, in names that merely contain a word,
        // and in method calls of the same name.
        XCTAssertEqual(try Self.findings(in: "let p = Process()\n", name: "WorkerProcess.swift"), [])
        XCTAssertEqual(try Self.findings(in: "writeAll(STDOUT_FILENO, t)\n", name: "WorkerPool.swift"), [])
        // Each allowance is for its own file only: the pool does not spawn, the process does not write.
        XCTAssertFalse(try Self.findings(in: "let p = Process()\n", name: "WorkerPool.swift").isEmpty)
        XCTAssertFalse(try Self.findings(in: "writeAll(STDOUT_FILENO, t)\n", name: "WorkerProcess.swift").isEmpty)
        let innocent = """
            /// Call `print(x)` and `signal(SIGXFSZ, SIG_IGN)`.
            let x = 1 // print(x)
            /* Process() */ let stderrTail = report.print(3) + view.system(2) + printable(x)
            """
        XCTAssertEqual(try Self.findings(in: innocent, name: "Some.swift"), [])
    }
}
