import Foundation

/// Where a suite's cases and goldens live, and how paths are shown.
///
/// By default `cases/` and `golden/` in the working directory. A `rnnspec.yaml` in the
/// working directory or a parent (`cases: DIR`, `golden: DIR`, relative to that file) changes
/// them, and `--cases-root`/`--golden-root` override both.
public struct Project: Sendable {
    /// The directory of the case files.
    public var casesRoot: URL { didSet { paths = Paths(self) } }
    /// The directory of the golden files.
    public var goldenRoot: URL { didSet { paths = Paths(self) } }
    /// The directory paths are shown relative to, and relative paths are resolved against.
    public var workingDirectory: URL { didSet { paths = Paths(self) } }
    /// The three directories' paths, and the roots as shown, worked out once (`URL.path` is
    /// thousands of instructions, and a run asks for them for every case).
    private(set) var paths = Paths()
    /// The roots' real paths, resolved once for this project and its copies (a run).
    let realPaths = RealPathCache()
    /// The directories that reads of case files and goldens opened, kept open: set for one run
    /// (`Runner.run`, `Runner.check`) and shared by the project's copies in it; nil, every read walks.
    var directories: DirectoryDescriptors? = nil

    struct Paths: Sendable {
        var casesRoot = "", goldenRoot = "", workingDirectory = ""
        var casesRootShown = "", goldenRootShown = ""
        init() {}
        init(_ p: Project) {
            casesRoot = standardizedPath(p.casesRoot)
            goldenRoot = standardizedPath(p.goldenRoot)
            workingDirectory = p.workingDirectory.path
            casesRootShown = relativePath(casesRoot, to: workingDirectory)
            goldenRootShown = relativePath(goldenRoot, to: workingDirectory)
        }
    }
    /// The configuration file used, if any.
    public var configFile: URL?
    /// Where each root came from, for messages about it.
    public var casesOrigin: RootOrigin = .standard
    /// Where the golden root came from.
    public var goldenOrigin: RootOrigin = .standard

    /// Where a root was set.
    public enum RootOrigin: Sendable, Equatable {
        /// `cases/` or `golden/` in the working directory.
        case standard
        /// A command-line flag and its value: `--golden-root cases`.
        case flag(String, String)
        /// A line of `rnnspec.yaml`: its location, key and value.
        case config(SourceLocation, String, String)
    }

    /// What a command is about to do with the roots: each checks what it needs.
    public enum Use: Sendable {
        /// `run` without `--record`: reads cases and goldens.
        case run
        /// `run --record`, `regen`: reads cases, writes goldens (may create the golden root).
        case record
        /// `check`: reads cases only.
        case check
        /// `prune`: reads cases, deletes goldens.
        case prune
        /// `new`: writes one case (may create the cases root).
        case new
    }

    /// A project with these roots (nothing is checked: call `validate(for:)`).
    public init(
        casesRoot: URL, goldenRoot: URL, workingDirectory: URL, configFile: URL? = nil,
        casesOrigin: RootOrigin = .standard, goldenOrigin: RootOrigin = .standard
    ) {
        self.casesRoot = casesRoot.standardizedFileURL
        self.goldenRoot = goldenRoot.standardizedFileURL
        self.workingDirectory = workingDirectory.standardizedFileURL
        self.configFile = configFile
        self.casesOrigin = casesOrigin
        self.goldenOrigin = goldenOrigin
        self.paths = Paths(self)
    }

    /// Finds the roots from the flags, a `rnnspec.yaml`, or the defaults. Nothing is checked
    /// here (`rnnspec kernels` needs no roots): every command that touches them calls
    /// `validate(for:)` first.
    public static func locate(
        casesRoot: String? = nil, goldenRoot: String? = nil,
        workingDirectory: String = FileManager.default.currentDirectoryPath
    ) throws -> Project {
        let cwd = URL(fileURLWithPath: workingDirectory, isDirectory: true)
        var cases = cwd.appendingPathComponent("cases", isDirectory: true)
        var golden = cwd.appendingPathComponent("golden", isDirectory: true)
        var casesOrigin = RootOrigin.standard, goldenOrigin = RootOrigin.standard
        var configFile: URL? = nil
        var dir = cwd
        while true {
            let candidate = dir.appendingPathComponent("rnnspec.yaml")
            if FileManager.default.fileExists(atPath: candidate.path) { configFile = candidate; break }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { break }
            dir = parent
        }
        if let configFile {
            let config = try readConfig(configFile, cwd: cwd)
            let base = configFile.deletingLastPathComponent()
            if let c = config.cases {
                cases = URL(fileURLWithPath: c.value, relativeTo: base)
                casesOrigin = .config(c.location, "cases", c.value)
            }
            if let g = config.golden {
                golden = URL(fileURLWithPath: g.value, relativeTo: base)
                goldenOrigin = .config(g.location, "golden", g.value)
            }
        }
        if let casesRoot {
            cases = URL(fileURLWithPath: casesRoot, relativeTo: cwd)
            casesOrigin = .flag("--cases-root", casesRoot)
        }
        if let goldenRoot {
            golden = URL(fileURLWithPath: goldenRoot, relativeTo: cwd)
            goldenOrigin = .flag("--golden-root", goldenRoot)
        }
        return Project(
            casesRoot: cases.absoluteURL, goldenRoot: golden.absoluteURL, workingDirectory: cwd, configFile: configFile,
            casesOrigin: casesOrigin, goldenOrigin: goldenOrigin)
    }

