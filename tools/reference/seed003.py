"""Reference numbers for seed 003 (the RNN/LSTM/GRU companion), sections 8-20.

Seed 003 prints no numbers: these are our own small examples of its formulas, with inputs
drawn from NumPy's default_rng(3) (one generator per example, seeded as listed) and every
intermediate written out. The LSTM uses the companion's notation
a_k = W_k [h_prev, x] + b_k, which is W_k = [U_k | V_k] with U_k on h_prev and V_k on x;
the cases feed the same numbers to lstm.step (layout separate: W_k on x, U_k on h).
The GRU follows §20's code: z_input = [h_prev, x], candidate over [r*h_prev, x].

Usage: python3 seed003.py [OUT.json]   (default $RNNSPEC_REFDATA/seed003.json, see refcommon.py). NumPy 2.4.6.
"""
import json
import sys

import numpy as np

from refcommon import output_path


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def lstm_example(seed, d_x, d_h, batch, forget_bias=0.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, d_x))
    h_prev = rng.normal(size=(batch, d_h))
    c_prev = rng.normal(size=(batch, d_h))
    inputs = {"x": x, "h_prev": h_prev, "c_prev": c_prev}
    pre = {}
    for k in "fiog":
        W = rng.normal(scale=0.5, size=(d_h, d_h + d_x))  # over [h_prev, x]
        b = rng.normal(scale=0.1, size=d_h) + (forget_bias if k == "f" else 0.0)
        inputs["U_" + k] = W[:, :d_h]
        inputs["W_" + k] = W[:, d_h:]
        inputs["b_" + k] = b
        pre[k] = np.concatenate([h_prev, x], axis=1) @ W.T + b
    f, i, o = sigmoid(pre["f"]), sigmoid(pre["i"]), sigmoid(pre["o"])
    g = np.tanh(pre["g"])
    c = f * c_prev + i * g
    h = o * np.tanh(c)
    outputs = {"a_f": pre["f"], "a_i": pre["i"], "a_o": pre["o"], "a_g": pre["g"],
               "f": f, "i": i, "o": o, "g": g, "c": c, "h": h,
               "dc_dc_prev": f}  # c = f*c_prev + i*g: dc/dc_prev = f elementwise
    return inputs, outputs


def gru_example(seed, d_x, d_h, batch, reset_after=False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, d_x))
    h_prev = rng.normal(size=(batch, d_h))
    W_r = rng.normal(scale=0.5, size=(d_h, d_h + d_x))
    W_z = rng.normal(scale=0.5, size=(d_h, d_h + d_x))
    W_h = rng.normal(scale=0.5, size=(d_h, d_h + d_x))
    b_r = rng.normal(scale=0.1, size=d_h)
    b_z = rng.normal(scale=0.1, size=d_h)
    b_h = rng.normal(scale=0.1, size=d_h)
    z_input = np.concatenate([h_prev, x], axis=1)
    a_r = z_input @ W_r.T + b_r
    a_z = z_input @ W_z.T + b_z
    r = sigmoid(a_r)
    z = sigmoid(a_z)
    if reset_after:
        # r applied to the result of the recurrent matmul: W_h x-part on x, r * (W_h h-part @ h_prev)
        a_h = x @ W_h[:, d_h:].T + b_h + r * (h_prev @ W_h[:, :d_h].T)
    else:
        a_h = np.concatenate([r * h_prev, x], axis=1) @ W_h.T + b_h
    h_tilde = np.tanh(a_h)
    h = (1 - z) * h_prev + z * h_tilde
    inputs = {"x": x, "h_prev": h_prev, "W_z": W_z, "W_r": W_r, "W_h": W_h, "b_z": b_z, "b_r": b_r, "b_h": b_h}
    outputs = {"a_z": a_z, "a_r": a_r, "a_candidate": a_h, "z": z, "r": r, "candidate": h_tilde, "h": h}
    return inputs, outputs


def cell_update_example(seed, d_h):
    rng = np.random.default_rng(seed)
    f = sigmoid(rng.normal(size=d_h))
    i = sigmoid(rng.normal(size=d_h))
    g = np.tanh(rng.normal(size=d_h))
    o = sigmoid(rng.normal(size=d_h))
    c_prev = rng.normal(size=d_h)
    c = f * c_prev + i * g
    return {"f": f, "i": i, "g": g, "o": o, "c_prev": c_prev}, {"c": c, "h": o * np.tanh(c)}


def tolist(d):
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in d.items()}


def main():
    out = {"_meta": {"source": "seeds/003_a574cbebafec91a8.txt (RNN/LSTM/GRU companion), sections 8-20",
                     "generator": "numpy.random.default_rng(seed) per example", "numpy_version": np.__version__}}
    examples = {
        "003.s08_s11_lstm_gates": lstm_example(308, d_x=2, d_h=3, batch=2),
        "003.s13_cell_highway": lstm_example(313, d_x=2, d_h=3, batch=1, forget_bias=3.0),
        "003.s14_lstm_single_unit": lstm_example(314, d_x=1, d_h=1, batch=1),
        "003.s10_cell_update": cell_update_example(310, d_h=4),
        "003.s15_s18_gru_hx_biases": gru_example(315, d_x=2, d_h=3, batch=2),
        "003.s16_gru_reset_after_matmul": gru_example(316, d_x=2, d_h=3, batch=2, reset_after=True),
        "003.s20_gru_in_code": gru_example(320, d_x=3, d_h=4, batch=1),
    }
    for key, (inputs, outputs) in examples.items():
        out[key] = {"inputs": tolist(inputs), "outputs": tolist(outputs)}
    path = output_path("seed003.json")
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    main()
