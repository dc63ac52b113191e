import Foundation
import RNNPlatform

/// How a run executes its cases: in worker processes (what `rnnspec run` does), or in this process.
public enum ExecutionMode: Sendable {
    /// In this process: no isolation, no time or memory limit (library use and unit tests).
    case inProcess
    /// In worker processes started with this command (the `rnnspec serve` subcommand, or a
    /// backend), one per job, each running one case at a time over the worker protocol.
    case workers(WorkerCommand)
}

/// The command line of a worker and the limits it runs under.
public struct WorkerCommand: Sendable, Equatable {
    /// The program to start.
    public var executable: String
    /// Its arguments.
    public var arguments: [String]
    /// The extra environment of the worker.
    public var environment: [String: String]

    /// A worker command; `shown` is how messages name it (the command line by default).
    public init(executable: String, arguments: [String], environment: [String: String] = [:], shown: String? = nil) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.shown = shown
    }

    /// The `rnnspec serve` subcommand of an rnnspec binary, with its memory cap.
    public static func rnnspec(_ executable: String, maxMemoryBytes: Int) -> WorkerCommand {
        // The Swift runtime's backtracer takes seconds to symbolicate a crash; the coordinator
        // only needs the fatal-error line.
        WorkerCommand(
            executable: executable, arguments: ["serve", "--max-memory", "\(maxMemoryBytes)"],
            environment: ["SWIFT_BACKTRACE": "enable=no"])
    }

    /// A backend given as a command line (`--backend 'python3 my_solutions.py'`), run by `/bin/sh`
    /// so that quoting and `$PATH` work as in a shell.
    public static func shell(_ commandLine: String) -> WorkerCommand {
        WorkerCommand(
            executable: "/bin/sh", arguments: ["-c", "exec " + commandLine],
            environment: ["SWIFT_BACKTRACE": "enable=no"],
            shown: commandLine)
    }

    /// How messages show the command.
    var shown: String? = nil
    var display: String { shown ?? ([executable] + arguments).joined(separator: " ") }
}

/// What became of a request sent to a worker.
public enum WorkerOutcome: Sendable {
    /// The worker answered.
    case answered(WorkerProtocol.Answer)
    /// The worker ran longer than the time limit and was killed.
    case timedOut(seconds: Double)
    /// The worker died (or closed its output) before answering.
    case died(WorkerDeath)
    /// The worker wrote something that is not a reply.
    case violated(String)
}

/// How a worker ended, and the last lines it wrote to standard error.
public struct WorkerDeath: Sendable, CustomStringConvertible {
    /// The signal that ended it, if any.
    public var signal: Int32?
    /// Its exit status, if it exited.
    public var exitStatus: Int32?
    /// The last lines the worker wrote to standard error.
    public var stderrTail: String

    /// Whether its last words say an allocation failed (the memory cap, or the machine's).
    public var ranOutOfMemory: Bool {
        let t = stderrTail.lowercased()
        return t.contains("failed to allocate") || t.contains("could not allocate") || t.contains("out of memory")
            || t.contains("cannot allocate")
            || t.contains("bad_alloc") || t.contains("memoryerror")
    }

    /// One line: how the worker ended (`lastWords` has what it wrote).
    public var description: String {
        var s: String
        if let signal {
            s = "the worker was killed by signal \(signal)" + (signalNames[signal].map { " (\($0))" } ?? "")
        } else if let exitStatus {
            s = "the worker exited with status \(exitStatus) before answering"
        } else {
            s = "the worker closed its output before answering"
        }
        return s
    }

    /// The last standard-error lines, as notes of a result.
    public var notes: [String] {
        let words = lastWords
        return words.isEmpty ? [] : ["the worker's last standard-error lines:"] + words.map { "  | " + $0 }
    }

    /// The last lines of standard error that say something: a Swift runtime's stack trace is left out,
    /// so that its `Fatal error: ...` line shows.
    public var lastWords: [String] {
        var lines = stderrTail.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        if let k = lines.lastIndex(where: { $0.hasPrefix("Current stack trace:") }) { lines = Array(lines[..<k]) }
        lines.removeAll { line in
            // A frame: `12   libswiftCore.so   0x00007f... symbol + 33`.
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            return fields.count >= 3 && Int(fields[0]) != nil && fields[2].hasPrefix("0x")
        }
        return lines.suffix(6).map { $0.count > 300 ? String($0.prefix(300)) + "…" : $0 }
    }
}

private let signalNames: [Int32: String] = [
    SIGILL: "SIGILL, a Swift runtime trap", SIGTRAP: "SIGTRAP, a Swift runtime trap", SIGABRT: "SIGABRT",
    SIGSEGV: "SIGSEGV", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGTERM: "SIGTERM", SIGXCPU: "SIGXCPU",
]

/// A worker could not be started (the command does not exist, or it never said hello).
public struct WorkerStartError: Error, Sendable, CustomStringConvertible {
    /// Why the worker could not start.
    public var description: String
}

