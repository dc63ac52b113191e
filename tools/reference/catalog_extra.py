#!/usr/bin/env python3
"""Reference numbers for catalog cases whose seed prints nothing (or plots only).

Reads the seed inputs from $RNNSPEC_REFDATA/seed000.json (made by seed000.py; see refcommon.py) and
computes, with NumPy, what the catalog kernels compute on them:
- 000 §3: norms of products of step Jacobians diag(1 - h_t^2) W_hh along the
  section-1 run (Frobenius and spectral), measured back from the last step.
- 000 §13: the 30-bin histogram plt.hist draws (np.histogram, range = data min..max)
  and the below/above fractions.
- 003 §4/§12/§24: sigmoid, tanh, relu, softmax and derivatives at fixed points.
- 003 §13: the LSTM cell-path product of forget gates, and its norms.
Writes $RNNSPEC_REFDATA/catalog_extra.json (or argv[1]); floats as Python repr.
"""
import json
import sys

import numpy as np

from refcommon import output_path, refdata

OUT = output_path("catalog_extra.json")
s0 = json.load(open(refdata("seed000.json")))
out = {"_meta": {"numpy_version": np.__version__}}

# 000 §3 on the §1 run
e = s0["000.s1_vanilla_rnn"]
X, W_xh, W_hh = (np.array(e["inputs"][k]) for k in ("X", "W_xh", "W_hh"))
h = np.zeros(4)
hs = []
for t in range(5):
    h = np.tanh(W_xh @ X[t] + W_hh @ h)
    hs.append(h)
P = np.eye(4)
prods, fro, spec = [], [], []
for k in range(1, 6):
    t = 5 - k
    J = np.diag(1 - hs[t] ** 2) @ W_hh
    P = P @ J
    prods.append(P.copy())
    fro.append(np.linalg.norm(P, "fro"))
    spec.append(np.linalg.norm(P, 2))
out["000.s3_jacobian_norms"] = {"h": np.stack(hs).tolist(), "products": np.stack(prods).tolist(),
                                "frobenius": fro, "spectral": spec}

# 000 §13 histogram
raw = np.array(s0["000.s13_gate_saturation"]["inputs"]["pre_sigmoid_samples"])
g = 1 / (1 + np.exp(-raw))
counts, edges = np.histogram(g, bins=30)
out["000.s13_histogram"] = {"counts": counts.tolist(), "edges": edges.tolist(),
                            "below": float(np.mean(g < 0.05)), "above": float(np.mean(g > 0.95)),
                            "saturated": float(np.mean((g < 0.05) | (g > 0.95)))}

# 003 activations
def acts(x):
    x = np.array(x, dtype=float)
    s = 1 / (1 + np.exp(-x))
    t = np.tanh(x)
    p = np.exp(x - x.max()); p /= p.sum()
    return {"x": x.tolist(), "sigmoid": s.tolist(), "sigmoid_grad": (s * (1 - s)).tolist(), "tanh": t.tolist(),
            "tanh_grad": (1 - t * t).tolist(), "relu": np.maximum(0, x).tolist(), "relu_grad": (x > 0).astype(float).tolist(),
            "softmax": p.tolist(), "softmax_jacobian": (np.diag(p) - np.outer(p, p)).tolist()}
out["003.s04_activations"] = acts([-3.0, -1.0, 0.0, 1.0, 3.0])
out["003.s24_activations"] = acts([-2.0, -0.5, 0.5, 2.0])

# 003 §13 cell path
f = np.array([[0.95, 0.5, 0.99]] * 6)
f[2] = [0.9, 0.6, 0.2]
D = np.ones(3)
prods, fro, spec = [], [], []
for k in range(1, 7):
    D = D * f[6 - k]
    prods.append(D.copy())
    fro.append(np.linalg.norm(D))
    spec.append(np.abs(D).max())
out["003.s13_cell_path"] = {"forget_gates": f.tolist(), "products": np.stack(prods).tolist(), "frobenius": fro, "spectral": spec}

with open(OUT, "w") as fh:
    json.dump(out, fh, indent=1)
print("wrote", OUT)
