// The backward steps of the LSTM and the GRU (`RecurrentCell.backwardStep` chooses): the gradients of
// the gate pre-activations from the stored gate values, rows split over two threads for a large batch,
// each thread then multiplying its own rows by the packed R when the product is large
// (`fusesRowProduct`).
//
// Shape legend: B batch, H hidden, P state size of h, G gates.
//   da, dRecurrent [B, G*H] (storage order), dh, dh_prev [B, P], dc, dc_prev, c, c_prev [B, H]

extension RecurrentCell {
    /// The LSTM's backward step (`backwardStep`), from c_prev, c and o ⊙ act(c) before the projection.
    @inlinable
    func lstmBackwardStep(
        _ cache: CellStepCache<T>, cPrev: Tensor<T>, c: Tensor<T>, unprojected: Tensor<T>?,
        dh: Tensor<T>, dc: Tensor<T>?, packedR: PackedOperand<T>?,
        into grads: inout CellGradients<T>
    ) -> CellStepGradients<T> {
        let conv = conventions, p = parameters
        let bsz = cache.x.shape[0], h = hiddenSize, s = stateSize, gh = conv.kind.gateCount * h
        let ki = conv.block(.i) * h, kf = conv.block(.f) * h, kg = conv.block(.g) * h, ko = conv.block(.o) * h
        let gateAct = conv.gateActivation, candAct = conv.candidateActivation, outAct = conv.outputActivation
        // dm = dL/d(o ⊙ h(c)).
        var dm = dh.scalars
        if let proj = p.projection, var dproj = grads.projection, let unprojected {
            dm = zeros(bsz * h)
            gemm(dh.scalars, proj.scalars, into: &dm, m: bsz, n: h, k: s)
            gemm(
                dh.scalars, unprojected.scalars, into: &dproj.scalars, m: s, n: h, k: bsz, transposeA: true,
                accumulate: true)
            grads.projection = dproj
        }
        let dcNext = dc?.scalars ?? zeros(bsz * h)
        // h(c), as the forward pass computed it.
        var hcAll: [T] = zeros(bsz * h)
        c.scalars.withUnsafeBufferPointer { cb in hcAll.withUnsafeMutableBufferPointer { outAct.apply(cb, into: $0) } }
        let pI = p.peepholeI?.scalars, pF = p.peepholeF?.scalars, pO = p.peepholeO?.scalars
        let inputForget = conv.inputForget
        let fusedProduct = fusesRowProduct(batch: bsz, packedR: packedR)
        // The common cell: sigmoid gates, tanh candidate and output, no clip, peepholes or coupled gates.
        let plain =
            conv.clip == nil && gateAct.kind == .sigmoid && candAct.kind == .tanh && outAct.kind == .tanh
            && pI == nil && pF == nil && pO == nil && !inputForget
        var da: [T] = zeros(bsz * gh), dcp: [T] = zeros(bsz * h), dcTotal: [T] = zeros(bsz * h),
            dhPrev: [T] = zeros(bsz * s)
        let gates = cache.gates.scalars, pre = slopeInputs(cache), cv = c.scalars, cp = cPrev.scalars
        // Rows are independent: two threads for a large batch. The peepholes' gradients are sums over rows,
        // added from da afterwards.
        withMutableBases(&da, &dcp, &dcTotal, &dhPrev) { da, dcp, dcTotal, dhPrev in
            withBuffers(gates, pre, cv, cp) { gates, pre, c, cp in
                withBuffers(dm, dcNext, hcAll) { dm, dcNext, hcAll in
                    forEachRowRange(bsz, work: bsz * h * 8) { rows in
                        defer {
                            // Each thread's rows of dh_prev = da · R too: one hand-off per step.
                            if fusedProduct, let packedR {
                                gemmRows(
                                    UnsafePointer(da + rows.lowerBound * gh), packedR,
                                    into: dhPrev + rows.lowerBound * s,
                                    m: rows.count, accumulate: true)
                            }
                        }
                        if plain {
                            // The same operations as below with the slopes written out: σ' = y(1 − y),
                            // tanh' = 1 − y² (times a clamp slope of exactly 1), no peepholes: a loop
                            // without calls, which the compiler vectorizes. Same bits.
                            for row in rows {
                                let base = row * gh
                                for j in 0..<h {
                                    let q = row * h + j
                                    let iv = gates[base + ki + j], fv = gates[base + kf + j]
                                    let gv = gates[base + kg + j], ov = gates[base + ko + j]
                                    let hc = hcAll[q], dOut = dm[q]
                                    let dcv = dcNext[q] + dOut * ov * (1 - hc * hc)
                                    dcTotal[q] = dcv
                                    da[base + ko + j] = dOut * hc * (ov * (1 - ov))
                                    da[base + kf + j] = dcv * cp[q] * (fv * (1 - fv))
                                    da[base + ki + j] = dcv * gv * (iv * (1 - iv))
                                    da[base + kg + j] = dcv * iv * (1 - gv * gv)
                                    dcp[q] = dcv * fv
                                }
                            }
                            return
                        }
                        for row in rows {
                            let base = row * gh
                            for j in 0..<h {
                                let q = row * h + j
                                let iv = gates[base + ki + j], fv = gates[base + kf + j], gv = gates[base + kg + j],
                                    ov = gates[base + ko + j]
                                let hc = hcAll[q]
                                let dOut = dm[q]
                                var dcv = dcNext[q] + dOut * ov * outAct.derivative(c[q], output: hc)
                                dcTotal[q] = dcv
                                let dao = dOut * hc * slope(gateAct, pre[base + ko + j], ov)
                                da[base + ko + j] = dao
                                if let pO { dcv += dao * pO[j] }
                                var di = dcv * gv
                                let df = dcv * cp[q]
                                let dg = dcv * iv
                                var dcPrevQ = dcv * fv
                                if inputForget {
                                    di -= df
                                } else {
                                    let daf = df * slope(gateAct, pre[base + kf + j], fv)
                                    da[base + kf + j] = daf
                                    if let pF { dcPrevQ += daf * pF[j] }
                                }
                                let dai = di * slope(gateAct, pre[base + ki + j], iv)
                                da[base + ki + j] = dai
                                if let pI { dcPrevQ += dai * pI[j] }
                                da[base + kg + j] = dg * slope(candAct, pre[base + kg + j], gv)
                                dcp[q] = dcPrevQ
                            }
                        }
                    }
                }
            }
        }
        for row in 0..<bsz {
            for j in 0..<h {
                let q = row * h + j
                if pO != nil { grads.peepholeO.scalars[j] += da[row * gh + ko + j] * cv[q] }
                if pF != nil && !inputForget { grads.peepholeF.scalars[j] += da[row * gh + kf + j] * cp[q] }
                if pI != nil { grads.peepholeI.scalars[j] += da[row * gh + ki + j] * cp[q] }
            }
        }
        if !fusedProduct { dhPrevProduct(da, into: &dhPrev, rows: bsz, packedR: packedR) }
        return CellStepGradients(
            da: da, dRecurrent: da, hPrev: Tensor(shape: [bsz, s], scalars: dhPrev),
            cPrev: Tensor(shape: [bsz, h], scalars: dcp), c: dcTotal)
    }

