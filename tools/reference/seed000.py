#!/usr/bin/env python3
"""Reference numbers for seed 000, "RNN and LSTM Math: Theory Notebook".

Re-runs the notebook's code cells top to bottom (plots dropped, since they
draw nothing from the generator) with ONE generator,
rng = np.random.default_rng(1), created in section 1 and consumed in notebook
order by sections 1, 6, 8, 11 and 13. Every array a computation consumes, every
intermediate it makes and the text its print calls write are dumped to
$RNNSPEC_REFDATA/ (default: .build/reference/ in the repository), file seed000.json (or the path given as argv[1]).

Floats are written with Python's repr (shortest round-trip form): never rounded.
"""
import contextlib
import io
import json
import os
import sys

import numpy as np

from refcommon import J, output_path

OUT = output_path("seed000.json")


cases = {}


@contextlib.contextmanager
def section(key):
    buf = io.StringIO()
    entry = {"inputs": {}, "outputs": {}, "printed": ""}
    with contextlib.redirect_stdout(buf):
        yield entry
    entry["printed"] = buf.getvalue()
    cases[key] = entry


# ---------------------------------------------------------------- Code cell 2
with section("000.s0_setup") as e:
    np.random.seed(42)  # global legacy RNG; never used afterwards, no effect on rng
    print("Plot setup complete.")
    e["notes"] = "matplotlib/seaborn setup omitted; np.random.seed(42) does not touch default_rng(1)"

# ------------------------------------------------- 1. Vanilla RNN update (cell 4)
with section("000.s1_vanilla_rnn") as e:
    rng = np.random.default_rng(1)
    T, d_x, d_h = 5, 3, 4
    X = rng.normal(size=(T, d_x))
    W_xh = rng.normal(scale=0.3, size=(d_h, d_x))
    W_hh = rng.normal(scale=0.3, size=(d_h, d_h))
    b = np.zeros(d_h)
    h = np.zeros(d_h)
    h0 = h.copy()
    states = []
    pre = []
    for t in range(T):
        a = W_xh @ X[t] + W_hh @ h + b  # same expression as the notebook, split out to record it
        pre.append(a)
        h = np.tanh(W_xh @ X[t] + W_hh @ h + b)
        assert np.array_equal(h, np.tanh(a))
        states.append(h.copy())
    H = np.stack(states)
    print("hidden sequence shape:", H.shape)
    print("last hidden state:", np.round(H[-1], 3))
    e["inputs"] = {"X": X, "W_xh": W_xh, "W_hh": W_hh, "b": b, "h0": h0,
                   "T": T, "d_x": d_x, "d_h": d_h}
    e["outputs"] = {"preactivations": np.stack(pre), "H": H, "H_shape": list(H.shape),
                    "last_hidden": H[-1], "last_hidden_rounded3": np.round(H[-1], 3)}
    e["rng_draws"] = ["X = rng.normal(size=(5,3))", "W_xh = rng.normal(scale=0.3, size=(4,3))",
                      "W_hh = rng.normal(scale=0.3, size=(4,4))"]

# ------------------------------------------- 2. Parameter sharing (cell 6)
with section("000.s2_parameter_sharing") as e:
    params_once = W_xh.size + W_hh.size + b.size
    params_unshared = T * params_once
    print("shared RNN parameters:", params_once)
    print("if unshared over time:", params_unshared)
    e["inputs"] = {"W_xh_shape": list(W_xh.shape), "W_hh_shape": list(W_hh.shape),
                   "b_shape": list(b.shape), "T": T}
    e["outputs"] = {"params_once": int(params_once), "params_unshared": int(params_unshared)}

# --------------------------------------- 3. Gradient product intuition (cell 8)
with section("000.s3_gradient_product") as e:
    steps = np.arange(1, 51)
    curves = {}
    for scale in [0.8, 1.0, 1.2]:
        curves[f"scale={scale}"] = scale ** steps  # plotted, not printed
    e["inputs"] = {"steps": steps, "scales": [0.8, 1.0, 1.2]}
    e["outputs"] = {"curves": curves,
                    "at_step_50": {k: v[-1] for k, v in curves.items()}}
    e["notes"] = "plot only (log y axis); values are scale ** steps, numpy float64 power of int array"

