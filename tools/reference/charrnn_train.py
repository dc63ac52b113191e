#!/usr/bin/env python3
"""The article's character-level RNN (seed 002) trained end to end, for cases/article/charrnn_train_*.yaml.

Written the article's way and independently of rnnspec's Swift code: the article's CharRNN class
(np.random.randn(...) * 0.01 weights in the order W_hh, W_xh, W_hy, zero biases, step, sample with
np.random.choice), its forward_backward_pass with the backward loop the article leaves as a stub
filled in as min-char-rnn writes it (column vectors, dy = p - onehot, dhraw = (1 - h*h) * dh), its
clip_gradients (global norm), its learning-rate schedule base_lr * decay_rate ** (epoch / decay_steps)
with the epoch being the iteration n, and min-char-rnn's training loop: chunks of seq_length
characters, the hidden state carried from chunk to chunk and reset at the start of the text,
smooth_loss = smooth_loss * 0.999 + loss * 0.001 from -log(1/V) * seq_length, and either plain SGD
or min-char-rnn's Adagrad (mem += dparam * dparam; param += -lr * dparam / np.sqrt(mem + 1e-8)).
After training: np.random.seed(sample_seed), then model.sample(hprev, seed_ix, n).

The vocabulary is sorted(set(text)) (min-char-rnn's list(set(data)) depends on Python's string
hashing). The float32 variant casts the drawn weights with .astype(np.float32) and computes in
float32 throughout (NumPy 2's promotion keeps float32 against Python floats).

`--time N` instead times N iterations of each case's model (best of three) and writes nothing.
Otherwise it writes every case file below ($RNNSPEC_REFERENCE_CASES/article/, default the repository's cases/article/, or argv[1]) with the
whole loss curve, the smoothed curve, the gradient norms, the learning rates, the final weights and
the sample as `expect:` values at full precision (Python's repr), and prints a summary with timings.
"""
import os
import platform
import sys
import time

import numpy as np

from refcommon import CASES

OUT = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] != "--time" else os.path.join(CASES, "article")

TEXT = ("the quick brown fox jumps over the lazy dog.\n"
        "pack my box with five dozen liquor jugs.\n"
        "how vexingly quick daft zebras jump!\n")

VERSIONS = f"NumPy {np.__version__}, Python {platform.python_version()}"


class CharRNN:  # the article's class: __init__, step and sample as printed
    def __init__(self, vocab_size, hidden_size):
        self.hidden_size = hidden_size
        self.vocab_size = vocab_size
        # Initialize weights
        self.W_hh = np.random.randn(hidden_size, hidden_size) * 0.01
        self.W_xh = np.random.randn(hidden_size, vocab_size) * 0.01
        self.W_hy = np.random.randn(vocab_size, hidden_size) * 0.01
        self.b_h = np.zeros((hidden_size, 1))
        self.b_y = np.zeros((vocab_size, 1))

    def step(self, x, h):
        h_new = np.tanh(np.dot(self.W_hh, h) + np.dot(self.W_xh, x) + self.b_h)
        y = np.dot(self.W_hy, h_new) + self.b_y
        return h_new, y

    def sample(self, h, seed_ix, n):
        x = np.zeros((self.vocab_size, 1), dtype=h.dtype)
        x[seed_ix] = 1
        generated = []
        for t in range(n):
            h, y = self.step(x, h)
            p = np.exp(y) / np.sum(np.exp(y))
            ix = np.random.choice(range(self.vocab_size), p=p.ravel())
            x = np.zeros((self.vocab_size, 1), dtype=h.dtype)
            x[ix] = 1
            generated.append(ix)
        return generated

    def forward_backward_pass(self, inputs, targets, h_prev):
        """The article's forward_backward_pass, its backward loop written as min-char-rnn does."""
        xs, h_states, ps = {}, {}, {}
        h_states[-1] = np.copy(h_prev)
        loss = 0
        for t in range(len(inputs)):
            xs[t] = np.zeros((self.vocab_size, 1), dtype=h_prev.dtype)
            xs[t][inputs[t]] = 1
            h_states[t], y = self.step(xs[t], h_states[t - 1])
            ps[t] = np.exp(y) / np.sum(np.exp(y))           # softmax of the output layer
            loss += -np.log(ps[t][targets[t], 0])           # Cross-entropy loss
        dW_hh, dW_xh, dW_hy = np.zeros_like(self.W_hh), np.zeros_like(self.W_xh), np.zeros_like(self.W_hy)
        db_h, db_y = np.zeros_like(self.b_h), np.zeros_like(self.b_y)
        dh_next = np.zeros_like(h_states[0])
        for t in reversed(range(len(inputs))):
            dy = np.copy(ps[t])
            dy[targets[t]] -= 1
            dW_hy += np.dot(dy, h_states[t].T)
            db_y += dy
            dh = np.dot(self.W_hy.T, dy) + dh_next
            dh_raw = (1 - h_states[t] * h_states[t]) * dh
            db_h += dh_raw
            dW_xh += np.dot(dh_raw, xs[t].T)
            dW_hh += np.dot(dh_raw, h_states[t - 1].T)
            dh_next = np.dot(self.W_hh.T, dh_raw)
        return loss, dW_hh, dW_xh, dW_hy, db_h, db_y, h_states[len(inputs) - 1]