    /// The GRU's backward step with the reset after the product (`backwardStep`): u = R_n h_prev + b_Rn,
    /// a_n += r ⊙ u. dRecurrent holds the z and r blocks of da and, in the n block, dL/du = dL/da_n ⊙ r.
    @inlinable
    func gruBackwardStepResetAfter(
        _ cache: CellStepCache<T>, resetInput: Tensor<T>, dh: Tensor<T>,
        packedR: PackedOperand<T>?
    ) -> CellStepGradients<T> {
        let conv = conventions
        let bsz = cache.x.shape[0], h = hiddenSize, s = stateSize, gh = conv.kind.gateCount * h
        let kz = conv.block(.z) * h, kr = conv.block(.r) * h, kn = conv.block(.n) * h
        let gateAct = conv.gateActivation, candAct = conv.candidateActivation
        let fusedProduct = fusesRowProduct(batch: bsz, packedR: packedR)
        let candidateSide = conv.updateSide == .candidate
        let plain = conv.clip == nil && gateAct.kind == .sigmoid && candAct.kind == .tanh
        // Rows are independent: two threads for a large batch, each also multiplying its rows of dRecurrent by R
        // when R is packed.
        var da: [T] = zeros(bsz * gh), dRecurrent: [T] = zeros(bsz * gh), dhPrev: [T] = zeros(bsz * s)
        let gates = cache.gates.scalars, pre = slopeInputs(cache), hp = cache.hPrev.scalars, ri = resetInput.scalars
        withMutableBases(&da, &dRecurrent, &dhPrev) { da, dRec, dhPrev in
            withBuffers(dh.scalars, gates, pre) { dh, gates, pre in
                withBuffers(hp, ri) { hp, ri in
                    forEachRowRange(bsz, work: bsz * h * 6) { rows in
                        // The common cell (sigmoid gates, tanh candidate, no clip) takes the slopes written out,
                        // σ' = y(1 − y) and tanh' = 1 − y² (times a clamp slope of exactly 1): the same values,
                        // and a condition the compiler lifts out of the loop, which then has no calls.
                        for row in rows {
                            let base = row * gh
                            for j in 0..<h {
                                let q = row * h + j, d = dh[q]
                                let z = gates[base + kz + j], nv = gates[base + kn + j], r = gates[base + kr + j]
                                let dz: T, dnv: T
                                if candidateSide {
                                    dz = d * (nv - hp[q]); dnv = d * z; dhPrev[q] += d * (1 - z)
                                } else {
                                    dz = d * (hp[q] - nv); dnv = d * (1 - z); dhPrev[q] += d * z
                                }
                                let sz = plain ? z * (1 - z) : slope(gateAct, pre[base + kz + j], z)
                                let sn = plain ? 1 - nv * nv : slope(candAct, pre[base + kn + j], nv)
                                let sr = plain ? r * (1 - r) : slope(gateAct, pre[base + kr + j], r)
                                let daz = dz * sz, dn = dnv * sn, dar = dn * ri[q] * sr
                                da[base + kz + j] = daz
                                da[base + kn + j] = dn
                                da[base + kr + j] = dar
                                dRec[base + kz + j] = daz
                                dRec[base + kr + j] = dar
                                dRec[base + kn + j] = dn * r
                            }
                        }
                        if fusedProduct, let packedR {
                            gemmRows(
                                UnsafePointer(dRec + rows.lowerBound * gh), packedR, into: dhPrev + rows.lowerBound * s,
                                m: rows.count, accumulate: true)
                        }
                    }
                }
            }
        }
        if !fusedProduct { dhPrevProduct(dRecurrent, into: &dhPrev, rows: bsz, packedR: packedR) }
        return CellStepGradients(
            da: da, dRecurrent: dRecurrent, hPrev: Tensor(shape: [bsz, s], scalars: dhPrev), cPrev: nil)
    }