    static func readConfig(_ url: URL, cwd: URL) throws -> (
        cases: (value: String, location: SourceLocation)?, golden: (value: String, location: SourceLocation)?
    ) {
        let display = relativePath(url.path, to: cwd.path)
        let data: Data
        do {
            // A FIFO or a huge file named rnnspec.yaml must not hang or fill memory.
            data = try ConfinedDirectory.readRegularFile(path: url.path, maxBytes: 1 << 20, shown: display)
        } catch let f as ConfinedDirectory.Failure {
            throw SpecError(
                "cannot read the configuration file: \(f.message)",
                at: SourceLocation(file: display, line: 0, column: 0))
        }
        guard let text = String(validatingUTF8Data: data) else {
            throw SpecError(
                "cannot read the configuration file (not UTF-8)", at: SourceLocation(file: display, line: 0, column: 0))
        }
        let source = SourceText(path: display, text: text)
        guard let root = try NodeReader.compose(source) else { return (nil, nil) }
        let reader = NodeReader(source: source, limits: LoadLimits())
        let entries = try reader.mapping(root, "rnnspec.yaml")
        try reader.checkKeys(entries, allowed: ["cases", "golden"], in: "rnnspec.yaml")
        let cases = try entries.first { $0.key == "cases" }.map {
            (try reader.string($0.value, "cases"), reader.location($0.value))
        }
        let golden = try entries.first { $0.key == "golden" }.map {
            (try reader.string($0.value, "golden"), reader.location($0.value))
        }
        return (cases, golden)
    }

    /// A path as shown to the user: relative to the working directory when below it.
    public func display(_ url: URL) -> String {
        relativePath(standardizedPath(url), to: paths.workingDirectory)
    }

    /// Where a root was set, for messages: `--golden-root cases`, `rnnspec.yaml:2:9: golden: cases`.
    func describe(_ origin: RootOrigin, _ key: String) -> String {
        switch origin {
        case .standard: return "the default; set --\(key)-root or `\(key):` in rnnspec.yaml"
        case .flag(let flag, let value): return "\(flag) \(visibleText(value))"
        case .config(let location, let k, let value):
            return "\(visibleText(location.description)): `\(k): \(visibleText(value))`"
        }
    }

