#!/usr/bin/env python3
"""Independent reference for lstm.bptt and gru.bptt: PyTorch autograd (float64).

An nn.LSTM / nn.GRU (one layer, batch_first=False) with a Linear output layer and the
cross-entropy summed over the steps; inputs drawn with np.random.default_rng(seed) and
written into the case files as exact numbers. The gradients are torch autograd's.

Layouts:
- LSTM: lstm.bptt layout torch is nn.LSTM's weight_ih_l0, weight_hh_l0, bias_ih_l0,
  bias_hh_l0 (gate rows i, f, g, o) as they are.
- GRU: gru.bptt with reset after_matmul, update_side previous, concat_order x_h:
  W_z = [W_iz | W_hz], W_r = [W_ir | W_hr], W_h = [W_in | W_hn], b_z, b_r, b_h = b_iz, b_ir, b_in,
  with nn.GRU's bias_hh set to 0 (gru.step's single bias sits outside r ⊙ (W_hn h)).

Writes four case files under cases/gradients/: the reference case and the same inputs with a
truncation window covering the whole sequence (the same expect values: window T cuts nothing).
Usage: python3 tools/reference/bptt_torch.py [cases/gradients]
"""
import os
import sys

import numpy as np
import torch

from refcommon import CASES

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(CASES, "gradients")
SOURCE = f"PyTorch {'.'.join(torch.__version__.split('+')[0].split('.')[:2])} autograd, tools/reference/bptt_torch.py"
torch.set_default_dtype(torch.float64)


def Y(a):
    """A YAML flow value for an array (repr floats: exact round trip)."""
    a = np.asarray(a)
    if a.ndim == 0:
        return repr(float(a))
    return "[" + ", ".join(Y(v) for v in a) + "]"


def write(name, kernel, title, params, inputs, expect, gradcheck, notes=None):
    lines = [f"kernel: {kernel}", f"title: {title}",
             f'source: "{SOURCE}; inputs drawn with numpy {np.__version__} default_rng and written out exactly"',
             "tags: [bptt, reference, torch" + (", truncation" if "window" in params else "") + "]"]
    if params:
        lines.append("params: {" + ", ".join(f"{k}: {v}" for k, v in params.items()) + "}")
    if notes:
        lines.append(f'notes: "{notes}"')
    lines.append("inputs:")
    for k, v in inputs.items():
        lines.append(f"  {k}: {Y(v) if not isinstance(v, list) else '[' + ', '.join(map(str, v)) + ']'}")
    lines.append("expect:")
    for k, v in expect.items():
        lines.append(f"  {k}: {{value: {Y(v)}, abs: 1e-12, rel: 1e-10}}")
    if gradcheck:
        lines.append(f"gradcheck: {{wrt: [{', '.join(gradcheck)}], eps: 1e-6, abs: 1e-7, rel: 1e-5}}")
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name + ".yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")


def lstm_case():
    rng = np.random.default_rng(5)
    T, I, H, V = 5, 3, 4, 3
    x = rng.normal(size=(T, I))
    targets = rng.integers(0, V, size=T).tolist()
    h0 = rng.normal(scale=0.5, size=H)
    c0 = rng.normal(scale=0.5, size=H)
    W_ih, W_hh = rng.normal(scale=0.5, size=(4 * H, I)), rng.normal(scale=0.5, size=(4 * H, H))
    b_ih, b_hh = rng.normal(scale=0.2, size=4 * H), rng.normal(scale=0.2, size=4 * H)
    W_hy, b_y = rng.normal(scale=0.5, size=(V, H)), rng.normal(scale=0.1, size=V)

    lstm = torch.nn.LSTM(I, H)
    head = torch.nn.Linear(H, V)
    with torch.no_grad():
        for p, v in [(lstm.weight_ih_l0, W_ih), (lstm.weight_hh_l0, W_hh), (lstm.bias_ih_l0, b_ih),
                     (lstm.bias_hh_l0, b_hh), (head.weight, W_hy), (head.bias, b_y)]:
            p.copy_(torch.tensor(v))
    th0 = torch.tensor(h0).reshape(1, 1, H).requires_grad_()
    tc0 = torch.tensor(c0).reshape(1, 1, H).requires_grad_()
    hs, (_, _) = lstm(torch.tensor(x).reshape(T, 1, I), (th0, tc0))
    # every c: rerun step by step (nn.LSTM returns only the last c).
    cs, hc = [], (th0, tc0)
    for t in range(T):
        _, hc = lstm(torch.tensor(x[t]).reshape(1, 1, I), hc)
        cs.append(hc[1].reshape(H))
    logits = head(hs.reshape(T, H))
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor(targets), reduction="sum")
    loss.backward()
    inputs = dict(x=x, targets=targets, h0=h0, c0=c0, W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh, W_hy=W_hy, b_y=b_y)
    g = lambda t: t.grad.detach().numpy()
    expect = dict(loss=loss.item(), h=hs.detach().reshape(T, H).numpy(), c=torch.stack(cs).detach().numpy(),
                  p=torch.softmax(logits, -1).detach().numpy(),
                  dW_ih=g(lstm.weight_ih_l0), dW_hh=g(lstm.weight_hh_l0), db_ih=g(lstm.bias_ih_l0),
                  db_hh=g(lstm.bias_hh_l0), dW_hy=g(head.weight), db_y=g(head.bias),
                  dh0=th0.grad.reshape(H).numpy(), dc0=tc0.grad.reshape(H).numpy())
    wrt = ["W_ih", "W_hh", "b_ih", "b_hh", "W_hy", "b_y", "h0", "c0"]
    write("lstm_bptt_torch_reference", "lstm.bptt", "LSTM BPTT against PyTorch autograd (nn.LSTM + Linear, summed cross-entropy)",
          {"layout": "torch"}, inputs, expect, wrt)
    write("lstm_bptt_window_covers_sequence", "lstm.bptt",
          "LSTM truncated BPTT with one window covering the whole sequence equals full BPTT (PyTorch's values)",
          {"layout": "torch", "window": T}, inputs, expect, wrt,
          notes="The same inputs and expect values as lstm_bptt_torch_reference: a window of T steps cuts nothing.")


