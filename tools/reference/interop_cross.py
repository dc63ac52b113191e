"""Cross-convention cases: one PyTorch layer written in ONNX's conventions gives PyTorch's numbers.

Takes a torch.nn.GRU / torch.nn.LSTM (seeded default init, float32), moves its tensors into the
ONNX operator's layout by the conversion rules below, and writes cases/interop/cross/*.yaml that
run onnx.GRU / onnx.LSTM with PyTorch's outputs as expect: values.

  GRU:  ONNX W[d] = weight_ih rows reordered (r, z, n) -> (z, r, h); R[d] likewise from weight_hh;
        B[d] = [bias_ih reordered, bias_hh reordered]; linear_before_reset = 1.
  LSTM: rows (i, f, g, o) -> (i, o, f, c); B[d] = [bias_ih, bias_hh] reordered.
  Directions: forward is d = 0, reverse (…_reverse) is d = 1.
  Outputs: torch output (L, N, D*H) = ONNX Y (L, D, N, H) with the D axis moved next to H;
           h_n (D, N, H) = Y_h for one layer.

Usage: python3 tools/reference/interop_cross.py   (torch 2.15.0)
"""
import numpy as np
import torch

from interop_common import write_case

TV = torch.__version__.split("+")[0]


def reorder(t, H, order):
    blocks = [t[k * H:(k + 1) * H] for k in range(len(order))]
    return np.concatenate([blocks[k] for k in order], axis=0)


def cross(name, cls, order, seed, title, L=4, N=2, I=3, H=3):
    torch.manual_seed(seed)
    m = cls(I, H, bidirectional=True)
    x = torch.randn(L, N, I)
    h0 = torch.randn(2, N, H)
    with torch.no_grad():
        if cls is torch.nn.LSTM:
            c0 = torch.randn(2, N, H)
            out, (hn, cn) = m(x, (h0, c0))
        else:
            out, hn = m(x, h0)
    sd = {k: v.numpy() for k, v in m.state_dict().items()}
    W = np.stack([reorder(sd["weight_ih_l0" + s], H, order) for s in ["", "_reverse"]])
    R = np.stack([reorder(sd["weight_hh_l0" + s], H, order) for s in ["", "_reverse"]])
    B = np.stack([np.concatenate([reorder(sd["bias_ih_l0" + s], H, order), reorder(sd["bias_hh_l0" + s], H, order)])
                  for s in ["", "_reverse"]])
    inputs = {"X": x.numpy(), "W": W, "R": R, "B": B, "initial_h": h0.numpy()}
    Y = out.numpy().reshape(L, N, 2, H).transpose(0, 2, 1, 3)
    expect = {"Y": Y, "Y_h": hn.numpy()}
    params = {"direction": "bidirectional", "hidden_size": H}
    if cls is torch.nn.LSTM:
        inputs["initial_c"] = c0.numpy()
        expect["Y_c"] = cn.numpy()
        kernel = "onnx.LSTM"
    else:
        params["linear_before_reset"] = 1
        kernel = "onnx.GRU"
    params["dtype"] = "float32"
    src = (f"PyTorch {TV}, torch.nn.{cls.__name__}(bidirectional=True) (float32, CPU), tools/reference/interop_cross.py; "
           f"weights PyTorch's default init under torch.manual_seed({seed}), moved into ONNX's layout by the rules in the script")
    write_case("cross", name, kernel, title, src, ["interop", "cross", cls.__name__.lower()], params, inputs, expect, "1e-5")


cross("torch_gru_as_onnx_gru", torch.nn.GRU, [1, 0, 2], 71,
      "A PyTorch GRU run as onnx.GRU: gate blocks (r, z, n) -> (z, r, h), B = [b_ih, b_hh], linear_before_reset 1")
cross("torch_lstm_as_onnx_lstm", torch.nn.LSTM, [0, 3, 1, 2], 72,
      "A PyTorch LSTM run as onnx.LSTM: gate blocks (i, f, g, o) -> (i, o, f, c), B = [b_ih, b_hh]")