# ---------------------------------------------- 4. Gradient clipping (cell 10)
with section("000.s4_gradient_clipping") as e:
    g = np.array([3.0, 4.0, 12.0])
    clip = 5.0
    norm = np.linalg.norm(g)
    scale = min(1.0, clip / norm)
    g_clip = g * scale
    print("original norm:", norm)
    print("clipped norm:", np.linalg.norm(g_clip))
    print("scale:", scale)
    e["inputs"] = {"g": g, "clip": clip}
    e["outputs"] = {"norm": norm, "scale": scale, "g_clip": g_clip,
                    "clipped_norm": np.linalg.norm(g_clip)}

# ------------------------------------------- 5. Truncated BPTT chunks (cell 12)
with section("000.s5_truncated_bptt_chunks") as e:
    T = 23
    window = 6
    chunks = [(start, min(start + window, T)) for start in range(0, T, window)]
    print("chunks:", chunks)
    print("Detach hidden state between chunks in an autodiff framework.")
    e["inputs"] = {"T": T, "window": window}
    e["outputs"] = {"chunks": [list(c) for c in chunks]}
    e["notes"] = "rebinds T = 23 (section 1's T = 5 is no longer used afterwards)"

# ------------------------------------------------ 6. One LSTM cell step (cell 14)
with section("000.s6_lstm_step") as e:
    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    d_x, d_h = 3, 4
    x = rng.normal(size=d_x)
    h_prev = rng.normal(size=d_h)
    c_prev = rng.normal(size=d_h)
    concat = np.r_[x, h_prev]
    W = rng.normal(scale=0.2, size=(4 * d_h, d_x + d_h))
    gates = W @ concat
    f = sigmoid(gates[:d_h])
    i = sigmoid(gates[d_h:2*d_h])
    o = sigmoid(gates[2*d_h:3*d_h])
    cand = np.tanh(gates[3*d_h:])
    c = f * c_prev + i * cand
    h = o * np.tanh(c)
    print("forget gate:", np.round(f, 3))
    print("input gate:", np.round(i, 3))
    print("cell shape:", c.shape, "hidden shape:", h.shape)
    e["inputs"] = {"x": x, "h_prev": h_prev, "c_prev": c_prev, "W": W, "d_x": d_x, "d_h": d_h}
    e["outputs"] = {"concat": concat, "gates": gates,
                    "pre_f": gates[:d_h], "pre_i": gates[d_h:2*d_h],
                    "pre_o": gates[2*d_h:3*d_h], "pre_g": gates[3*d_h:],
                    "f": f, "i": i, "o": o, "cand": cand, "c": c, "tanh_c": np.tanh(c), "h": h,
                    "f_rounded3": np.round(f, 3), "i_rounded3": np.round(i, 3),
                    "c_shape": list(c.shape), "h_shape": list(h.shape)}
    e["notes"] = ("gate rows of W: [0:4]=f, [4:8]=i, [8:12]=o, [12:16]=g(cand); concat=[x, h_prev]; "
                  "no bias; sigmoid(x)=1/(1+exp(-x))")
    e["rng_draws"] = ["x = rng.normal(size=3)", "h_prev = rng.normal(size=4)",
                      "c_prev = rng.normal(size=4)", "W = rng.normal(scale=0.2, size=(16,7))"]

# ---------------------------------------- 7. Forget gate memory timescale (cell 16)
with section("000.s7_forget_decay") as e:
    forget_values = [0.5, 0.8, 0.95, 0.99]
    steps = np.arange(0, 80)
    curves = {}
    for f in forget_values:
        curves[f"f={f}"] = f ** steps  # plotted, not printed
    e["inputs"] = {"forget_values": forget_values, "steps": steps}
    e["outputs"] = {"curves": curves, "at_step_79": {k: v[-1] for k, v in curves.items()}}
    e["notes"] = "plot only; f is rebound to 0.99 after the loop (unused later)"

