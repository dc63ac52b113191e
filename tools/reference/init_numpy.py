#!/usr/bin/env python3
"""The article's initialisation, W = np.random.randn(n_in, n_out) * np.sqrt(2.0/n_in), run as written.

Expected values of cases/article/he_initialization*.yaml (init.weights with stream: numpy_legacy):
np.random.seed(seed), then the draw; float32 is the same draw cast with .astype(np.float32).
Prints every value of the small matrices and the statistics of the large one at full precision.
"""
import numpy as np

print("NumPy", np.__version__)


def he(seed, n_in, n_out):
    np.random.seed(seed)
    return np.random.randn(n_in, n_out) * np.sqrt(2.0 / n_in)  # the article's line


def show(name, a):
    print(name, repr(a.tolist()))


W = he(0, 64, 32)
print("he 64x32 seed 0: mean", repr(float(W.mean())), "std", repr(float(W.std())), "W[0,0]", repr(float(W[0, 0])),
      "W[63,31]", repr(float(W[63, 31])))
show("he 8x4 seed 0 W", he(0, 8, 4))
show("he 8x4 seed 0 float32 W", he(0, 8, 4).astype(np.float32))
np.random.seed(5)
limit = np.sqrt(6.0 / (6 + 3))  # Glorot uniform, PyTorch's [fan_out, fan_in] layout
show("xavier uniform fan_in 6 fan_out 3 out_in seed 5 W", np.random.uniform(-limit, limit, size=(3, 6)))
