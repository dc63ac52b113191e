// Whether this CPU can run this target's code, asked before any of it runs.
//
// On x86-64 the target is compiled with `-target-cpu haswell` (Package.swift): any function here may use
// AVX2 and FMA instructions, and with AVX enabled even plain moves are VEX-encoded, so no code compiled in
// this module may run on a CPU without them, the probe included. The probe is therefore
// `@_alwaysEmitIntoClient`: its body is compiled into the caller (RNNKernels, baseline target) and never
// into this module.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether this target's kernels can run on this CPU: on x86-64 the CPU must have AVX2 and FMA, read from
/// the `flags` line of /proc/cpuinfo (false where it cannot be read, as on macOS on Intel); on arm64 the
/// kernels are plain NEON, always true. Reads the file on every call: callers keep the answer.
@_alwaysEmitIntoClient
public func simdKernelsSupported() -> Bool {
    #if arch(arm64)
    return true
    #elseif arch(x86_64) && os(Linux)
    let flags = cpuFlags()
    return flags.contains("avx2") && flags.contains("fma")
    #else
    return false
    #endif
}

/// The words of the first `flags` line of /proc/cpuinfo (empty if it cannot be read).
@_alwaysEmitIntoClient
public func cpuFlags() -> Set<String> {
    guard let file = fopen("/proc/cpuinfo", "r") else { return [] }
    defer { fclose(file) }
    var line: UnsafeMutablePointer<CChar>? = nil
    var capacity = 0
    defer { free(line) }
    while getline(&line, &capacity, file) > 0 {
        guard let line else { break }
        let text = String(cString: line)
        if text.hasPrefix("flags") {
            return Set(text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init))
        }
    }
    return []
}
