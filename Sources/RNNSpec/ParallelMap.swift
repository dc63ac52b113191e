import Foundation
import RNNKernels

/// Maps `body` over `items` on up to `jobs` threads, keeping the order.
func parallelMap<T: Sendable, R: Sendable>(
    _ items: [T], jobs: Int, progress: (@Sendable (Int, Int) -> Void)?,
    _ body: @Sendable @escaping (T) -> R
) -> [R] {
    let box = ParallelBox<R>(items.count)
    let workers = max(1, min(jobs, items.count))
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
        while true {
            box.lock.lock()
            let k = box.next
            box.next += 1
            box.lock.unlock()
            if k >= items.count { return }
            let r = body(items[k])
            box.lock.lock()
            box.results[k] = r
            box.done += 1
            let done = box.done
            box.lock.unlock()
            progress?(done, items.count)
        }
    }
    return box.results.map { $0! }
}

/// Shared state of `parallelMap`'s workers, guarded by its lock.
final class ParallelBox<R>: @unchecked Sendable {
    var results: [R?]
    var next = 0
    var done = 0
    let lock = NSLock()
    init(_ n: Int) { results = Array(repeating: nil, count: n) }

    /// The next index to work on, nil when all are taken.
    func take() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard next < results.count else { return nil }
        next += 1
        return next - 1
    }

    /// Stores a result; returns how many are done.
    func store(_ k: Int, _ r: R) -> Int {
        lock.lock(); defer { lock.unlock() }
        results[k] = r
        done += 1
        return done
    }
}

/// Counts failed cases for `--max-failures`, from any thread.
final class FailureCount: @unchecked Sendable {
    private let limit: Int?
    private var count = 0
    private let lock = NSLock()

    init(limit: Int?) { self.limit = limit }

    var reached: Bool {
        guard let limit else { return false }
        lock.lock(); defer { lock.unlock() }
        return count >= limit
    }

    func add() { lock.lock(); count += 1; lock.unlock() }
}
