import Foundation

extension Project {
    /// Whether the paths of a run name the whole cases root: none, or one of them is the root
    /// however it is spelled (`cases`, `./cases/`, `cases/../cases`, its absolute path, a
    /// symbolic link to it). Such a run reports the goldens that have no case.
    public func coversWholeCasesRoot(_ paths: [String]) -> Bool {
        if paths.isEmpty { return true }
        let root = casesRoot.resolvingSymlinksInPath().standardizedFileURL.path
        return paths.contains { path in
            URL(fileURLWithPath: path, relativeTo: workingDirectory).absoluteURL.standardizedFileURL
                .resolvingSymlinksInPath().standardizedFileURL.path == root
        }
    }
}
