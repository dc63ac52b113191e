import ArgumentParser
import Foundation
import RNNSpec

/// The `rnnspec` executable's entry point (its `main.swift` calls it).
public enum RNNSpecEntry {
    /// Parses the process's arguments, runs the command and exits with its status.
    public static func main() { RNNSpecCommand.main() }
}

struct RNNSpecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rnnspec",
        abstract: "Check recurrent-network math against case files and golden outputs.",
        discussion: """
            Case files (cases/**/*.yaml) describe one computation each; goldens (golden/**/*.yaml) hold the \
            blessed outputs. Start with `rnnspec run`, `rnnspec kernels` and `rnnspec new KERNEL PATH`.

            Exit codes (every command): 0 success; 1 failures: run, report and regen when a case did not pass \
            (or, under CI=true, a golden has no case), check when a case does not load or its golden cannot be read, \
            export when a case was not exported; 2 a usage or configuration error (a bad flag, a missing root, \
            an empty selection, a command that writes under CI=true). kernels, new, prune, show, schema, serve and \
            bench exit 0 or 2. Errors are printed as `rnnspec: error: ...`, or `FILE:LINE:COLUMN: error: ...` when \
            they point into a file.

            Shell completion: `rnnspec --generate-completion-script bash|zsh|fish` (see docs/commands.md).
            """,
        version: RNNSpecRelease.version,
        subcommands: [
            Run.self, Report.self, Regen.self, Review.self, Accept.self, Reject.self, Init.self, New.self, Kernels.self,
            Check.self, Prune.self, Export.self, Bench.self, Serve.self, Show.self, Schema.self,
        ],
        defaultSubcommand: nil)

    /// Parses and runs, mapping usage errors to exit code 2. Every error is printed in one style:
    /// `rnnspec: error: ...`, or `FILE:LINE:COLUMN: error: ...` for an error located in a file.
    static func main() {
        // A process-wide setting, so the executable's: a write past a file-size limit (`ulimit -f`)
        // or to a full disk fails with EFBIG, reported as an error, instead of the signal killing
        // the process. Worker processes (`rnnspec serve`) start here too.
        signal(SIGXFSZ, SIG_IGN)
        // The worker command is started once per job and per fault: skip the parser's setup for it.
        if let code = Serve.fastPath(Array(CommandLine.arguments.dropFirst())) { Foundation.exit(code) }
        // `run` will start a worker: start it now, so that its start overlaps the parsing of the
        // arguments and the loading of the cases. The run takes it if its worker command is this one
        // (no --max-memory, no --backend) and stops it otherwise; a command that runs no case leaves it
        // to the exit handler.
        if CommandLine.arguments.dropFirst().first == "run" {
            WorkerPrestart.start(.rnnspec(workerExecutable, maxMemoryBytes: RunOptions.defaultMaxMemoryBytes))
            atexit { WorkerPrestart.discard() }
        }
        do {
            if let run = Run.fastPath(Array(CommandLine.arguments.dropFirst())) {
                try run()
            } else {
                var command = try parseAsRoot()
                try command.run()
            }
        } catch let error as UsageError {
            FileHandle.standardError.write(Data("rnnspec: \(error)\n".utf8))
            Foundation.exit(ExitStatus.usage.rawValue)
        } catch let error as SpecError {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            Foundation.exit(ExitStatus.usage.rawValue)
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch {
            let code = exitCode(for: error)
            guard code != .success else { exit(withError: error) }  // --help, --version
            // A bad flag or argument (the parser's "Error: ..."), or anything else: exit 2.
            var message = fullMessage(for: error)
            if message.hasPrefix("Error: ") { message.removeFirst("Error: ".count) }
            FileHandle.standardError.write(Data(("rnnspec: error: " + message.escapedKeepingLines + "\n").utf8))
            Foundation.exit(ExitStatus.usage.rawValue)
        }
    }
}
