// XCTest's assertion vocabulary, recording Swift Testing issues.
//
// The package's tests are Swift Testing tests (`@Test`), which `swift test` runs in parallel in one
// process; XCTest on Linux runs its tests one at a time. The tests were written with XCTest's assertions,
// and these functions keep their names, arguments and messages: each failure is an `Issue` at the
// caller's file and line, so a failing assertion fails its test (`AssertionShimTests` makes each one fail
// on purpose and checks that it was recorded). `XCTUnwrap` and a failed `XCTSkipUnless` throw, as
// XCTest's do; a skip is Swift Testing's `Test.cancel`.

import Testing

/// Where an assertion was called: XCTest's `file:line:` arguments as a Swift Testing location.
@usableFromInline
func location(_ file: StaticString, _ line: UInt) -> SourceLocation {
    let path = "\(file)"
    // Swift Testing wants a file ID of the form Module/File.swift; a test file's directory is its module.
    let parts = path.split(separator: "/")
    let fileID = parts.count >= 2 ? "\(parts[parts.count - 2])/\(parts[parts.count - 1])" : "Tests/\(path)"
    return SourceLocation(fileID: fileID, filePath: path, line: Int(line), column: 1)
}

/// Records a failure: XCTest's text (`XCTAssertEqual failed: ("1") is not equal to ("2") - message`).
@usableFromInline
func fail(_ what: String, _ message: String, _ file: StaticString, _ line: UInt) {
    let text = message.isEmpty ? what : "\(what) - \(message)"
    Issue.record(Comment(rawValue: text), sourceLocation: location(file, line))
}

/// Evaluates an assertion's operands; an error they throw is a failure, as in XCTest.
@usableFromInline
func evaluate<T>(
    _ name: String, _ message: () -> String, _ file: StaticString, _ line: UInt, _ body: () throws -> T
) -> T? {
    do {
        return try body()
    } catch {
        fail("\(name) failed: threw error \"\(error)\"", message(), file, line)
        return nil
    }
}

public func XCTFail(_ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    fail("failed", message, file, line)
}

public func XCTAssertTrue(
    _ expression: @autoclosure () throws -> Bool, _ message: @autoclosure () -> String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    guard let value = evaluate("XCTAssertTrue", message, file, line, expression) else { return }
    if !value { fail("XCTAssertTrue failed", message(), file, line) }
}

public func XCTAssert(
    _ expression: @autoclosure () throws -> Bool, _ message: @autoclosure () -> String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    guard let value = evaluate("XCTAssert", message, file, line, expression) else { return }
    if !value { fail("XCTAssert failed", message(), file, line) }
}

public func XCTAssertFalse(
    _ expression: @autoclosure () throws -> Bool, _ message: @autoclosure () -> String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    guard let value = evaluate("XCTAssertFalse", message, file, line, expression) else { return }
    if value { fail("XCTAssertFalse failed", message(), file, line) }
}

public func XCTAssertNil<T>(
    _ expression: @autoclosure () throws -> T?, _ message: @autoclosure () -> String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    guard let value = evaluate("XCTAssertNil", message, file, line, expression) else { return }
    if let value { fail("XCTAssertNil failed: \"\(value)\"", message(), file, line) }
}

public func XCTAssertNotNil<T>(
    _ expression: @autoclosure () throws -> T?, _ message: @autoclosure () -> String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    guard let value = evaluate("XCTAssertNotNil", message, file, line, expression) else { return }
    if value == nil { fail("XCTAssertNotNil failed", message(), file, line) }
}

/// The value of `expression`, or a recorded failure and a thrown error when it is nil.
public func XCTUnwrap<T>(
    _ expression: @autoclosure () throws -> T?, _ message: @autoclosure () -> String = "",
    file: StaticString = #filePath, line: UInt = #line
) throws -> T {
    if let value = try expression() { return value }
    fail("XCTUnwrap failed: expected non-nil value of type \"\(T.self)\"", message(), file, line)
    throw UnwrapFailure(file: "\(file)", line: line)
}

/// What `XCTUnwrap` throws after recording its failure, so that the test stops there.
public struct UnwrapFailure: Error, CustomStringConvertible {
    public let file: String
    public let line: UInt
    public var description: String { "XCTUnwrap failed at \(file):\(line)" }
}

