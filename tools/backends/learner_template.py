"""Your solutions to seed 001 ("RNN and LSTM Math: Exercises"), checked by rnnspec.

Copy it to the repository's root (`cp tools/backends/learner_template.py my_solutions.py`; it
finds tools/backends/rnnspec_backend.py from there), fill in the functions, and run

    rnnspec run cases/exercises --backend 'python3 my_solutions.py'

Each function gets the case's inputs as NumPy arrays (and its params) under the names
`rnnspec kernels KERNEL` lists, and returns a dict {output name: value}. A function that still
raises NotImplementedError makes its cases UNSUPPORTED, not failed, so you can solve them one at
a time. Exercise 10 (a debugging checklist) is not a computation and has no case.
"""

import os
import sys

import numpy as np

# rnnspec_backend.py is found next to this file or in tools/backends/ of the current directory
sys.path[:0] = [os.path.dirname(os.path.abspath(__file__)), os.path.join(os.getcwd(), "tools", "backends")]
from rnnspec_backend import kernel, serve  # noqa: E402


@kernel("rnn.step")
def ex01_rnn_update(x, h_prev, W_xh, W_hh, activation="tanh"):
    """Exercise 1: one tanh hidden-state update. Return the pre-activation `a` and `h`."""
    raise NotImplementedError("exercise 1 not solved yet")
    a = ...
    h = ...
    return {"a": a, "h": h}


@kernel("seq.probability")
def ex02_sequence_probability(probs):
    """Exercise 2: p = product of the probabilities, logp = sum of their logs,
    log_probs = the log of each."""
    raise NotImplementedError("exercise 2 not solved yet")
    return {"p": ..., "logp": ..., "log_probs": ...}


@kernel("grad.repeated_scale")
def ex03_gradient_scale(scales, steps):
    """Exercise 3: scale ** k for k = 1..steps, for each scale (values: [len(scales), steps]),
    and the last column (last: [len(scales)])."""
    raise NotImplementedError("exercise 3 not solved yet")
    return {"values": ..., "last": ...}


@kernel("grad.clip_norm")
def ex04_clip(g, max_norm):
    """Exercise 4: clip g (a list of arrays; the exercise has one) to global norm max_norm.
    Return the norm before, the scale min(1, max_norm / norm), the clipped arrays (a list) and
    their norm."""
    raise NotImplementedError("exercise 4 not solved yet")
    return {"norm": ..., "scale": ..., "clipped": [...], "clipped_norm": ...}


@kernel("lstm.cell_update")
def ex05_lstm_cell_update(f, i, g, c_prev):
    """Exercise 5: c = f * c_prev + i * g (g is the candidate, `cand` in the notebook)."""
    raise NotImplementedError("exercise 5 not solved yet")
    return {"c": ...}


@kernel("gru.blend")
def ex06_gru_blend(z, h_prev, h_tilde, update_side="candidate"):
    """Exercise 6: h = (1 - z) * h_prev + z * h_tilde."""
    raise NotImplementedError("exercise 6 not solved yet")
    return {"h": ...}


@kernel("loss.masked_mean")
def ex07_masked_loss(losses, mask):
    """Exercise 7: the mean over real tokens (masked), over all (unmasked), and the count."""
    raise NotImplementedError("exercise 7 not solved yet")
    return {"masked": ..., "unmasked": ..., "count": ...}


@kernel("shape.rnn_output")
def ex08_task_shapes(batch, steps, hidden_size, vocab, task):
    """Exercise 8: the logits shape of a many_to_many (B, T, V) or many_to_one model."""
    raise NotImplementedError("exercise 8 not solved yet")
    return {"logits": ...}


@kernel("attention.context")
def ex09_attention_context(weights, values):
    """Exercise 9: context = weights @ encoder states (`values`)."""
    raise NotImplementedError("exercise 9 not solved yet")
    return {"context": ...}


if __name__ == "__main__":
    serve("my solutions (seed 001)")
