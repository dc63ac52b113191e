import Foundation
import RNNKernels
import Yams

/// YAML spellings that rnnspec writes itself.
enum YAMLText {
    /// Whether a byte stands for itself inside double quotes (YAML's and JSON's): printable ASCII other
    /// than the quote and the backslash, as ids, names and kernels are.
    static func quotesAsIs(_ b: UInt8) -> Bool { b >= 0x20 && b < 0x7F && b != 0x22 && b != 0x5C }

    /// A double-quoted YAML string with escapes, which is also a JSON string literal: `\"`, `\\`,
    /// `\n`, `\t`, `\r`, and `\uXXXX` for the other C0 controls, DEL, the C1 controls (YAML does
    /// not print them; NEL among them), the line separators U+2028 and U+2029, and U+FEFF (which
    /// readers drop as a byte-order mark). The one
    /// quoting of goldens, pending goldens, the worker protocol and `review --json`.
    static func quoted(_ s: String) -> String {
        if s.utf8.allSatisfy(quotesAsIs) { return "\"" + s + "\"" }
        // The same loop as `XMLText.escape` and SVGPlot's `escapeMarkup`, kept apart on purpose:
        // each format escapes a different set of characters, in its own syntax.
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                // Control characters, and the line breaks YAML 1.1 knows beyond \n and \r
                // (NEL, LS, PS), which would otherwise be folded into spaces.
                // And U+FEFF, which libyaml and Foundation's JSON reader drop as a byte-order mark.
                if u.value < 0x20 || u.value == 0x7F || (0x80...0x9F).contains(u.value) || u.value == 0x2028
                    || u.value == 0x2029 || u.value == 0xFEFF
                {
                    out += String(format: "\\u%04X", u.value)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    /// A plain scalar when that reads back as the same string, else a quoted one.
    static func scalar(_ s: String) -> String {
        if let plain = isPlainASCII(s) { return plain ? s : quoted(s) }
        // ("~" needs no entry in `reservedWords`: not a letter, it is quoted by the first check.)
        guard let first = s.unicodeScalars.first, CharacterSet.letters.contains(first) || first == "_",
            s.unicodeScalars.allSatisfy({
                CharacterSet.alphanumerics.contains($0) || "_.-/".unicodeScalars.contains($0)
            }),
            !reservedWords.contains(s.lowercased())
        else { return quoted(s) }
        return s
    }

    /// `scalar`'s test for ASCII text, without CharacterSet: whether `s` is written plain (a
    /// letter or `_`, then letters, digits and `_.-/`, not a reserved word); nil for non-ASCII text.
    static func isPlainASCII(_ s: String) -> Bool? {
        var s = s
        return s.withUTF8 { b -> Bool? in
            if b.contains(where: { $0 >= 0x80 }) { return nil }
            func isLetter(_ c: UInt8) -> Bool { (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) }
            guard let first = b.first, isLetter(first) || first == 0x5F else { return false }
            for c in b
            where !(isLetter(c) || (0x30...0x39).contains(c) || c == 0x5F || c == 0x2E || c == 0x2D || c == 0x2F) {
                return false
            }
            guard b.count <= 5 else { return true }
            return !reservedWordKeys.contains(lowercasedKey(b))
        }
    }

    /// The words YAML 1.1 reads as booleans or null (in any case), which `scalar` quotes.
    static let reservedWords: Set<String> = ["true", "false", "yes", "no", "on", "off", "null", "y", "n"]

    /// `reservedWords`, each as `lowercasedKey` of its bytes.
    static let reservedWordKeys: Set<UInt64> = Set(reservedWords.map { lowercasedKey(Array($0.utf8)) })

    /// Up to 8 ASCII bytes, A–Z lowered, packed into one word (little end first): equal for two texts of
    /// at most 8 bytes, neither holding a NUL, exactly when their lowercased bytes are equal. Nothing is
    /// allocated, where a lowercased String per name was the most of reading a golden's digest lines.
    static func lowercasedKey<C: Collection<UInt8>>(_ bytes: C) -> UInt64 {
        var key: UInt64 = 0
        for (i, c) in bytes.prefix(8).enumerated() {
            key |= UInt64((0x41...0x5A).contains(c) ? c + 0x20 : c) << (8 * UInt64(i))
        }
        return key
    }
}
