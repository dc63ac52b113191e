import ArgumentParser
import Foundation
import RNNSpec

/// `--record`'s values: the library's record modes, and `pending` (failed, into pending files).
enum RecordChoice: String, ExpressibleByArgument, CaseIterable {
    case none, missing, failed, all, pending

    /// The record mode and where the goldens go; `--pending` alone records failed.
    func resolved(pending flag: Bool) -> (RecordMode, RecordTarget) {
        switch self {
        case .pending: return (.failed, .pending)
        case .none: return flag ? (.failed, .pending) : (.none, .golden)
        case .missing: return (.missing, flag ? .pending : .golden)
        case .failed: return (.failed, flag ? .pending : .golden)
        case .all: return (.all, flag ? .pending : .golden)
        }
    }
}

extension RNNSpecCommand {
    /// `rnnspec review [PATH...]`: the pending goldens one by one, each decided with one key.
    struct Review: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "review",
            abstract: "Walk the pending goldens: why each is pending, how far each output moves; accept, reject or skip each with one key.",
            discussion: """
            Pending goldens are written by `rnnspec run --record pending` (or `--pending`) and `rnnspec regen --pending`. \
            Keys: a accept (the pending file replaces the golden), r reject (the pending file is deleted), s skip, q quit, ? help. \
            When standard input is not a terminal, review prints every pending golden and decides nothing: use `rnnspec accept` and `rnnspec reject`.
            """)

        @OptionGroup var project: ProjectOptions

        @Argument(help: "Case ids, case files or directories, or pending files (default: every pending golden).", completion: casePathCompletion)
        var paths: [String] = []

        func run() throws {
            let frontEnd = try project.frontEnd()
            guard isatty(STDIN_FILENO) == 1 else { throw ExitCode(try frontEnd.reviewListing(paths).rawValue) }
            try frontEnd.checkMayWrite("`review`")
            let items = try frontEnd.reviewItems(paths)
            if items.isEmpty { writeAll(STDOUT_FILENO, "no pending goldens (`rnnspec run --record pending` writes them)\n"); return }
            let review = RNNSpec.Review(project: frontEnd.project, registry: frontEnd.registry)
            let help = "a accept (the pending file replaces the golden)   r reject (delete the pending file)   s skip   q quit   ? help\n"
            var counts = (accepted: 0, rejected: 0, skipped: 0)
            var failed = false
            loop: for (k, item) in items.enumerated() {
                writeAll(STDOUT_FILENO, "\n(\(k + 1) of \(items.count)) " + item.text())
                while true {
                    writeAll(STDOUT_FILENO, "accept, reject, skip or quit? [a/r/s/q/?] ")
                    guard let key = readKey() else { writeAll(STDOUT_FILENO, "\n"); break loop }
                    writeAll(STDOUT_FILENO, (key.isASCII && key >= " " ? String(key) : "") + "\n")
                    do {
                        switch key {
                        case "a", "A":
                            try review.accept(item.id)
                            counts.accepted += 1
                            writeAll(STDOUT_FILENO, "accepted: \(item.goldenPath)\n")
                        case "r", "R":
                            try review.reject(item.id)
                            counts.rejected += 1
                            writeAll(STDOUT_FILENO, "rejected: deleted \(item.pendingPath)\n")
                        case "s", "S", "\r", "\n", " ":
                            counts.skipped += 1
                        case "q", "Q", "\u{03}", "\u{04}", "\u{1B}":
                            break loop
                        default:
                            writeAll(STDOUT_FILENO, help)
                            continue
                        }
                    } catch {
                        failed = true
                        writeAll(STDERR_FILENO, "\(error)\n")
                    }
                    continue loop
                }
            }
            let left = items.count - counts.accepted - counts.rejected
            writeAll(STDOUT_FILENO, "accepted \(counts.accepted), rejected \(counts.rejected), \(left) still pending\n")
            if failed { throw ExitCode(ExitStatus.failures.rawValue) }
        }

        /// One key from the terminal, without echo or line editing (Ctrl-C arrives as a key, so the
        /// terminal is always restored); nil at the end of input.
        func readKey() -> Character? {
            var saved = termios()
            let isTerminal = tcgetattr(STDIN_FILENO, &saved) == 0
            if isTerminal {
                var raw = saved
                raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG)
                withUnsafeMutableBytes(of: &raw.c_cc) { cc in
                    cc[Int(VMIN)] = 1
                    cc[Int(VTIME)] = 0
                }
                tcsetattr(STDIN_FILENO, TCSANOW, &raw)
            }
            defer { if isTerminal { tcsetattr(STDIN_FILENO, TCSANOW, &saved) } }
            var byte: UInt8 = 0
            while true {
                let n = read(STDIN_FILENO, &byte, 1)
                if n == 1 { return Character(Unicode.Scalar(byte)) }
                if n < 0 && errno == EINTR { continue }
                return nil
            }
        }
    }

    /// The pending goldens `accept` and `reject` act on: case ids, paths or pending files, or `--all`.
    struct PendingSelection: ParsableArguments {
        @Flag(help: "Every pending golden.")
        var all = false

        @Argument(help: "Case ids, case files or directories, or pending files.", completion: casePathCompletion)
        var ids: [String] = []
    }

    /// `rnnspec accept [ID...|--all]`.
    struct Accept: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "accept",
            abstract: "Accept pending goldens: each pending file is renamed over its golden (atomically).")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var pending: PendingSelection

        func run() throws {
            throw ExitCode(try project.frontEnd().accept(pending.ids, all: pending.all).rawValue)
        }
    }

    /// `rnnspec reject [ID...|--all]`.
    struct Reject: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reject",
            abstract: "Reject pending goldens: each pending file is deleted; the golden stays as it is.")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var pending: PendingSelection

        func run() throws {
            throw ExitCode(try project.frontEnd().reject(pending.ids, all: pending.all).rawValue)
        }
    }

    /// `rnnspec init [DIR]`.
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Make a new suite in an empty directory: rnnspec.yaml, cases/ with one example case, golden/ with its golden.")

        @Argument(help: "The directory (default: the current one); it must be empty or new.", completion: .directory)
        var directory: String = "."

        func run() throws {
            let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
            let project = Project(casesRoot: cwd.appendingPathComponent("cases"), goldenRoot: cwd.appendingPathComponent("golden"), workingDirectory: cwd)
            throw ExitCode(try FrontEnd(project: project).initSuite(directory: directory).rawValue)
        }
    }
}
