import Foundation
import RNNKernels
import Yams

/// Reads and writes golden files under a root, atomically, through one confined layer
/// (`ConfinedDirectory`, no symbolic link followed under the root). This part deals in files
/// and bytes; `Golden.parse` turns the bytes into a golden.
public struct GoldenStore: Sendable {
    /// The golden root.
    public var root: URL {
        didSet {
            rootPath = standardizedPath(root)
            rootShown = nil
        }
    }
    /// `root`'s path, worked out once.
    private(set) var rootPath: String
    /// The root as `display` shows it, when known already.
    private var rootShown: String?
    /// How golden paths are shown.
    public var display: @Sendable (URL) -> String
    /// The cases root, when known: nothing is written or deleted while the golden root is it,
    /// holds it or lies inside it (a second line of defence behind `Project.validate`).
    public var casesRoot: URL?
    /// The limits a golden is read under: its size in bytes and its elements, as for a case.
    public var limits = LoadLimits()
    /// Where reads keep the directories they open (a run's), or nil: each read walks from the root.
    var directories: DirectoryDescriptors? = nil

    /// A store of the goldens under `root`.
    public init(root: URL, display: @escaping @Sendable (URL) -> String = { $0.path }, casesRoot: URL? = nil) {
        self.root = root
        self.rootPath = standardizedPath(root)
        self.display = display
        self.casesRoot = casesRoot
    }

    /// A store whose root's path and shown name are known already (`rootShown` is what `display`
    /// makes of `root`).
    init(
        root: URL, rootPath: String, rootShown: String, display: @escaping @Sendable (URL) -> String,
        casesRoot: URL?
    ) {
        self.root = root
        self.rootPath = rootPath
        self.rootShown = rootShown
        self.display = display
        self.casesRoot = casesRoot
    }

    /// The first line of every golden rnnspec writes, up to the case id.
    public static let headerPrefix = "# Golden file written by rnnspec; do not edit. Regenerate: rnnspec regen "

