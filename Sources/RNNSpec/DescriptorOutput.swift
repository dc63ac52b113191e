import Foundation

/// Writes text to a file descriptor; a failed write (a full disk under `> report.txt`) loses
/// the text but never crashes the run (FileHandle.write would trap).
package func writeAll(_ fd: Int32, _ text: String) {
    writeAll(fd, Array(text.utf8))
}

/// Writes all of `bytes` to `fd`, retrying short writes and interruptions.
package func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 { if errno == EINTR { continue }; return }
            offset += n
        }
    }
}
