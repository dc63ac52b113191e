#!/usr/bin/env python3
"""Reference numbers for seed 001, "RNN and LSTM Math: Exercises".

Runs the solution cells of exercises 1-10 (and records what the starter cells
print) and dumps inputs, every intermediate, the outputs and the printed text
to $RNNSPEC_REFDATA/ (default: .build/reference/ in the repository), file seed001.json (or argv[1]). The document shows no outputs, so
the checks at the end compare against values worked out by hand.

Floats are written with Python's repr (shortest round-trip form): never rounded.
"""
import contextlib
import io
import json
import math
import os
import sys

import numpy as np

from refcommon import J, capture, output_path

OUT = output_path("seed001.json")


cases = {}


def add(key, inputs, outputs, starter, solution, notes=None):
    e = {"inputs": inputs, "outputs": outputs, "printed": solution, "printed_starter": starter}
    if notes:
        e["notes"] = notes
    cases[key] = e


# Code cell 2
setup = capture(lambda: (np.random.seed(42), print("Plot setup complete.")))
cases["001.s0_setup"] = {"inputs": {}, "outputs": {}, "printed": setup}

# Exercise 1: Vanilla RNN update
x = np.array([1.0, -1.0])
h_prev = np.array([0.5, 0.0])
W_xh = np.eye(2)
W_hh = 0.5 * np.eye(2)
h = np.tanh(W_xh @ x + W_hh @ h_prev)
add("001.ex1_vanilla_rnn_update",
    {"x": x, "h_prev": h_prev, "W_xh": W_xh, "W_hh": W_hh},
    {"preactivation": W_xh @ x + W_hh @ h_prev, "h": h},
    capture(lambda: print("Starter: h=tanh(W_xh@x + W_hh@h_prev).")),
    capture(lambda: print("h:", h)),
    "no bias; preactivation = [1.25, -1.0]")

# Exercise 2: Sequence probability
probs = np.array([0.8, 0.6, 0.5])
p = probs.prod()
logp = np.log(probs).sum()
add("001.ex2_sequence_probability",
    {"probs": probs},
    {"p": p, "log_probs": np.log(probs), "logp": logp, "exp_logp": np.exp(logp), "log_p": np.log(p)},
    capture(lambda: print("Starter: product for probability, sum logs for log probability.")),
    capture(lambda: print("p:", p, "logp:", logp)),
    "prod is left-to-right ((0.8*0.6)*0.5); logp is numpy sum of the three logs")

# Exercise 3: Gradient product
scale = 0.8
steps = 10
add("001.ex3_gradient_product",
    {"scale": scale, "steps": steps},
    {"gradient_scale": scale ** steps},
    capture(lambda: print("Starter: scale ** steps.")),
    capture(lambda: print("gradient scale:", scale ** steps)),
    "Python float ** int (libm pow(0.8, 10))")

# Exercise 4: Gradient clipping
g = np.array([6.0, 8.0])
norm_g = np.linalg.norm(g)
scale4 = min(1.0, 5.0 / np.linalg.norm(g))
clipped = g * scale4
add("001.ex4_gradient_clipping",
    {"g": g, "max_norm": 5.0},
    {"norm": norm_g, "scale": scale4, "clipped": clipped, "clipped_norm": np.linalg.norm(clipped)},
    capture(lambda: print("Starter: multiply by min(1, 5/norm(g)).")),
    capture(lambda: print("clipped:", clipped, "norm:", np.linalg.norm(clipped))))

# Exercise 5: LSTM cell update
f = np.array([0.9, 0.2])
i = np.array([0.1, 0.8])
c_prev = np.array([1.0, -1.0])
cand = np.array([0.5, 0.25])
c = f * c_prev + i * cand
add("001.ex5_lstm_cell_update",
    {"f": f, "i": i, "c_prev": c_prev, "cand": cand},
    {"f_times_c_prev": f * c_prev, "i_times_cand": i * cand, "c": c},
    capture(lambda: print("Starter: c=f*c_prev + i*cand.")),
    capture(lambda: print("c:", c)))

