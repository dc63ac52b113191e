import Foundation
import RNNSpec

// MARK: - review, accept, reject

extension FrontEnd {
    /// The review items of the pending goldens the arguments name (all when none), in id order.
    func reviewItems(_ arguments: [String], limits: LoadLimits = LoadLimits()) throws -> [ReviewItem] {
        try project.validate(for: .check)
        let review = Review(project: project, registry: registry, limits: limits)
        return try review.select(arguments).map { try review.item($0) }
    }

    /// `rnnspec review` when standard input is not a terminal: prints every item and says how to
    /// decide (`rnnspec accept ID`, `rnnspec reject ID`); decides nothing.
    func reviewListing(_ arguments: [String]) throws -> ExitStatus {
        let items = try reviewItems(arguments)
        if items.isEmpty {
            stdout("no pending goldens (`rnnspec run --record pending` writes them)\n"); return .success
        }
        for (k, item) in items.enumerated() { stdout("(\(k + 1) of \(items.count)) " + item.text()) }
        stdout(
            """
            standard input is not a terminal, so nothing was decided: \
            `rnnspec accept ID...` (or --all) makes a pending golden the golden, \
            `rnnspec reject ID...` (or --all) deletes the pending file\n
            """)
        return .success
    }

    /// `rnnspec accept [ID...|--all]`: each pending golden is renamed over its golden (atomically).
    func accept(_ arguments: [String], all: Bool) throws -> ExitStatus {
        try decide(arguments, all: all, verb: "accept") { review, id in
            try review.accept(id)
            let store = project.goldenStore
            return "accepted \(id.escapedForDisplay): \(store.display(store.url(for: id)).escapedForDisplay)"
        }
    }

    /// `rnnspec reject [ID...|--all]`: each pending file is deleted; the golden is left as it is.
    func reject(_ arguments: [String], all: Bool) throws -> ExitStatus {
        try decide(arguments, all: all, verb: "reject") { review, id in
            try review.reject(id)
            let store = project.goldenStore
            return
                "rejected \(id.escapedForDisplay): deleted \(store.display(store.pendingURL(for: id)).escapedForDisplay)"
        }
    }

    func decide(_ arguments: [String], all: Bool, verb: String, _ act: (Review, String) throws -> String) throws
        -> ExitStatus
    {
        try refuseUnderCI("`\(verb)`")
        if all == !arguments.isEmpty {
            throw UsageError(
                all
                    ? "give case ids or --all, not both"
                    : "\(verb) which pending goldens? give their case ids (`rnnspec review` lists them) or --all")
        }
        try project.validate(for: .check)
        let review = Review(project: project, registry: registry)
        let ids = try review.select(arguments)
        if ids.isEmpty { stdout("no pending goldens\n"); return .success }
        var failed = 0
        for id in ids {
            do { stdout(try act(review, id) + "\n") } catch {
                failed += 1
                stderr("\(error)\n")
            }
        }
        return failed == 0 ? .success : .failures
    }
}

extension FrontEnd {
    /// `rnnspec review` on a terminal: each pending golden the arguments name (all when none),
    /// decided with one key from `readKey` (nil ends the review): a accept, r reject, s skip, q quit,
    /// anything else shows the keys. Ends with the counts; exit 1 when an accept or reject failed.
    func review(_ arguments: [String], readKey: () -> Character?) throws -> ExitStatus {
        try refuseUnderCI("`review`")
        let items = try reviewItems(arguments)
        if items.isEmpty {
            stdout("no pending goldens (`rnnspec run --record pending` writes them)\n"); return .success
        }
        let review = Review(project: project, registry: registry)
        let help =
            "a accept (the pending file replaces the golden)   r reject (delete the pending file)   s skip   q quit   ? help\n"
        var counts = (accepted: 0, rejected: 0, skipped: 0)
        var failed = false
        loop: for (k, item) in items.enumerated() {
            stdout("\n(\(k + 1) of \(items.count)) " + item.text())
            while true {
                stdout("accept, reject, skip or quit? [a/r/s/q/?] ")
                guard let key = readKey() else { stdout("\n"); break loop }
                stdout((key.isASCII && key >= " " ? String(key) : "") + "\n")
                do {
                    switch key {
                    case "a", "A":
                        try review.accept(item.id)
                        counts.accepted += 1
                        stdout("accepted: \(item.goldenPath)\n")
                    case "r", "R":
                        try review.reject(item.id)
                        counts.rejected += 1
                        stdout("rejected: deleted \(item.pendingPath)\n")
                    case "s", "S", "\r", "\n", " ":
                        counts.skipped += 1
                    case "q", "Q", "\u{03}", "\u{04}", "\u{1B}":
                        break loop
                    default:
                        stdout(help)
                        continue
                    }
                } catch {
                    failed = true
                    stderr("\(error)\n")
                }
                continue loop
            }
        }
        let left = items.count - counts.accepted - counts.rejected
        stdout("accepted \(counts.accepted), rejected \(counts.rejected), \(left) still pending\n")
        return failed ? .failures : .success
    }
}