/// Worker processes for a run: each thread of the run checks one out and keeps it.
final class WorkerPool: @unchecked Sendable {
    private let command: WorkerCommand
    private var idle: [WorkerProcess] = []
    private let lock = NSLock()

    init(command: WorkerCommand) { self.command = command }

    /// The worker's name and the kernels it implements (nil: it did not say), from the first hello.
    private(set) var name = ""
    private(set) var kernels: Set<String>? = nil

    /// Starts one worker now (or takes the one `WorkerPrestart` started, when its command is this
    /// pool's), so that a command that cannot start is an error before any case runs.
    func warmUp() throws {
        let worker: WorkerProcess
        if let early = WorkerPrestart.take(matching: command) {
            worker = early
            do { try worker.awaitHello() } catch { try worker.start() }
        } else {
            // A worker started early for another command (a run with --backend or --max-memory) is not
            // needed.
            WorkerPrestart.discard()
            worker = WorkerProcess(command: command)
            try worker.start()
        }
        name = worker.name
        kernels = worker.kernels
        lock.lock(); idle.append(worker); lock.unlock()
    }

    /// An idle worker (a new one, not yet started, if none is idle) for one thread of the run to use.
    func checkout() -> WorkerProcess {
        lock.lock(); defer { lock.unlock() }
        return idle.popLast() ?? WorkerProcess(command: command)
    }

    /// Gives a worker back.
    func checkin(_ worker: WorkerProcess) {
        lock.lock(); idle.append(worker); lock.unlock()
    }

    /// Stops every worker.
    func shutdown() {
        lock.lock()
        let all = idle
        idle.removeAll()
        lock.unlock()
        for w in all { w.stopReapingLater() }
    }
}

/// A worker started before a run is set up: the command line starts the worker `rnnspec run` will most
/// likely use as soon as the process starts, so that the worker's start overlaps the parsing of the
/// arguments and the loading of the cases. The run's pool takes it when the commands are the same, and
/// stops it when they are not; one that no run took is stopped by `discard()`.
public enum WorkerPrestart {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var started: WorkerProcess?

    /// Starts a worker with `command` now, without waiting for its hello (nothing if one is waiting).
    public static func start(_ command: WorkerCommand) {
        let worker = WorkerProcess(command: command)
        guard (try? worker.spawn()) != nil else { return }
        lock.lock()
        defer { lock.unlock() }
        if started == nil { started = worker } else { worker.stop() }
    }

    /// Stops the worker `start` started, if no run took it (reaped on another thread).
    public static func discard() {
        lock.lock()
        let worker = started
        started = nil
        lock.unlock()
        worker?.stopReapingLater()
    }

    /// The started worker that no run has taken yet.
    static var waiting: WorkerProcess? {
        lock.lock()
        defer { lock.unlock() }
        return started
    }

    /// The started worker, when it runs `command`; nil otherwise.
    static func take(matching command: WorkerCommand) -> WorkerProcess? {
        lock.lock()
        defer { lock.unlock() }
        guard let worker = started, worker.command == command else { return nil }
        started = nil
        return worker
    }
}

/// The worker side of the protocol: reads requests from standard input, runs each, writes replies
/// to standard output, until standard input ends. `rnnspec serve` calls this.
public enum WorkerServer {
    /// Caps this process's address space (the memory a case may take).
    public static func capMemory(bytes: Int) {
        var limit = rlimit(rlim_cur: rlim_t(bytes), rlim_max: rlim_t(bytes))
        setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit)
    }

    /// With `finiteDifferences: false` a request's gradcheck is ignored, as by a backend that leaves
    /// the finite differences to rnnspec (which then sends the perturbed runs itself).
    public static func serve(
        registry: KernelRegistry, name: String, finiteDifferences: Bool = true,
        input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO
    ) -> Int32 {
        writeAll(output, WorkerProtocol.hello(name, kernels: registry.names))
        var buffer = Data()
        // Where the unread part of `buffer` starts: lines are taken from the front without moving the
        // rest (removing each line from a Data cost a twentieth of a worker's instructions).
        var start = 0
        var chunk = readChunk()
        while true {
            if let nl = newlineOffset(buffer, from: start) {
                let line = Data(buffer[(buffer.startIndex + start)..<(buffer.startIndex + nl)])
                start = nl + 1
                var request: ExecutionRequest
                do { request = try WorkerProtocol.decodeRequest(line, registry: registry) } catch {
                    writeAll(STDERR_FILENO, "rnnspec worker: \(error)\n")
                    return 2
                }
                if !finiteDifferences { request.gradcheck = nil }
                let answer: WorkerProtocol.Answer
                do { answer = .outputs(try Execution.run(request, registry: registry)) } catch {
                    answer = .failure(error)
                }
                writeAll(output, WorkerProtocol.encodeBytes(answer, id: request.id))
                continue
            }
            // Every whole line is taken: keep the partial one only.
            if start > 0 {
                buffer = start == buffer.count ? Data() : Data(buffer[(buffer.startIndex + start)...])
                start = 0
            }
            let n = read(input, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return 0 }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }
}
