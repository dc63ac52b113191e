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
    /// Peak memory of the child and its descendants together, in bytes: the largest, over the polls,
    /// of their private pages summed plus the largest shared set of any one of them (pages they
    /// share, such as the executable's and the C library's, counted once, in full); nil where /proc
    /// has no `smaps_rollup`.
    package var peakGroupBytes: Int?
    /// Its standard output.
    package var output: String
}

/// glibc's `posix_spawn_file_actions_addchdir_np` (2.29 and later), looked up at run time: Swift's Glibc
/// module does not import it. Nil where the C library has none.
let spawnAddChdir: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32)? =
    {
        #if os(Linux)
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(
            symbol,
            to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self)
        #else
        return nil
        #endif
    }()

/// Runs `executable` with `arguments` (in `directory` when given: the caller checks `spawnAddChdir`),
/// its standard output and error going to files in `scratch`, and measures it with `wait4`: wall time from spawn to exit, and the memory of
/// it and its children, polled from /proc every 2 ms; with `measureMemory: false`, the wall time alone,
/// waited for without polling (the poll adds up to 2 ms to a short run).
package func runChild(
    _ executable: String, _ arguments: [String], scratch: URL,
    environment: [String: String] = ProcessInfo.processInfo.environment, directory: URL? = nil,
    measureMemory: Bool = true
) throws -> ChildRun {
    let outPath = scratch.appendingPathComponent("child-stdout.txt").path
    let errPath = scratch.appendingPathComponent("child-stderr.txt").path
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    if let directory {
        guard let addChdir = spawnAddChdir, addChdir(&actions, directory.path) == 0 else {
            throw UsageError("cannot start \(executable) in \(directory.path)")
        }
    }

    let argv = ([executable] + arguments).map { strdup($0) }
    let envp = environment.map { strdup("\($0.key)=\($0.value)") }
    defer { (argv + envp).forEach { free($0) } }
    var cArgs = argv + [nil]
    var cEnv = envp + [nil]

    var pid: pid_t = 0
    let start = DispatchTime.now().uptimeNanoseconds
    var attributes = ChildSignals.attributes()
    defer { posix_spawnattr_destroy(&attributes) }
    let rc = posix_spawn(&pid, executable, &actions, &attributes, &cArgs, &cEnv)
    guard rc == 0 else { throw UsageError("cannot start \(executable): \(String(cString: strerror(rc)))") }
    var status: Int32 = 0
    var usage = rusage()
    // Every few milliseconds until it exits: the sum of the peaks of the child and its own
    // children (rnnspec run's worker processes), which wait4's ru_maxrss (the largest single
    // process) does not give.
    var treePeak = 0
    var treeGroup: Int? = nil
    while true {
        let waited = wait4(pid, &status, measureMemory ? WNOHANG : 0, &usage)
        if waited == pid { break }
        if waited < 0 {
            guard errno == EINTR else {
                throw UsageError("waiting for \(executable): \(String(cString: strerror(errno)))")
            }
            continue
        }
        treePeak = max(treePeak, processTreePeakBytes(pid))
        if let group = processTreeGroupBytes(pid) { treeGroup = max(treeGroup ?? 0, group) }
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
    return ChildRun(
        status: exitCode, seconds: seconds, peakBytes: treePeak > 0 ? treePeak : peak, peakGroupBytes: treeGroup,
        output: output)
}

/// The sum of the peak resident set sizes (`VmHWM`) of a process and its descendants, in bytes,
/// from /proc (0 where /proc is not there).
func processTreePeakBytes(_ pid: pid_t) -> Int {
    processTree(pid).reduce(0) { total, p in
        let status = (try? String(contentsOfFile: "/proc/\(p)/status", encoding: .utf8)) ?? ""
        return total + (procFields(status)["VmHWM"] ?? 0) * 1024
    }
}

/// The memory of a process and its descendants together now, in bytes: their private pages
/// (`Private_Clean` + `Private_Dirty` in `smaps_rollup`) summed, plus the largest shared set
/// (`Shared_Clean` + `Shared_Dirty`) of any one of them, so that a page they all map counts once and
/// in full (not divided among unrelated processes, as the proportional set size would); nil where
/// /proc has no `smaps_rollup`.
func processTreeGroupBytes(_ pid: pid_t) -> Int? {
    var privateKB = 0, sharedKB = 0, measured = false
    for p in processTree(pid) {
        guard let text = try? String(contentsOfFile: "/proc/\(p)/smaps_rollup", encoding: .utf8) else { continue }
        let fields = procFields(text)
        guard let pc = fields["Private_Clean"], let pd = fields["Private_Dirty"], let sc = fields["Shared_Clean"],
            let sd = fields["Shared_Dirty"]
        else { continue }
        measured = true
        privateKB += pc + pd
        sharedKB = max(sharedKB, sc + sd)
    }
    return measured ? (privateKB + sharedKB) * 1024 : nil
}

/// A process and its descendants (from each task's `children` in /proc; only the process
/// where /proc is not there).
func processTree(_ pid: pid_t) -> [pid_t] {
    #if os(Linux)
    var tree: [pid_t] = []
    var pending = [pid]
    var seen = Set<pid_t>()
    while let p = pending.popLast() {
        guard seen.insert(p).inserted else { continue }
        tree.append(p)
        for task in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(p)/task")) ?? [] {
            let children = (try? String(contentsOfFile: "/proc/\(p)/task/\(task)/children", encoding: .utf8)) ?? ""
            for child in children.split(separator: " ") {
                if let c = pid_t(child.trimmingCharacters(in: .whitespacesAndNewlines)) { pending.append(c) }
            }
        }
    }
    return tree
    #else
    return [pid]
    #endif
}

/// The `Name:   123 kB` lines of a /proc file, by name, in kilobytes.
func procFields(_ text: String) -> [String: Int] {
    var fields: [String: Int] = [:]
    for line in text.split(separator: "\n") {
        guard let colon = line.firstIndex(of: ":") else { continue }
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces).split(separator: " ")
        if let first = value.first, let kb = Int(first) { fields[String(line[..<colon])] = kb }
    }
    return fields
}
