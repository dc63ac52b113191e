import Foundation
import RNNPlatform

/// The one place where rnnspec touches files under its roots: every read, write, rename and
/// delete of a golden, a golden's temporary file or a case file goes through here.
///
/// Paths are relative to the root and walked from a descriptor of the root with `openat`, so
/// nothing is resolved twice (no gap between a check and the act):
/// - `.never` (the golden root): no component may be a symbolic link. Every directory is
///   opened with `O_NOFOLLOW`, the final file too; a link anywhere is refused, never entered.
///   rnnspec writes no links, so a link there was put by someone else.
/// - `.inside` (the cases root): links are followed, and the directory or file opened is then
///   checked where it really is (`/proc/self/fd`, or `F_GETPATH`): outside the root it is
///   closed unread. The check is on the open descriptor, so a link swapped afterwards changes
///   nothing.
///
/// Only regular files are read (a FIFO, socket or device is refused without blocking: every
/// open is `O_NONBLOCK`).
struct ConfinedDirectory: Sendable {
    enum LinkPolicy: Sendable { case never, inside }

    /// A failure, with the relative path of the component at fault.
    struct Failure: Error, CustomStringConvertible {
        enum Kind: Equatable { case notFound, symbolicLink, notDirectory, isDirectory, notRegular, outside, tooLarge, exists, system }
        var kind: Kind
        /// The path (relative to the root, `/`-separated) of the component at fault.
        var path: String
        var message: String
        /// Where a symbolic link points, for `.symbolicLink`.
        var target: String? = nil
        /// What the file is (`a FIFO (named pipe)`), for `.notRegular`.
        var detail: String? = nil
        var description: String { message }
    }

    /// The root as given (it may itself be reached through links: that is the user's choice).
    let root: URL
    let policy: LinkPolicy
    /// The name shown for the root in messages (`golden`, `cases`).
    let rootName: String

    init(root: URL, policy: LinkPolicy, rootName: String) {
        self.root = root.standardizedFileURL
        self.policy = policy
        self.rootName = rootName.hasSuffix("/") ? String(rootName.dropLast()) : rootName
    }

    // MARK: Paths

    /// Splits a relative path into components; `.`, `..` and empty components are refused.
    func components(_ relative: String) throws -> [String] {
        let parts = relative.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for p in parts where p.isEmpty || p == "." || p == ".." || p.utf8.contains(0) {
            throw Failure(kind: .outside, path: relative, message: "the path '\(relative)' is not a plain path under \(rootName)/")
        }
        guard !parts.isEmpty else { throw Failure(kind: .outside, path: relative, message: "empty path") }
        return parts
    }

    func shown(_ parts: ArraySlice<String>) -> String {
        ([rootName] + parts).joined(separator: "/")
    }

    // MARK: Descriptors

    /// The real path of the root (links resolved), for the `.inside` check.
    var rootRealPath: String { realPath(root) }