def gru_case():
    rng = np.random.default_rng(6)
    T, I, H, V = 6, 2, 3, 4
    x = rng.normal(size=(T, I))
    targets = rng.integers(0, V, size=T).tolist()
    h0 = rng.normal(scale=0.5, size=H)
    W_ih, W_hh = rng.normal(scale=0.5, size=(3 * H, I)), rng.normal(scale=0.5, size=(3 * H, H))
    b_ih = rng.normal(scale=0.2, size=3 * H)
    W_hy, b_y = rng.normal(scale=0.5, size=(V, H)), rng.normal(scale=0.1, size=V)

    gru = torch.nn.GRU(I, H)
    head = torch.nn.Linear(H, V)
    with torch.no_grad():
        for p, v in [(gru.weight_ih_l0, W_ih), (gru.weight_hh_l0, W_hh), (gru.bias_ih_l0, b_ih),
                     (gru.bias_hh_l0, np.zeros(3 * H)), (head.weight, W_hy), (head.bias, b_y)]:
            p.copy_(torch.tensor(v))
    th0 = torch.tensor(h0).reshape(1, 1, H).requires_grad_()
    hs, _ = gru(torch.tensor(x).reshape(T, 1, I), th0)
    logits = head(hs.reshape(T, H))
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor(targets), reduction="sum")
    loss.backward()
    blk = lambda m, k: m[k * H:(k + 1) * H]  # torch rows r, z, n
    gW, gR, gb = gru.weight_ih_l0.grad.numpy(), gru.weight_hh_l0.grad.numpy(), gru.bias_ih_l0.grad.numpy()
    inputs = dict(x=x, targets=targets, h0=h0,
                  W_z=np.hstack([blk(W_ih, 1), blk(W_hh, 1)]), W_r=np.hstack([blk(W_ih, 0), blk(W_hh, 0)]),
                  W_h=np.hstack([blk(W_ih, 2), blk(W_hh, 2)]),
                  b_z=blk(b_ih, 1), b_r=blk(b_ih, 0), b_h=blk(b_ih, 2), W_hy=W_hy, b_y=b_y)
    expect = dict(loss=loss.item(), h=hs.detach().reshape(T, H).numpy(), p=torch.softmax(logits, -1).detach().numpy(),
                  dW_z=np.hstack([blk(gW, 1), blk(gR, 1)]), dW_r=np.hstack([blk(gW, 0), blk(gR, 0)]),
                  dW_h=np.hstack([blk(gW, 2), blk(gR, 2)]), db_z=blk(gb, 1), db_r=blk(gb, 0), db_h=blk(gb, 2),
                  dW_hy=head.weight.grad.numpy(), db_y=head.bias.grad.numpy(), dh0=th0.grad.reshape(H).numpy())
    wrt = ["W_z", "W_r", "W_h", "b_z", "b_r", "b_h", "W_hy", "b_y", "h0"]
    params = {"reset": "after_matmul", "update_side": "previous"}
    write("gru_bptt_torch_reference", "gru.bptt", "GRU BPTT against PyTorch autograd (nn.GRU + Linear, summed cross-entropy)",
          params, inputs, expect, wrt)
    write("gru_bptt_window_covers_sequence", "gru.bptt",
          "GRU truncated BPTT with one window covering the whole sequence equals full BPTT (PyTorch's values)",
          dict(params, window=T), inputs, expect, wrt,
          notes="The same inputs and expect values as gru_bptt_torch_reference: a window of T steps cuts nothing.")


lstm_case()
gru_case()