def clip_gradients(gradients, max_norm=5):  # the article's, as printed
    norm = np.sqrt(sum(np.sum(grad ** 2) for grad in gradients))
    if norm > max_norm:
        scale = max_norm / norm
        return [grad * scale for grad in gradients]
    return gradients


def train(cfg):
    data = TEXT
    chars = sorted(set(data))
    vocab_size = len(chars)
    char_to_ix = {ch: i for i, ch in enumerate(chars)}
    dtype = np.float32 if cfg["dtype"] == "float32" else np.float64

    np.random.seed(cfg["init_seed"])
    model = CharRNN(vocab_size, cfg["hidden_size"])
    for name in ["W_hh", "W_xh", "W_hy", "b_h", "b_y"]:
        setattr(model, name, getattr(model, name).astype(dtype))
    initial = {name: getattr(model, name).copy() for name in ["W_xh", "W_hh", "W_hy", "b_h", "b_y"]}

    seq_length, base_lr = cfg["seq_length"], cfg["base_lr"]
    decay_rate, decay_steps = cfg["decay_rate"], cfg["decay_steps"]
    names = ["W_xh", "W_hh", "W_hy", "b_h", "b_y"]
    mem = {name: np.zeros_like(getattr(model, name)) for name in names}
    n, p = 0, 0
    smooth_loss = -np.log(1.0 / vocab_size) * seq_length  # loss at iteration 0
    curves = {"loss": [], "smooth_loss": [], "grad_norm": [], "lr": []}
    start, start_cpu = time.perf_counter(), time.process_time()
    while n < cfg["iterations"]:
        if p + seq_length + 1 >= len(data) or n == 0:
            h_prev = np.zeros((model.hidden_size, 1), dtype=dtype)  # reset RNN memory
            p = 0  # go from start of data
        inputs = [char_to_ix[ch] for ch in data[p:p + seq_length]]
        targets = [char_to_ix[ch] for ch in data[p + 1:p + seq_length + 1]]
        loss, dW_hh, dW_xh, dW_hy, db_h, db_y, h_prev = model.forward_backward_pass(inputs, targets, h_prev)
        smooth_loss = smooth_loss * 0.999 + loss * 0.001
        grads = [dW_xh, dW_hh, dW_hy, db_h, db_y]
        grad_norm = np.sqrt(sum(np.sum(grad ** 2) for grad in grads))
        if cfg["clip"] is not None:
            grads = clip_gradients(grads, max_norm=cfg["clip"])
        learning_rate = base_lr * decay_rate ** (n / decay_steps)
        for name, dparam in zip(names, grads):
            param = getattr(model, name)
            if cfg["optimizer"] == "adagrad":
                mem[name] += dparam * dparam
                param += -learning_rate * dparam / np.sqrt(mem[name] + 1e-8)  # adagrad update
            else:
                param += -learning_rate * dparam
        for key, value in [("loss", loss), ("smooth_loss", smooth_loss), ("grad_norm", grad_norm), ("lr", learning_rate)]:
            curves[key].append(float(dtype(value)))
        p += seq_length
        n += 1
    seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu

    np.random.seed(cfg["sample_seed"])
    sample = model.sample(h_prev, cfg["sample_seed_index"], cfg["sample_n"])
    return {"chars": chars, "initial": initial, "curves": curves, "seconds": seconds, "cpu": cpu,
            "weights": {name: getattr(model, name) for name in names}, "h": h_prev,
            "sample": [int(i) for i in sample], "text": "".join(chars[i] for i in sample)}


