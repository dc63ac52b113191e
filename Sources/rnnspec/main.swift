// The `rnnspec` executable: everything is in RNNSpecCLI, which the tests import; this target exists
// so that its linker settings (the Swift runtime and Foundation linked statically on Linux, see
// Package.swift) apply to the executable alone.
import RNNSpecCLI

RNNSpecEntry.main()