    /// A case id as one shell word, so that the header's `Regenerate:` command works when pasted:
    /// unchanged when it holds no character the shell treats specially, else in single quotes.
    /// (An id already YAML-quoted for a control character is left as it is.)
    static func shellWord(_ id: String) -> String {
        if id.hasPrefix("\"") { return id }
        let special = Set(" \t|&;()<>$`\\\"'*?[]#~{}!^".unicodeScalars)
        guard id.isEmpty || id.unicodeScalars.contains(where: special.contains) || id.hasPrefix("-") else { return id }
        return "'" + id.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// The golden file of a case id.
    public func url(for id: String) -> URL {
        root.appendingPathComponent(id + ".yaml")
    }

    var directory: ConfinedDirectory {
        ConfinedDirectory(
            root: root, rootPath: rootPath, policy: .never, rootName: rootShown ?? display(root),
            directories: directories)
    }

    /// How the golden of `id` is shown: `display(url(for: id))`, put together from strings when the
    /// root is shown relative to the working directory (so the golden is below it too).
    func displayPath(for id: String) -> String {
        guard let rootShown, !rootShown.hasPrefix("/"), !rootShown.isEmpty else { return display(url(for: id)) }
        return rootShown + "/" + id + ".yaml"
    }

    func location(_ id: String) -> SourceLocation {
        SourceLocation(file: display(url(for: id)), line: 0, column: 0)
    }

    /// The golden of a case, nil if there is none; throws if it exists but cannot be read.
    public func read(_ id: String) throws -> Golden? {
        guard let data = try readBytes(id, maxBytes: limits.maxFileBytes) else { return nil }
        let path = displayPath(for: id)
        guard let text = String(validatingUTF8Data: data) else {
            throw SourceText.invalidUTF8Error(data, path: path) { byte, offset in
                "the golden file is not valid UTF-8 (invalid byte 0x\(String(format: "%02X", byte)) at byte \(offset); corrupt?); `rnnspec regen` rewrites it"
            }
        }
        return try Golden.parse(SourceText(path: path, text: text), limits: limits)
    }

    /// The bytes of a case's golden, nil if there is none. A golden that is a symbolic link,
    /// or lies below one, is refused (the link is named, whatever it points to is not read);
    /// so is a directory, a FIFO or a device.
    public func readBytes(_ id: String, maxBytes: Int = Int.max) throws -> Data? {
        let relative = id + ".yaml"
        do {
            return try directory.read(relative, maxBytes: maxBytes)
        } catch let f as ConfinedDirectory.Failure {
            switch f.kind {
            case .notDirectory, .notFound: return nil  // no directory, so no golden
            case .isDirectory:
                throw SpecError(
                    "the golden path is a directory, not a file; move it away and `rnnspec regen` writes the golden",
                    at: location(id))
            case .symbolicLink where f.path == relative:
                throw SpecError(
                    "the golden file is a symbolic link\(f.target.map { " (to \($0))" } ?? ""); rnnspec does not follow links under the golden root: remove it and `rnnspec regen` writes the golden",
                    at: location(id))
            case .symbolicLink:
                throw SpecError(
                    "\(display(root.appendingPathComponent(f.path))) is a symbolic link\(f.target.map { " (to \($0))" } ?? ""); rnnspec does not follow links under the golden root, so the golden is not read through it",
                    at: location(id))
            case .notRegular:
                throw SpecError(
                    "the golden path is \(f.detail ?? "not a regular file"), not a file; move it away and `rnnspec regen` writes the golden",
                    at: location(id))
            case .tooLarge:
                try LoadLimits(maxFileBytes: maxBytes).checkFileBytes(
                    fileSize(url(for: id).path) ?? maxBytes + 1, file: location(id).file)
                throw SpecError("the golden file is larger than \(maxBytes) bytes", at: location(id))
            case .outside, .exists, .system:
                throw SpecError("cannot read the golden file: \(f.message)", at: location(id))
            }
        }
    }

    /// What is at a case's golden path now: whether anything is there, and its bytes when it
    /// is a readable golden file.
    public func current(_ id: String) -> (exists: Bool, bytes: Data?) {
        do {
            let bytes = try readBytes(id)
            return (bytes != nil, bytes)
        } catch {
            return (true, nil)
        }
    }

    /// Refuses to write or delete while the golden root is confused with the cases root.
    func checkSeparateFromCases(_ id: String) throws {
        guard let casesRoot else { return }
        let g = realPath(root), c = realPath(casesRoot)
        if g == c || g.hasPrefix(c == "/" ? "/" : c + "/") || c.hasPrefix(g == "/" ? "/" : g + "/") {
            throw SpecError(
                "the golden root \(display(root)) and the cases root \(display(casesRoot)) are the same directory or one holds the other; refusing to write or delete goldens there",
                at: location(id))
        }
    }

    /// Writes a golden atomically: a temporary file in the same directory, flushed to disk,
    /// then renamed over the old one. A reader sees the old file or the new one, whole.
    /// Nothing is written outside the golden root: not through `..` in an id, nor through a
    /// symbolic link inside the root (links are never followed, nor replaced).
    public func write(_ golden: Golden) throws {
        let id = golden.caseID
        try checkSeparateFromCases(id)
        do {
            try directory.writeAtomically(id + ".yaml", Data(golden.serialized().utf8), replace: true, createRoot: true)
        } catch let f as ConfinedDirectory.Failure {
            let message: String
            switch f.kind {
            case .outside:
                message =
                    "the golden's path resolves outside the golden root \(display(root)) (through '..' or a symbolic link); refusing to write it"
            case .symbolicLink:
                let shown = f.path == id + ".yaml" ? "the golden file" : display(root.appendingPathComponent(f.path))
                message =
                    "cannot write the golden: \(shown) is a symbolic link\(f.target.map { " (to \($0))" } ?? ""); rnnspec neither follows nor replaces links under the golden root; nothing was written"
            case .notDirectory, .notFound:
                message = "cannot create the directory for the golden: \(f.message); nothing was written"
            case .isDirectory, .notRegular, .tooLarge, .exists, .system:
                message = "cannot write the golden: \(f.message); the old file is unchanged"
            }
            throw SpecError(message, at: location(id))
        }
    }

    /// Removes temporary files left beside a case's golden by writers that were killed
    /// (`.<name>.yaml.tmp-<pid>-<random>` whose process no longer exists). They are hidden and
    /// never read as goldens; this only keeps the directory tidy. A directory reached through
    /// a symbolic link is never entered.
    public func removeAbandonedTemporaries(_ id: String) {
        guard (try? checkSeparateFromCases(id)) != nil else { return }
        directory.removeAbandonedTemporaries(besides: id + ".yaml")
    }

    /// Every golden file under the root, as case ids (symbolic links named `*.yaml` included,
    /// so that they are reported; they are never followed), sorted by their bytes.
    public func allIDs() -> [String] {
        directory.walk().filter { $0.kind == .file || $0.kind == .symbolicLink }.map { String($0.path.dropLast(5)) }
    }

    /// Everything named `*.yaml` under the root, with what it is.
    func entries() -> [ConfinedDirectory.Found] { directory.walk() }

    /// Whether the first bytes of a file are those of a golden rnnspec wrote: its header line,
    /// then `format: N`.
    static func isWrittenByRNNSpec(_ head: Data) -> Bool {
        let bytes = [UInt8](head)
        let prefix = Array(headerPrefix.utf8)
        guard bytes.count > prefix.count, Array(bytes[0..<prefix.count]) == prefix,
            let firstBreak = bytes.firstIndex(of: 0x0A)
        else { return false }
        let second = bytes[(firstBreak + 1)...].prefix { $0 != 0x0A }
        let key = Array("format: ".utf8)
        guard second.count > key.count, second.count < 32, Array(second.prefix(key.count)) == key,
            second.dropFirst(key.count).allSatisfy({ (0x30...0x39).contains($0) }),
            bytes.count > firstBreak + 1 + second.count
        else { return false }
        return true
    }

    /// Deletes a case's golden if it is a regular file that rnnspec wrote (with `dryRun`, only
    /// says whether it would). Returns false, deleting nothing, for anything else.
    func removeIfWrittenByRNNSpec(_ id: String, dryRun: Bool) throws -> Bool {
        try checkSeparateFromCases(id)
        do {
            return try directory.removeFile(
                id + ".yaml", prefixBytes: 1 << 16, dryRun: dryRun, accept: GoldenStore.isWrittenByRNNSpec)
        } catch let f as ConfinedDirectory.Failure {
            throw SpecError("not deleted: \(f.message)", at: location(id))
        }
    }
}
