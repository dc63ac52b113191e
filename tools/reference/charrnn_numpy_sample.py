#!/usr/bin/env python3
"""The article's CharRNN (seed 002) run as written, for cases/article/charrnn_sample_numpy_legacy.yaml.

np.random.seed(42); CharRNN(vocab_size=5, hidden_size=8) draws W_hh, W_xh, W_hy with
np.random.randn(...) * 0.01 in that order; then np.random.seed(7) and sample(h=0, seed_ix=0, n=20),
whose every step draws np.random.choice(range(V), p=p.ravel()). Prints the indices and the
uniform numbers choice drew (np.random.random_sample after the same reseed) at full precision.
"""
import numpy as np

print("NumPy", np.__version__)


class CharRNN:  # the article's class, its step and sample methods as printed
    def __init__(self, vocab_size, hidden_size):
        self.hidden_size = hidden_size
        self.vocab_size = vocab_size
        self.W_hh = np.random.randn(hidden_size, hidden_size) * 0.01
        self.W_xh = np.random.randn(hidden_size, vocab_size) * 0.01
        self.W_hy = np.random.randn(vocab_size, hidden_size) * 0.01
        self.b_h = np.zeros((hidden_size, 1))
        self.b_y = np.zeros((vocab_size, 1))

    def step(self, x, h):
        h = np.tanh(np.dot(self.W_hh, h) + np.dot(self.W_xh, x) + self.b_h)
        y = np.dot(self.W_hy, h) + self.b_y
        return h, y

    def sample(self, h, seed_ix, n):
        x = np.zeros((self.vocab_size, 1))
        x[seed_ix] = 1
        generated = []
        for t in range(n):
            h, y = self.step(x, h)
            p = np.exp(y) / np.sum(np.exp(y))
            ix = np.random.choice(range(self.vocab_size), p=p.ravel())
            x = np.zeros((self.vocab_size, 1))
            x[ix] = 1
            generated.append(ix)
        return generated


np.random.seed(42)
model = CharRNN(5, 8)
np.random.seed(7)
indices = model.sample(np.zeros((8, 1)), 0, 20)
np.random.seed(7)
u = np.random.random_sample(20)
print("indices:", [int(i) for i in indices])
print("u:", [repr(float(v)) for v in u])
print("chars:", "".join("helo "[i] for i in indices))
