import Foundation
import RNNSpec

/// How a run is shown, as `DisplayFlags` decides it from the flags and the terminal.
struct DisplayOptions: Sendable {
    /// Result kinds in colour (`--color`, `NO_COLOR`).
    var color = false
    /// A progress line (counts and elapsed time) on standard error, redrawn in place.
    var progress = false
    /// Seconds before the progress line first appears (a quick run shows none).
    var progressDelay = 0.5

    /// Colour for result kinds and the progress line, both off by default.
    init(color: Bool = false, progress: Bool = false) {
        self.color = color
        self.progress = progress
    }
}

/// The text report as a run goes: each case that did not pass (every case with `verbose`) is
/// written to standard output as soon as its result is known, piped or not, headed with its
/// position among the selected files in case-id order (`FAIL: id (3 of 41)`; without the
/// position when `--tag`/`--exclude-tag` select after loading), and on a terminal a
/// progress line on standard error counts the results so far with the elapsed time. Called from
/// the runner's threads; one lock orders the writes, and the progress line is cleared before a
/// result is written and drawn again after it.
final class LiveReport: @unchecked Sendable {
    let display: DisplayOptions
    let verbose: Bool
    let streaming: Bool
    let totalKnown: Bool
    let stdout: @Sendable (String) -> Void
    let stderr: @Sendable (String) -> Void
    private let start = Date()
    private var counts: [Status: Int] = [:]
    private var done = 0
    private var files = 0
    private var lastDraw = Date.distantPast
    private var shown = false
    private let lock = NSLock()
    /// Redraws the progress line while a slow case runs, so that the elapsed time moves.
    private var ticker: DispatchSourceTimer? = nil

    init(
        display: DisplayOptions, verbose: Bool, streaming: Bool, totalKnown: Bool,
        stdout: @escaping @Sendable (String) -> Void, stderr: @escaping @Sendable (String) -> Void
    ) {
        self.display = display
        self.verbose = verbose
        self.streaming = streaming
        self.totalKnown = totalKnown
        self.stdout = stdout
        self.stderr = stderr
        if display.progress {
            let timer = DispatchSource.makeTimerSource(queue: .global())
            timer.schedule(deadline: .now() + .milliseconds(250), repeating: .milliseconds(250))
            timer.setEventHandler { [weak self] in self?.tick() }
            timer.resume()
            ticker = timer
        }
    }

    private func tick() {
        lock.lock(); defer { lock.unlock() }
        if ticker != nil { drawProgress(force: false) }
    }

    /// One case's result, the case's position among the selected files and their number.
    func add(_ r: CaseResult, position: Int, files: Int) {
        lock.lock(); defer { lock.unlock() }
        done += 1
        self.files = files
        counts[r.status, default: 0] += 1
        if streaming && r.isReported(verbose: verbose) {
            clearProgress()
            stdout(r.block(position: totalKnown ? position : nil, of: files, color: display.color))
            drawProgress(force: true)
        } else {
            drawProgress(force: false)
        }
    }

    /// `[12/41] 10 PASS, 1 FAIL, 1 NEW  3.2 s`.
    var progressText: String {
        let phrase = Status.allCases.compactMap { s in counts[s].map { "\($0) \(s.colored(display.color))" } }.joined(
            separator: ", ")
        return "[\(done)\(totalKnown ? "/\(files)" : "")] \(phrase)  "
            + String(format: "%.1f s", Date().timeIntervalSince(start))
    }

    private func drawProgress(force: Bool) {
        guard display.progress else { return }
        let now = Date()
        guard now.timeIntervalSince(start) >= display.progressDelay, force || now.timeIntervalSince(lastDraw) > 0.1
        else { return }
        lastDraw = now
        shown = true
        stderr("\r\u{1B}[K" + progressText)
    }

    private func clearProgress() {
        if shown { stderr("\r\u{1B}[K") }
    }

    /// Clears the progress line (before the summary).
    func finish() {
        lock.lock(); defer { lock.unlock() }
        ticker?.cancel()
        ticker = nil
        clearProgress()
        shown = false
    }
}
