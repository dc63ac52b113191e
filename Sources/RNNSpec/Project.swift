import Foundation

/// Where a suite's cases and goldens live, and how paths are shown.
///
/// By default `cases/` and `golden/` in the working directory. A `rnnspec.yaml` in the
/// working directory or a parent (`cases: DIR`, `golden: DIR`, relative to that file) changes
/// them, and `--cases-root`/`--golden-root` override both.
public struct Project: Sendable {
    public var casesRoot: URL
    public var goldenRoot: URL
    public var workingDirectory: URL
    /// The configuration file used, if any.
    public var configFile: URL?

    public init(casesRoot: URL, goldenRoot: URL, workingDirectory: URL, configFile: URL? = nil) {
        self.casesRoot = casesRoot.standardizedFileURL
        self.goldenRoot = goldenRoot.standardizedFileURL
        self.workingDirectory = workingDirectory.standardizedFileURL
        self.configFile = configFile
    }

    /// Finds the roots from the flags, a `rnnspec.yaml`, or the defaults.
    public static func locate(casesRoot: String? = nil, goldenRoot: String? = nil,
                              workingDirectory: String = FileManager.default.currentDirectoryPath) throws -> Project {
        let cwd = URL(fileURLWithPath: workingDirectory, isDirectory: true)
        var cases = cwd.appendingPathComponent("cases", isDirectory: true)
        var golden = cwd.appendingPathComponent("golden", isDirectory: true)
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
            if let c = config.cases { cases = URL(fileURLWithPath: c, relativeTo: base) }
            if let g = config.golden { golden = URL(fileURLWithPath: g, relativeTo: base) }
        }
        if let casesRoot { cases = URL(fileURLWithPath: casesRoot, relativeTo: cwd) }
        if let goldenRoot { golden = URL(fileURLWithPath: goldenRoot, relativeTo: cwd) }
        return Project(casesRoot: cases.absoluteURL, goldenRoot: golden.absoluteURL, workingDirectory: cwd, configFile: configFile)
    }

    static func readConfig(_ url: URL, cwd: URL) throws -> (cases: String?, golden: String?) {
        let display = relativePath(url.path, to: cwd.path)
        guard let data = FileManager.default.contents(atPath: url.path), let text = String(validatingUTF8Data: data) else {
            throw SpecError("cannot read the configuration file", at: SourceLocation(file: display, line: 0, column: 0))
        }
        let source = SourceText(path: display, text: text)
        guard let root = try NodeReader.compose(source) else { return (nil, nil) }
        let reader = NodeReader(source: source, limits: LoadLimits())
        let entries = try reader.mapping(root, "rnnspec.yaml")
        try reader.checkKeys(entries, allowed: ["cases", "golden"], in: "rnnspec.yaml")
        let cases = try entries.first { $0.key == "cases" }.map { try reader.string($0.value, "cases") }
        let golden = try entries.first { $0.key == "golden" }.map { try reader.string($0.value, "golden") }
        return (cases, golden)
    }

    /// A path as shown to the user: relative to the working directory when below it.
    public func display(_ url: URL) -> String {
        relativePath(url.standardizedFileURL.path, to: workingDirectory.path)
    }

    public var goldenStore: GoldenStore {
        let project = self
        return GoldenStore(root: goldenRoot, display: { project.display($0) })
    }

    /// The case files named by the paths (files or directories; the whole cases root when
    /// none), sorted, each with its id. Paths outside the cases root are a usage error.
    public func caseFiles(_ paths: [String]) throws -> [(url: URL, id: String)] {
        guard FileManager.default.fileExists(atPath: casesRoot.path) else {
            throw UsageError("the cases root \(display(casesRoot))/ does not exist (run from the project's top directory, or set --cases-root or a rnnspec.yaml)")
        }
        let rootReal = casesRoot.resolvingSymlinksInPath().path
        var found: [String: URL] = [:]
        let targets = paths.isEmpty ? [casesRoot] : paths.map { URL(fileURLWithPath: $0, relativeTo: workingDirectory).absoluteURL.standardizedFileURL }
        for target in targets {
            guard FileManager.default.fileExists(atPath: target.path) else {
                throw UsageError("no such file or directory: \(display(target))")
            }
            let real = target.resolvingSymlinksInPath().path
            guard real == rootReal || real.hasPrefix(rootReal + "/") else {
                // Say how an argument such as `cases/../..` or a symbolic link got outside.
                let typed = paths.isEmpty ? display(target) : paths[targets.firstIndex(of: target) ?? 0]
                let shown = display(URL(fileURLWithPath: real))
                let what = typed == shown ? typed : "\(typed) (which resolves to \(shown))"
                throw UsageError("\(what) is outside the cases root \(display(casesRoot))/; cases must live under it (or set --cases-root)")
            }
            // Ids come from the real path, so `cases/../cases/x.yaml` and `cases/x.yaml` agree.
            let underRoot = URL(fileURLWithPath: real)
            let files = listYAML(under: underRoot)
            if files.isEmpty && !paths.isEmpty && underRoot.pathExtension != "" && underRoot.pathExtension != "yaml" {
                throw UsageError("\(display(target)) is not a .yaml case file")
            }
            for file in files {
                let id = relativeID(of: file, under: URL(fileURLWithPath: rootReal))
                found[id] = casesRoot.appendingPathComponent(id + ".yaml")
            }
        }
        return found.keys.sorted().map { (found[$0]!, $0) }
    }

    /// Whether a case file, once symbolic links are followed, is still under the cases root.
    func isInsideRoot(_ url: URL) -> Bool {
        let rootReal = realPath(casesRoot)
        let real = realPath(url)
        return real.hasPrefix(rootReal + "/")
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
