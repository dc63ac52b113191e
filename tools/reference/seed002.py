#!/usr/bin/env python3
"""Reference numbers for seed 002, the article on why RNNs are effective.

The article prints no numbers, so every example here is our own, small and
deterministic. Each case makes its OWN generator, np.random.default_rng(0),
and draws its arrays in the order listed in that case's "rng_draws"; the drawn
arrays are stored in "inputs" anyway, so nothing downstream needs the generator.

Shapes follow the article: W_xh [H, V_or_dx], W_hh [H, H], W_hy [V, H], b_h [H],
b_y [V], column-vector convention (h = tanh(W_hh @ h + W_xh @ x + b_h)).

The BPTT case implements the backward pass the article leaves as a stub and
checks it against central finite differences in float64.

Output: $RNNSPEC_REFDATA/ (default: .build/reference/ in the repository), file seed002.json (or argv[1]). Floats are written with
Python's repr (shortest round-trip form): never rounded.
"""
import json
import math
import os
import sys

import numpy as np

from refcommon import J, capture, output_path

OUT = output_path("seed002.json")


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(y):
    e = np.exp(y - np.max(y))
    return e / np.sum(e)


cases = {}

# ------------------------------------------------ Elman step with output layer
rng = np.random.default_rng(0)
d_x, H, V = 3, 4, 3
W_hh = rng.normal(scale=0.5, size=(H, H))
W_xh = rng.normal(scale=0.5, size=(H, d_x))
W_hy = rng.normal(scale=0.5, size=(V, H))
b_h = rng.normal(scale=0.1, size=H)
b_y = rng.normal(scale=0.1, size=V)
x = rng.normal(size=d_x)
h = rng.normal(scale=0.5, size=H)
# article: h_new = np.tanh(np.dot(W_hh, h) + np.dot(W_xh, x) + b_h); y = np.dot(W_hy, h_new) + b_y
pre = np.dot(W_hh, h) + np.dot(W_xh, x) + b_h
h_new = np.tanh(pre)
y = np.dot(W_hy, h_new) + b_y
p = softmax(y)
cases["002.elman_step"] = {
    "inputs": {"W_hh": W_hh, "W_xh": W_xh, "W_hy": W_hy, "b_h": b_h, "b_y": b_y, "x": x, "h": h},
    "outputs": {"W_hh_h": np.dot(W_hh, h), "W_xh_x": np.dot(W_xh, x), "preactivation": pre,
                "h_new": h_new, "y": y, "y_max": np.max(y), "softmax_y": p, "softmax_sum": np.sum(p)},
    "printed": "",
    "rng_draws": ["W_hh normal(scale=0.5,(4,4))", "W_xh normal(scale=0.5,(4,3))",
                  "W_hy normal(scale=0.5,(3,4))", "b_h normal(scale=0.1,4)", "b_y normal(scale=0.1,3)",
                  "x normal(3)", "h normal(scale=0.5,4)"],
    "notes": ("d_x=3, H=4, V=3; preactivation = (W_hh@h + W_xh@x) + b_h in that order; "
              "softmax = exp(y - max y) / sum(exp(y - max y))"),
}


# ------------------------------------------------ global-norm gradient clipping
def clip_gradients(gradients, max_norm=5):
    norm = np.sqrt(sum(np.sum(grad ** 2) for grad in gradients))
    if norm > max_norm:
        scale = max_norm / norm
        return [grad * scale for grad in gradients]
    return gradients


def clip_case(grads, max_norm, rng_draws, notes):
    sq = [np.sum(g_ ** 2) for g_ in grads]
    total = sum(np.sum(g_ ** 2) for g_ in grads)
    norm = np.sqrt(total)
    out = clip_gradients(grads, max_norm)
    clipped = out is not grads
    outputs = {"sum_squares_each": sq, "sum_squares_total": total, "global_norm": norm,
               "was_clipped": bool(clipped), "clipped": out,
               "global_norm_after": np.sqrt(sum(np.sum(g_ ** 2) for g_ in out))}
    if clipped:
        outputs["scale"] = max_norm / norm
    return {"inputs": {"gradients": grads, "max_norm": float(max_norm)}, "outputs": outputs,
            "printed": "", "rng_draws": rng_draws, "notes": notes}


rng = np.random.default_rng(0)
grads_big = [rng.normal(scale=2.0, size=(2, 3)), rng.normal(scale=2.0, size=3), rng.normal(scale=2.0, size=(2, 2))]
cases["002.clip_gradients_above"] = clip_case(
    grads_big, 5, ["g0 normal(scale=2,(2,3))", "g1 normal(scale=2,3)", "g2 normal(scale=2,(2,2))"],
    "norm = sqrt(0 + sum(g0**2) + sum(g1**2) + sum(g2**2)) (Python sum over numpy sums); "
    "clipped iff norm > max_norm (strict); each grad * (max_norm / norm)")