def number(v):
    return repr(float(v))


def flow(values):
    return "[" + ", ".join(number(v) for v in values) + "]"


def matrix(a):
    a = np.asarray(a)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim == 1:
        return flow(a)
    return "[" + ", ".join(flow(row) for row in a) + "]"


def quoted(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def write_case(name, cfg, r):
    script = "tools/reference/charrnn_train.py"
    src = f"{script} ({VERSIONS})"
    lines = [f"kernel: charrnn.train",
             f"title: {quoted(cfg['title'])}",
             f"source: {quoted('seed 002 (article): CharRNN, forward_backward_pass, clip_gradients, the learning-rate schedule, trained with min-char-rnn loop; expected values from ' + src)}",
             "tags: [article, training]"]
    params = {"hidden_size": cfg["hidden_size"], "seq_length": cfg["seq_length"], "iterations": cfg["iterations"],
              "optimizer": cfg["optimizer"], "base_lr": cfg["base_lr"], "decay_rate": cfg["decay_rate"],
              "decay_steps": cfg["decay_steps"]}
    if cfg["clip"] is not None:
        params["clip"] = cfg["clip"]
    if not cfg["weights_as_inputs"]:
        params["init_seed"] = cfg["init_seed"]
    params.update({"sample_n": cfg["sample_n"], "sample_seed": cfg["sample_seed"], "sample_seed_index": cfg["sample_seed_index"]})
    if cfg["dtype"] == "float32":
        params["dtype"] = "float32"
    lines.append("params:")
    lines += [f"  {k}: {v}" for k, v in params.items()]
    if cfg["weights_as_inputs"]:
        lines.append(f"# np.random.seed({cfg['init_seed']}); CharRNN(V, H) draws W_hh, W_xh, W_hy in this order (the article's __init__).")
        lines.append(f"rng: {{numpy: legacy, seed: {cfg['init_seed']}}}")
    lines.append("inputs:")
    lines.append("  text: |")
    lines += ["    " + line for line in TEXT.rstrip("\n").split("\n")]
    if cfg["weights_as_inputs"]:
        h, v = cfg["hidden_size"], len(r["chars"])
        lines.append(f"  W_hh: {{draw: randn, size: [{h}, {h}], times: 0.01}}   # self.W_hh = np.random.randn(hidden_size, hidden_size) * 0.01")
        lines.append(f"  W_xh: {{draw: randn, size: [{h}, {v}], times: 0.01}}   # self.W_xh = np.random.randn(hidden_size, vocab_size) * 0.01")
        lines.append(f"  W_hy: {{draw: randn, size: [{v}, {h}], times: 0.01}}   # self.W_hy = np.random.randn(vocab_size, hidden_size) * 0.01")
    tol = cfg["tolerance"]
    lines.append("expect:")

    def expect(key, value, t, note):
        lines.append(f"  {key}: {{value: {value}, abs: {t[0]}, rel: {t[1]}, source: {quoted(note + ', ' + src)}}}")

    c = r["curves"]
    expect("loss", flow(c["loss"]), tol["curve"], "loss at every iteration")
    expect("smooth_loss", flow(c["smooth_loss"]), tol["curve"], "smooth_loss at every iteration")
    expect("grad_norm", flow(c["grad_norm"]), tol.get("grad_norm", tol["curve"]), "global gradient norm before clipping")
    expect("lr", flow(c["lr"]), tol["lr"], "base_lr * decay_rate ** (n / decay_steps)")
    for k in ["W_xh", "W_hh", "W_hy", "b_h", "b_y"]:
        expect(k, matrix(r["weights"][k]), tol["weights"], f"final {k}")
    expect("h", matrix(r["h"]), tol["weights"], "hprev after the last iteration")
    lines.append(f"  sample: {{value: {flow(r['sample']).replace('.0', '')}, source: {quoted('np.random.seed(' + str(cfg['sample_seed']) + '); sample(hprev, ' + str(cfg['sample_seed_index']) + ', ' + str(cfg['sample_n']) + ') after training, ' + src)}}}")
    lines.append(f"  sample_text: {{value: {quoted(r['text'])}, source: {quoted('the same sample as characters, ' + src)}}}")
    # The golden's tolerance is the expect's: the matrix products' summation order differs between CPUs
    # (AVX2 or not) as it differs from NumPy's, and the rounding differences grow over the iterations.
    per = {k: tol["curve"] for k in ["loss", "smooth_loss"]}
    per["grad_norm"] = tol.get("grad_norm", tol["curve"])
    per.update({k: tol["weights"] for k in ["W_xh", "W_hh", "W_hy", "b_h", "b_y", "h"]})
    lines.append("tolerance:")
    lines.append("  outputs:")
    lines += [f"    {k}: {{abs: {a}, rel: {r}}}" for k, (a, r) in per.items()]
    lines.append(f"notes: {quoted(cfg['notes'])}")
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name + ".yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")


