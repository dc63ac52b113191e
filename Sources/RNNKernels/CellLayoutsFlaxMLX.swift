// Weight layouts of Flax and MLX, mapped onto `CellParameters` (W [G*H, I], R [G*H, H], b_W, b_R in
// the conventions' gate order), and the gradients mapped back.
//
// Shape legend: G gates, H hidden, I input.
//   Flax Dense kernel (in, out) = the transpose of a W or R block; MLX Wx [G*H, I], Wh [G*H, H] as W, R.

extension CellParameters {
    /// Flax: input kernel [I, G*H] and recurrent kernel [H, G*H] (the per-gate Dense kernels (in, H)
    /// joined column-wise in gate order, or the one fused Dense of `OptimizedLSTMCell` / the NNX
    /// `GRUCell`), with the biases of the input side and of the recurrent side, [G*H] each or nil.
    ///
    ///     W = input kernelᵀ,  R = recurrent kernelᵀ
    @inlinable
    public static func flax(
        inputKernel: Tensor<T>, recurrentKernel: Tensor<T>, inputBias: Tensor<T>?, recurrentBias: Tensor<T>?
    ) -> CellParameters {
        CellParameters(w: transposed(inputKernel), r: transposed(recurrentKernel), bw: inputBias, br: recurrentBias)
    }

    /// A bias [G*H] that is zero but in one gate block, which holds `block` [H] (MLX's GRU `bhn`, the
    /// Flax linen GRU's `hn.bias`: the recurrent bias of n only).
    @inlinable
    public static func blockBias(_ block: Tensor<T>, at k: Int, gates g: Int) -> Tensor<T> {
        let h = block.count
        var b = [T](repeating: 0, count: g * h)
        b.replaceSubrange((k * h)..<((k + 1) * h), with: block.scalars)
        return Tensor(shape: [g * h], scalars: b)
    }

    /// MLX's GRU: `bhn` [H] as b_R = [0, 0, bhn] (blocks r, z, n).
    @inlinable
    public static func mlxRecurrentBias(bhn: Tensor<T>) -> Tensor<T> { blockBias(bhn, at: 2, gates: 3) }
}

extension CellGradients {
    /// The gradients of Flax's input and recurrent kernels, [I, G*H] and [H, G*H] (transposes of dW, dR).
    @inlinable
    public var flaxKernels: (input: Tensor<T>, recurrent: Tensor<T>) { (transposed(w), transposed(r)) }

    /// The gradient of MLX's GRU `bhn`: block n (the third) of db_R.
    @inlinable
    public var mlxBhn: Tensor<T> { rowBlock(br, 2, size: br.count / 3) }
}
