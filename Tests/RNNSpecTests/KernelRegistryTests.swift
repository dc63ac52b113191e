import Foundation
import TestAssertions
import Testing

@testable import RNNSpec

/// The registry indexes kernels by name and builds a kernel's spec only when it is read.
@Suite final class KernelRegistryTests {
    /// Every kernel in the list carries the name its spec gives (the list names each kernel so that the
    /// registry need not build the spec to index it).
    @Test func testEveryListedNameIsTheSpecsName() throws {
        for kernel in allKernels {
            let lazy = try XCTUnwrap(kernel as? LazyKernel, "\(kernel.name) is not built lazily")
            XCTAssertEqual(lazy.make().spec.name, lazy.name)
        }
        XCTAssertEqual(KernelRegistry.standard.names, KernelRegistry.standard.kernels.map(\.spec.name))
        XCTAssertEqual(KernelRegistry.standard.names, KernelRegistry.standard.names.sorted())
    }

    /// Building a registry, listing its names and finding a kernel build nothing; reading the spec or
    /// running a case builds that kernel once, however many threads ask at once.
    @Test func testAKernelIsBuiltOnceAndOnlyWhenItsSpecIsRead() throws {
        final class Count: @unchecked Sendable {
            let lock = NSLock()
            var value = 0
            func add() { lock.withLock { value += 1 } }
        }
        let made = Count()
        let step = LazyKernel("rnn.step") {
            made.add()
            return RNNStepKernel()
        }
        let other = LazyKernel("gru.blend") { GRUBlendKernel() }
        let registry = KernelRegistry(kernels: [step, other]).registering([ClipNormKernel()])
        XCTAssertEqual(registry.names, ["grad.clip_norm", "gru.blend", "rnn.step"])
        let found = try XCTUnwrap(registry.kernel(named: "rnn.step"))
        XCTAssertFalse(step.isBuilt)
        XCTAssertFalse(other.isBuilt)
        XCTAssertEqual(made.value, 0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in XCTAssertEqual(found.spec.name, "rnn.step") }
        XCTAssertTrue(step.isBuilt)
        XCTAssertFalse(other.isBuilt)
        XCTAssertEqual(made.value, 1)
        // The case runs through the kernel that was built.
        let project = try TempProject()
        _ = try project.writeCase("c", simpleStepCase)
        let result = try Runner(project: project.project, options: RunOptions(), registry: registry).run(paths: [])
            .results.first
        XCTAssertEqual(result?.status, .new)
        XCTAssertEqual(made.value, 1)
    }
}
