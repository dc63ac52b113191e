import Foundation
import RNNPlatform

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
    /// Whether the channel takes `recv` (a socket), so that a reply already there is read without
    /// waiting in `poll` first.
    private var channelIsSocket = true
    /// The buffer replies are read into (`readLine`).
    private var readBuffer: [UInt8] = []
    private var stderrTail = Data()
    /// What the worker said in its hello: its name and the kernels it implements, if it listed them.
    private(set) var name = ""
    private(set) var kernels: Set<String>? = nil
    private static let stderrKeep = 8192

    init(command: WorkerCommand) { self.command = command }

    deinit { stop() }

    var isRunning: Bool { pid > 0 }

    /// The worker's process ID while it runs, 0 otherwise.
    var processID: pid_t { pid }

    /// Starts the worker and waits for its hello line.
    func start(timeout: Double = 60) throws {
        try spawn()
        try awaitHello(timeout: timeout)
    }

    /// Starts the worker's process without waiting for it to say hello (`awaitHello`).
    func spawn() throws {
        stop()
        var io: [Int32] = [-1, -1], err: [Int32] = [-1, -1]
        let kind = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, kind, 0, &io) == 0, socketpair(AF_UNIX, kind, 0, &err) == 0 else {
            throw WorkerStartError(
                description: "cannot create the worker's channels: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, io[1], 0)
        posix_spawn_file_actions_adddup2(&actions, io[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        var attributes = ChildSignals.attributes()
        defer { posix_spawnattr_destroy(&attributes) }

        let argv = ([command.executable] + command.arguments).map { strdup($0) } + [nil]
        let envp = spawnEnvironment(command.environment) + [nil]
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
    }

    /// Waits for the hello line of a worker `spawn` started.
    func awaitHello(timeout: Double = 60) throws {
        switch readLine(deadline: Date().addingTimeInterval(timeout), maxBytes: 1 << 16) {
        case .line(let line):
            do { (name, kernels) = try WorkerProtocol.decodeHello(line) } catch {
                let e = WorkerStartError(description: "`\(command.display)` did not start as a worker: \(error)")
                stop()
                throw e
            }
        case .timeout:
            stop()
            throw WorkerStartError(
                description: "`\(command.display)` said nothing within \(Int(timeout)) s of starting")
        case .closed, .tooLong:
            let death = reap()
            let words =
                death.lastWords.isEmpty
                ? "" : "; its last standard-error lines: " + death.lastWords.joined(separator: " | ")
            throw WorkerStartError(description: "`\(command.display)` did not start: \(death)\(words)")
        }
    }

    /// Sends one request and waits for its reply, at most `timeout` seconds.
    func execute(_ request: ExecutionRequest, timeout: Double, maxElements: Int) -> WorkerOutcome {
        guard submit(request) else { return .died(reap()) }
        return collect(
            request, deadline: Date().addingTimeInterval(timeout), timeout: timeout, maxElements: maxElements)
    }

    /// Starts the worker when it is not running (the first time, or after a fault), then runs the request.
    func startingIfNeeded(_ request: ExecutionRequest, timeout: Double, maxElements: Int) -> Result<
        WorkerOutcome, WorkerStartError
    > {
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
        send(Data(WorkerProtocol.encodeBytes(request)))
    }

    /// Waits for the reply to a submitted request until `deadline`.
    func collect(_ request: ExecutionRequest, deadline: Date, timeout: Double, maxElements: Int) -> WorkerOutcome {
        guard isRunning else { return .died(WorkerDeath(signal: nil, exitStatus: nil, stderrTail: "")) }
        // A reply's text is at most a few times its elements' bytes (base64 and the JSON around it).
        let maxBytes = max(1 << 20, min(Int.max / 64, maxElements) * 24)
        switch readLine(deadline: deadline, maxBytes: maxBytes) {
        case .line(let reply):
            do {
                return .answered(try WorkerProtocol.decodeReply(reply, id: request.id, maxElements: maxElements))
            } catch {
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
                let n = RNNPlatform.send(channel, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
    }

    private enum ReadResult { case line(Data), timeout, closed, tooLong }

    /// Reads up to a newline from the channel, draining standard error meanwhile.
    private func readLine(deadline: Date, maxBytes: Int) -> ReadResult {
        // One buffer for the worker's life: a 64 KiB block allocated and freed per reply made glibc
        // consolidate its free lists every time (a free that large triggers it).
        if readBuffer.isEmpty { readBuffer = readChunk() }
        var chunk: [UInt8] = []
        swap(&chunk, &readBuffer)
        defer { swap(&chunk, &readBuffer) }
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
            if channelIsSocket {
                // The reply is usually there already (the case after it was loaded meanwhile): one
                // system call instead of `poll` and `read`.
                let n = recv(channel, &chunk, chunk.count, Int32(MSG_DONTWAIT))
                if n > 0 {
                    buffer.append(contentsOf: chunk[0..<n])
                    continue
                }
                if n == 0 { return .closed }
                if errno == ENOTSOCK { channelIsSocket = false }
            }
            var fds = [
                pollfd(fd: channel, events: Int16(POLLIN), revents: 0),
                pollfd(fd: errors, events: Int16(POLLIN), revents: 0),
            ]
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
        var chunk = readChunk()
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

    /// Stops the worker as `stop` does, and reaps it on another thread: a run that has finished does not
    /// wait the millisecond the kernel takes to take the process down.
    func stopReapingLater() {
        if pid > 0 {
            let child = pid
            kill(child, SIGKILL)
            pid = 0
            DispatchQueue.global().async {
                var status: Int32 = 0
                while waitpid(child, &status, 0) < 0 && errno == EINTR {}
            }
        }
        closeChannels()
    }

    private func closeChannels() {
        if channel >= 0 { close(channel); channel = -1 }
        if errors >= 0 { close(errors); errors = -1 }
        buffer.removeAll()
    }
}

/// The path of the running executable, which the worker processes run (`/proc/self/exe` on Linux,
/// `CommandLine.arguments[0]` elsewhere).
package func currentExecutablePath() -> String {
    #if os(Linux)
    var buffer = [CChar](repeating: 0, count: 4097)
    let n = readlink("/proc/self/exe", &buffer, 4096)
    if n > 0 { return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
    #endif
    return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
}

/// The signal state a child starts with, whichever thread starts it.
package enum ChildSignals {
    /// Spawn attributes that give the child an empty signal mask and SIGPIPE's default action.
    ///
    /// `posix_spawn` passes on the calling thread's mask, and Dispatch's and Swift concurrency's threads
    /// block nearly every signal: a child started from one would not see SIGCHLD (a shell's `wait` then
    /// never returns), SIGTERM or SIGINT. A parent that ignores SIGPIPE must not pass that on either.
    /// Destroy the result with `posix_spawnattr_destroy`.
    package static func attributes() -> posix_spawnattr_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        return attributes
    }
}

/// This process's environment with `extra` set (each replacing a variable of its name), as `KEY=value`
/// C strings for `posix_spawn`, copied from `environ` (building Foundation's dictionary of it took a
/// worker's start about a millisecond).
func spawnEnvironment(_ extra: [String: String]) -> [UnsafeMutablePointer<CChar>?] {
    let replaced = extra.keys.map { Array(($0 + "=").utf8CString.dropLast()) }
    var out: [UnsafeMutablePointer<CChar>?] = []
    var entry = environ
    while let pointer = entry.pointee {
        let isReplaced = replaced.contains { key in strncmp(pointer, key, key.count) == 0 }
        if !isReplaced { out.append(strdup(pointer)) }
        entry += 1
    }
    for (key, value) in extra.sorted(by: { $0.key < $1.key }) { out.append(strdup("\(key)=\(value)")) }
    return out
}