# ------------------------------------------------------ 8. One GRU step (cell 18)
with section("000.s8_gru_step") as e:
    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    d_x, d_h = 3, 4
    x = rng.normal(size=d_x)
    h_prev = rng.normal(size=d_h)
    concat = np.r_[x, h_prev]
    Wz = rng.normal(scale=0.2, size=(d_h, d_x + d_h))
    Wr = rng.normal(scale=0.2, size=(d_h, d_x + d_h))
    z = sigmoid(Wz @ concat)
    r = sigmoid(Wr @ concat)
    Wh = rng.normal(scale=0.2, size=(d_h, d_x + d_h))
    h_tilde = np.tanh(Wh @ np.r_[x, r * h_prev])
    h = (1 - z) * h_prev + z * h_tilde
    print("update gate:", np.round(z, 3))
    print("reset gate:", np.round(r, 3))
    print("hidden:", np.round(h, 3))
    e["inputs"] = {"x": x, "h_prev": h_prev, "Wz": Wz, "Wr": Wr, "Wh": Wh, "d_x": d_x, "d_h": d_h}
    e["outputs"] = {"concat": concat, "pre_z": Wz @ concat, "pre_r": Wr @ concat,
                    "z": z, "r": r, "r_times_h_prev": r * h_prev,
                    "concat_reset": np.r_[x, r * h_prev], "pre_h_tilde": Wh @ np.r_[x, r * h_prev],
                    "h_tilde": h_tilde, "h": h,
                    "z_rounded3": np.round(z, 3), "r_rounded3": np.round(r, 3),
                    "h_rounded3": np.round(h, 3)}
    e["notes"] = "no biases; reset applied to h_prev before the matmul; h = (1-z)*h_prev + z*h_tilde"
    e["rng_draws"] = ["x = rng.normal(size=3)", "h_prev = rng.normal(size=4)",
                      "Wz = rng.normal(scale=0.2, size=(4,7))", "Wr = rng.normal(scale=0.2, size=(4,7))",
                      "Wh = rng.normal(scale=0.2, size=(4,7)) (drawn after z and r are computed)"]

# ------------------------------------------------- 9. Masked sequence loss (cell 20)
with section("000.s9_masked_loss") as e:
    losses = np.array([[0.4, 0.5, 0.8, 0.0], [0.7, 0.6, 0.0, 0.0]])
    mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]])
    masked = (losses * mask).sum() / mask.sum()
    bad = losses.mean()
    print("masked loss:", masked)
    print("unmasked loss:", bad)
    e["inputs"] = {"losses": losses, "mask": mask}
    e["outputs"] = {"masked_sum": (losses * mask).sum(), "mask_count": int(mask.sum()),
                    "masked": masked, "unmasked": bad}
    e["notes"] = "mask is an int array in the notebook; sums are numpy pairwise sums in row-major order"

# ------------------------------------- 10. Teacher forcing vs free running (cell 22)
with section("000.s10_teacher_forcing") as e:
    gold = ["I", "like", "math", "<EOS>"]
    pred = ["I", "like", "pizza", "<EOS>"]
    pairs = []
    for t in range(1, len(gold)):
        teacher_input = gold[t-1]
        free_input = pred[t-1]
        pairs.append({"step": t, "teacher_input": teacher_input, "free_input": free_input})
        print(f"step {t}: teacher forcing input={teacher_input:>5s}, free-running input={free_input:>5s}")
    e["inputs"] = {"gold": gold, "pred": pred}
    e["outputs"] = {"steps": pairs}

# ---------------------------------------- 11. Attention over encoder states (cell 24)
with section("000.s11_attention") as e:
    encoder = rng.normal(size=(5, 4))
    decoder_state = rng.normal(size=4)
    scores = encoder @ decoder_state
    exp_shifted = np.exp(scores - scores.max())
    weights = np.exp(scores - scores.max())
    weights = weights / weights.sum()
    context = weights @ encoder
    print("attention weights:", np.round(weights, 3))
    print("context shape:", context.shape)
    e["inputs"] = {"encoder": encoder, "decoder_state": decoder_state}
    e["outputs"] = {"scores": scores, "scores_max": scores.max(), "exp_shifted": exp_shifted,
                    "exp_sum": exp_shifted.sum(), "weights": weights, "context": context,
                    "weights_rounded3": np.round(weights, 3), "context_shape": list(context.shape)}
    e["rng_draws"] = ["encoder = rng.normal(size=(5,4))", "decoder_state = rng.normal(size=4)"]

# --------------------------------------------- 12. Bidirectional shapes (cell 26)
with section("000.s12_bidirectional_shape") as e:
    B, T, hidden = 2, 6, 4
    forward = np.zeros((B, T, hidden))
    backward = np.zeros((B, T, hidden))
    bi = np.concatenate([forward, backward], axis=-1)
    print("bidirectional output shape:", bi.shape)
    e["inputs"] = {"B": B, "T": T, "hidden": hidden}
    e["outputs"] = {"bi_shape": list(bi.shape)}