    /// Opens the root directory. With `create`, a missing root is made when its parent exists.
    func openRoot(create: Bool) throws -> Int32 {
        var fd = open(root.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 && errno == ENOENT && create {
            if mkdir(root.path, 0o755) != 0 && errno != EEXIST {
                let why = errno == ENOENT ? "neither it nor its parent directory exists" : String(cString: strerror(errno))
                throw Failure(kind: .notFound, path: "", message: "cannot create the root \(rootName)/: \(why)")
            }
            fd = open(root.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK)
        }
        guard fd >= 0 else {
            let e = errno
            switch e {
            case ENOENT: throw Failure(kind: .notFound, path: "", message: "\(rootName)/ does not exist")
            case ENOTDIR: throw Failure(kind: .notDirectory, path: "", message: "\(rootName) is not a directory")
            default: throw Failure(kind: .system, path: "", message: "cannot open \(rootName)/: \(String(cString: strerror(e)))")
            }
        }
        return fd
    }

    /// Where an open descriptor really is, or nil when the platform cannot say.
    static func pathOf(fd: Int32) -> String? {
        #if os(Linux)
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/fd/\(fd)", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self)
        #else
        var buffer = [CChar](repeating: 0, count: Int(MAXPATHLEN) + 1)
        guard fcntl(fd, F_GETPATH, &buffer) != -1 else { return nil }
        return String(cString: buffer)
        #endif
    }

    /// Where an open descriptor really is: `pathOf(fd:)`, or where /proc is not mounted, the
    /// real path of `opened` when it is the same file (device and inode) as the descriptor.
    static func realPathOf(fd: Int32, opened: String) -> String? {
        if let p = pathOf(fd: fd) { return p }
        guard let r = realpath(opened, nil) else { return nil }
        defer { free(r) }
        var a = stat(), b = stat()
        guard fstat(fd, &a) == 0, stat(r, &b) == 0, a.st_dev == b.st_dev, a.st_ino == b.st_ino else { return nil }
        return String(cString: r)
    }

    /// Whether an open descriptor is the root or below it (the `.inside` check).
    func isInside(fd: Int32, rootReal: String, opened: String) -> Bool {
        guard let path = ConfinedDirectory.realPathOf(fd: fd, opened: opened) else { return false }
        return path == rootReal || path.hasPrefix(rootReal == "/" ? "/" : rootReal + "/")
    }

    /// Opens the directory `parts` below the root, creating missing directories when asked.
    /// The caller closes the descriptor.
    /// With `.inside`, each directory is checked where it really is, unless `verify` is false
    /// (a reader that checks the file it opens at the end: only that descriptor matters).
    func openDirectory(_ parts: ArraySlice<String>, create: Bool, verify: Bool = true) throws -> Int32 {
        var fd = try openRoot(create: create)
        let check = policy == .inside && verify
        let rootReal = check ? rootRealPath : ""
        var walked: [String] = []
        for part in parts {
            walked.append(part)
            let follow = policy == .inside ? 0 : O_NOFOLLOW
            var next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK | follow)
            if next < 0 && errno == ENOENT && create {
                if mkdirat(fd, part, 0o755) != 0 && errno != EEXIST {
                    let e = errno
                    close(fd)
                    throw Failure(kind: .system, path: walked.joined(separator: "/"),
                                  message: "cannot create \(shown(walked[...])): \(String(cString: strerror(e)))")
                }
                next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK | follow)
            }
            if next < 0 {
                let e = errno
                let failure = describeOpenFailure(e, dir: fd, name: part, walked: walked[...], wantDirectory: true)
                close(fd)
                throw failure
            }
            close(fd)
            fd = next
            if check && !isInside(fd: fd, rootReal: rootReal, opened: root.path + "/" + walked.joined(separator: "/")) {
                let real = ConfinedDirectory.realPathOf(fd: fd, opened: root.path + "/" + walked.joined(separator: "/")) ?? "?"
                close(fd)
                throw Failure(kind: .outside, path: walked.joined(separator: "/"),
                              message: "\(shown(walked[...])) resolves (through a symbolic link) to \(real), outside \(rootName)/")
            }
        }
        return fd
    }

    /// Why `openat(dir, name)` failed, in words.
    func describeOpenFailure(_ e: Int32, dir: Int32, name: String, walked: ArraySlice<String>, wantDirectory: Bool) -> Failure {
        let path = walked.joined(separator: "/")
        let shownPath = shown(walked)
        var st = stat()
        let exists = fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0
        if exists && (st.st_mode & S_IFMT) == S_IFLNK && policy == .never {
            let target = linkTarget(dir: dir, name: name)
            return Failure(kind: .symbolicLink, path: path, message: "\(shownPath) is a symbolic link\(target.map { " (to \($0))" } ?? ""); rnnspec does not follow links under \(rootName)/", target: target)
        }
        switch e {
        case ENOENT:
            return Failure(kind: .notFound, path: path, message: "\(shownPath) does not exist")
        case ENOTDIR where wantDirectory:
            return Failure(kind: .notDirectory, path: path, message: "\(shownPath) is a file, not a directory")
        case ELOOP:
            return Failure(kind: .symbolicLink, path: path, message: "\(shownPath): too many levels of symbolic links (a loop?)")
        default:
            return Failure(kind: .system, path: path, message: "cannot open \(shownPath): \(String(cString: strerror(e)))")
        }
    }

    /// Where a link points (its text, not followed), for messages.
    func linkTarget(dir: Int32, name: String) -> String? {
        var buffer = [UInt8](repeating: 0, count: 4097)
        let n = readlinkat(dir, name, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }

    /// What kind of file a mode is, for messages.
    static func kindName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFSOCK: return "a socket"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFLNK: return "a symbolic link"
        default: return "not a regular file"
        }
    }

    // MARK: Reading

    /// Opens the regular file `relative` for reading; nil when it does not exist. The caller
    /// closes the descriptor.
    func openRegularFile(_ relative: String) throws -> Int32? {
        let parts = try components(relative)
        let dir: Int32
        // The file's descriptor is checked below: the directories on the way need no check of
        // their own.
        do { dir = try openDirectory(parts.dropLast(), create: false, verify: false) } catch let f as Failure where f.kind == .notFound {
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
                    throw Failure(kind: .symbolicLink, path: relative,
                                  message: "\(shown(parts[...])) is a symbolic link\(target.map { " to \($0)" } ?? ""), which does not exist", target: target)
                }
                return nil
            }
            throw describeOpenFailure(e, dir: dir, name: name, walked: parts[...], wantDirectory: false)
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            close(fd)
            throw Failure(kind: .system, path: relative, message: "cannot read \(shown(parts[...])): \(String(cString: strerror(e)))")
        }
        if policy == .inside && !isInside(fd: fd, rootReal: rootRealPath, opened: root.path + "/" + relative) {
            let real = ConfinedDirectory.realPathOf(fd: fd, opened: root.path + "/" + relative) ?? "?"
            close(fd)
            throw Failure(kind: .outside, path: relative, message: "\(shown(parts[...])) resolves (through a symbolic link) to \(real), outside \(rootName)/")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            let kind: Failure.Kind = (st.st_mode & S_IFMT) == S_IFDIR ? .isDirectory : .notRegular
            throw Failure(kind: kind, path: relative, message: "\(shown(parts[...])) is \(ConfinedDirectory.kindName(st.st_mode)), not a regular file",
                          detail: ConfinedDirectory.kindName(st.st_mode))
        }
        return fd
    }

    /// The bytes of the regular file `relative`; nil when it does not exist. More than
    /// `maxBytes` is refused without reading further.
    func read(_ relative: String, maxBytes: Int = Int.max) throws -> Data? {
        guard let fd = try openRegularFile(relative) else { return nil }
        defer { close(fd) }
        return try ConfinedDirectory.readAll(fd: fd, maxBytes: maxBytes, shown: "\(rootName)/\(relative)")
    }

    /// The bytes of a regular file outside any root (a configuration file), following links;
    /// a FIFO, device or directory is refused without blocking.
    static func readRegularFile(path: String, maxBytes: Int, shown: String) throws -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw Failure(kind: .system, path: shown, message: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw Failure(kind: .notRegular, path: shown, message: "\(shown) is \(kindName(st.st_mode)), not a regular file")
        }
        return try readAll(fd: fd, maxBytes: maxBytes, shown: shown)
    }

    /// Reads a descriptor to its end, refusing more than `maxBytes`.
    static func readAll(fd: Int32, maxBytes: Int, shown: String) throws -> Data {
        var data = Data()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(kind: .system, path: shown, message: "cannot read \(shown): \(String(cString: strerror(errno)))")
            }
            if n == 0 { return data }
            if data.count + n > maxBytes {
                throw Failure(kind: .tooLarge, path: shown, message: "\(shown) is larger than \(maxBytes) bytes")
            }
            data.append(contentsOf: chunk[0..<n])
        }
    }

    // MARK: Writing

    /// The hidden temporary name beside `name` for this process, short enough for NAME_MAX.
    static func temporaryPrefix(for name: String) -> String {
        // `.NAME.tmp-PID-RANDOM`: keep the whole name when it fits in 255 bytes with the suffix.
        var base = "." + name
        while base.utf8.count > 200 { base.unicodeScalars.removeLast() }
        return base + ".tmp-"
    }

    /// Writes `data` to `relative` atomically: a temporary file in the same directory, written,
    /// flushed to disk, then renamed over the old file (or, with `replace: false`, linked to
    /// the name, which fails when anything exists there). Missing directories below the root
    /// are created, and the root itself when its parent exists (with `createRoot`).
    /// A symbolic link at the name is never replaced. A full disk, or a file-size limit in a process
    /// that ignores `SIGXFSZ` (the `rnnspec` executable does; the signal's disposition is the
    /// program's choice, not the library's), is a thrown `.system` failure naming the error.
    func writeAtomically(_ relative: String, _ data: Data, replace: Bool, createRoot: Bool) throws {
        let parts = try components(relative)
        if !createRoot {
            let fd = try openRoot(create: false)
            close(fd)
        }
        let dir = try openDirectory(parts.dropLast(), create: true)
        defer { close(dir) }
        let name = parts.last!
        var st = stat()
        if fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 {
            if !replace {
                let what = (st.st_mode & S_IFMT) == S_IFREG ? "exists already" : "exists already as \(ConfinedDirectory.kindName(st.st_mode))"
                throw Failure(kind: .exists, path: relative, message: "\(shown(parts[...])) \(what)")
            }
            let type = st.st_mode & S_IFMT
            if type != S_IFREG && type != S_IFDIR && type != S_IFLNK {
                throw Failure(kind: .notRegular, path: relative,
                              message: "\(shown(parts[...])) is \(ConfinedDirectory.kindName(st.st_mode)); rnnspec replaces only regular files",
                              detail: ConfinedDirectory.kindName(st.st_mode))
            }
            if type == S_IFLNK {
                let target = linkTarget(dir: dir, name: name)
                throw Failure(kind: .symbolicLink, path: relative,
                              message: "\(shown(parts[...])) is a symbolic link\(target.map { " (to \($0))" } ?? ""); rnnspec neither follows nor replaces links under \(rootName)/",
                              target: target)
            }
        }
        let temp = ConfinedDirectory.temporaryPrefix(for: name) + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = openat(dir, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw Failure(kind: .system, path: relative, message: String(cString: strerror(errno)))
        }
        var failure: String? = nil
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 { if errno == EINTR { continue }; failure = String(cString: strerror(errno)); return }
                offset += n
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        close(fd)
        var kind: Failure.Kind = .system
        if failure == nil {
            if replace {
                if renameat(dir, temp, dir, name) != 0 { failure = String(cString: strerror(errno)) }
            } else {
                // link(2) never replaces: it fails with EEXIST when the name appeared meanwhile.
                if linkat(dir, temp, dir, name, 0) != 0 {
                    let e = errno
                    if e == EEXIST {
                        kind = .exists; failure = "\(shown(parts[...])) exists already"
                    } else if e == EPERM || e == EOPNOTSUPP || e == ENOSYS || e == EMLINK {
                        // A file system without hard links: create the name exclusively
                        // instead (never replacing, but not atomic).
                        unlinkat(dir, temp, 0)
                        let direct = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
                        if direct < 0 {
                            if errno == EEXIST { kind = .exists; failure = "\(shown(parts[...])) exists already" } else { failure = String(cString: strerror(errno)) }
                        } else {
                            let ok = data.withUnsafeBytes { buffer -> Bool in
                                var offset = 0
                                while offset < buffer.count {
                                    let n = Glibc.write(direct, buffer.baseAddress! + offset, buffer.count - offset)
                                    if n < 0 { if errno == EINTR { continue }; return false }
                                    offset += n
                                }
                                return fsync(direct) == 0
                            }
                            if !ok { failure = String(cString: strerror(errno)); unlinkat(dir, name, 0) }
                            close(direct)
                        }
                    } else {
                        failure = String(cString: strerror(e))
                    }
                }
                unlinkat(dir, temp, 0)
            }
        }
        if let failure {
            unlinkat(dir, temp, 0)
            throw Failure(kind: kind, path: relative, message: failure)
        }
        // The rename itself reaches the disk with the directory.
        fsync(dir)
    }

    /// Renames the regular file `from` over `to` in the same directory, atomically
    /// (`renameat`): a reader sees the old `to` or the new one, whole. Neither name may be a
    /// symbolic link (with `.never` no directory on the way may be one either); `to` may be
    /// missing or a regular file. `accept` must say yes to the first bytes of `from`.
    func renameFile(_ from: String, over to: String, prefixBytes: Int, accept: (Data) -> Bool) throws {
        let source = try components(from), target = try components(to)
        guard source.dropLast() == target.dropLast() else {
            throw Failure(kind: .outside, path: to, message: "\(from) and \(to) are not in one directory")
        }
        let dir = try openDirectory(source.dropLast(), create: false)
        defer { close(dir) }
        let follow = policy == .inside ? 0 : O_NOFOLLOW
        let fd = openat(dir, source.last!, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | follow)
        guard fd >= 0 else { throw describeOpenFailure(errno, dir: dir, name: source.last!, walked: source[...], wantDirectory: false) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw Failure(kind: .notRegular, path: from, message: "\(shown(source[...])) is not a regular file")
        }
        let head = (try? ConfinedDirectory.readAll(fd: fd, maxBytes: Int.max, shown: from).prefix(prefixBytes)) ?? Data()
        guard accept(Data(head)) else {
            throw Failure(kind: .notRegular, path: from, message: "\(shown(source[...])) is not a golden rnnspec wrote")
        }
        var now = stat()
        if fstatat(dir, target.last!, &now, AT_SYMLINK_NOFOLLOW) == 0 {
            switch now.st_mode & S_IFMT {
            case S_IFREG: break
            case S_IFLNK:
                let link = linkTarget(dir: dir, name: target.last!)
                throw Failure(kind: .symbolicLink, path: to, message: "\(shown(target[...])) is a symbolic link\(link.map { " (to \($0))" } ?? ""); rnnspec neither follows nor replaces links under \(rootName)/", target: link)
            default:
                throw Failure(kind: .notRegular, path: to, message: "\(shown(target[...])) is \(ConfinedDirectory.kindName(now.st_mode)); rnnspec replaces only regular files")
            }
        }
        // The name must still be the file that was checked (not swapped meanwhile).
        var again = stat()
        guard fstatat(dir, source.last!, &again, AT_SYMLINK_NOFOLLOW) == 0, again.st_ino == st.st_ino, again.st_dev == st.st_dev else {
            throw Failure(kind: .system, path: from, message: "\(shown(source[...])) changed while it was being renamed")
        }
        guard renameat(dir, source.last!, dir, target.last!) == 0 else {
            throw Failure(kind: .system, path: to, message: "cannot rename \(shown(source[...])) to \(shown(target[...])): \(String(cString: strerror(errno)))")
        }
        fsync(dir)
    }

    // MARK: Deleting and listing

    /// Deletes the regular file `relative` if `accept` says yes to its first bytes (up to
    /// `prefixBytes`); with `dryRun`, only says whether it would. Returns whether it was (would
    /// be) deleted; throws when it cannot be opened.
    func removeFile(_ relative: String, prefixBytes: Int, dryRun: Bool = false, accept: (Data) -> Bool) throws -> Bool {
        let parts = try components(relative)
        let dir = try openDirectory(parts.dropLast(), create: false)
        defer { close(dir) }
        let name = parts.last!
        let follow = policy == .inside ? 0 : O_NOFOLLOW
        let fd = openat(dir, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | follow)
        guard fd >= 0 else { throw describeOpenFailure(errno, dir: dir, name: name, walked: parts[...], wantDirectory: false) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            return false
        }
        var head = [UInt8](repeating: 0, count: prefixBytes)
        var got = 0
        while got < prefixBytes {
            let n = head.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + got, prefixBytes - got) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            got += n
        }
        guard accept(Data(head[0..<got])) else { return false }
        if dryRun { return true }
        // The name must still be the file that was read (not swapped meanwhile).
        var now = stat()
        guard fstatat(dir, name, &now, AT_SYMLINK_NOFOLLOW) == 0, now.st_ino == st.st_ino, now.st_dev == st.st_dev else { return false }
        guard unlinkat(dir, name, 0) == 0 else {
            throw Failure(kind: .system, path: relative, message: "cannot delete \(shown(parts[...])): \(String(cString: strerror(errno)))")
        }
        return true
    }

    /// Removes temporary files left in the directory of `relative` by writers that were killed
    /// (`.<name>.tmp-<pid>-<random>` whose process no longer exists). A directory that is a
    /// link, or missing, is left alone.
    func removeAbandonedTemporaries(besides relative: String) {
        guard let parts = try? components(relative),
              let dir = try? openDirectory(parts.dropLast(), create: false) else { return }
        defer { close(dir) }
        let prefix = ConfinedDirectory.temporaryPrefix(for: parts.last!)
        for entry in ConfinedDirectory.entries(of: dir) where entry.name.hasPrefix(prefix) {
            let rest = entry.name.dropFirst(prefix.count)
            guard let pid = Int32(rest.prefix { $0 != "-" }), pid > 0, pid != getpid(),
                  rest.dropFirst(String(pid).count).first == "-" else { continue }
            var st = stat()
            guard fstatat(dir, entry.name, &st, AT_SYMLINK_NOFOLLOW) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                unlinkat(dir, entry.name, 0)
            }
        }
    }

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
                    if type == UInt8(DT_DIR) || entry.name.hasSuffix(suffix) { found.append(Found(path: path, kind: .badName)) }
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
        return found.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
    }
}

/// A case id (or any path) compared by its Unicode scalars, never by canonical equivalence:
/// `café` composed and decomposed are two keys, as they are two files.
struct ExactKey: Hashable, Comparable {
    let scalars: [UInt32]
    init(_ s: String) { scalars = s.unicodeScalars.map(\.value) }
    static func < (a: ExactKey, b: ExactKey) -> Bool { a.scalars.lexicographicallyPrecedes(b.scalars) }
}

/// A name with every non-ASCII or invisible scalar written as `\u{…}`, to tell apart names
/// that look alike.
func scalarSpelling(_ s: String) -> String {
    var out = ""
    for u in s.unicodeScalars {
        if u.value >= 0x20 && u.value < 0x7F { out.unicodeScalars.append(u) } else { out += "\\u{\(String(u.value, radix: 16, uppercase: true))}" }
    }
    return out
}

/// Text as rnnspec prints it: control characters, line breaks and invisible format characters as
/// visible escapes (`String.escapedForDisplay`), so that a file name cannot start a line of its own.
func visibleText(_ s: String) -> String { s.escapedForDisplay }
