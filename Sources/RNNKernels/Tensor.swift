/// A dense, row-major array of scalars with a shape.
///
/// `shape == []` is a scalar (one element). Element `[i0, i1, ..., ik]` lives at
/// `((i0 * d1 + i1) * d2 + ...) * dk + ik` in `scalars`.
public struct Tensor<Scalar>: Sendable, Equatable where Scalar: Sendable & Equatable {
    /// The extent of each axis, outermost first.
    public var shape: [Int]
    /// The elements in row-major order; `scalars.count == shape.product`.
    public var scalars: [Scalar]

    /// A tensor of the given shape over the given elements.
    ///
    /// - Precondition: `scalars.count` is the product of `shape`.
    @inlinable
    public init(shape: [Int], scalars: [Scalar]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        precondition(
            shape.reduce(1, *) == scalars.count,
            "shape \(shape) needs \(shape.reduce(1, *)) elements, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of the given shape with every element equal to `value`.
    @inlinable
    public init(repeating value: Scalar, shape: [Int]) {
        self.init(shape: shape, scalars: Array(repeating: value, count: shape.reduce(1, *)))
    }

    /// A rank-0 tensor holding one value.
    @inlinable
    public init(scalar: Scalar) { self.init(shape: [], scalars: [scalar]) }

    /// A rank-1 tensor over the given elements.
    @inlinable
    public init(_ vector: [Scalar]) { self.init(shape: [vector.count], scalars: vector) }

    /// The number of axes.
    @inlinable public var rank: Int { shape.count }
    /// The number of elements.
    @inlinable public var count: Int { scalars.count }

    /// The element of a rank-2 tensor at row `i`, column `j`.
    @inlinable
    public subscript(i: Int, j: Int) -> Scalar {
        get { scalars[i * shape[1] + j] }
        set { scalars[i * shape[1] + j] = newValue }
    }

    /// The same elements under another shape with the same element count.
    @inlinable
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, scalars: scalars)
    }
}

extension Tensor where Scalar: KernelScalar {
    /// A tensor of zeros.
    @inlinable
    public init(zeros shape: [Int]) { self.init(repeating: 0, shape: shape) }

    /// The same values converted to another precision (rounding to nearest).
    @inlinable
    public func converted<U: KernelScalar>(to _: U.Type = U.self) -> Tensor<U> {
        Tensor<U>(shape: shape, scalars: scalars.map { U($0) })
    }

    /// The sub-tensor at index `i` of the outermost axis (a row of a matrix, a step of a sequence).
    @inlinable
    public func slice(_ i: Int) -> Tensor {
        let inner = Array(shape.dropFirst())
        let n = inner.reduce(1, *)
        return Tensor(shape: inner, scalars: Array(scalars[(i * n)..<((i + 1) * n)]))
    }

    /// Stacks equally shaped tensors along a new outermost axis.
    @inlinable
    public static func stacked(_ parts: [Tensor], innerShape: [Int]) -> Tensor {
        var out: [Scalar] = []
        out.reserveCapacity(parts.count * innerShape.reduce(1, *))
        for p in parts { out.append(contentsOf: p.scalars) }
        return Tensor(shape: [parts.count] + innerShape, scalars: out)
    }
}
