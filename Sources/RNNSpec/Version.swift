/// The version of this rnnspec release and of the case format it reads.
///
/// ``version`` is the one place the package version is written: `rnnspec --version` prints it,
/// and a test checks that it is the newest heading of `CHANGELOG.md`.
public enum RNNSpecRelease {
    /// The package's semantic version (`MAJOR.MINOR.PATCH`; `0.x` while the case format may change).
    public static let version = "0.4.0"
    /// The version of the case-file format (`cases/**/*.yaml`) this package reads.
    public static let caseFormat = 1
}
