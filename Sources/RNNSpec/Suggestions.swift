import Foundation

// MARK: Suggestions for a word that names nothing

/// The names among `candidates` that `word` is likely a slip for, closest first, at most `limit`
/// of them: the one heuristic behind every "did you mean" (case keys, kernels, params, inputs,
/// outputs, choices, NumPy methods, archive arrays).
///
/// A candidate is close when its edit distance to `word` (ignoring case) is at most a third of
/// its length (at least 2), or when one of the two starts with the other. Only names about as
/// close as the closest one are kept (distance at most one more), so a clear favourite is named
/// alone. A word longer than twice the longest candidate plus 6 is beyond every distance
/// threshold, so only candidates it starts with can match and their distance is the difference
/// in length: the result is the same without computing any distance (a distance costs
/// |word|·|candidate| steps, and a key or kernel name of a few megabytes took minutes).
func closestMatches(to word: String, in candidates: [String], limit: Int = 3) -> [String] {
    let longest = candidates.map { $0.unicodeScalars.count }.max() ?? 0
    let length = word.unicodeScalars.count
    guard length > 2 * longest + 6 else { return rankedMatches(to: word, in: candidates, limit: limit) }
    let lower = word.lowercased()
    let scored = candidates.filter { lower.hasPrefix($0.lowercased()) }.map {
        (name: $0, distance: length - $0.unicodeScalars.count)
    }
    return closest(scored, limit: limit)
}

/// `closestMatches(to:in:limit:)` computing every distance (no shortcut for long words).
func rankedMatches(to word: String, in candidates: [String], limit: Int = 3) -> [String] {
    let lower = word.lowercased()
    var scored: [(name: String, distance: Int)] = []
    for candidate in candidates {
        let other = candidate.lowercased()
        let d = editDistance(lower, other)
        if d <= max(2, candidate.unicodeScalars.count / 3) || other.hasPrefix(lower) || lower.hasPrefix(other) {
            scored.append((candidate, d))
        }
    }
    return closest(scored, limit: limit)
}

/// The names about as close as the closest one, closest first (then by name), at most `limit`.
private func closest(_ scored: [(name: String, distance: Int)], limit: Int) -> [String] {
    let sorted = scored.sorted { a, b in a.distance != b.distance ? a.distance < b.distance : a.name < b.name }
    guard let best = sorted.first?.distance else { return [] }
    return sorted.filter { $0.distance <= best + 1 }.prefix(limit).map { $0.name }
}

/// The "did you mean" part of a message about `word`, which names none of `candidates`:
/// `; did you mean 'x'?` (with `limit` above 1, up to that many: `'x' or 'y'`), or an empty
/// string when no candidate is close. Every "unknown X" message is built with it.
func didYouMean(_ word: String, in candidates: [String], limit: Int = 1) -> String {
    let near = closestMatches(to: word, in: candidates, limit: limit)
    return near.isEmpty ? "" : "; did you mean \(listPhrase(near.map { "'\($0)'" }))?"
}

/// Levenshtein distance between two strings (by Unicode scalar).
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let substitution: Int = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            let insertion: Int = current[j - 1] + 1
            let deletion: Int = previous[j] + 1
            current[j] = Swift.min(substitution, insertion, deletion)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}

/// "a, b or c" for messages.
func listPhrase(_ items: [String], conjunction: String = "or") -> String {
    switch items.count {
    case 0: return "(none)"
    case 1: return items[0]
    default: return items.dropLast().joined(separator: ", ") + " \(conjunction) " + items.last!
    }
}
