import Foundation

/// `url.standardizedFileURL.path`, without Foundation's work when the path is already standard:
/// absolute, with no empty, `.` or `..` component and no trailing slash (then standardizing
/// changes nothing). Any other path goes through Foundation.
func standardizedPath(_ url: URL) -> String {
    let path = url.path
    return isStandardAbsolutePath(path) ? path : url.standardizedFileURL.path
}

/// Whether `a` sorts before `b` in the order of their UTF-8 bytes: what
/// `a.utf8.lexicographicallyPrecedes(b.utf8)` says, by one `memcmp` on the strings' contiguous bytes
/// (the generic comparison walked the views byte by byte: 1.3% of a 2,000-case run, in sorting its files).
func utf8Precedes(_ a: String, _ b: String) -> Bool {
    var a = a, b = b
    return a.withUTF8 { x in
        b.withUTF8 { y in
            let n = min(x.count, y.count)
            if n > 0 {
                let order = memcmp(x.baseAddress!, y.baseAddress!, n)
                if order != 0 { return order < 0 }
            }
            return x.count < y.count
        }
    }
}

/// Whether `path` is absolute and standardizing it would change nothing: no `//`, no `.` or
/// `..` component, no trailing slash (the root `/` itself is standard).
func isStandardAbsolutePath(_ path: String) -> Bool {
    var path = path
    return path.withUTF8 { b in
        guard let first = b.first, first == 0x2F else { return false }
        if b.count == 1 { return true }
        if b[b.count - 1] == 0x2F { return false }
        // Each component starts after a slash: refuse "", "." and "..".
        var i = 0
        while i < b.count {
            // b[i] is a slash.
            let start = i + 1
            var end = start
            while end < b.count && b[end] != 0x2F { end += 1 }
            let n = end - start
            if n == 0 { return false }
            if n == 1 && b[start] == 0x2E { return false }
            if n == 2 && b[start] == 0x2E && b[start + 1] == 0x2E { return false }
            i = end
        }
        return true
    }
}

/// The offset of the first line feed in `data` at or after `start`, found with `memchr`
/// (indexing `Data` byte by byte checks exclusive access on every byte).
func newlineOffset(_ data: Data, from start: Int) -> Int? {
    data.withUnsafeBytes { raw -> Int? in
        guard start < raw.count, let base = raw.baseAddress else { return nil }
        guard let hit = memchr(base + start, 0x0A, raw.count - start) else { return nil }
        return base.distance(to: UnsafeRawPointer(hit))
    }
}

/// A 64 KiB buffer for `read(2)`, not zero-filled: only the bytes a read returns are used.
func readChunk() -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: 1 << 16) { _, count in count = 1 << 16 }
}
