import Foundation

/// One key from the terminal, without echo or line editing (Ctrl-C arrives as a key, so the
/// terminal is always restored); nil at the end of input.
func readTerminalKey() -> Character? {
    var saved = termios()
    let isTerminal = tcgetattr(STDIN_FILENO, &saved) == 0
    if isTerminal {
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        tcsetattr(STDIN_FILENO, TCSANOW, &raw)
    }
    defer { if isTerminal { tcsetattr(STDIN_FILENO, TCSANOW, &saved) } }
    var byte: UInt8 = 0
    while true {
        let n = read(STDIN_FILENO, &byte, 1)
        if n == 1 { return Character(Unicode.Scalar(byte)) }
        if n < 0 && errno == EINTR { continue }
        return nil
    }
}
