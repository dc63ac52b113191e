// Splitting elementwise work over the machine's cores.
//
// Shape legend: n rows of independent work.

import Dispatch

/// The number of threads elementwise loops and split cell steps use: 2, the cores of the machines
/// rnnspec is measured on (more rarely pays for loops this short), or 1 on a single core.
@usableFromInline let elementwiseThreads = Swift.min(2, onlineProcessors)

/// The number of row ranges `forEachRowRange` splits n rows into: up to `elementwiseThreads` when `work` (a
/// count of elementwise operations) is large enough to pay for the hand-off, and never a range of one row
/// out of several, so that a range's product by packed panels runs the kernel a single range's would
/// (the tile kernels, whose sums do not depend on the rows beside them, not the 1-row kernel): the results
/// are the same bits on any number of cores.
@inlinable
func rowRangeCount(_ n: Int, work: Int) -> Int {
    work >= 16_384 && n >= 4 ? Swift.min(elementwiseThreads, n / 2) : 1
}

/// Runs `body` over 0..<n, split into contiguous ranges (`rowRangeCount`, range t the rows
/// t·n/parts ..< (t+1)·n/parts) on up to `elementwiseThreads` threads.
///
/// - Note: `body` must write only to its own rows.
@inlinable
func forEachRowRange(_ n: Int, work: Int, _ body: (Range<Int>) -> Void) {
    let parts = rowRangeCount(n, work: work)
    if parts == 1 { body(0..<n); return }
    withoutActuallyEscaping(body) { body in
        let shared = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: parts) { t in
            shared.value((t * n / parts)..<((t + 1) * n / parts))
        }
    }
}

/// A value handed to other threads whose safety the caller guarantees (disjoint writes).
@usableFromInline
struct UncheckedSendable<Value>: @unchecked Sendable {
    @usableFromInline let value: Value
    @inlinable init(_ value: Value) { self.value = value }
}

/// Runs `body(0)`, …, `body(parts − 1)` at once, one thread each.
///
/// - Note: `body` must write only to what its part owns.
@inlinable
func forEachPart(_ parts: Int, _ body: (Int) -> Void) {
    if parts <= 1 { if parts == 1 { body(0) }; return }
    withoutActuallyEscaping(body) { body in
        let shared = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: parts) { shared.value($0) }
    }
}