rng = np.random.default_rng(0)
grads_small = [rng.normal(scale=0.5, size=(2, 3)), rng.normal(scale=0.5, size=3), rng.normal(scale=0.5, size=(2, 2))]
cases["002.clip_gradients_below"] = clip_case(
    grads_small, 5, ["g0 normal(scale=0.5,(2,3))", "g1 normal(scale=0.5,3)", "g2 normal(scale=0.5,(2,2))"],
    "norm below max_norm: the same list is returned unchanged")
grads_edge = [np.array([[3.0, 0.0, 0.0], [0.0, 0.0, 0.0]]), np.array([4.0, 0.0, 0.0]), np.zeros((2, 2))]
cases["002.clip_gradients_boundary"] = clip_case(
    grads_edge, 5, [], "EXTRA: norm exactly 5.0 == max_norm, not clipped (test is strict >)")

# ------------------------------------------------ LSTM step, separate W/U/b per gate
rng = np.random.default_rng(0)
d_x, d_h = 3, 4
x = rng.normal(size=d_x)
h_prev = rng.normal(size=d_h)
c_prev = rng.normal(size=d_h)
P = {}
for gname in ("f", "i", "o", "g"):
    P["W_" + gname] = rng.normal(scale=0.5, size=(d_h, d_x))
    P["U_" + gname] = rng.normal(scale=0.5, size=(d_h, d_h))
    P["b_" + gname] = rng.normal(scale=0.1, size=d_h)


def lstm_step(x, h_prev, c_prev):
    W_f, U_f, b_f = P["W_f"], P["U_f"], P["b_f"]
    W_i, U_i, b_i = P["W_i"], P["U_i"], P["b_i"]
    W_o, U_o, b_o = P["W_o"], P["U_o"], P["b_o"]
    W_g, U_g, b_g = P["W_g"], P["U_g"], P["b_g"]
    tanh = np.tanh
    # Gates
    f = sigmoid(W_f.dot(x) + U_f.dot(h_prev) + b_f)
    i = sigmoid(W_i.dot(x) + U_i.dot(h_prev) + b_i)
    o = sigmoid(W_o.dot(x) + U_o.dot(h_prev) + b_o)
    # New memory content
    g = tanh(W_g.dot(x) + U_g.dot(h_prev) + b_g)
    # Update cell state
    c = f * c_prev + i * g
    # Update hidden state
    h = o * tanh(c)
    return h, c


h_l, c_l = lstm_step(x, h_prev, c_prev)
pres = {"pre_" + gname: P["W_" + gname].dot(x) + P["U_" + gname].dot(h_prev) + P["b_" + gname]
        for gname in ("f", "i", "o", "g")}
gates = {"f": sigmoid(pres["pre_f"]), "i": sigmoid(pres["pre_i"]), "o": sigmoid(pres["pre_o"]),
         "g": np.tanh(pres["pre_g"])}
assert np.array_equal(c_l, gates["f"] * c_prev + gates["i"] * gates["g"])
cases["002.lstm_step"] = {
    "inputs": dict({"x": x, "h_prev": h_prev, "c_prev": c_prev}, **P),
    "outputs": dict(pres, **gates, c=c_l, tanh_c=np.tanh(c_l), h=h_l),
    "printed": "",
    "rng_draws": ["x normal(3)", "h_prev normal(4)", "c_prev normal(4)",
                  "then for gate in f, i, o, g: W_gate normal(scale=0.5,(4,3)), U_gate normal(scale=0.5,(4,4)), "
                  "b_gate normal(scale=0.1,4)"],
    "notes": "d_x=3, d_h=4; pre = (W.dot(x) + U.dot(h_prev)) + b; sigmoid(x) = 1/(1+exp(-x)); g uses tanh",
}

# ------------------------------------------------ learning-rate schedules
base_lr, decay_rate, decay_steps = 0.1, 0.96, 4
epochs = list(range(0, 11))
lr_exp = [base_lr * decay_rate ** (epoch / decay_steps) for epoch in epochs]
lr_step = [base_lr * decay_rate ** math.floor(epoch / decay_steps) for epoch in epochs]
cases["002.lr_decay_exponential"] = {
    "inputs": {"base_lr": base_lr, "decay_rate": decay_rate, "decay_steps": decay_steps, "epochs": epochs},
    "outputs": {"exponent": [epoch / decay_steps for epoch in epochs], "learning_rate": lr_exp},
    "printed": "",
    "notes": "learning_rate = base_lr * decay_rate ** (epoch / decay_steps), Python floats (pow from libm)",
}
cases["002.lr_decay_stepwise"] = {
    "inputs": {"base_lr": base_lr, "decay_rate": decay_rate, "decay_steps": decay_steps, "epochs": epochs},
    "outputs": {"exponent": [math.floor(epoch / decay_steps) for epoch in epochs], "learning_rate": lr_step},
    "printed": "",
    "notes": "EXTRA variant: learning_rate = base_lr * decay_rate ** floor(epoch / decay_steps) (float ** int)",
}