    /// Checks the roots before a command touches them; a usage error (exit 2) says which flag
    /// or configuration line is wrong and why.
    ///
    /// - The cases root must be an existing directory (`new` may create it when its parent
    ///   exists).
    /// - The golden root must be an existing directory for `prune`; `run --record` and
    ///   `regen` may create it when its parent exists, and a plain `run` then finds every case
    ///   NEW (it writes nothing).
    /// - The two must differ and neither may contain the other (compared as real paths, links
    ///   resolved): else goldens would overwrite cases, or `prune` delete them.
    /// - `/`, the home directory and a directory holding `.git` are refused as the golden root.
    public func validate(for use: Use, home: String? = ProcessInfo.processInfo.environment["HOME"]) throws {
        func asDirectory(_ url: URL) -> String {
            let d = visibleText(display(url)); return d.hasSuffix("/") ? d : d + "/"
        }
        let casesShown = asDirectory(casesRoot), goldenShown = asDirectory(goldenRoot)
        let casesWhy = describe(casesOrigin, "cases"), goldenWhy = describe(goldenOrigin, "golden")
        func kind(_ url: URL) -> mode_t? {
            var st = stat()
            return stat(url.path, &st) == 0 ? st.st_mode & S_IFMT : nil
        }
        func parentExists(_ url: URL) -> Bool { kind(url.deletingLastPathComponent()) == S_IFDIR }

        switch kind(casesRoot) {
        case S_IFDIR?: break
        case nil where use == .new && parentExists(casesRoot): break
        case nil:
            throw UsageError(
                "the cases root \(casesShown) does not exist (\(casesWhy)); run from the project's top directory, or give the directory that holds the case files"
            )
        default:
            throw UsageError("the cases root \(casesShown) is not a directory (\(casesWhy))")
        }
        switch kind(goldenRoot) {
        case S_IFDIR?: break
        case nil where use == .check || use == .new: break
        case nil where use == .record || use == .run:
            // A recording run creates it; a plain run reads no golden from it (every case is
            // NEW, which fails the run and says `rnnspec regen` writes them).
            guard parentExists(goldenRoot) else {
                throw UsageError(
                    "the golden root \(goldenShown) does not exist, nor its parent directory (\(goldenWhy)); rnnspec creates the golden root, not the directories above it"
                )
            }
        case nil:
            throw UsageError(
                "the golden root \(goldenShown) does not exist (\(goldenWhy)); `rnnspec regen` (or `rnnspec run --record missing`) creates it"
            )
        default:
            throw UsageError("the golden root \(goldenShown) is not a directory (\(goldenWhy))")
        }

        // Real paths: a root that does not exist yet is its parent's real path and its name.
        func real(_ url: URL) -> String {
            if kind(url) != nil { return realPath(url) }
            let parent = realPath(url.deletingLastPathComponent())
            return (parent == "/" ? "" : parent) + "/" + url.lastPathComponent
        }
        let casesReal = real(casesRoot), goldenReal = real(goldenRoot)
        func within(_ a: String, _ b: String) -> Bool { b == "/" ? a != "/" : a.hasPrefix(b + "/") }
        if goldenReal == "/" {
            throw UsageError(
                "the golden root \(goldenShown) (\(goldenWhy)) is the file system's root; refusing to use it as the golden root"
            )
        }
        if let home, !home.isEmpty, goldenReal == realPath(URL(fileURLWithPath: home)) {
            throw UsageError(
                "the golden root \(goldenShown) (\(goldenWhy)) is your home directory; refusing to use it as the golden root"
            )
        }
        var st = stat()
        if lstat(goldenRoot.appendingPathComponent(".git").path, &st) == 0 {
            throw UsageError(
                "the golden root \(goldenShown) (\(goldenWhy)) holds a .git: it is a repository's top directory, not a directory of goldens; give the directory rnnspec writes goldens into (golden/)"
            )
        }
        if goldenReal == casesReal {
            throw UsageError(
                "the golden root \(goldenShown) (\(goldenWhy)) is the cases root \(casesShown) (\(casesWhy)); goldens would overwrite the case files: give the two different directories"
            )
        }
        if within(goldenReal, casesReal) {
            throw UsageError(
                "the golden root \(goldenShown) (\(goldenWhy)) is inside the cases root \(casesShown) (\(casesWhy)); goldens would be read as cases: give two separate directories"
            )
        }
        if within(casesReal, goldenReal) {
            throw UsageError(
                "the golden root \(goldenShown) (\(goldenWhy)) contains the cases root \(casesShown) (\(casesWhy)); case files would be taken for goldens: give two separate directories"
            )
        }
    }

    /// The golden files under `goldenRoot`.
    public var goldenStore: GoldenStore {
        let project = self
        return GoldenStore(
            root: goldenRoot, rootPath: paths.goldenRoot, rootShown: paths.goldenRootShown,
            display: { project.display($0) }, casesRoot: casesRoot)
    }

    /// Refuses ids that Swift's `String` would take as equal (canonical equivalence: NFC and
    /// NFD spellings) though they are different files.
    static func checkDistinct(_ ids: [String], describe: (String) -> String, what: String) throws {
        // ASCII names are canonically equivalent only when they are equal: a duplicate is the only
        // case to catch, without grouping (which hashes every name through Unicode normalisation).
        if ids.allSatisfy({ $0.utf8.allSatisfy { $0 < 0x80 } }) {
            var seen = Set<String>()
            seen.reserveCapacity(ids.count)
            guard ids.contains(where: { !seen.insert($0).inserted }) else { return }
        }
        // A [String: ...] dictionary merges canonically equivalent keys: exactly the confusion
        // to catch.
        var groups: [String: [String]] = [:]
        for id in ids { groups[id, default: []].append(id) }
        for id in ids {
            guard let group = groups[id], group.count > 1 else { continue }
            let named = group.map { "\(describe($0)) (\(scalarSpelling(describe($0))))" }
            throw UsageError(
                "\(listPhrase(named, conjunction: "and")) are \(group.count) \(what) whose names differ only in Unicode normalisation (composed and decomposed accents); rnnspec gives each file its own id and will not confuse them: rename all but one"
            )
        }
    }

