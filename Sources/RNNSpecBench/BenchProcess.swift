import Foundation
import RNNSpec
import RNNPlatform

/// A finished child process: its exit status, wall time and peak resident memory.
package struct ChildRun: Sendable {
    package var status: Int32
    package var seconds: Double
    /// Peak resident set size of the child in bytes (`wait4`'s `ru_maxrss`).
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
package func runChild(_ executable: String, _ arguments: [String], scratch: URL,
                     environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ChildRun {
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
    while wait4(pid, &status, 0, &usage) < 0 {
        guard errno == EINTR else { throw UsageError("waiting for \(executable): \(String(cString: strerror(errno)))") }
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
    return ChildRun(status: exitCode, seconds: seconds, peakBytes: peak, output: output)
}
