import Foundation
import RNNPlatform

extension ConfinedDirectory {
    // MARK: Reading

    /// Opens the regular file `relative` for reading; nil when it does not exist. The caller
    /// closes the descriptor.
    func openRegularFile(_ relative: String) throws -> Int32? {
        try openRegularFile(relative, size: nil)
    }

    /// `openRegularFile(_:)`, and the file's size when it opened (`size`).
    func openRegularFile(_ relative: String, size: UnsafeMutablePointer<Int>?) throws -> Int32? {
        if let directories, let fd = openInKeptDirectory(relative, directories, size: size) { return fd }
        let parts = try components(relative)
        // With `.inside`, one open of the whole path, then the descriptor checked where it really is,
        // does what the walk below does for a regular file: links are followed and the file must be
        // inside the root. Anything else (a missing file, a FIFO, a file outside) goes the long way,
        // which says what is wrong. (`.never` always walks: a link below the golden root is never
        // entered, not even to open what it leads to and refuse it.)
        if policy == .inside {
            let path = rootPath + "/" + relative
            let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
            if fd >= 0 {
                var st = stat()
                if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
                    && isInside(fd: fd, rootReal: rootRealPath, opened: path)
                {
                    size?.pointee = Int(st.st_size)
                    return fd
                }
                close(fd)
            }
        }
        let dir: Int32
        // The file's descriptor is checked below: the directories on the way need no check of
        // their own.
        do { dir = try openDirectory(parts.dropLast(), create: false, verify: false) } catch let f as Failure
            where f.kind == .notFound
        {
            return nil
        }
        defer { close(dir) }
        let name = parts.last!
        let follow = policy == .inside ? 0 : O_NOFOLLOW
        let fd = openat(dir, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | follow)
        guard fd >= 0 else {
            let e = errno
            if e == ENOENT {
                // A dangling link is a link, not a missing file.
                var st = stat()
                if fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) == S_IFLNK {
                    let target = linkTarget(dir: dir, name: name)
                    throw Failure(
                        kind: .symbolicLink, path: relative,
                        message:
                            "\(shown(parts[...])) is a symbolic link\(target.map { " to \($0)" } ?? ""), which does not exist",
                        target: target)
                }
                return nil
            }
            throw describeOpenFailure(e, dir: dir, name: name, walked: parts[...], wantDirectory: false)
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            close(fd)
            throw Failure(
                kind: .system, path: relative,
                message: "cannot read \(shown(parts[...])): \(String(cString: strerror(e)))")
        }
        if policy == .inside && !isInside(fd: fd, rootReal: rootRealPath, opened: rootPath + "/" + relative) {
            let real = ConfinedDirectory.realPathOf(fd: fd, opened: rootPath + "/" + relative) ?? "?"
            close(fd)
            throw Failure(
                kind: .outside, path: relative,
                message: "\(shown(parts[...])) resolves (through a symbolic link) to \(real), outside \(rootName)/")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            let kind: Failure.Kind = (st.st_mode & S_IFMT) == S_IFDIR ? .isDirectory : .notRegular
            throw Failure(
                kind: kind, path: relative,
                message: "\(shown(parts[...])) is \(ConfinedDirectory.kindName(st.st_mode)), not a regular file",
                detail: ConfinedDirectory.kindName(st.st_mode))
        }
        size?.pointee = Int(st.st_size)
        return fd
    }

    /// The regular file `relative` opened by name in its directory's kept descriptor (`directories`),
    /// not following a link at the end; the directory is opened, with its root's checks, and kept
    /// the first time. Nil for anything else (a path that is not plain, a link, a missing file, a
    /// FIFO, a full cache): the caller then goes the usual way, which says what is wrong.
    func openInKeptDirectory(_ relative: String, _ directories: DirectoryDescriptors, size: UnsafeMutablePointer<Int>?)
        -> Int32?
    {
        // The path's bytes checked as `components` checks them (no empty, `.` or `..` component, no
        // NUL), without splitting it into strings; the last slash parts the directory and the name.
        var relative = relative
        guard
            let (key, slash) = relative.withUTF8({ u -> ([UInt8], Int)? in
                var slash = -1, start = 0
                for i in 0...u.count {
                    if i < u.count && u[i] != 0x2F {
                        if u[i] == 0 { return nil }
                        continue
                    }
                    let n = i - start
                    if n == 0 || (n == 1 && u[start] == 0x2E) || (n == 2 && u[start] == 0x2E && u[start + 1] == 0x2E) {
                        return nil
                    }
                    if i < u.count { slash = i }
                    start = i + 1
                }
                var key = [policy == .never ? 0x6E : 0x69] + Array(rootPath.utf8)
                if slash > 0 {
                    key.append(0)
                    key += u[0..<slash]
                }
                return (key, slash)
            })
        else { return nil }
        let utf8 = relative.utf8
        let name = String(utf8[utf8.index(utf8.startIndex, offsetBy: slash + 1)...])!
        guard
            let dir = directories.descriptor(
                key,
                opener: {
                    // `.inside`: every directory on the way is checked where it really is, once; the root
                    // too (its link may have been moved since its real path was first resolved).
                    guard slash > 0 else {
                        guard let fd = try? openRoot(create: false) else { return nil }
                        if policy == .inside && !isInside(fd: fd, rootReal: rootRealPath, opened: rootPath) {
                            close(fd)
                            return nil
                        }
                        return fd
                    }
                    let path = String(utf8[..<utf8.index(utf8.startIndex, offsetBy: slash)])!
                    guard let parts = try? components(path) else { return nil }
                    return try? openDirectory(parts[...], create: false, verify: true)
                })
        else { return nil }
        let fd = openat(dir, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            return nil
        }
        size?.pointee = Int(st.st_size)
        return fd
    }

    /// The bytes of the regular file `relative`; nil when it does not exist. More than
    /// `maxBytes` is refused without reading further.
    func read(_ relative: String, maxBytes: Int = Int.max) throws -> Data? {
        var size = -1
        guard let fd = try openRegularFile(relative, size: &size) else { return nil }
        defer { close(fd) }
        return try ConfinedDirectory.readAll(
            fd: fd, maxBytes: maxBytes, shown: "\(rootName)/\(relative)", expectedSize: size)
    }

    /// The bytes of a regular file outside any root (a configuration file), following links;
    /// a FIFO, device or directory is refused without blocking.
    static func readRegularFile(path: String, maxBytes: Int, shown: String) throws -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw Failure(kind: .system, path: shown, message: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw Failure(
                kind: .notRegular, path: shown, message: "\(shown) is \(kindName(st.st_mode)), not a regular file")
        }
        return try readAll(fd: fd, maxBytes: maxBytes, shown: shown)
    }

    /// Reads a descriptor to its end, refusing more than `maxBytes`.
    static func readAll(fd: Int32, maxBytes: Int, shown: String, expectedSize: Int = -1) throws -> Data {
        if expectedSize >= 0 && expectedSize < maxBytes && expectedSize < 1 << 20 {
            // A regular file of the size fstat gave: one read of a byte more than that. Getting
            // exactly that size back, short of what was asked, is the end of the file; anything
            // else (the file changed) goes on below, with what was read kept.
            var data = Data(count: expectedSize + 1)
            let n = data.withUnsafeMutableBytes { RNNPlatform.read(fd, $0.baseAddress!, $0.count) }
            if n == expectedSize {
                data.count = n
                return data
            }
            if n < 0 && errno != EINTR {
                throw Failure(
                    kind: .system, path: shown, message: "cannot read \(shown): \(String(cString: strerror(errno)))")
            }
            data.count = max(n, 0)
            return try readRest(fd: fd, into: data, maxBytes: maxBytes, shown: shown)
        }
        return try readRest(fd: fd, into: Data(), maxBytes: maxBytes, shown: shown)
    }

    /// Reads a descriptor to its end after `data`, refusing more than `maxBytes` in all.
    static func readRest(fd: Int32, into data: Data, maxBytes: Int, shown: String) throws -> Data {
        var data = data
        if data.count > maxBytes {
            throw Failure(kind: .tooLarge, path: shown, message: "\(shown) is larger than \(maxBytes) bytes")
        }
        var chunk = readChunk()
        while true {
            let n = chunk.withUnsafeMutableBytes { RNNPlatform.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(
                    kind: .system, path: shown, message: "cannot read \(shown): \(String(cString: strerror(errno)))")
            }
            if n == 0 { return data }
            if data.count + n > maxBytes {
                throw Failure(kind: .tooLarge, path: shown, message: "\(shown) is larger than \(maxBytes) bytes")
            }
            data.append(contentsOf: chunk[0..<n])
        }
    }
}