    /// The cases root as a confined directory: links are followed only where they stay inside.
    var casesDirectory: ConfinedDirectory {
        ConfinedDirectory(
            root: casesRoot, rootPath: paths.casesRoot, policy: .inside, rootName: paths.casesRootShown,
            realPaths: realPaths, directories: directories)
    }

    /// The bytes of a case file, read through the confined layer: a file that resolves
    /// outside the cases root, a FIFO, a device or a directory is refused without blocking;
    /// more than `maxBytes` is refused without reading it all.
    public func readCaseFile(_ url: URL, maxBytes: Int = Int.max) throws -> Data {
        try readCaseFile(caseFile(url), maxBytes: maxBytes)
    }

    /// A case file's standardized path and how it is shown.
    struct CaseFilePath {
        var path: String
        var shown: String
    }

    /// The path of the case file `url`, and how it is shown (worked out once for a case).
    func caseFile(_ url: URL) -> CaseFilePath {
        let path = standardizedPath(url)
        return CaseFilePath(path: path, shown: relativePath(path, to: paths.workingDirectory))
    }

    func readCaseFile(_ file: CaseFilePath, maxBytes: Int = Int.max) throws -> Data {
        let shown = file.shown, path = file.path, root = paths.casesRoot
        // On the bytes (as the confined layer compares paths): `hasPrefix` compares characters, and a name
        // that begins with a combining mark joins the slash before it into one.
        guard path.utf8.starts(with: (root + "/").utf8) else {
            throw SpecError(
                "the file is outside the cases root \(display(casesRoot))/; refusing to read it",
                at: SourceLocation(file: shown, line: 0, column: 0))
        }
        do {
            let relative = String(Substring(path.utf8.dropFirst(root.utf8.count + 1)))
            guard let data = try casesDirectory.read(relative, maxBytes: maxBytes) else {
                let why =
                    path.unicodeScalars.contains("\u{FFFD}")
                    ? "its name is not valid UTF-8 (shown with \u{FFFD}), so rnnspec cannot open it by name: rename it"
                    : "it does not exist (deleted during the run?)"
                throw SpecError("cannot read the file: \(why)", at: SourceLocation(file: shown, line: 0, column: 0))
            }
            return data
        } catch let f as ConfinedDirectory.Failure {
            let message: String
            switch f.kind {
            case .outside:
                message =
                    "the file resolves (through a symbolic link) outside the cases root \(display(casesRoot))/; refusing to read it"
            case .notRegular, .isDirectory, .symbolicLink, .tooLarge, .notDirectory, .notFound, .exists, .system:
                message = "cannot read the file: \(f.message)"
            }
            throw SpecError(message, at: SourceLocation(file: shown, line: 0, column: 0))
        }
    }

    /// Refuses a report destination (`--output`, `--junit`) under the cases root or the golden
    /// root: no command but `new` writes a case file, and a report is not a golden.
    public func checkReportDestination(_ path: String) throws {
        let url = URL(fileURLWithPath: path, relativeTo: workingDirectory).absoluteURL.standardizedFileURL
        let parent = realPath(url.deletingLastPathComponent())
        let real = (parent == "/" ? "" : parent) + "/" + url.lastPathComponent
        for (root, name) in [(casesRoot, "cases"), (goldenRoot, "golden")] {
            let r = realPath(root)
            if real == r || real.hasPrefix(r == "/" ? "/" : r + "/") {
                throw UsageError(
                    "\(visibleText(path)) is under the \(name) root \(visibleText(display(root)))/; reports are written elsewhere (rnnspec never writes a report over a \(name == "cases" ? "case" : "golden") file)"
                )
            }
        }
    }

    /// Golden ids with no case file, compared by their bytes (a golden `café` spelled
    /// differently from its case is an orphan, not a match).
    public func orphanGoldens() throws -> [String] {
        let caseIDs = Set(try caseFiles([]).map { ExactKey($0.id) })
        return goldenStore.allIDs().filter { !caseIDs.contains(ExactKey($0)) }
    }
}

/// The path with every symbolic link resolved: realpath(3), one system call, where Foundation's
/// `resolvingSymlinksInPath` checks each component (it was a tenth of the time of a small case);
/// Foundation's answer when realpath fails (a path that does not exist).
func realPath(_ url: URL) -> String {
    guard let p = realpath(url.path, nil) else { return url.resolvingSymlinksInPath().path }
    defer { free(p) }
    return String(cString: p)
}

/// `path` relative to `base` when it is below it, else unchanged.
func relativePath(_ path: String, to base: String) -> String {
    let b = base.hasSuffix("/") ? base : base + "/"
    return path.hasPrefix(b) ? String(path.dropFirst(b.count)) : path
}
