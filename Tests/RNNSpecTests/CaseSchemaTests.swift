import Foundation
import TestAssertions
import Testing

@testable import RNNSpec
@testable import RNNSpecCLI

/// The JSON Schema is generated from the registry, and the committed copy is the generated one.
@Suite final class CaseSchemaTests {
    /// Every registered kernel has its if/then branch, listing exactly its params (with enums for
    /// choices), inputs and outputs.
    @Test func testSchemaCoversEveryKernelParamInputAndOutput() throws {
        let schema = CaseSchema.schema()
        let branches = try XCTUnwrap(schema["allOf"] as? [[String: Any]])
        let properties = try XCTUnwrap(schema["properties"] as? [String: Any])
        XCTAssertEqual((properties["kernel"] as? [String: Any])?["enum"] as? [String], KernelRegistry.standard.names)
        XCTAssertEqual(branches.count, KernelRegistry.standard.names.count)
        for name in KernelRegistry.standard.names {
            let spec = KernelRegistry.standard.kernel(named: name)!.spec
            let branch = try XCTUnwrap(
                branches.first {
                    (($0["if"] as? [String: Any])?["properties"] as? [String: Any]).flatMap {
                        ($0["kernel"] as? [String: Any])?["const"] as? String
                    } == name
                }, "no branch for \(name)")
            let then = try XCTUnwrap((branch["then"] as? [String: Any])?["properties"] as? [String: Any])
            func keys(_ field: String) -> Set<String> {
                Set((((then[field] as? [String: Any])?["properties"]) as? [String: Any] ?? [:]).keys)
            }
            XCTAssertEqual(keys("params"), Set(spec.params.map(\.name)), name)
            XCTAssertEqual(keys("inputs"), Set(spec.inputs.map(\.name)), name)
            XCTAssertEqual(keys("expect"), Set(spec.outputs.map(\.name)), name)
            let params = ((then["params"] as? [String: Any])?["properties"] as? [String: Any]) ?? [:]
            for p in spec.params {
                if case .choice(let words) = p.type {
                    XCTAssertEqual((params[p.name] as? [String: Any])?["enum"] as? [String], words, "\(name).\(p.name)")
                }
                XCTAssertEqual((params[p.name] as? [String: Any])?["description"] as? String, p.doc)
            }
        }
    }

    /// rnnspec.schema.json in the repository is exactly what `rnnspec schema` prints.
    @Test func testCommittedSchemaIsTheGeneratedOne() throws {
        let committed = try String(
            contentsOf: repositoryRoot.appendingPathComponent(CaseSchema.fileName), encoding: .utf8)
        XCTAssertTrue(
            committed == CaseSchema.text(),
            "rnnspec.schema.json is stale: run `swift run rnnspec schema > rnnspec.schema.json`")
    }

    /// `rnnspec new` starts the file with the YAML language server's schema line, relative to the file.
    @Test func testNewWritesTheSchemaLine() throws {
        let p = try TempProject()
        let fe = FrontEnd(project: p.project, environment: [:], stdout: { _ in }, stderr: { _ in })
        XCTAssertEqual(try fe.new(kernel: "rnn.step", path: "cases/exercises/my_case.yaml"), .success)
        let text = try String(
            contentsOf: p.root.appendingPathComponent("cases/exercises/my_case.yaml"), encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("# yaml-language-server: $schema=../../rnnspec.schema.json\n"), text)
        XCTAssertEqual(
            CaseSchema.modeline(forCaseAt: "top.yaml"), "# yaml-language-server: $schema=../rnnspec.schema.json\n")
    }
}
