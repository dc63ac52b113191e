#!/usr/bin/env python3
"""Writes the data files of cases/interop/files/rnn_step_from_npy.yaml and prints the expected h.

A batch of 2 inputs (float32, Fortran order, big-endian: exercising the reader) in x.npy, the
weights in weights.npz (savez_compressed, PyTorch-style names), h = tanh(x W_xhᵀ + h_prev W_hhᵀ + b).
"""
import numpy as np

D = "cases/interop/files/data"
rng = np.random.default_rng(14)
x = np.asfortranarray(rng.normal(size=(2, 3)).astype(">f4"))
W_xh = rng.normal(scale=0.5, size=(4, 3))
W_hh = rng.normal(scale=0.5, size=(4, 4))
b = rng.normal(scale=0.1, size=4)
h_prev = np.zeros((2, 4))
np.save(f"{D}/x.npy", x)
np.savez_compressed(f"{D}/weights.npz", weight_ih_l0=W_xh, weight_hh_l0=W_hh, bias_l0=b)
h = np.tanh(x.astype(np.float64) @ W_xh.T + h_prev @ W_hh.T + b)
print("NumPy", np.__version__)
print("h:", [[repr(float(v)) for v in row] for row in h])