# ----------------------------------------- 13. Gate saturation diagnostic (cell 28)
with section("000.s13_gate_saturation") as e:
    # notebook: gate_samples = sigmoid(rng.normal(loc=0.0, scale=3.0, size=1000))
    raw = rng.normal(loc=0.0, scale=3.0, size=1000)
    gate_samples = sigmoid(raw)
    saturated = np.mean((gate_samples < 0.05) | (gate_samples > 0.95))
    print("saturated fraction:", saturated)
    e["inputs"] = {"pre_sigmoid_samples": raw}
    e["outputs"] = {"gate_samples": gate_samples,
                    "n_below_0_05": int((gate_samples < 0.05).sum()),
                    "n_above_0_95": int((gate_samples > 0.95).sum()),
                    "saturated_count": int(((gate_samples < 0.05) | (gate_samples > 0.95)).sum()),
                    "saturated": saturated}
    e["notes"] = "sigmoid is the one defined in section 8 (same formula); histogram (30 bins) omitted"
    e["rng_draws"] = ["rng.normal(loc=0.0, scale=3.0, size=1000)"]

# ---------------------------------------------- 14. Final RNN checklist (cell 30)
with section("000.s14_checklist") as e:
    checks = [
        "batch, time, and feature axes are explicit",
        "padding mask is applied before averaging loss",
        "hidden state is detached between truncated BPTT chunks",
        "gradient norms are tracked and clipped if needed",
        "gate statistics are monitored for saturation",
        "short and long sequences are evaluated separately",
    ]
    for i, check in enumerate(checks, 1):
        print(f"{i}. {check}")
    e["inputs"] = {"checks": checks}

# ------------------------------------------------------------------- checks
# Sanity: shapes and basic identities (the document shows no outputs to compare with).
s1 = cases["000.s1_vanilla_rnn"]["outputs"]
assert s1["H_shape"] == [5, 4]
assert cases["000.s2_parameter_sharing"]["outputs"] == {"params_once": 32, "params_unshared": 160}
s4 = cases["000.s4_gradient_clipping"]["outputs"]
assert s4["norm"] == 13.0 and s4["scale"] == 5.0 / 13.0
assert cases["000.s5_truncated_bptt_chunks"]["outputs"]["chunks"] == [[0, 6], [6, 12], [12, 18], [18, 23]]
s9 = cases["000.s9_masked_loss"]["outputs"]
assert abs(s9["masked"] - 3.0 / 5.0) < 1e-15 and abs(s9["unmasked"] - 3.0 / 8.0) < 1e-15
assert abs(sum(cases["000.s11_attention"]["outputs"]["weights"]) - 1.0) < 1e-12
assert len(cases["000.s13_gate_saturation"]["inputs"]["pre_sigmoid_samples"]) == 1000
# The generator must be consumed in notebook order: replay the draws in one go and compare.
_r = np.random.default_rng(1)
_seq = [_r.normal(size=(5, 3)), _r.normal(scale=0.3, size=(4, 3)), _r.normal(scale=0.3, size=(4, 4)),
        _r.normal(size=3), _r.normal(size=4), _r.normal(size=4), _r.normal(scale=0.2, size=(16, 7)),
        _r.normal(size=3), _r.normal(size=4), _r.normal(scale=0.2, size=(4, 7)),
        _r.normal(scale=0.2, size=(4, 7)), _r.normal(scale=0.2, size=(4, 7)),
        _r.normal(size=(5, 4)), _r.normal(size=4), _r.normal(loc=0.0, scale=3.0, size=1000)]
_got = [cases["000.s1_vanilla_rnn"]["inputs"][k] for k in ("X", "W_xh", "W_hh")] + \
       [cases["000.s6_lstm_step"]["inputs"][k] for k in ("x", "h_prev", "c_prev", "W")] + \
       [cases["000.s8_gru_step"]["inputs"][k] for k in ("x", "h_prev", "Wz", "Wr", "Wh")] + \
       [cases["000.s11_attention"]["inputs"][k] for k in ("encoder", "decoder_state")] + \
       [cases["000.s13_gate_saturation"]["inputs"]["pre_sigmoid_samples"]]
for a, b_ in zip(_seq, _got):
    assert np.array_equal(a, b_)

doc = {
    "source": "seeds/000_c0b0144bba7cfc1a.txt (RNN and LSTM Math: Theory Notebook)",
    "generator": "numpy.random.default_rng(1), one generator shared by sections 1, 6, 8, 11, 13 in notebook order",
    "numpy_version": np.__version__,
    "all_printed": "".join(c["printed"] for c in cases.values()),
}
out = {"_meta": doc}
out.update({k: J(v) for k, v in cases.items()})
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as fh:
    fh.write(json.dumps(out, indent=1, allow_nan=False))
    fh.write("\n")
print(f"wrote {OUT}: {len(cases)} cases")
print(doc["all_printed"], end="")
