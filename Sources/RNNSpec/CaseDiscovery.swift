import Foundation
import RNNKernels
import Yams

extension Project {
    /// The case files named by the paths (files or directories; the whole cases root when
    /// none), sorted by their bytes, each with its id. Paths outside the cases root are a usage
    /// error, and so are two files whose names differ only in Unicode normalisation (one id
    /// per file: ids are compared by their scalars, never merged).
    public func caseFiles(_ paths: [String]) throws -> [(url: URL, id: String)] {
        guard FileManager.default.fileExists(atPath: casesRoot.path) else {
            throw UsageError(
                "the cases root \(display(casesRoot))/ does not exist (run from the project's top directory, or set --cases-root or a rnnspec.yaml)"
            )
        }
        let rootReal = casesRoot.resolvingSymlinksInPath().path
        var found: [ExactKey: (id: String, url: URL)] = [:]
        let targets = paths.isEmpty ? [casesRoot] : paths.map(resolveCaseArgument)
        for (k, target) in targets.enumerated() {
            guard FileManager.default.fileExists(atPath: target.path) else {
                let typed = paths[k]
                let tried =
                    typed.hasPrefix("/")
                    ? ""
                    : " (nor \(visibleText(display(casesRoot.appendingPathComponent(typed))))[.yaml] in the cases root)"
                throw UsageError("no such case file, directory or case id: \(visibleText(typed))\(tried)")
            }
            let real = target.resolvingSymlinksInPath().path
            // On the bytes: `==` and `hasPrefix` take NFC and NFD spellings as equal (two directories).
            guard real.utf8.elementsEqual(rootReal.utf8) || real.utf8.starts(with: (rootReal + "/").utf8) else {
                // Say how an argument such as `cases/../..` or a symbolic link got outside.
                let typed = paths.isEmpty ? display(target) : paths[targets.firstIndex(of: target) ?? 0]
                let shown = display(URL(fileURLWithPath: real))
                let what = typed == shown ? typed : "\(typed) (which resolves to \(shown))"
                throw UsageError(
                    "\(what) is outside the cases root \(display(casesRoot))/; cases must live under it (or set --cases-root)"
                )
            }
            // Ids come from the real path, so `cases/../cases/x.yaml` and `cases/x.yaml` agree.
            let underRoot = URL(fileURLWithPath: real)
            // In byte order, so that a message naming two files names them in one order on every file system.
            let files = listYAMLPaths(under: real).sorted(by: utf8Precedes)
            if files.isEmpty && !paths.isEmpty && underRoot.pathExtension != ""
                && !isCaseFileName(underRoot.lastPathComponent)
            {
                throw UsageError("\(display(target)) is not a .yaml (or .yml) case file")
            }
            for file in files {
                // The real path of a file below the real root: the root, a slash, then the relative path
                // (strings, not URLs: a URL per file was most of the cost of listing a large suite).
                // Cut on the bytes: a name that begins with a combining mark joins the slash before it
                // into one `Character`, so dropping characters would take the mark too.
                let relative = String(Substring(file.utf8.dropFirst(rootReal == "/" ? 1 : rootReal.utf8.count + 1)))
                // The directory hint saves Foundation a `stat` of each file to learn it.
                let url = casesRoot.appendingPathComponent(relative, isDirectory: false)
                // (The cases root itself given as a file: its name.)
                let id = caseID(
                    relativePath: relative.isEmpty ? String(file.split(separator: "/").last ?? "") : relative)
                if let other = found[ExactKey(id)], other.url.path != url.path {
                    throw UsageError(
                        "\(visibleText(display(other.url))) and \(visibleText(display(url))) are two case files with one id, '\(visibleText(id))' (and one golden); rename one"
                    )
                }
                found[ExactKey(id)] = (id, url)
            }
        }
        let sorted = found.sorted { $0.key < $1.key }.map(\.value)
        try Project.checkDistinct(
            sorted.map(\.id), describe: { display(casesRoot.appendingPathComponent($0 + ".yaml")) }, what: "case files")
        return sorted.map { ($0.url, $0.id) }
    }

    /// Where a command-line argument naming cases points: a path relative to the current
    /// directory when it exists; else a path inside the cases root (`exercises/ex01.yaml`,
    /// `exercises`); else a case id (`exercises/ex01`, the file with `.yaml` or `.yml`). When none
    /// exists, the first (the caller reports it).
    func resolveCaseArgument(_ argument: String) -> URL {
        let direct = URL(fileURLWithPath: argument, relativeTo: workingDirectory).absoluteURL.standardizedFileURL
        if FileManager.default.fileExists(atPath: direct.path) || argument.hasPrefix("/") || argument.isEmpty {
            return direct
        }
        let inRoot = casesRoot.appendingPathComponent(argument).standardizedFileURL
        if FileManager.default.fileExists(atPath: inRoot.path) { return inRoot }
        for ext in [".yaml", ".yml"] {
            let file = casesRoot.appendingPathComponent(argument + ext).standardizedFileURL
            if FileManager.default.fileExists(atPath: file.path) { return file }
        }
        return direct
    }
}

/// The paths of every `*.yaml` (or `*.yml`) file below the directory `path` (or the file itself),
/// unsorted, not following hidden files.
///
/// Regular files and symbolic links are listed (a link pointing outside the root is then refused
/// loudly rather than skipped); hidden entries are skipped and directories reached through a
/// symbolic link are not entered. A direct `readdir` walk: Foundation's enumerator with
/// resource values cost more than reading the files.
func listYAMLPaths(under path: String) -> [String] {
    var st = stat()
    guard stat(path, &st) == 0 else { return [] }
    if (st.st_mode & S_IFMT) != S_IFDIR {
        return isCaseFileName(String(path.split(separator: "/").last ?? "")) ? [path] : []
    }
    var found: [String] = []
    func walk(_ dir: String) {
        guard let handle = opendir(dir) else { return }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name.hasPrefix(".") { continue }
            let path = dir + "/" + name
            var type = Int32(entry.pointee.d_type)
            if type == Int32(DT_UNKNOWN) {
                var s = stat()
                guard lstat(path, &s) == 0 else { continue }
                switch s.st_mode & S_IFMT {
                case S_IFDIR: type = Int32(DT_DIR)
                case S_IFREG: type = Int32(DT_REG)
                case S_IFLNK: type = Int32(DT_LNK)
                default: continue
                }
            }
            if type == Int32(DT_DIR) {
                walk(path)
            } else if (type == Int32(DT_REG) || type == Int32(DT_LNK)) && isCaseFileName(name) {
                found.append(path)
            }
        }
    }
    let root = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
    walk(root)
    return found
}

/// A case's id: its file's path below the cases root without the `.yaml` (or `.yml`) extension.
func caseID(relativePath: String) -> String {
    var id = relativePath
    if id.hasSuffix(".yaml") { id.removeLast(5) } else if id.hasSuffix(".yml") { id.removeLast(4) }
    return id
}

/// Whether a file name is a case file's: `*.yaml`, or `*.yml`.
func isCaseFileName(_ name: String) -> Bool {
    (name.hasSuffix(".yaml") && name.count > 5) || (name.hasSuffix(".yml") && name.count > 4)
}

/// The size of a file in bytes (without following a final link), nil when it cannot be read.
func fileSize(_ path: String) -> Int? {
    var st = stat()
    guard lstat(path, &st) == 0 else { return nil }
    return Int(st.st_size)
}
