"""A NumPy backend for rnnspec, written the way the seed notebooks write the math.

    rnnspec run cases/ --backend 'python3 tools/backends/numpy_backend.py'

Plain NumPy, one line of the notebook per line of math: `np.tanh(W_xh @ x + W_hh @ h + b)`,
`sigmoid(x) = 1 / (1 + np.exp(-x))`, a Python loop over time. Inputs and params are named as
`rnnspec kernels NAME` lists them; a variant this file does not write raises NotImplementedError
(reported UNSUPPORTED). Batches: a row-vector batch [B, I] is handled by writing the products as
`x @ W.T`, which is the notebook's `W @ x` for each row.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rnnspec_backend import kernel, serve  # noqa: E402


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def act(name, a):
    if name == "tanh":
        return np.tanh(a)
    if name == "relu":
        return np.maximum(a, 0)
    if name == "sigmoid":
        return sigmoid(a)
    if name in ("identity", "linear", "none"):
        return a
    raise NotImplementedError(f"activation {name!r}")


def mv(W, x):
    """W @ x for a vector x, and for a batch of row vectors x [B, I]: x @ W.T."""
    return x @ W.T


def softmax(y):
    e = np.exp(y - y.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def real(dtype):
    return np.float32 if dtype == "float32" else np.float64


# ---------------------------------------------------------------------------------------------
# seed 001 exercises, and their companions in seeds 000, 002, 004

@kernel("seq.probability")
def seq_probability(probs, dtype="float64"):
    p = probs.prod()
    logp = np.log(probs).sum()
    return {"p": p, "logp": logp, "log_probs": np.log(probs)}


@kernel("grad.repeated_scale")
def repeated_scale(scales, steps, dtype="float64"):
    k = np.arange(1, steps + 1)
    values = scales[:, None] ** k[None, :]
    last = scales ** steps
    return {"values": values, "last": last}


@kernel("gru.blend")
def gru_blend(z, h_prev, h_tilde, update_side="candidate", dtype="float64"):
    if update_side == "candidate":
        h = (1 - z) * h_prev + z * h_tilde
    elif update_side == "previous":
        h = z * h_prev + (1 - z) * h_tilde
    else:
        raise NotImplementedError(f"update_side {update_side!r}")
    return {"h": h}


@kernel("loss.masked_mean")
def masked_mean(losses, mask, dtype="float64"):
    mask = mask.astype(losses.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        masked = (losses * mask).sum() / mask.sum()
    unmasked = losses.mean()
    return {"masked": masked, "unmasked": unmasked, "count": mask.sum()}


@kernel("attention.context")
def attention_context(weights, values, dtype="float64"):
    context = weights @ values
    return {"context": context}



@kernel("grad.clip_norm")
def clip_norm(g, max_norm, epsilon=0.0, dtype="float64"):
    # seed 000 §4 / seed 002's clip_gradients: one global norm over every tensor
    grads = g if isinstance(g, list) else [g]
    norm = np.sqrt(sum((t ** 2).sum() for t in grads))
    norm = np.asarray(norm, dtype=real(dtype))
    if norm == 0:
        scale = np.asarray(1.0, dtype=real(dtype))
    else:
        scale = np.minimum(1.0, max_norm / (norm + epsilon)).astype(real(dtype))
    clipped = [t * scale for t in grads]
    clipped_norm = np.sqrt(sum((t ** 2).sum() for t in clipped))
    return {"norm": norm, "scale": scale, "clipped": clipped,
            "clipped_norm": np.asarray(clipped_norm, dtype=real(dtype))}


@kernel("shape.rnn_output")
def rnn_output_shape(batch, steps, hidden_size, layers=1, directions=1, vocab=None,
                     task="many_to_many", batch_first=True):
    B, T, H, L, D = batch, steps, hidden_size, layers, directions
    out = {"output": (B, T, D * H) if batch_first else (T, B, D * H),
           "h_n": (L * D, B, H), "last": (B, D * H)}
    if vocab is not None:   # many_to_many logits follow batch_first like the output
        out["logits"] = (((B, T, vocab) if batch_first else (T, B, vocab))
                         if task == "many_to_many" else (B, vocab))
    return {k: np.array(v, dtype=np.int64) for k, v in out.items()}


# ---------------------------------------------------------------------------------------------
# cells: seed 000 §1, §6, §8; seed 002's step and lstm_step; seed 003's GRU

@kernel("rnn.step")
def rnn_step(x, h_prev, W_xh, W_hh, b_h=None, W_hy=None, b_y=None, activation="tanh",
             dtype="float64"):
    b = 0 if b_h is None else b_h
    a = mv(W_xh, x) + mv(W_hh, h_prev) + b
    h = act(activation, a)
    out = {"h": h, "a": a}
    if W_hy is not None:
        y = mv(W_hy, h) + (0 if b_y is None else b_y)
        out["y"], out["p"] = y, softmax(y)
    return out


def elman_run(X, h, W_xh, W_hh, b, activation, reverse=False):
    T = X.shape[0]
    states, pre = [None] * T, [None] * T
    order = range(T - 1, -1, -1) if reverse else range(T)
    for t in order:
        a = mv(W_xh, X[t]) + mv(W_hh, h) + b
        h = act(activation, a)
        states[t], pre[t] = h.copy(), a
    return states, pre, h


@kernel("rnn.sequence")
def rnn_sequence(x, W_xh, W_hh, h0=None, b_h=None, W_hy=None, b_y=None, W_xh_reverse=None,
                 W_hh_reverse=None, b_h_reverse=None, h0_reverse=None, activation="tanh",
                 direction="forward", dtype="float64"):
    H = W_hh.shape[0]
    zeros = np.zeros(x.shape[1:-1] + (H,), dtype=x.dtype)
    b = np.zeros(H, dtype=x.dtype) if b_h is None else b_h
    h = zeros if h0 is None else h0
    if direction in ("forward", "reverse"):
        states, pre, h_last = elman_run(x, h, W_xh, W_hh, b, activation, direction == "reverse")
    elif direction == "bidirectional":
        f_states, f_pre, f_last = elman_run(x, h, W_xh, W_hh, b, activation)
        r_states, r_pre, r_last = elman_run(
            x, zeros if h0_reverse is None else h0_reverse,
            W_xh if W_xh_reverse is None else W_xh_reverse,
            W_hh if W_hh_reverse is None else W_hh_reverse,
            b if b_h_reverse is None else b_h_reverse, activation, reverse=True)
        states = [np.concatenate([f, r], axis=-1) for f, r in zip(f_states, r_states)]
        pre = [np.concatenate([f, r], axis=-1) for f, r in zip(f_pre, r_pre)]
        h_last = np.concatenate([f_last, r_last], axis=-1)
    else:
        raise NotImplementedError(f"direction {direction!r}")
    D = 2 if direction == "bidirectional" else 1
    empty = np.zeros((0,) + x.shape[1:-1] + (D * H,), dtype=x.dtype)
    Hs = np.stack(states) if states else empty
    out = {"h": Hs, "h_last": h_last, "a": np.stack(pre) if pre else empty}
    if W_hy is not None:
        y = Hs @ W_hy.T + (0 if b_y is None else b_y)
        out["y"], out["p"] = y, softmax(y)
    return out


@kernel("lstm.step")
def lstm_step(x, h_prev, c_prev, layout="concat_fiog", dtype="float64", **w):
    d_h = h_prev.shape[-1]
    if layout == "concat_fiog":              # seed 000 §6
        concat = np.concatenate([x, h_prev], axis=-1)
        gates = mv(w["W"], concat) + w.get("b", 0)
        a_f, a_i, a_o, a_g = (gates[..., k * d_h:(k + 1) * d_h] for k in range(4))
    elif layout == "separate":               # seed 002's lstm_step
        a_f, a_i, a_o, a_g = (mv(w["W_" + k], x) + mv(w["U_" + k], h_prev) + w.get("b_" + k, 0)
                              for k in "fiog")
    elif layout == "torch":                  # torch.nn.LSTMCell, rows i, f, g, o
        gates = mv(w["W_ih"], x) + w.get("b_ih", 0) + mv(w["W_hh"], h_prev) + w.get("b_hh", 0)
        a_i, a_f, a_g, a_o = (gates[..., k * d_h:(k + 1) * d_h] for k in range(4))
    else:
        raise NotImplementedError(f"layout {layout!r}")
    f, i, o = sigmoid(a_f), sigmoid(a_i), sigmoid(a_o)
    g = np.tanh(a_g)
    c = f * c_prev + i * g
    h = o * np.tanh(c)
    return {"f": f, "i": i, "o": o, "g": g, "c": c, "h": h,
            "a_f": a_f, "a_i": a_i, "a_o": a_o, "a_g": a_g, "dc_dc_prev": f}


@kernel("lstm.cell_update")
def lstm_cell_update(f, i, g, c_prev, o=None, dtype="float64"):
    c = f * c_prev + i * g                   # seed 001 exercise 5
    out = {"c": c}
    if o is not None:
        out["h"] = o * np.tanh(c)
    return out


@kernel("gru.step")
def gru_step(x, h_prev, W_z, W_r, W_h, b_z=None, b_r=None, b_h=None, concat_order="x_h",
             reset="before_matmul", update_side="candidate", dtype="float64"):
    def cat(a, h):
        return np.concatenate([a, h] if concat_order == "x_h" else [h, a], axis=-1)
    d_x = x.shape[-1]
    a_z = mv(W_z, cat(x, h_prev)) + (0 if b_z is None else b_z)
    a_r = mv(W_r, cat(x, h_prev)) + (0 if b_r is None else b_r)
    z, r = sigmoid(a_z), sigmoid(a_r)
    if reset == "before_matmul":             # seed 000 §8
        a_c = mv(W_h, cat(x, r * h_prev)) + (0 if b_h is None else b_h)
    elif reset == "after_matmul":            # PyTorch's placement
        Wx, Wh = (W_h[:, :d_x], W_h[:, d_x:]) if concat_order == "x_h" else (W_h[:, -d_x:], W_h[:, :-d_x])
        a_c = mv(Wx, x) + (0 if b_h is None else b_h) + r * mv(Wh, h_prev)
    else:
        raise NotImplementedError(f"reset {reset!r}")
    h_tilde = np.tanh(a_c)
    h = gru_blend(z, h_prev, h_tilde, update_side)["h"]
    return {"z": z, "r": r, "candidate": h_tilde, "h": h,
            "a_z": a_z, "a_r": a_r, "a_candidate": a_c}


# ---------------------------------------------------------------------------------------------
# attention (seed 000 §11, seed 001 exercise 9)

@kernel("attention.dot")
def attention_dot(keys, query, values=None, mask=None, scale=None, scaled=False, dtype="float64"):
    encoder = keys
    if values is None:
        values = encoder
    s = 1.0 / np.sqrt(keys.shape[1]) if scaled else (1.0 if scale is None else scale)
    scores = (query @ encoder.T) * s if s != 1.0 else query @ encoder.T
    masked = scores if mask is None else np.where(mask != 0, scores, -np.inf)
    with np.errstate(invalid="ignore"):
        weights = np.exp(masked - masked.max(axis=-1, keepdims=True))
        weights = weights / weights.sum(axis=-1, keepdims=True)
    context = weights @ values
    return {"scores": scores, "weights": weights, "context": context}


@kernel("activation.eval")
def activation_eval(x, dtype="float64"):
    s = sigmoid(x)
    t = np.tanh(x)
    p = softmax(x) if x.size else x.copy()
    return {"sigmoid": s, "sigmoid_grad": s * (1 - s), "tanh": t, "tanh_grad": 1 - t ** 2,
            "relu": np.maximum(x, 0), "relu_grad": (x > 0).astype(x.dtype),
            "softmax": p, "softmax_jacobian": np.diag(p) - np.outer(p, p)}


@kernel("memory.decay")
def memory_decay(forget, steps, dtype="float64"):
    k = np.arange(0, steps)
    remaining = forget[:, None] ** k[None, :]
    with np.errstate(divide="ignore"):
        half_life = np.log(0.5) / np.log(forget)
        timescale = 1 / (1 - forget)
    return {"remaining": remaining, "half_life": half_life, "timescale": timescale}


@kernel("memory.leaky")
def memory_leaky(forget, u, s0=None, dtype="float64"):
    f = forget
    s = np.zeros_like(f) if s0 is None else s0.copy()
    traj = []
    for u_t in u:
        s = f * s + (1 - f) * u_t
        traj.append(s)
    S = np.stack(traj, axis=1) if traj else np.zeros((len(f), 0), dtype=f.dtype)
    return {"s": S, "s_last": s}


@kernel("schedule.exp_decay")
def exp_decay(epochs, base_lr, rate, decay_steps, stepwise=False, dtype="float64"):
    exponent = epochs / decay_steps
    if stepwise:
        exponent = np.floor(exponent)
    return {"lr": base_lr * rate ** exponent, "exponent": exponent}


@kernel("bptt.chunks")
def bptt_chunks(length, window, stride=None):
    T = length
    stride = window if stride is None else stride
    chunks = [(start, min(start + window, T)) for start in range(0, T, stride)]
    c = np.array(chunks, dtype=np.int64).reshape(-1, 2)
    return {"chunks": c, "lengths": c[:, 1] - c[:, 0], "count": len(chunks)}


@kernel("params.count")
def params_count(cell, input_size, hidden_size, layers=1, directions=1, biases=1, steps=None):
    G = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    H = hidden_size
    per_layer, weights, bias = [], 0, 0
    for l in range(layers):
        I = input_size if l == 0 else directions * H
        w, b = directions * G * H * (I + H), directions * biases * G * H
        weights, bias = weights + w, bias + b
        per_layer.append(w + b)
    out = {"total": weights + bias, "weights": weights, "biases": bias,
           "per_layer": np.array(per_layer, dtype=np.int64)}
    if steps is not None:
        out["unshared"] = steps * (weights + bias)
    return out


@kernel("decode.teacher_forcing")
def teacher_forcing(gold, pred, start=None):
    # seed 000 §10: for t in range(1, len(gold)): teacher_input = gold[t-1]; free_input = pred[t-1]
    gold, pred = list(gold), list(pred)
    if start is None:
        steps = list(range(1, len(gold)))
        teacher = [gold[t - 1] for t in steps]
        free = [pred[t - 1] for t in steps]
    else:
        steps = list(range(len(gold)))
        teacher = [start] + gold[:-1]
        free = [start] + pred[:-1]
    return {"steps": np.array(steps, dtype=np.int64),
            "teacher_input": np.array(teacher, dtype=object),
            "free_input": np.array(free, dtype=object),
            "differs": np.array([a != b for a, b in zip(teacher, free)], dtype=bool)}


@kernel("diag.gate_saturation")
def gate_saturation(gates, low=0.05, high=0.95, bins=30, apply_sigmoid=False, range_low=None,
                    range_high=None, dtype="float64"):
    # seed 000 §13
    gate_samples = sigmoid(gates) if apply_sigmoid else gates
    below = np.mean(gate_samples < low)
    above = np.mean(gate_samples > high)
    saturated = np.mean((gate_samples < low) | (gate_samples > high))
    rng = None if range_low is None and range_high is None else (
        gate_samples.min() if range_low is None else range_low,
        gate_samples.max() if range_high is None else range_high)
    counts, edges = np.histogram(gate_samples, bins=bins, range=rng)
    r = real(dtype)
    return {"below": r(below), "above": r(above), "saturated": r(saturated),
            "counts": counts.astype(np.int64), "edges": edges.astype(r)}


def act_grad(name, a, h):
    """d act / d a, from the stored state as the notebooks do (tanh: 1 - h**2)."""
    if name == "tanh":
        return 1 - h ** 2
    if name == "relu":
        return (a > 0).astype(a.dtype)
    if name == "sigmoid":
        return h * (1 - h)
    if name in ("identity", "linear", "none"):
        return np.ones_like(a)
    raise NotImplementedError(f"activation {name!r}")


@kernel("rnn.bptt")
def rnn_bptt(x, targets, W_xh, W_hh, W_hy, h0=None, b_h=None, b_y=None, activation="tanh",
             window=None, clip=None, dtype="float64"):
    # seed 002's forward_backward_pass, with the backward loop the article leaves as a stub
    # (min-char-rnn style); a batch [T, B, I] is B rows stepped together
    T, H = x.shape[0], W_hh.shape[0]
    batched = x.ndim == 3
    X = x if batched else x[:, None, :]
    Y = targets if batched else targets[:, None]
    B = X.shape[1]
    b_h = np.zeros(H, dtype=x.dtype) if b_h is None else b_h
    b_y = np.zeros(W_hy.shape[0], dtype=x.dtype) if b_y is None else b_y
    h = np.zeros((B, H), dtype=x.dtype) if h0 is None else (h0 if batched else h0[None, :])
    hs, as_, ps = {-1: h}, {}, {}
    loss = 0.0
    rows = np.arange(B)
    for t in range(T):
        as_[t] = X[t] @ W_xh.T + hs[t - 1] @ W_hh.T + b_h
        hs[t] = act(activation, as_[t])
        ps[t] = softmax(hs[t] @ W_hy.T + b_y)
        loss += -np.log(ps[t][rows, Y[t]]).sum()
    dW_xh, dW_hh, dW_hy = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros_like(W_hy)
    db_h, db_y = np.zeros_like(b_h), np.zeros_like(b_y)
    dh0 = np.zeros((B, H), dtype=x.dtype)
    win = T if window is None else window
    for start in range(0, T, win):
        dh_next = np.zeros((B, H), dtype=x.dtype)
        for t in reversed(range(start, min(start + win, T))):
            dy = ps[t].copy()
            dy[rows, Y[t]] -= 1
            dW_hy += dy.T @ hs[t]
            db_y += dy.sum(axis=0)
            dh = dy @ W_hy + dh_next
            da = dh * act_grad(activation, as_[t], hs[t])
            db_h += da.sum(axis=0)
            dW_xh += da.T @ X[t]
            dW_hh += da.T @ hs[t - 1]
            dh_next = da @ W_hh
        if start == 0:
            dh0 = dh_next
    grads = [dW_xh, dW_hh, db_h, dW_hy, db_y]
    grad_norm = np.sqrt(sum((g ** 2).sum() for g in grads))
    if clip is not None and grad_norm > clip:
        dW_xh, dW_hh, db_h, dW_hy, db_y = (g * (clip / grad_norm) for g in grads)
    Hs = np.stack([hs[t] for t in range(T)]) if T else np.zeros((0, B, H), dtype=x.dtype)
    Ps = np.stack([ps[t] for t in range(T)]) if T else np.zeros((0, B, W_hy.shape[0]), dtype=x.dtype)
    if not batched:
        Hs, Ps, dh0 = Hs[:, 0], Ps[:, 0], dh0[0]
    r = real(dtype)
    return {"loss": r(loss), "h": Hs, "p": Ps, "dW_xh": dW_xh, "dW_hh": dW_hh, "db_h": db_h,
            "dW_hy": dW_hy, "db_y": db_y, "dh0": dh0, "grad_norm": r(grad_norm)}


@kernel("grad.jacobian_norms")
def jacobian_norms(x=None, h0=None, W_xh=None, W_hh=None, b_h=None, forget_gates=None,
                   cell="rnn", norm="frobenius", activation="tanh", dtype="float64"):
    def matrix_norm(P):
        return np.linalg.norm(P, 2) if norm == "spectral" else np.linalg.norm(P)
    if cell == "lstm":                       # dc_T/dc_{T-k} = diag(f_T * ... * f_{T-k+1})
        T = forget_gates.shape[0]
        products = np.cumprod(forget_gates[::-1], axis=0)
        norms = [np.abs(d).max() if norm == "spectral" else np.sqrt((d ** 2).sum()) for d in products]
        return {"norms": np.array(norms, dtype=forget_gates.dtype).reshape(T), "products": products}
    H = W_hh.shape[0]
    h = np.zeros(H, dtype=x.dtype) if h0 is None else h0
    b = np.zeros(H, dtype=x.dtype) if b_h is None else b_h
    states, J = [], []
    for t in range(x.shape[0]):              # seed 000 §1's loop
        a = W_xh @ x[t] + W_hh @ h + b
        h = act(activation, a)
        states.append(h.copy())
        J.append(np.diag(act_grad(activation, a, h)) @ W_hh)
    P = np.eye(H, dtype=x.dtype)
    products, norms = [], []
    for Jt in reversed(J):                   # P_k = J_T ... J_{T-k+1}
        P = P @ Jt
        products.append(P.copy())
        norms.append(matrix_norm(P))
    T = len(J)
    return {"norms": np.array(norms, dtype=x.dtype).reshape(T),
            "products": np.array(products, dtype=x.dtype).reshape(T, H, H),
            "h": np.array(states, dtype=x.dtype).reshape(T, H)}


def head_and_windows(x, targets, dy, W_hy, b_y, h0, H):
    """Shared by the gated BPTT kernels: batch rows, the loss head, the initial state."""
    batched = x.ndim == 3
    X = x if batched else x[:, None, :]
    B = X.shape[1]
    Y = None if targets is None else (targets if batched else targets[:, None])
    DY = None if dy is None else (dy if batched else dy[:, None, :])
    if (Y is None) == (DY is None):
        raise NotImplementedError("give either targets (with W_hy) or dy")
    h = np.zeros((B, H), dtype=x.dtype) if h0 is None else (h0 if batched else h0[None, :])
    return batched, X, B, Y, DY, h


def head_forward(t, h, Y, DY, W_hy, b_y, ps, rows):
    if Y is not None:
        ps[t] = softmax(h @ W_hy.T + (0 if b_y is None else b_y))
        return -np.log(ps[t][rows, Y[t]]).sum()
    return (DY[t] * h).sum()


def head_backward(t, hs, Y, DY, W_hy, ps, rows, grads, b_y):
    if Y is None:
        return DY[t].copy()
    dlogits = ps[t].copy()
    dlogits[rows, Y[t]] -= 1
    grads["dW_hy"] += dlogits.T @ hs[t]
    if b_y is not None:
        grads["db_y"] += dlogits.sum(axis=0)
    return dlogits @ W_hy


def clip_weights(grads, clip):
    weights = [k for k in grads]
    grad_norm = np.sqrt(sum((grads[k] ** 2).sum() for k in weights))
    if clip is not None and grad_norm > clip:
        for k in weights:
            grads[k] = grads[k] * (clip / grad_norm)
    return grad_norm


@kernel("lstm.bptt")
def lstm_bptt(x, targets=None, W_hy=None, b_y=None, dy=None, h0=None, c0=None,
              layout="concat_fiog", window=None, clip=None, dtype="float64", **w):
    H = (w["W"].shape[0] // 4 if layout == "concat_fiog" else
         w["U_f"].shape[0] if layout == "separate" else w["W_hh"].shape[1])
    batched, X, B, Y, DY, h = head_and_windows(x, targets, dy, W_hy, b_y, h0, H)
    c = np.zeros((B, H), dtype=x.dtype) if c0 is None else (c0 if batched else c0[None, :])
    T, I, rows = X.shape[0], X.shape[2], np.arange(B)
    hs, cs, cache, ps = {-1: h}, {-1: c}, {}, {}
    loss = 0.0
    for t in range(T):
        step = lstm_step(X[t], hs[t - 1], cs[t - 1], layout=layout, **w)
        hs[t], cs[t], cache[t] = step["h"], step["c"], step
        loss += head_forward(t, hs[t], Y, DY, W_hy, b_y, ps, rows)
    grads = {"d" + k: np.zeros_like(v) for k, v in w.items()}
    if Y is not None:
        grads["dW_hy"] = np.zeros_like(W_hy)
        if b_y is not None:
            grads["db_y"] = np.zeros_like(b_y)
    dh0, dc0 = np.zeros((B, H), dtype=x.dtype), np.zeros((B, H), dtype=x.dtype)
    win = T if window is None else window
    for start in range(0, T, win):
        dh_next, dc_next = np.zeros((B, H), dtype=x.dtype), np.zeros((B, H), dtype=x.dtype)
        for t in reversed(range(start, min(start + win, T))):
            k = cache[t]
            f, i, o, g, c_prev, h_prev = k["f"], k["i"], k["o"], k["g"], cs[t - 1], hs[t - 1]
            dh = head_backward(t, hs, Y, DY, W_hy, ps, rows, grads, b_y) + dh_next
            tc = np.tanh(cs[t])
            do = dh * tc
            dc = dc_next + dh * o * (1 - tc ** 2)
            da_f, da_i = dc * c_prev * f * (1 - f), dc * g * i * (1 - i)
            da_o, da_g = do * o * (1 - o), dc * i * (1 - g ** 2)
            dc_next = dc * f
            if layout == "concat_fiog":
                da = np.concatenate([da_f, da_i, da_o, da_g], axis=-1)
                grads["dW"] += da.T @ np.concatenate([X[t], h_prev], axis=-1)
                if "b" in w:
                    grads["db"] += da.sum(axis=0)
                dh_next = (da @ w["W"])[:, I:]
            elif layout == "separate":
                dh_next = 0
                for name, da_k in zip("fiog", (da_f, da_i, da_o, da_g)):
                    grads["dW_" + name] += da_k.T @ X[t]
                    grads["dU_" + name] += da_k.T @ h_prev
                    if "b_" + name in w:
                        grads["db_" + name] += da_k.sum(axis=0)
                    dh_next = dh_next + da_k @ w["U_" + name]
            else:
                da = np.concatenate([da_i, da_f, da_g, da_o], axis=-1)
                grads["dW_ih"] += da.T @ X[t]
                grads["dW_hh"] += da.T @ h_prev
                for b in ("b_ih", "b_hh"):
                    if b in w:
                        grads["d" + b] += da.sum(axis=0)
                dh_next = da @ w["W_hh"]
        if start == 0:
            dh0, dc0 = dh_next, dc_next
    grad_norm = clip_weights(grads, clip)
    Hs = np.stack([hs[t] for t in range(T)]) if T else np.zeros((0, B, H), dtype=x.dtype)
    Cs = np.stack([cs[t] for t in range(T)]) if T else np.zeros((0, B, H), dtype=x.dtype)
    out = {"loss": real(dtype)(loss), "h": Hs, "c": Cs}
    if Y is not None:
        out["p"] = np.stack([ps[t] for t in range(T)])
    out.update({"dh0": dh0, "dc0": dc0, "grad_norm": real(dtype)(grad_norm)})
    if not batched:
        out = {k: (v[:, 0] if k in ("h", "c", "p") else v[0] if k in ("dh0", "dc0") else v)
               for k, v in out.items()}
    out.update(grads)
    return out


@kernel("gru.bptt")
def gru_bptt(x, W_z, W_r, W_h, targets=None, W_hy=None, b_y=None, dy=None, h0=None, b_z=None,
             b_r=None, b_h=None, concat_order="x_h", reset="before_matmul",
             update_side="candidate", window=None, clip=None, dtype="float64"):
    H = W_z.shape[0]
    batched, X, B, Y, DY, h = head_and_windows(x, targets, dy, W_hy, b_y, h0, H)
    T, I, rows = X.shape[0], X.shape[2], np.arange(B)

    def split(W):                            # the x and h column blocks of a matrix over the concat
        return (W[:, :I], W[:, I:]) if concat_order == "x_h" else (W[:, H:], W[:, :H])

    def join(dx, dh):
        return np.concatenate([dx, dh] if concat_order == "x_h" else [dh, dx], axis=1)

    (Wzx, Wzh), (Wrx, Wrh), (Whx, Whh) = split(W_z), split(W_r), split(W_h)
    hs, cache, ps = {-1: h}, {}, {}
    loss = 0.0
    for t in range(T):
        cache[t] = gru_step(X[t], hs[t - 1], W_z, W_r, W_h, b_z, b_r, b_h, concat_order, reset,
                            update_side)
        hs[t] = cache[t]["h"]
        loss += head_forward(t, hs[t], Y, DY, W_hy, b_y, ps, rows)
    given = {"W_z": W_z, "W_r": W_r, "W_h": W_h, "b_z": b_z, "b_r": b_r, "b_h": b_h}
    dzx, dzh, drx, drh = (np.zeros_like(m) for m in (Wzx, Wzh, Wrx, Wrh))
    dhx, dhh = np.zeros_like(Whx), np.zeros_like(Whh)
    dbz, dbr, dbh = np.zeros(H, x.dtype), np.zeros(H, x.dtype), np.zeros(H, x.dtype)
    head = {}
    if Y is not None:
        head["dW_hy"] = np.zeros_like(W_hy)
        if b_y is not None:
            head["db_y"] = np.zeros_like(b_y)
    dh0 = np.zeros((B, H), dtype=x.dtype)
    win = T if window is None else window
    for start in range(0, T, win):
        dh_next = np.zeros((B, H), dtype=x.dtype)
        for t in reversed(range(start, min(start + win, T))):
            k, h_prev, xt = cache[t], hs[t - 1], X[t]
            z, r, n = k["z"], k["r"], k["candidate"]
            dh = head_backward(t, hs, Y, DY, W_hy, ps, rows, head, b_y) + dh_next
            if update_side == "candidate":
                dz, dn, dh_prev = dh * (n - h_prev), dh * z, dh * (1 - z)
            else:
                dz, dn, dh_prev = dh * (h_prev - n), dh * (1 - z), dh * z
            da_c = dn * (1 - n ** 2)
            dhx += da_c.T @ xt
            dbh += da_c.sum(axis=0)
            if reset == "before_matmul":
                rh = r * h_prev
                dhh += da_c.T @ rh
                drh_ = da_c @ Whh
                dr = drh_ * h_prev
                dh_prev = dh_prev + drh_ * r
            else:
                m = h_prev @ Whh.T
                dr = da_c * m
                dm = da_c * r
                dhh += dm.T @ h_prev
                dh_prev = dh_prev + dm @ Whh
            da_z, da_r = dz * z * (1 - z), dr * r * (1 - r)
            dzx += da_z.T @ xt
            dzh += da_z.T @ h_prev
            drx += da_r.T @ xt
            drh += da_r.T @ h_prev
            dbz += da_z.sum(axis=0)
            dbr += da_r.sum(axis=0)
            dh_next = dh_prev + da_z @ Wzh + da_r @ Wrh
        if start == 0:
            dh0 = dh_next
    grads = {"dW_z": join(dzx, dzh), "dW_r": join(drx, drh), "dW_h": join(dhx, dhh)}
    for name, g in (("b_z", dbz), ("b_r", dbr), ("b_h", dbh)):
        if given[name] is not None:
            grads["d" + name] = g
    grads.update(head)
    grad_norm = clip_weights(grads, clip)
    Hs = np.stack([hs[t] for t in range(T)]) if T else np.zeros((0, B, H), dtype=x.dtype)
    out = {"loss": real(dtype)(loss), "h": Hs}
    if Y is not None:
        out["p"] = np.stack([ps[t] for t in range(T)])
    out.update({"dh0": dh0, "grad_norm": real(dtype)(grad_norm)})
    if not batched:
        out = {k: (v[:, 0] if k in ("h", "p") else v[0] if k == "dh0" else v)
               for k, v in out.items()}
    out.update(grads)
    return out


@kernel("grad.through_time")
def through_time(x, W_ih, W_hh, b_ih=None, b_hh=None, h0=None, c0=None, target=None, W_hy=None,
                 b_y=None, dy=None, probe_h=None, probe_c=None, cell="rnn", dtype="float64"):
    # dL/dh_t for every t of PyTorch-layout cells (seed 000 §3, seed 003 §5-6 measured exactly)
    batched = x.ndim == 3
    X = x if batched else x[:, None, :]
    T, B = X.shape[0], X.shape[1]
    H = W_hh.shape[1]
    b_ih = 0 if b_ih is None else b_ih
    b_hh = 0 if b_hh is None else b_hh

    def rows_of(v):
        return None if v is None else (v if batched else v[None])

    h = np.zeros((B, H), dtype=x.dtype) if h0 is None else rows_of(h0)
    c = np.zeros((B, H), dtype=x.dtype) if c0 is None else rows_of(c0)
    P_h = None if probe_h is None else (probe_h if batched else probe_h[:, None, :])
    P_c = None if probe_c is None else (probe_c if batched else probe_c[:, None, :])
    hs, cs, cache = {-1: h}, {-1: c}, {}
    for t in range(T):
        gi = X[t] @ W_ih.T + b_ih
        gh = hs[t - 1] @ W_hh.T + b_hh
        if cell == "rnn":
            h = np.tanh(gi + gh)
            cache[t] = (h,)
        elif cell == "lstm":
            i, f, g, o = (gi + gh)[:, :H], (gi + gh)[:, H:2 * H], (gi + gh)[:, 2 * H:3 * H], (gi + gh)[:, 3 * H:]
            i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
            c = f * cs[t - 1] + i * g
            if P_c is not None:
                c = c + P_c[t]
            h = o * np.tanh(c)
            cs[t] = c
            cache[t] = (i, f, g, o)
        elif cell == "gru":
            r = sigmoid(gi[:, :H] + gh[:, :H])
            z = sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
            n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
            h = (1 - z) * n + z * hs[t - 1]
            cache[t] = (r, z, n, gh[:, 2 * H:])
        else:
            raise NotImplementedError(f"cell {cell!r}")
        if P_h is not None:
            h = h + P_h[t]
        hs[t] = h
    h_T = hs[T - 1]
    if target is not None:
        p = softmax(h_T @ W_hy.T + (0 if b_y is None else b_y))
        tg = np.atleast_1d(target)
        loss = -np.log(p[np.arange(B), tg]).sum()
        dp = p.copy()
        dp[np.arange(B), tg] -= 1
        dh = dp @ W_hy
    else:
        d = rows_of(dy)
        loss = (d * h_T).sum()
        dh = d.copy()
    dc = np.zeros((B, H), dtype=x.dtype)
    dH, dC = [None] * T, [None] * T
    for t in reversed(range(T)):
        dH[t] = dh
        if cell == "rnn":
            (h_t,) = cache[t]
            da = dh * (1 - h_t ** 2)
            dh = da @ W_hh
        elif cell == "lstm":
            i, f, g, o = cache[t]
            tc = np.tanh(cs[t])
            dc = dc + dh * o * (1 - tc ** 2)
            dC[t] = dc
            da = np.concatenate([dc * g * i * (1 - i), dc * cs[t - 1] * f * (1 - f),
                                 dc * i * (1 - g ** 2), dh * tc * o * (1 - o)], axis=1)
            dh = da @ W_hh
            dc = dc * f
        else:
            r, z, n, hn = cache[t]
            h_prev = hs[t - 1]
            da_n = dh * (1 - z) * (1 - n ** 2)
            da_z = dh * (h_prev - n) * z * (1 - z)
            da_r = da_n * hn * r * (1 - r)
            dh = dh * z + np.concatenate([da_r, da_z, da_n * r], axis=1) @ W_hh
    r_ = real(dtype)
    out = {"loss": r_(loss), "dh_norm": np.array([np.linalg.norm(v) for v in dH], dtype=x.dtype).reshape(T)}
    if cell == "lstm":
        out["dc_norm"] = np.array([np.linalg.norm(v) for v in dC], dtype=x.dtype).reshape(T)
    out["dh0"] = dh if batched else dh[0]
    if cell == "lstm":
        out["dc0"] = dc if batched else dc[0]
    if probe_h is not None:
        out["dprobe_h"] = np.stack(dH) if batched else np.stack(dH)[:, 0]
    if probe_c is not None:
        out["dprobe_c"] = np.stack(dC) if batched else np.stack(dC)[:, 0]
    return out


if __name__ == "__main__":
    serve("numpy notebook-style backend")
