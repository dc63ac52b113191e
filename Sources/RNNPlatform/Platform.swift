// The one place that names the C library module: Glibc (Linux), Musl (static Linux SDK) or Darwin
// (macOS). Targets that call the C library (`exp`, `log1p`, `openat`, `posix_spawn`, `setrlimit`, ...)
// import this module instead of choosing one themselves.
#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Musl)
@_exported import Musl
#elseif canImport(Darwin)
@_exported import Darwin
#else
#error("rnnspec needs a C library module: Glibc, Musl or Darwin")
#endif
