// The packed copies of a cell's weights, kept between calls: a sequence's passes pack W and R into the
// product's panels (`packOperand`) before their time loops, which on the large float32 LSTM (W and R 1.5 MB)
// took about 0.4 ms of the forward pass's 17, on one thread while the other waited. ONNX Runtime packs its
// weights once, when the session is made; a cell here keeps its packings and reuses them while its weights
// are the same arrays.
//
// Shape legend: the weights [rows, depth] as `packedByHiddenUnit` and `packedRecurrent` take them.

import Synchronization

/// A cell's packed weights, each kept with the weights array it was packed from.
///
/// An entry holds that array (a copy of the Array value, so its storage stays alive and shared), and is
/// reused only for an array with the same storage: since the entry keeps a reference to it, that storage
/// cannot change in place (a write through any array sharing it copies first, Swift's copy-on-write), nor be
/// freed and reused for other weights. So the same storage means the same elements, and the packed copy is
/// exactly the one a new packing would make. A cell whose weights are replaced or written packs again, and
/// the entry then keeps the new array.
///
/// Copies of a cell share the store (a class); the entries are read and replaced under a lock, and packing
/// itself runs outside it.
@usableFromInline
final class PackedWeightsStore<T: KernelScalar>: Sendable {
    @usableFromInline
    struct Entry: Sendable {
        @usableFromInline let source: [T]
        @usableFromInline let packed: [PackedOperand<T>]

        @inlinable
        init(source: [T], packed: [PackedOperand<T>]) {
            self.source = source
            self.packed = packed
        }
    }

    @usableFromInline let entries = Mutex<[String: Entry]>([:])

    @inlinable
    init() {}

    /// The packing `make()` of `weights` kept under `key`, or a new one (which is then kept).
    @inlinable
    func packed(_ key: String, of weights: [T], _ make: () -> [PackedOperand<T>]) -> [PackedOperand<T>] {
        if let kept = entries.withLock({ $0[key] }), Self.sameStorage(kept.source, weights) { return kept.packed }
        let packed = make()
        entries.withLock { $0[key] = Entry(source: weights, packed: packed) }
        return packed
    }

    /// Whether two arrays share one storage (the same elements, while one of them is kept alive).
    @inlinable
    static func sameStorage(_ a: [T], _ b: [T]) -> Bool {
        a.count == b.count && !a.isEmpty
            && a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in pa.baseAddress == pb.baseAddress } }
    }

    /// How many packings are kept (for tests).
    var count: Int { entries.withLock { $0.count } }
}