# Exercise 6: GRU update
z = np.array([0.25, 0.75])
h_prev6 = np.array([1.0, -1.0])
h_tilde = np.array([0.0, 0.5])
h6 = (1 - z) * h_prev6 + z * h_tilde
add("001.ex6_gru_update",
    {"z": z, "h_prev": h_prev6, "h_tilde": h_tilde},
    {"one_minus_z": 1 - z, "h": h6},
    capture(lambda: print("Starter: h=(1-z)*h_prev + z*h_tilde.")),
    capture(lambda: print("h:", h6)))

# Exercise 7: Masked loss
losses = np.array([0.4, 0.6, 0.0])
mask = np.array([1, 1, 0])
masked = (losses * mask).sum() / mask.sum()
add("001.ex7_masked_loss",
    {"losses": losses, "mask": mask},
    {"masked_sum": (losses * mask).sum(), "mask_count": int(mask.sum()), "masked": masked},
    capture(lambda: print("Starter: sum(losses*mask)/sum(mask).")),
    capture(lambda: print("masked loss:", masked)),
    "mask is an int array in the notebook")

# Exercise 8: Task shapes
B, T, V = 3, 5, 100
logits_shape = (B, T, V)
add("001.ex8_task_shapes",
    {"B": B, "T": T, "V": V},
    {"logits_shape": list(logits_shape)},
    capture(lambda: print("Starter: logits shape is (B,T,V).")),
    capture(lambda: print("logits shape:", logits_shape)))

# Exercise 9: Attention context
weights = np.array([0.2, 0.3, 0.5])
encoder = np.array([[1., 0.], [0., 1.], [1., 1.]])
context = weights @ encoder
add("001.ex9_attention_context",
    {"weights": weights, "encoder": encoder},
    {"context": context},
    capture(lambda: print("Starter: context = weights @ encoder.")),
    capture(lambda: print("context:", context)))

# Exercise 10: Debug checklist (text only)
checks = [
    "padding masks are applied before averaging loss",
    "gradient norms are tracked through time",
    "LSTM/GRU gate saturation is monitored",
    "short and long sequence metrics are reported separately",
]


def _ex10():
    for check in checks:
        print("-", check)


add("001.ex10_debug_checklist", {"checks": checks}, {},
    capture(lambda: print("Starter: include masks, gradient norms, gate stats, and length tests.")),
    capture(_ex10))

# ---------------------------------------------------------------- checks
assert np.array_equal(h, np.tanh(np.array([1.25, -1.0])))
assert p == (0.8 * 0.6) * 0.5 and abs(p - 0.24) < 1e-15
assert abs(logp - math.log(0.24)) < 1e-15
assert abs(scale ** steps - 0.1073741824) < 1e-16
assert norm_g == 10.0 and scale4 == 0.5 and np.array_equal(clipped, [3.0, 4.0]) and np.linalg.norm(clipped) == 5.0
assert np.allclose(c, [0.95, 0.0], rtol=0, atol=1e-15)
assert np.array_equal(h6, [0.75, 0.125])
assert abs(masked - 0.5) < 1e-15
assert logits_shape == (3, 5, 100)
assert np.allclose(context, [0.7, 0.8], rtol=0, atol=1e-15)

doc = {
    "source": "seeds/001_2ed126643647550d.txt (RNN and LSTM Math: Exercises)",
    "numpy_version": np.__version__,
    "all_printed": "".join(cases[k]["printed"] for k in cases),
}
out = {"_meta": doc}
out.update({k: J(v) for k, v in cases.items()})
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as fh:
    fh.write(json.dumps(out, indent=1, allow_nan=False))
    fh.write("\n")
print(f"wrote {OUT}: {len(cases)} cases")
print(doc["all_printed"], end="")
