import Foundation
import RNNPlatform
import RNNSpec

/// A finished child process: its exit status, wall time and peak resident memory.
package struct ChildRun: Sendable {
    package var status: Int32
    package var seconds: Double
    /// Peak resident memory in bytes: the sum over the child and its descendants of each one's
    /// peak resident set, polled from /proc; `wait4`'s `ru_maxrss` only where /proc gives nothing
    /// (on Linux a spawned child's `ru_maxrss` includes its parent's resident set, copied at exec).
    package var peakBytes: Int
    /// Its standard output.
    package var output: String
}

/// The path of the running executable (`/proc/self/exe` on Linux, `CommandLine.arguments[0]` elsewhere).
package func currentExecutablePath() -> String {
    #if os(Linux)
    var buffer = [CChar](repeating: 0, count: 4097)
    let n = readlink("/proc/self/exe", &buffer, 4096)
    if n > 0 { return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
    #endif
    return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
}

/// Runs `executable` with `arguments`, its standard output and error going to files in
/// `scratch`, and measures it with `wait4`: wall time from spawn to exit, and `ru_maxrss`.
package func runChild(
    _ executable: String, _ arguments: [String], scratch: URL,
    environment: [String: String] = ProcessInfo.processInfo.environment
) throws -> ChildRun {
    let outPath = scratch.appendingPathComponent("child-stdout.txt").path
    let errPath = scratch.appendingPathComponent("child-stderr.txt").path
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

    let argv = ([executable] + arguments).map { strdup($0) }
    let envp = environment.map { strdup("\($0.key)=\($0.value)") }
    defer { (argv + envp).forEach { free($0) } }
    var cArgs = argv + [nil]
    var cEnv = envp + [nil]

    var pid: pid_t = 0
    let start = DispatchTime.now().uptimeNanoseconds
    let rc = posix_spawn(&pid, executable, &actions, nil, &cArgs, &cEnv)
    guard rc == 0 else { throw UsageError("cannot start \(executable): \(String(cString: strerror(rc)))") }
    var status: Int32 = 0
    var usage = rusage()
    // Every few milliseconds until it exits: the sum of the peaks of the child and its own
    // children (rnnspec run's worker processes), which wait4's ru_maxrss (the largest single
    // process) does not give.
    var treePeak = 0
    while true {
        let waited = wait4(pid, &status, WNOHANG, &usage)
        if waited == pid { break }
        if waited < 0 {
            guard errno == EINTR else {
                throw UsageError("waiting for \(executable): \(String(cString: strerror(errno)))")
            }
            continue
        }
        treePeak = max(treePeak, processTreePeakBytes(pid))
        usleep(2_000)
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    // WIFEXITED / WEXITSTATUS, spelled out (the macros are not imported).
    let exitCode: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    #if os(Linux)
    let peak = Int(usage.ru_maxrss) * 1024
    #else
    let peak = Int(usage.ru_maxrss)
    #endif
    let output = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    return ChildRun(status: exitCode, seconds: seconds, peakBytes: treePeak > 0 ? treePeak : peak, output: output)
}

/// The sum of the peak resident set sizes (`VmHWM`) of a process and its descendants, in bytes,
/// from /proc (0 where /proc is not there).
func processTreePeakBytes(_ pid: pid_t) -> Int {
    #if os(Linux)
    func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }
    var total = 0
    var pending = [pid]
    var seen = Set<pid_t>()
    while let p = pending.popLast() {
        guard seen.insert(p).inserted, let status = read("/proc/\(p)/status") else { continue }
        if let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kb = Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
        {
            total += kb * 1024
        }
        for task in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(p)/task")) ?? [] {
            for child in (read("/proc/\(p)/task/\(task)/children") ?? "").split(separator: " ") {
                if let c = pid_t(child.trimmingCharacters(in: .whitespacesAndNewlines)) { pending.append(c) }
            }
        }
    }
    return total
    #else
    return 0
    #endif
}
