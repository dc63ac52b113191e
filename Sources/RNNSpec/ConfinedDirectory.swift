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
        enum Kind: Equatable {
            case notFound, symbolicLink, notDirectory, isDirectory, notRegular, outside, tooLarge, exists, system
        }
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
    /// `root`'s path (standardized).
    let rootPath: String
    let policy: LinkPolicy
    /// The name shown for the root in messages (`golden`, `cases`).
    let rootName: String
    /// Where the root's real path is kept once known (`.inside`), shared by the copies of a project.
    var realPaths: RealPathCache? = nil
    /// Descriptors of the directories below the root that reads have opened in this run, kept open
    /// for the next read there (shared by the copies of a project); nil: every read walks from the root.
    var directories: DirectoryDescriptors? = nil

    init(root: URL, policy: LinkPolicy, rootName: String) {
        let root = root.baseURL == nil && isStandardAbsolutePath(root.path) ? root : root.standardizedFileURL
        self.init(root: root, rootPath: root.path, policy: policy, rootName: rootName)
    }

    /// A confined directory whose root's standardized path is known already.
    init(
        root: URL, rootPath: String, policy: LinkPolicy, rootName: String, realPaths: RealPathCache? = nil,
        directories: DirectoryDescriptors? = nil
    ) {
        self.root = root
        self.rootPath = rootPath
        self.policy = policy
        self.rootName = rootName.hasSuffix("/") ? String(rootName.dropLast()) : rootName
        self.realPaths = realPaths
        self.directories = directories
    }

    // MARK: Paths

    /// Splits a relative path into components; `.`, `..` and empty components are refused.
    func components(_ relative: String) throws -> [String] {
        let parts = relative.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for p in parts where p.isEmpty || p == "." || p == ".." || p.utf8.contains(0) {
            throw Failure(
                kind: .outside, path: relative, message: "the path '\(relative)' is not a plain path under \(rootName)/"
            )
        }
        guard !parts.isEmpty else { throw Failure(kind: .outside, path: relative, message: "empty path") }
        return parts
    }

    func shown(_ parts: ArraySlice<String>) -> String {
        ([rootName] + parts).joined(separator: "/")
    }

    // MARK: Descriptors

    /// The real path of the root (links resolved), for the `.inside` check: resolved once per
    /// `realPaths` cache (a run), else each time.
    var rootRealPath: String {
        guard let realPaths else { return realPath(root) }
        // Only what `realpath` resolved is kept; a root it cannot resolve is tried again next time.
        return realPaths.realPath(of: rootPath) {
            guard let p = realpath(rootPath, nil) else { return nil }
            defer { free(p) }
            return String(cString: p)
        } ?? realPath(root)
    }

    /// Opens the root directory. With `create`, a missing root is made when its parent exists.
    func openRoot(create: Bool) throws -> Int32 {
        var fd = open(rootPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 && errno == ENOENT && create {
            if mkdir(rootPath, 0o755) != 0 && errno != EEXIST {
                let why =
                    errno == ENOENT ? "neither it nor its parent directory exists" : String(cString: strerror(errno))
                throw Failure(kind: .notFound, path: "", message: "cannot create the root \(rootName)/: \(why)")
            }
            fd = open(rootPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK)
        }
        guard fd >= 0 else {
            let e = errno
            switch e {
            case ENOENT: throw Failure(kind: .notFound, path: "", message: "\(rootName)/ does not exist")
            case ENOTDIR: throw Failure(kind: .notDirectory, path: "", message: "\(rootName) is not a directory")
            default:
                throw Failure(
                    kind: .system, path: "", message: "cannot open \(rootName)/: \(String(cString: strerror(e)))")
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
        // On the bytes: `String`'s `==` and `hasPrefix` take canonically equivalent spellings (NFC and
        // NFD) as equal, and on Linux those are different directories.
        return path.utf8.elementsEqual(rootReal.utf8)
            || path.utf8.starts(with: (rootReal == "/" ? "/" : rootReal + "/").utf8)
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
                    throw Failure(
                        kind: .system, path: walked.joined(separator: "/"),
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
            if check && !isInside(fd: fd, rootReal: rootReal, opened: rootPath + "/" + walked.joined(separator: "/")) {
                let real =
                    ConfinedDirectory.realPathOf(fd: fd, opened: rootPath + "/" + walked.joined(separator: "/")) ?? "?"
                close(fd)
                throw Failure(
                    kind: .outside, path: walked.joined(separator: "/"),
                    message: "\(shown(walked[...])) resolves (through a symbolic link) to \(real), outside \(rootName)/"
                )
            }
        }
        return fd
    }

    /// Why `openat(dir, name)` failed, in words.
    func describeOpenFailure(_ e: Int32, dir: Int32, name: String, walked: ArraySlice<String>, wantDirectory: Bool)
        -> Failure
    {
        let path = walked.joined(separator: "/")
        let shownPath = shown(walked)
        var st = stat()
        let exists = fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0
        if exists && (st.st_mode & S_IFMT) == S_IFLNK && policy == .never {
            let target = linkTarget(dir: dir, name: name)
            return Failure(
                kind: .symbolicLink, path: path,
                message:
                    "\(shownPath) is a symbolic link\(target.map { " (to \($0))" } ?? ""); rnnspec does not follow links under \(rootName)/",
                target: target)
        }
        switch e {
        case ENOENT:
            return Failure(kind: .notFound, path: path, message: "\(shownPath) does not exist")
        case ENOTDIR where wantDirectory:
            return Failure(kind: .notDirectory, path: path, message: "\(shownPath) is a file, not a directory")
        case ELOOP:
            return Failure(
                kind: .symbolicLink, path: path, message: "\(shownPath): too many levels of symbolic links (a loop?)")
        default:
            return Failure(
                kind: .system, path: path, message: "cannot open \(shownPath): \(String(cString: strerror(e)))")
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
        if u.value >= 0x20 && u.value < 0x7F {
            out.unicodeScalars.append(u)
        } else {
            out += "\\u{\(String(u.value, radix: 16, uppercase: true))}"
        }
    }
    return out
}

/// Text as rnnspec prints it: control characters, line breaks and invisible format characters as
/// visible escapes (`String.escapedForDisplay`), so that a file name cannot start a line of its own.
func visibleText(_ s: String) -> String { s.escapedForDisplay }

/// Real paths of roots, resolved once and kept for as long as the cache lives (a project, and so a
/// run): resolving one is a system call for each of its components, and a run needs the cases
/// root's for every case it reads. A root whose links change during the run keeps the real path it
/// had when first resolved, so a file is never taken as inside a root it was not inside of then.
final class RealPathCache: @unchecked Sendable {
    private let lock = NSLock()
    /// By the path's exact scalars: two spellings of one name (NFC, NFD) are two directories.
    private var paths: [ExactKey: String] = [:]

    func realPath(of path: String, resolve: () -> String?) -> String? {
        lock.lock()
        defer { lock.unlock() }
        let key = ExactKey(path)
        if let known = paths[key] { return known }
        guard let real = resolve() else { return nil }
        paths[key] = real
        return real
    }
}

/// Descriptors of directories opened for reading during a run, each kept open (close-on-exec) until
/// the run ends (the cache goes with the run's copies of the project), so that the next file read there is one `openat` in it rather than a walk
/// from the root (a golden was three opens and three closes; a case file an open and a `readlink`).
///
/// A directory is opened the usual way the first time, with every check its root's policy asks for
/// (no link under the golden root; inside the cases root), so a kept descriptor is a directory that
/// was inside its root when the run first looked. It stays that directory: one renamed or replaced
/// during the run is still read where it went, never the new one put in its place. Keys are the
/// root's path and the directory's relative path, by their bytes (`café` composed and decomposed are
/// two directories) and by policy. At most `capacity` are kept; reads beyond them walk. A cache lives
/// for one run (`Runner.keepingDirectories`).
final class DirectoryDescriptors: @unchecked Sendable {
    /// At most 256, and an eighth of the process's limit on open files (`ulimit -n`), so that kept
    /// directories never stand in the way of a file, a golden's walk or a worker's pipes.
    static let capacity: Int = {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        // (RLIM_INFINITY is all ones: the minimum takes care of it.)
        return Int(min(256, limit.rlim_cur / 8))
    }()
    private let lock = NSLock()
    private var open: [[UInt8]: Int32] = [:]

    deinit { for fd in open.values { close(fd) } }

    /// The number of descriptors kept.
    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return open.count
    }

    /// The descriptor kept for `key`, opened by `opener` the first time; nil when it cannot be opened
    /// or `capacity` are kept already. The descriptor belongs to the cache: the caller never closes it.
    func descriptor(_ key: [UInt8], opener: () -> Int32?) -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let fd = open[key] { return fd }
        guard open.count < Self.capacity, let fd = opener() else { return nil }
        open[key] = fd
        return fd
    }
}
