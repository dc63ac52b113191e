import Foundation

/// Writes text to a file descriptor; a failed write (a full disk under `> report.txt`) loses
/// the text but never crashes the run (FileHandle.write would trap).
package func writeAll(_ fd: Int32, _ text: String) {
    var bytes = Array(text.utf8)
    bytes.withUnsafeMutableBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 { if errno == EINTR { continue }; return }
            offset += n
        }
    }
}