# ------------------------------------------------ mini-batch hidden state (extra)
rng = np.random.default_rng(0)
batch_size, hidden_size, d_x, seq_length = 2, 4, 3, 3
W_xh_b = rng.normal(scale=0.5, size=(hidden_size, d_x))
W_hh_b = rng.normal(scale=0.5, size=(hidden_size, hidden_size))
b_h_b = rng.normal(scale=0.1, size=hidden_size)
batch_inputs = rng.normal(size=(seq_length, batch_size, d_x))
hb = np.zeros((batch_size, hidden_size))
hbs = []
for t in range(seq_length):
    hb = np.tanh(hb @ W_hh_b.T + batch_inputs[t] @ W_xh_b.T + b_h_b)
    hbs.append(hb)
# each row must equal the single-sequence step
for bi in range(batch_size):
    hh = np.zeros(hidden_size)
    for t in range(seq_length):
        hh = np.tanh(W_hh_b @ hh + W_xh_b @ batch_inputs[t, bi] + b_h_b)
        assert np.allclose(hh, hbs[t][bi], rtol=0, atol=1e-15)
cases["002.minibatch_state"] = {
    "inputs": {"W_xh": W_xh_b, "W_hh": W_hh_b, "b_h": b_h_b, "batch_inputs": batch_inputs,
               "h0": np.zeros((batch_size, hidden_size))},
    "outputs": {"h": np.stack(hbs), "h_last": hb},
    "printed": "",
    "rng_draws": ["W_xh normal(scale=0.5,(4,3))", "W_hh normal(scale=0.5,(4,4))", "b_h normal(scale=0.1,4)",
                  "batch_inputs normal((3,2,3)) [t, batch, d_x]"],
    "notes": ("EXTRA: article's process_batch, h = zeros((batch_size, hidden_size)); row form "
              "h = tanh(h @ W_hh.T + x_t @ W_xh.T + b_h); each row equals the column-form step to <=1e-15 "
              "(not bitwise: summation order differs)"),
}

# ------------------------------------------------ full BPTT (forward_backward_pass)
rng = np.random.default_rng(0)
V, H, T = 4, 3, 5
W_xh = rng.normal(scale=0.5, size=(H, V))
W_hh = rng.normal(scale=0.5, size=(H, H))
W_hy = rng.normal(scale=0.5, size=(V, H))
b_h = rng.normal(scale=0.1, size=H)
b_y = rng.normal(scale=0.1, size=V)
h0 = rng.normal(scale=0.5, size=H)
inputs = rng.integers(0, V, size=T)
targets = rng.integers(0, V, size=T)
X = np.eye(V)[inputs]  # one-hot rows, X[t] = x_t


def forward(W_xh, W_hh, W_hy, b_h, b_y, h0):
    h = h0
    hs, ys, ps, pres, losses = [], [], [], [], []
    loss = 0.0
    for t in range(T):
        a = np.dot(W_hh, h) + np.dot(W_xh, X[t]) + b_h
        h = np.tanh(a)
        y = np.dot(W_hy, h) + b_y
        p = softmax(y)
        l = -np.log(p[targets[t]])
        loss += l
        pres.append(a); hs.append(h); ys.append(y); ps.append(p); losses.append(l)
    return loss, dict(pre=np.stack(pres), h=np.stack(hs), y=np.stack(ys), p=np.stack(ps), losses=np.array(losses))


def forward_backward_pass(W_xh, W_hh, W_hy, b_h, b_y, h0):
    loss, st = forward(W_xh, W_hh, W_hy, b_h, b_y, h0)
    dW_hh, dW_xh, dW_hy = np.zeros_like(W_hh), np.zeros_like(W_xh), np.zeros_like(W_hy)
    db_h, db_y = np.zeros_like(b_h), np.zeros_like(b_y)
    dh_next = np.zeros_like(h0)
    for t in reversed(range(T)):
        h_t = st["h"][t]
        h_before = st["h"][t - 1] if t > 0 else h0
        dy = st["p"][t].copy()
        dy[targets[t]] -= 1.0              # d loss_t / d y_t = softmax - onehot
        dW_hy += np.outer(dy, h_t)
        db_y += dy
        dh = np.dot(W_hy.T, dy) + dh_next  # from the output and from step t+1
        da = (1.0 - h_t * h_t) * dh        # through tanh
        db_h += da
        dW_xh += np.outer(da, X[t])
        dW_hh += np.outer(da, h_before)
        dh_next = np.dot(W_hh.T, da)
    dh0 = dh_next
    return loss, st, dict(dW_xh=dW_xh, dW_hh=dW_hh, dW_hy=dW_hy, db_h=db_h, db_y=db_y, dh0=dh0)


