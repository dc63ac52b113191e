import Foundation
import RNNKernels
import TestAssertions
import Testing

@testable import RNNSpec

/// The worker side of the protocol reads requests however the pipe delivers them: several lines in one
/// read, a line split over reads, a last line without its newline (not answered).
@Suite final class WorkerServerTests {
    @Test func testRequestsAreAnsweredInOrderWhateverTheReadsDeliver() throws {
        let requests = (0..<5).map { k in
            WorkerProtocol.encode(
                ExecutionRequest(
                    id: "c\(k)", kernel: "grad.clip_norm",
                    params: ["max_norm": .real(100), "epsilon": .real(1e-6), "dtype": .string("float64")],
                    inputs: ["g": .real(RealTensor(Tensor(shape: [2], scalars: [3, Double(k)])))]))
        }
        let bytes = Array(requests.joined().utf8) + Array("{\"protocol\":1,\"id\":\"unfinished".utf8)
        var toWorker: [Int32] = [0, 0], fromWorker: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&toWorker), 0)
        XCTAssertEqual(pipe(&fromWorker), 0)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var status: Int32 = -1
        let (input, output) = (toWorker[0], fromWorker[1])
        Thread.detachNewThread {
            status = WorkerServer.serve(registry: .standard, name: "test", input: input, output: output)
            close(output)
            done.signal()
        }
        var replies = Data()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        /// Reads the worker's output until it holds `count` lines.
        func readLines(_ count: Int) {
            while replies.filter({ $0 == 0x0A }).count < count {
                let n = read(fromWorker[0], &chunk, chunk.count)
                if n <= 0 { break }
                replies.append(contentsOf: chunk[0..<n])
            }
        }
        // Two lines and part of a third; once the worker has answered the two (so it holds the part
        // alone), the rest of it with two more and the unfinished one, in pieces of 7 bytes.
        let first = requests[0].utf8.count + requests[1].utf8.count + 10
        _ = Array(bytes[..<first]).withUnsafeBytes { write(toWorker[1], $0.baseAddress, $0.count) }
        readLines(3)
        var k = first
        while k < bytes.count {
            let end = min(k + 7, bytes.count)
            _ = Array(bytes[k..<end]).withUnsafeBytes { write(toWorker[1], $0.baseAddress, $0.count) }
            k = end
        }
        close(toWorker[1])
        done.wait()
        XCTAssertEqual(status, 0)
        readLines(Int.max)
        close(fromWorker[0])
        close(toWorker[0])
        let lines = String(decoding: replies, as: UTF8.self).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 6, "the hello and five replies")
        for (k, line) in lines.dropFirst().enumerated() {
            guard
                case .outputs(let reply) = try WorkerProtocol.decodeReply(Data(line.utf8), id: "c\(k)", maxElements: 99)
            else { return XCTFail(line) }
            guard case .real(let norm)? = reply.outputs["norm"] else { return XCTFail(line) }
            XCTAssertEqual(norm.tensor.scalars.count, 1)
            XCTAssertEqual(norm.tensor.scalars[0], (9 + Double(k * k)).squareRoot(), accuracy: 1e-14, line)
        }
    }
}
