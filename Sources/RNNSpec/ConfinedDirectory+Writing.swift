import Foundation
import RNNPlatform

extension ConfinedDirectory {
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
                let what =
                    (st.st_mode & S_IFMT) == S_IFREG
                    ? "exists already" : "exists already as \(ConfinedDirectory.kindName(st.st_mode))"
                throw Failure(kind: .exists, path: relative, message: "\(shown(parts[...])) \(what)")
            }
            let type = st.st_mode & S_IFMT
            if type != S_IFREG && type != S_IFDIR && type != S_IFLNK {
                throw Failure(
                    kind: .notRegular, path: relative,
                    message:
                        "\(shown(parts[...])) is \(ConfinedDirectory.kindName(st.st_mode)); rnnspec replaces only regular files",
                    detail: ConfinedDirectory.kindName(st.st_mode))
            }
            if type == S_IFLNK {
                let target = linkTarget(dir: dir, name: name)
                throw Failure(
                    kind: .symbolicLink, path: relative,
                    message:
                        "\(shown(parts[...])) is a symbolic link\(target.map { " (to \($0))" } ?? ""); rnnspec neither follows nor replaces links under \(rootName)/",
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
                let n = RNNPlatform.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
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
                            if errno == EEXIST {
                                kind = .exists; failure = "\(shown(parts[...])) exists already"
                            } else {
                                failure = String(cString: strerror(errno))
                            }
                        } else {
                            let ok = data.withUnsafeBytes { buffer -> Bool in
                                var offset = 0
                                while offset < buffer.count {
                                    let n = RNNPlatform.write(
                                        direct, buffer.baseAddress! + offset, buffer.count - offset)
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
        guard fd >= 0 else {
            throw describeOpenFailure(errno, dir: dir, name: source.last!, walked: source[...], wantDirectory: false)
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw Failure(kind: .notRegular, path: from, message: "\(shown(source[...])) is not a regular file")
        }
        let head =
            (try? ConfinedDirectory.readAll(fd: fd, maxBytes: Int.max, shown: from).prefix(prefixBytes)) ?? Data()
        guard accept(Data(head)) else {
            throw Failure(kind: .notRegular, path: from, message: "\(shown(source[...])) is not a golden rnnspec wrote")
        }
        var now = stat()
        if fstatat(dir, target.last!, &now, AT_SYMLINK_NOFOLLOW) == 0 {
            switch now.st_mode & S_IFMT {
            case S_IFREG: break
            case S_IFLNK:
                let link = linkTarget(dir: dir, name: target.last!)
                throw Failure(
                    kind: .symbolicLink, path: to,
                    message:
                        "\(shown(target[...])) is a symbolic link\(link.map { " (to \($0))" } ?? ""); rnnspec neither follows nor replaces links under \(rootName)/",
                    target: link)
            default:
                throw Failure(
                    kind: .notRegular, path: to,
                    message:
                        "\(shown(target[...])) is \(ConfinedDirectory.kindName(now.st_mode)); rnnspec replaces only regular files"
                )
            }
        }
        // The name must still be the file that was checked (not swapped meanwhile).
        var again = stat()
        guard fstatat(dir, source.last!, &again, AT_SYMLINK_NOFOLLOW) == 0, again.st_ino == st.st_ino,
            again.st_dev == st.st_dev
        else {
            throw Failure(
                kind: .system, path: from, message: "\(shown(source[...])) changed while it was being renamed")
        }
        guard renameat(dir, source.last!, dir, target.last!) == 0 else {
            throw Failure(
                kind: .system, path: to,
                message:
                    "cannot rename \(shown(source[...])) to \(shown(target[...])): \(String(cString: strerror(errno)))")
        }
        fsync(dir)
    }

    // MARK: Deleting

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
        guard fd >= 0 else {
            throw describeOpenFailure(errno, dir: dir, name: name, walked: parts[...], wantDirectory: false)
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            return false
        }
        var head = [UInt8](repeating: 0, count: prefixBytes)
        var got = 0
        while got < prefixBytes {
            let n = head.withUnsafeMutableBytes { RNNPlatform.read(fd, $0.baseAddress! + got, prefixBytes - got) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            got += n
        }
        guard accept(Data(head[0..<got])) else { return false }
        if dryRun { return true }
        // The name must still be the file that was read (not swapped meanwhile).
        var now = stat()
        guard fstatat(dir, name, &now, AT_SYMLINK_NOFOLLOW) == 0, now.st_ino == st.st_ino, now.st_dev == st.st_dev
        else { return false }
        guard unlinkat(dir, name, 0) == 0 else {
            throw Failure(
                kind: .system, path: relative,
                message: "cannot delete \(shown(parts[...])): \(String(cString: strerror(errno)))")
        }
        return true
    }

    /// Removes temporary files left in the directory of `relative` by writers that were killed
    /// (`.<name>.tmp-<pid>-<random>` whose process no longer exists). A directory that is a
    /// link, or missing, is left alone.
    func removeAbandonedTemporaries(besides relative: String) {
        guard let parts = try? components(relative),
            let dir = try? openDirectory(parts.dropLast(), create: false)
        else { return }
        defer { close(dir) }
        let prefix = ConfinedDirectory.temporaryPrefix(for: parts.last!)
        for entry in ConfinedDirectory.entries(of: dir) where entry.name.hasPrefix(prefix) {
            let rest = entry.name.dropFirst(prefix.count)
            guard let pid = Int32(rest.prefix { $0 != "-" }), pid > 0, pid != getpid(),
                rest.dropFirst(String(pid).count).first == "-"
            else { continue }
            var st = stat()
            guard fstatat(dir, entry.name, &st, AT_SYMLINK_NOFOLLOW) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
                continue
            }
            if kill(pid, 0) != 0 && errno == ESRCH {
                unlinkat(dir, entry.name, 0)
            }
        }
    }
}
