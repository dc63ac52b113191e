import Foundation
import RNNSpec

/// One fuzz input, read both as a case file and as a golden file; a case that loads is run by its
/// kernel (in this process, gradcheck left out). Any error thrown is a correct answer; a crash, a
/// trap, a hang or a blown memory limit is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLoaders(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = count == 0 || bytes == nil ? Data() : Data(bytes: bytes!, count: count)
    // A small element budget keeps each execution fast; the limit itself (inputs, and the sizes
    // the kernel declares for its params) is under test.
    let loader = CaseLoader(limits: LoadLimits(maxElements: 100_000))
    if let c = try? loader.load(data: data, id: "fuzz", displayPath: "fuzz.yaml") {
        _ = try? Runner.execute(c)
    }
    if let text = String(bytes: data, encoding: .utf8) {
        _ = try? Golden.parse(SourceText(path: "golden.yaml", text: text))
    }
    return 0
}

/// libFuzzer's driver (from the runtime linked by `-sanitize=fuzzer`); SwiftPM's executable
/// owns `main`, so it hands the command line to the driver.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzLoaders))
