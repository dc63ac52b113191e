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
public struct WorkerCommand: Sendable {
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
        WorkerCommand(executable: executable, arguments: ["serve", "--max-memory", "\(maxMemoryBytes)"],
                      environment: ["SWIFT_BACKTRACE": "enable=no"])
    }

    /// A backend given as a command line (`--backend 'python3 my_solutions.py'`), run by `/bin/sh`
    /// so that quoting and `$PATH` work as in a shell.
    public static func shell(_ commandLine: String) -> WorkerCommand {
        WorkerCommand(executable: "/bin/sh", arguments: ["-c", "exec " + commandLine], environment: ["SWIFT_BACKTRACE": "enable=no"],
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
        return t.contains("failed to allocate") || t.contains("could not allocate") || t.contains("out of memory") || t.contains("cannot allocate")
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

/// One worker process: started on demand, asked one request at a time, killed on a timeout, and
/// started again after it dies.
final class WorkerProcess: @unchecked Sendable {
    let command: WorkerCommand
    private var pid: pid_t = 0
    /// Our end of the socket that is the worker's standard input and output.
    private var channel: Int32 = -1
    /// Our end of the socket that is the worker's standard error.
    private var errors: Int32 = -1
    private var buffer = Data()
    private var stderrTail = Data()
    /// What the worker said in its hello: its name and the kernels it implements, if it listed them.
    private(set) var name = ""
    private(set) var kernels: Set<String>? = nil
    private static let stderrKeep = 8192

    init(command: WorkerCommand) { self.command = command }

    deinit { stop() }

    var isRunning: Bool { pid > 0 }

    /// Starts the worker and waits for its hello line.
    func start(timeout: Double = 60) throws {
        stop()
        var io: [Int32] = [-1, -1], err: [Int32] = [-1, -1]
        let kind = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, kind, 0, &io) == 0, socketpair(AF_UNIX, kind, 0, &err) == 0 else {
            throw WorkerStartError(description: "cannot create the worker's channels: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, io[1], 0)
        posix_spawn_file_actions_adddup2(&actions, io[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A coordinator that ignores SIGPIPE must not pass that on.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))

        var environment = ProcessInfo.processInfo.environment
        for (k, v) in command.environment { environment[k] = v }
        let argv = ([command.executable] + command.arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv { free(p) }; for p in envp { free(p) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, command.executable, &actions, &attributes, argv, envp)
        close(io[1]); close(err[1])
        guard rc == 0 else {
            close(io[0]); close(err[0])
            throw WorkerStartError(description: "cannot start `\(command.display)`: \(String(cString: strerror(rc)))")
        }
        pid = child
        channel = io[0]
        errors = err[0]
        buffer.removeAll(keepingCapacity: true)
        stderrTail.removeAll()
        switch readLine(deadline: Date().addingTimeInterval(timeout), maxBytes: 1 << 16) {
        case .line(let line):
            do { (name, kernels) = try WorkerProtocol.decodeHello(line) } catch {
                let e = WorkerStartError(description: "`\(command.display)` did not start as a worker: \(error)")
                stop()
                throw e
            }
        case .timeout:
            stop()
            throw WorkerStartError(description: "`\(command.display)` said nothing within \(Int(timeout)) s of starting")
        case .closed, .tooLong:
            let death = reap()
            let words = death.lastWords.isEmpty ? "" : "; its last standard-error lines: " + death.lastWords.joined(separator: " | ")
            throw WorkerStartError(description: "`\(command.display)` did not start: \(death)\(words)")
        }
    }

    /// Sends one request and waits for its reply, at most `timeout` seconds.
    func execute(_ request: ExecutionRequest, timeout: Double, maxElements: Int) -> WorkerOutcome {
        guard submit(request) else { return .died(reap()) }
        return collect(request, deadline: Date().addingTimeInterval(timeout), timeout: timeout, maxElements: maxElements)
    }

    /// Starts the worker when it is not running (the first time, or after a fault), then runs the request.
    func startingIfNeeded(_ request: ExecutionRequest, timeout: Double, maxElements: Int) -> Result<WorkerOutcome, WorkerStartError> {
        do { try ensureRunning() } catch { return .failure(error) }
        return .success(execute(request, timeout: timeout, maxElements: maxElements))
    }

    /// Starts the worker if it is not running.
    func ensureRunning() throws(WorkerStartError) {
        guard !isRunning else { return }
        do { try start() } catch let error as WorkerStartError { throw error } catch {
            throw WorkerStartError(description: "\(error)")
        }
    }

    /// Sends a request without waiting for its reply (`collect` waits); false when the worker is gone.
    func submit(_ request: ExecutionRequest) -> Bool {
        send(Data(WorkerProtocol.encode(request).utf8))
    }

    /// Waits for the reply to a submitted request until `deadline`.
    func collect(_ request: ExecutionRequest, deadline: Date, timeout: Double, maxElements: Int) -> WorkerOutcome {
        guard isRunning else { return .died(WorkerDeath(signal: nil, exitStatus: nil, stderrTail: "")) }
        // A reply's text is at most a few times its elements' bytes (base64 and the JSON around it).
        let maxBytes = max(1 << 20, min(Int.max / 64, maxElements) * 24)
        switch readLine(deadline: deadline, maxBytes: maxBytes) {
        case .line(let reply):
            do { return .answered(try WorkerProtocol.decodeReply(reply, id: request.id, maxElements: maxElements)) } catch {
                stop()
                return .violated("\(error)")
            }
        case .timeout:
            stop()
            return .timedOut(seconds: timeout)
        case .tooLong:
            stop()
            return .violated("the reply is longer than \(maxBytes) bytes, more than the element limit allows")
        case .closed:
            return .died(reap())
        }
    }

    private func send(_ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.send(channel, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
    }

    private enum ReadResult { case line(Data), timeout, closed, tooLong }

    /// Reads up to a newline from the channel, draining standard error meanwhile.
    private func readLine(deadline: Date, maxBytes: Int) -> ReadResult {
        var chunk = readChunk()
        var scanned = 0
        while true {
            if let offset = newlineOffset(buffer, from: scanned) {
                let nl = buffer.startIndex + offset
                let line = buffer[buffer.startIndex..<nl]
                let result = Data(line)
                buffer.removeSubrange(buffer.startIndex...nl)
                return .line(result)
            }
            scanned = buffer.count
            if buffer.count > maxBytes { return .tooLong }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return .timeout }
            var fds = [pollfd(fd: channel, events: Int16(POLLIN), revents: 0), pollfd(fd: errors, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, errors >= 0 ? 2 : 1, Int32(min(remaining * 1000 + 1, 60_000)))
            if ready < 0 { if errno == EINTR { continue }; return .closed }
            if errors >= 0 && fds[1].revents != 0 { drainErrors(&chunk) }
            if fds[0].revents != 0 {
                let n = read(channel, &chunk, chunk.count)
                if n < 0 { if errno == EINTR || errno == EAGAIN { continue }; return .closed }
                if n == 0 { return .closed }
                buffer.append(contentsOf: chunk[0..<n])
            }
        }
    }

    private func drainErrors(_ chunk: inout [UInt8]) {
        let n = read(errors, &chunk, chunk.count)
        if n <= 0 { close(errors); errors = -1; return }
        stderrTail.append(contentsOf: chunk[0..<n])
        if stderrTail.count > Self.stderrKeep { stderrTail.removeFirst(stderrTail.count - Self.stderrKeep) }
    }

    /// Waits for a worker that closed its output (killing it after a grace period), collects its
    /// last standard-error lines and its status.
    private func reap() -> WorkerDeath {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var status: Int32 = 0
        var waited: pid_t = 0
        let deadline = Date().addingTimeInterval(2)
        while pid > 0 {
            waited = waitpid(pid, &status, WNOHANG)
            if waited == pid || (waited < 0 && errno != EINTR) { break }
            if Date() > deadline { kill(pid, SIGKILL); waited = waitpid(pid, &status, 0); break }
            if errors >= 0 {
                var fds = [pollfd(fd: errors, events: Int16(POLLIN), revents: 0)]
                if poll(&fds, 1, 20) > 0 { drainErrors(&chunk) }
            } else {
                usleep(10_000)
            }
        }
        // What the worker wrote last, up to the end of its standard error.
        let drainUntil = Date().addingTimeInterval(0.5)
        while errors >= 0 && Date() < drainUntil {
            var fds = [pollfd(fd: errors, events: Int16(POLLIN), revents: 0)]
            if poll(&fds, 1, 50) <= 0 { break }
            drainErrors(&chunk)
        }
        var death = WorkerDeath(signal: nil, exitStatus: nil, stderrTail: String(decoding: stderrTail, as: UTF8.self))
        if waited == pid {
            let low = status & 0x7f
            if low == 0 { death.exitStatus = (status >> 8) & 0xff } else if low != 0x7f { death.signal = low }
        }
        pid = 0
        closeChannels()
        return death
    }

    /// Kills the worker, if running, and closes its channels.
    func stop() {
        if pid > 0 {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            pid = 0
        }
        closeChannels()
    }

    private func closeChannels() {
        if channel >= 0 { close(channel); channel = -1 }
        if errors >= 0 { close(errors); errors = -1 }
        buffer.removeAll()
    }
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

    /// Starts one worker now, so that a command that cannot start is an error before any case runs.
    func warmUp() throws {
        let worker = WorkerProcess(command: command)
        try worker.start()
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
        for w in all { w.stop() }
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
    public static func serve(registry: KernelRegistry, name: String, finiteDifferences: Bool = true,
                             input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO) -> Int32 {
        writeAll(output, WorkerProtocol.hello(name, kernels: registry.names))
        var buffer = Data()
        var chunk = readChunk()
        while true {
            if let offset = newlineOffset(buffer, from: 0) {
                let nl = buffer.startIndex + offset
                let line = Data(buffer[buffer.startIndex..<nl])
                buffer.removeSubrange(buffer.startIndex...nl)
                var request: ExecutionRequest
                do { request = try WorkerProtocol.decodeRequest(line, registry: registry) } catch {
                    writeAll(STDERR_FILENO, "rnnspec worker: \(error)\n")
                    return 2
                }
                if !finiteDifferences { request.gradcheck = nil }
                let answer: WorkerProtocol.Answer
                do { answer = .outputs(try Execution.run(request, registry: registry)) } catch { answer = .failure(error) }
                writeAll(output, WorkerProtocol.encode(answer, id: request.id))
                continue
            }
            let n = read(input, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return 0 }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }
}