params = dict(W_xh=W_xh, W_hh=W_hh, W_hy=W_hy, b_h=b_h, b_y=b_y, h0=h0)
loss, st, grads = forward_backward_pass(**params)

# central finite differences, float64
eps = 1e-6
fd_diff = {}
for name in params:
    num = np.zeros_like(params[name])
    it = np.nditer(params[name], flags=["multi_index"])
    for _ in it:
        idx = it.multi_index
        pp = {k: v.copy() for k, v in params.items()}
        pm = {k: v.copy() for k, v in params.items()}
        pp[name][idx] += eps
        pm[name][idx] -= eps
        num[idx] = (forward(**pp)[0] - forward(**pm)[0]) / (2 * eps)
    gname = "d" + name
    fd_diff[gname] = float(np.max(np.abs(num - grads[gname])))
fd_max = max(fd_diff.values())
assert fd_max < 1e-7, fd_diff

cases["002.bptt_forward_backward"] = {
    "inputs": {"V": V, "H": H, "T": T, "W_xh": W_xh, "W_hh": W_hh, "W_hy": W_hy, "b_h": b_h, "b_y": b_y,
               "h0": h0, "inputs": [int(v) for v in inputs], "targets": [int(v) for v in targets], "X_onehot": X},
    "outputs": {"preactivations": st["pre"], "h": st["h"], "y": st["y"], "p": st["p"],
                "step_losses": st["losses"], "loss": loss,
                "dW_xh": grads["dW_xh"], "dW_hh": grads["dW_hh"], "dW_hy": grads["dW_hy"],
                "db_h": grads["db_h"], "db_y": grads["db_y"], "dh0": grads["dh0"],
                "finite_difference": {"eps": eps, "method": "central (L(p+eps)-L(p-eps))/(2 eps), float64",
                                      "max_abs_diff_per_gradient": fd_diff, "max_abs_diff": fd_max}},
    "printed": "",
    "rng_draws": ["W_xh normal(scale=0.5,(3,4))", "W_hh normal(scale=0.5,(3,3))", "W_hy normal(scale=0.5,(4,3))",
                  "b_h normal(scale=0.1,3)", "b_y normal(scale=0.1,4)", "h0 normal(scale=0.5,3)",
                  "inputs integers(0,4,size=5)", "targets integers(0,4,size=5)"],
    "notes": ("h_t = tanh(W_hh@h_{t-1} + W_xh@x_t + b_h), y_t = W_hy@h_t + b_y, p_t = softmax(y_t) (max-shifted), "
              "loss = sum_t -log p_t[target_t] (accumulated from 0.0 in t order). The article writes "
              "-np.log(y[targets[t]]) on raw y; the brief's softmax cross-entropy is used. inputs/targets are "
              "integer token ids (JSON ints). Backward: dy = p - onehot(target); "
              "dh = W_hy.T@dy + dh_next; da = (1-h^2)*dh; dW_hh += outer(da, h_{t-1}); dh_next = W_hh.T@da; "
              "dh0 = final dh_next."),
}

doc = {
    "source": "seeds/002_08c8b1ca30e981e3.txt (article: why RNNs are effective); examples are our own",
    "generator": "each case: its own numpy.random.default_rng(0), draws in the order of its rng_draws",
    "numpy_version": np.__version__,
}
out = {"_meta": doc}
out.update({k: J(v) for k, v in cases.items()})
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as fh:
    fh.write(json.dumps(out, indent=1, allow_nan=False))
    fh.write("\n")
print(f"wrote {OUT}: {len(cases)} cases")
print("BPTT loss:", loss, "finite-difference max abs diff:", fd_max, fd_diff)
print("clip above: norm", cases["002.clip_gradients_above"]["outputs"]["global_norm"],
      "clipped", cases["002.clip_gradients_above"]["outputs"]["was_clipped"],
      "| below: norm", cases["002.clip_gradients_below"]["outputs"]["global_norm"],
      "clipped", cases["002.clip_gradients_below"]["outputs"]["was_clipped"])
