import CYaml
import Foundation
import RNNKernels
import Yams

// MARK: Suggestions for words of any length

/// `closestMatch(to:in:)` for a word of any length. A word longer than twice the longest
/// candidate plus 4 is beyond its edit-distance threshold from every candidate, so it is not
/// compared: the distance costs |word|·|candidate| steps, and a key or kernel name of a few
/// megabytes took minutes.
func suggestion(for word: String, in candidates: [String]) -> String? {
    let longest = candidates.map(\.count).max() ?? 0
    guard word.unicodeScalars.count <= 2 * longest + 4 else { return nil }
    return closestMatch(to: word, in: candidates)
}

/// `closestMatches(to:in:)` for a word of any length. Beyond twice the longest candidate plus
/// 6, only candidates the word starts with can match, and their distance is the difference in
/// length (deletions), so the result is the same without computing any distance.
func suggestions(for word: String, in candidates: [String], limit: Int = 3) -> [String] {
    let longest = candidates.map { $0.unicodeScalars.count }.max() ?? 0
    let length = word.unicodeScalars.count
    guard length > 2 * longest + 6 else { return closestMatches(to: word, in: candidates, limit: limit) }
    let lower = word.lowercased()
    var scored = candidates.filter { word.hasPrefix($0) && lower.hasPrefix($0.lowercased()) }.map { (name: $0, distance: length - $0.unicodeScalars.count) }
    scored.sort { a, b in a.distance != b.distance ? a.distance < b.distance : a.name < b.name }
    guard let best = scored.first?.distance else { return [] }
    return scored.filter { $0.distance <= best + 1 }.prefix(limit).map { $0.name }
}
