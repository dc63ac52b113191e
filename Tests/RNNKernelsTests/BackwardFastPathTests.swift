import Foundation
import TestAssertions
import Testing

@testable import RNNKernels

/// The backward steps' loops for the common cell (sigmoid gates, tanh candidate and output, no clip,
/// peepholes or coupled gates) write the slopes out; the general loops call the activations. The two must
/// give the same bits: a cell with a clip no pre-activation reaches runs the general loops on the same values.
@Suite final class BackwardFastPathTests {
    func check<T: KernelScalar>(_: T.Type, _ conventions: CellConventions, batch: Int, seed: UInt64) {
        var rng = TestRNG(seed)
        let steps = 5, input = 3, hidden = 8, g = conventions.kind.gateCount
        let params = CellParameters(
            w: rng.tensor([g * hidden, input]), r: rng.tensor([g * hidden, hidden], scale: 0.5),
            bw: rng.tensor([g * hidden]), br: rng.tensor([g * hidden])
        ).converted(to: T.self)
        var clipped = conventions
        clipped.clip = 1e30
        let plain = RecurrentCell(conventions: conventions, parameters: params)
        let general = RecurrentCell(conventions: clipped, parameters: params)
        let x: Tensor<T> = rng.tensor([steps, batch, input]).converted()
        let head = SequenceLossHead<T>.upstream(dy: rng.tensor([steps, batch, hidden]).converted())
        func gradients(_ cell: RecurrentCell<T>) -> [[UInt64]] {
            let cache = cellSequenceForward(cell, x: x, head: head)
            var grads = CellSequenceGradients(zerosLike: cell, head: head, steps: steps, batch: batch)
            cellSequenceBackward(cell, cache: cache, head: head, into: &grads)
            let tensors =
                [grads.cell.w, grads.cell.r, grads.cell.bw, grads.cell.br, grads.h0]
                + [grads.c0, grads.x]
                .compactMap { $0 }
            return tensors.map { $0.scalars.map { Double($0).bitPattern } }
        }
        let label = "\(T.self) \(conventions.kind) \(conventions.updateSide) B\(batch)"
        XCTAssertEqual(gradients(plain), gradients(general), label)
    }

    func run<T: KernelScalar>(_ type: T.Type) {
        for batch in [1, 3, 64] {
            check(type, CellConventions(kind: .lstm), batch: batch, seed: 1)
            check(type, CellConventions(kind: .gru), batch: batch, seed: 2)
            check(type, CellConventions(kind: .gru, updateSide: .candidate), batch: batch, seed: 3)
        }
    }

    @Test func testFloat() { run(Float.self) }
    @Test func testDouble() { run(Double.self) }
}
