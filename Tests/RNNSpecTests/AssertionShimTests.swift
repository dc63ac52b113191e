import Foundation
import TestAssertions
import Testing

/// The XCTest-named assertions in `TestAssertions` record a Swift Testing issue at the caller's line
/// when they fail, and nothing when they hold: a test that uses them can fail.
@Suite struct AssertionShimTests {
    struct Thrown: Error {}
    static func throwing() throws -> Int { throw Thrown() }

    /// Runs `body`, which calls one assertion on the line after `line` and must fail there with a
    /// message that contains `text`.
    func expectFailure(_ text: String, line: Int, _ body: () throws -> Void) {
        withKnownIssue {
            // XCTUnwrap records its issue, then throws to stop the test.
            do { try body() } catch {}
        } matching: { issue in
            issue.sourceLocation?.line == line + 1 && issue.sourceLocation?.fileName == "AssertionShimTests.swift"
                && "\(issue)".contains(text)
        }
    }

    @Test func testEachFailingAssertionIsAnIssueAtItsLine() {
        expectFailure("XCTAssertTrue failed - why", line: #line) {
            XCTAssertTrue(false, "why")
        }
        expectFailure("XCTAssert failed", line: #line) {
            XCTAssert(1 > 2)
        }
        expectFailure("XCTAssertFalse failed", line: #line) {
            XCTAssertFalse(true)
        }
        expectFailure(#"XCTAssertNil failed: "3""#, line: #line) {
            XCTAssertNil(Optional(3))
        }
        expectFailure("XCTAssertNotNil failed", line: #line) {
            XCTAssertNotNil(Int?.none)
        }
        expectFailure(#"XCTAssertEqual failed: ("1") is not equal to ("2")"#, line: #line) {
            XCTAssertEqual(1, 2)
        }
        expectFailure("XCTAssertEqual failed", line: #line) {
            XCTAssertEqual(1.0, 1.1, accuracy: 0.05)
        }
        expectFailure("XCTAssertEqual failed", line: #line) {
            XCTAssertEqual(Double.nan, Double.nan, accuracy: 1)
        }
        expectFailure("XCTAssertNotEqual failed", line: #line) {
            XCTAssertNotEqual("a", "a")
        }
        expectFailure("XCTAssertLessThan failed", line: #line) {
            XCTAssertLessThan(2, 2)
        }
        expectFailure("XCTAssertLessThanOrEqual failed", line: #line) {
            XCTAssertLessThanOrEqual(3, 2)
        }
        expectFailure("XCTAssertGreaterThan failed", line: #line) {
            XCTAssertGreaterThan(2, 2)
        }
        expectFailure("XCTAssertGreaterThanOrEqual failed", line: #line) {
            XCTAssertGreaterThanOrEqual(1, 2)
        }
        expectFailure("XCTAssertThrowsError failed: did not throw", line: #line) {
            XCTAssertThrowsError(1)
        }
        expectFailure("XCTAssertNoThrow failed: threw error", line: #line) {
            XCTAssertNoThrow(try Self.throwing())
        }
        expectFailure("XCTAssertEqual failed: threw error", line: #line) {
            XCTAssertEqual(try Self.throwing(), 1)
        }
        expectFailure("failed - said so", line: #line) {
            XCTFail("said so")
        }
        expectFailure("XCTUnwrap failed", line: #line) {
            _ = try XCTUnwrap(Int?.none)
        }
    }

    @Test func testHoldingAssertionsRecordNothing() throws {
        XCTAssertTrue(true)
        XCTAssert(true)
        XCTAssertFalse(false)
        XCTAssertNil(Int?.none)
        XCTAssertNotNil(Optional(1))
        XCTAssertEqual([1, 2], [1, 2])
        XCTAssertEqual(1.0, 1.04, accuracy: 0.05)
        XCTAssertEqual(Double.infinity, .infinity, accuracy: 0)
        XCTAssertNotEqual(1, 2)
        XCTAssertLessThan(1, 2)
        XCTAssertLessThanOrEqual(2, 2)
        XCTAssertGreaterThan(3, 2)
        XCTAssertGreaterThanOrEqual(2, 2)
        XCTAssertNoThrow(1)
        var caught = false
        XCTAssertThrowsError(try Self.throwing()) { caught = $0 is Thrown }
        XCTAssertTrue(caught, "the error handler sees the error")
        #expect(try XCTUnwrap(Optional(5)) == 5)
        try XCTSkipUnless(true)
    }
}