    /// The GRU's backward step with the reset before the product (`backwardStep`): q = r ⊙ h_prev,
    /// a_n += R_n q + b_Rn. dRecurrent holds the z and r blocks of da and 0 in the n block: R_n multiplies
    /// q, not h_prev, so its gradients (and b_Rn's) are added here.
    @inlinable
    func gruBackwardStepResetBefore(
        _ cache: CellStepCache<T>, resetInput: Tensor<T>, dh: Tensor<T>,
        packedR: PackedOperand<T>?, into grads: inout CellGradients<T>
    ) -> CellStepGradients<T> {
        let conv = conventions, p = parameters
        let bsz = cache.x.shape[0], h = hiddenSize, s = stateSize, gh = conv.kind.gateCount * h
        let kz = conv.block(.z) * h, kr = conv.block(.r) * h, kn = conv.block(.n) * h
        let gateAct = conv.gateActivation, candAct = conv.candidateActivation
        let pre = slopeInputs(cache), gates = cache.gates.scalars
        let hp = cache.hPrev.scalars, ri = resetInput.scalars
        var da: [T] = zeros(bsz * gh), dhPrev: [T] = zeros(bsz * s)
        var dn: [T] = zeros(bsz * h)  // dL/d(a_n)
        for row in 0..<bsz {
            let base = row * gh
            for j in 0..<h {
                let q = row * h + j, d = dh.scalars[q]
                let z = gates[base + kz + j], nv = gates[base + kn + j]
                let dz: T, dnv: T
                if conv.updateSide == .candidate {
                    dz = d * (nv - hp[q]); dnv = d * z; dhPrev[q] += d * (1 - z)
                } else {
                    dz = d * (hp[q] - nv); dnv = d * (1 - z); dhPrev[q] += d * z
                }
                da[base + kz + j] = dz * slope(gateAct, pre[base + kz + j], z)
                dn[q] = dnv * slope(candAct, pre[base + kn + j], nv)
                da[base + kn + j] = dn[q]
            }
        }
        var dRec = da
        let rn = rows(p.r, block: conv.block(.n))
        var dq: [T] = zeros(bsz * s)
        gemm(dn, rn, into: &dq, m: bsz, n: s, k: h)
        var dRn: [T] = zeros(h * s)
        gemm(dn, ri, into: &dRn, m: h, n: s, k: bsz, transposeA: true)
        let off = conv.block(.n) * h * s
        for e in 0..<(h * s) { grads.r.scalars[off + e] += dRn[e] }
        for row in 0..<bsz { for j in 0..<h { grads.br.scalars[kn + j] += dn[row * h + j] } }
        for row in 0..<bsz {
            for j in 0..<h {
                let q = row * h + j, r = gates[row * gh + kr + j]
                da[row * gh + kr + j] = dq[q] * hp[q] * slope(gateAct, pre[row * gh + kr + j], r)
                dRec[row * gh + kr + j] = da[row * gh + kr + j]
                dRec[row * gh + kn + j] = 0
                dhPrev[q] += dq[q] * r
            }
        }
        dhPrevProduct(dRec, into: &dhPrev, rows: bsz, packedR: packedR)
        return CellStepGradients(da: da, dRecurrent: dRec, hPrev: Tensor(shape: [bsz, s], scalars: dhPrev), cPrev: nil)
    }
}