extension ConfinedDirectory {
    // MARK: Listing

    struct Entry {
        var name: String
        /// The name's bytes were valid UTF-8 (otherwise `name` has replacement characters and
        /// cannot be opened by it).
        var isUTF8: Bool
        var type: UInt8
    }

    /// The entries of an open directory (without `.` and `..`); the descriptor stays open.
    static func entries(of dir: Int32) -> [Entry] {
        let copy = dup(dir)
        guard copy >= 0, let handle = fdopendir(copy) else { if copy >= 0 { close(copy) }; return [] }
        defer { closedir(handle) }
        rewinddir(handle)
        var found: [Entry] = []
        while let entry = readdir(handle) {
            let (name, valid) = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { p -> (String, Bool) in
                    if let s = String(validatingCString: p) { return (s, true) }
                    return (String(cString: p), false)
                }
            }
            if name == "." || name == ".." { continue }
            found.append(Entry(name: name, isUTF8: valid, type: entry.pointee.d_type))
        }
        return found
    }

    /// What a walk finds.
    struct Found {
        enum Kind: Equatable { case file, symbolicLink, other(String), badName }
        /// The path relative to the root.
        var path: String
        var kind: Kind
    }

    /// Every entry named `*<suffix>` (`*.yaml` by default) below the root, not entering links
    /// (or, with `.inside`, entering none either: the walk lists only what is physically below
    /// the root); hidden entries are skipped. Sorted by bytes.
    func walk(suffix: String = ".yaml") -> [Found] {
        guard let fd = try? openRoot(create: false) else { return [] }
        var found: [Found] = []
        func visit(_ dir: Int32, _ prefix: String, depth: Int) {
            guard depth < 256 else { return }
            for entry in ConfinedDirectory.entries(of: dir) where !entry.name.hasPrefix(".") {
                let path = prefix.isEmpty ? entry.name : prefix + "/" + entry.name
                var type = entry.type
                if !entry.isUTF8 {
                    // Not openable by its (repaired) name: listed, never entered or opened.
                    if type == UInt8(DT_DIR) || entry.name.hasSuffix(suffix) {
                        found.append(Found(path: path, kind: .badName))
                    }
                    continue
                }
                if type == UInt8(DT_UNKNOWN) {
                    var st = stat()
                    guard fstatat(dir, entry.name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
                    switch st.st_mode & S_IFMT {
                    case S_IFDIR: type = UInt8(DT_DIR)
                    case S_IFREG: type = UInt8(DT_REG)
                    case S_IFLNK: type = UInt8(DT_LNK)
                    default: type = UInt8(DT_FIFO)
                    }
                }
                if type == UInt8(DT_DIR) {
                    let sub = openat(dir, entry.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
                    guard sub >= 0 else { continue }
                    visit(sub, path, depth: depth + 1)
                    close(sub)
                    continue
                }
                guard entry.name.hasSuffix(suffix) else { continue }
                switch type {
                case UInt8(DT_REG): found.append(Found(path: path, kind: .file))
                case UInt8(DT_LNK): found.append(Found(path: path, kind: .symbolicLink))
                case UInt8(DT_FIFO): found.append(Found(path: path, kind: .other("a FIFO (named pipe)")))
                case UInt8(DT_SOCK): found.append(Found(path: path, kind: .other("a socket")))
                default: found.append(Found(path: path, kind: .other("a device")))
                }
            }
        }
        visit(fd, "", depth: 0)
        close(fd)
        return found.sorted { utf8Precedes($0.path, $1.path) }
    }
}