BASE = dict(hidden_size=32, seq_length=25, iterations=500, decay_rate=1.0, decay_steps=100.0, clip=5.0,
            init_seed=42, sample_n=80, sample_seed=7, sample_seed_index=0, weights_as_inputs=False, dtype="float64",
            tolerance={"curve": (1e-9, 1e-7), "lr": (0, 1e-15), "weights": (1e-9, 1e-7)})
# The tolerances: measured differences between rnnspec and this script (docs/training.md, "Training the
# article's model") with a margin. Rounding differences grow over the iterations: about 1e-16 at the start, at most
# 2e-8 relative (SGD) and 1e-10 (Adagrad) after 500 iterations in float64; in float32 (rounding 6e-8) up to
# 8e-3 relative in a gradient-norm spike and 2e-4 absolute in a weight.

CASES = {
    "charrnn_train_sgd": dict(BASE, optimizer="sgd", base_lr=0.1, decay_rate=0.5, decay_steps=250.0,
                              title="The article's CharRNN trained on three pangrams with SGD, global-norm clipping and the exponential learning-rate schedule",
                              notes="500 iterations of 25 characters over a 123-character text (4 chunks per pass, the state carried between them); weights drawn by the kernel with np.random.seed(42) (init_seed) in the article's order."),
    "charrnn_train_adagrad": dict(BASE, optimizer="adagrad", base_lr=0.05, decay_rate=0.5, decay_steps=250.0, weights_as_inputs=True,
                                  tolerance={"curve": (1e-11, 1e-9), "lr": (0, 1e-15), "weights": (1e-11, 1e-9)},
                                  title="The article's CharRNN trained on three pangrams with min-char-rnn's Adagrad and global-norm clipping",
                                  notes="The same text and model as charrnn_train_sgd; the initial weights are inputs drawn by the case's rng: as the article's __init__ draws them; the same learning-rate schedule."),
    "charrnn_train_adagrad_float32": dict(BASE, optimizer="adagrad", base_lr=0.05, decay_rate=0.5, decay_steps=250.0, dtype="float32",
                                          tolerance={"curve": (5e-3, 3e-3), "grad_norm": (0.2, 3e-2), "lr": (0, 1e-7), "weights": (1e-3, 0)},
                                          title="The article's CharRNN trained with Adagrad in float32",
                                          notes="charrnn_train_adagrad's model in float32: NumPy computes in float32 throughout (the weights drawn in float64, then .astype(np.float32)); float32 rounding (6e-8) differences between the two programs' summation orders grow over 500 iterations, hence the tolerances; the sample is the same."),
}

if __name__ == "__main__":
    print(VERSIONS)
    if len(sys.argv) > 2 and sys.argv[1] == "--time":
        # --time N: each case's model trained for N iterations, best of three, nothing written.
        for name, cfg in CASES.items():
            runs = [train(dict(cfg, iterations=int(sys.argv[2]))) for _ in range(3)]
            print(f"{name}: {sys.argv[2]} iterations in {min(r['seconds'] for r in runs):.3f} s wall, "
                  f"{min(r['cpu'] for r in runs):.3f} s CPU (best of 3)")
        sys.exit(0)
    for name, cfg in CASES.items():
        r = train(cfg)
        c = r["curves"]["loss"]
        print(f"{name}: V={len(r['chars'])} loss {c[0]:.4f} -> {c[-1]:.4f} (min {min(c):.4f}), "
              f"smooth {r['curves']['smooth_loss'][-1]:.4f}, {cfg['iterations']} iterations in {r['seconds']:.3f} s; sample {r['text']!r}")
        write_case(name, cfg, r)