/// Compares two operands with `holds`; XCTest's message names the relation.
@usableFromInline
func compare<T>(
    _ name: String, _ relation: String, _ a: () throws -> T, _ b: () throws -> T, _ message: () -> String,
    _ file: StaticString, _ line: UInt, _ holds: (T, T) -> Bool
) {
    guard let (x, y) = evaluate(name, message, file, line, { (try a(), try b()) }) else { return }
    if !holds(x, y) { fail("\(name) failed: (\"\(x)\") \(relation) (\"\(y)\")", message(), file, line) }
}

public func XCTAssertEqual<T: Equatable>(
    _ expression1: @autoclosure () throws -> T, _ expression2: @autoclosure () throws -> T,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    compare("XCTAssertEqual", "is not equal to", expression1, expression2, message, file, line, ==)
}

public func XCTAssertNotEqual<T: Equatable>(
    _ expression1: @autoclosure () throws -> T, _ expression2: @autoclosure () throws -> T,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    compare("XCTAssertNotEqual", "is equal to", expression1, expression2, message, file, line, !=)
}

public func XCTAssertEqual<T: FloatingPoint>(
    _ expression1: @autoclosure () throws -> T, _ expression2: @autoclosure () throws -> T, accuracy: T,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    compare("XCTAssertEqual", "is not equal to (± \(accuracy))", expression1, expression2, message, file, line) {
        $0 == $1 || abs($0 - $1) <= accuracy
    }
}

public func XCTAssertLessThan<T: Comparable>(
    _ expression1: @autoclosure () throws -> T, _ expression2: @autoclosure () throws -> T,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    compare("XCTAssertLessThan", "is not less than", expression1, expression2, message, file, line, <)
}

public func XCTAssertLessThanOrEqual<T: Comparable>(
    _ expression1: @autoclosure () throws -> T, _ expression2: @autoclosure () throws -> T,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    compare(
        "XCTAssertLessThanOrEqual", "is greater than", expression1, expression2, message, file, line, <=)
}

public func XCTAssertGreaterThan<T: Comparable>(
    _ expression1: @autoclosure () throws -> T, _ expression2: @autoclosure () throws -> T,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    compare("XCTAssertGreaterThan", "is not greater than", expression1, expression2, message, file, line, >)
}

public func XCTAssertGreaterThanOrEqual<T: Comparable>(
    _ expression1: @autoclosure () throws -> T, _ expression2: @autoclosure () throws -> T,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    compare(
        "XCTAssertGreaterThanOrEqual", "is less than", expression1, expression2, message, file, line, >=)
}

public func XCTAssertThrowsError<T>(
    _ expression: @autoclosure () throws -> T, _ message: @autoclosure () -> String = "",
    file: StaticString = #filePath, line: UInt = #line, _ errorHandler: (_ error: any Error) -> Void = { _ in }
) {
    do {
        _ = try expression()
        fail("XCTAssertThrowsError failed: did not throw an error", message(), file, line)
    } catch {
        errorHandler(error)
    }
}

public func XCTAssertNoThrow<T>(
    _ expression: @autoclosure () throws -> T, _ message: @autoclosure () -> String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    _ = evaluate("XCTAssertNoThrow", message, file, line, expression)
}

/// Skips the rest of the test (Swift Testing's cancellation) unless `condition` holds.
public func XCTSkipUnless(
    _ condition: @autoclosure () throws -> Bool, _ message: @autoclosure () -> String = "",
    file: StaticString = #filePath, line: UInt = #line
) throws {
    if try !condition() { try Test.cancel(Comment(rawValue: message()), sourceLocation: location(file, line)) }
}

/// Skips the rest of the test: `throw XCTSkip(...)` as in XCTest, which Swift Testing reports as a skip
/// (`XCTSkip` is an error the test's body rethrows through `Test.cancel`).
public func XCTSkip(_ message: String = "", file: StaticString = #filePath, line: UInt = #line) -> any Error {
    do {
        try Test.cancel(Comment(rawValue: message), sourceLocation: location(file, line))
    } catch {
        return error
    }
}
