"""Gradient reference cases for torch.RNN, torch.LSTM, torch.GRU: PyTorch autograd (float64).

Runs real torch.nn modules in float64 with seeded random weights (PyTorch's default init under
torch.manual_seed, optionally scaled up to saturate the gates), draws upstream gradients for
output / h_n / c_n with torch.randn, backpropagates loss = Σ doutput⊙output + Σ dh_n⊙h_n (+ Σ dc_n⊙c_n)
with autograd, and writes cases/interop/grad/torch_*.yaml whose expect: values are autograd's
.grad of every state_dict weight, the input and the initial states, plus a gradcheck over all of them.
Lengths go through pack_padded_sequence(enforce_sorted=False) and pad_packed_sequence.

Usage: python3 tools/reference/grad_torch.py   (torch 2.15.0)
"""
import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from interop_common import ROOT, write_case

TV = torch.__version__.split("+")[0]
TOL = "1e-12"


def gradcheck_line(name, wrt):
    with open(f"{ROOT}/grad/{name}.yaml", "a") as fh:
        fh.write(f"gradcheck: {{wrt: [{', '.join(wrt)}], eps: 1e-6, abs: 1e-7, rel: 1e-5}}\n")


def run_case(name, cls, title, L=5, N=2, input_size=3, hidden_size=3, seed=0, lengths=None, unbatched=False,
             scale=1.0, dh_n=True, notes=None, **kw):
    torch.manual_seed(seed)
    m = cls(input_size, hidden_size, **kw).double()
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(scale)
    bf = kw.get("batch_first", False)
    D = 2 if kw.get("bidirectional", False) else 1
    layers = kw.get("num_layers", 1)
    h_out = kw.get("proj_size", 0) or hidden_size
    shape = (L, input_size) if unbatched else ((N, L, input_size) if bf else (L, N, input_size))
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    sshape = (D * layers, h_out) if unbatched else (D * layers, N, h_out)
    cshape = (D * layers, hidden_size) if unbatched else (D * layers, N, hidden_size)
    h0 = torch.randn(*sshape, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(*cshape, dtype=torch.float64, requires_grad=True)
    hx = (h0, c0) if cls is torch.nn.LSTM else h0
    inputs = {"input": x, "h_0": h0}
    if cls is torch.nn.LSTM:
        inputs["c_0"] = c0
    if lengths is not None:
        packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=bf, enforce_sorted=False)
        out, hn = m(packed, hx)
        out, _ = pad_packed_sequence(out, batch_first=bf)
        inputs["lengths"] = np.array(lengths, dtype=np.int64)
    else:
        out, hn = m(x, hx)
    finals = dict(zip(["h_n", "c_n"], hn)) if cls is torch.nn.LSTM else {"h_n": hn}
    if not dh_n:
        finals = {}
    upstream = {"doutput": torch.randn(*out.shape, dtype=torch.float64)}
    for k, v in finals.items():
        upstream["d" + k] = torch.randn(*v.shape, dtype=torch.float64)
    loss = (upstream["doutput"] * out).sum() + sum((upstream["d" + k] * v).sum() for k, v in finals.items())
    loss.backward()
    for k, v in m.state_dict().items():
        inputs[k] = v
    inputs.update(upstream)
    expect = {"loss": loss.detach(), "output": out.detach()}
    wrt = ["input", "h_0"] + (["c_0"] if cls is torch.nn.LSTM else []) + list(m.state_dict().keys())
    named = dict(m.named_parameters())
    for k in wrt:
        expect["d" + k] = (named[k].grad if k in named else inputs[k].grad)
    to_np = lambda d: {k: (v.detach().numpy() if isinstance(v, torch.Tensor) else v) for k, v in d.items()}
    params = {"input_size": input_size, "hidden_size": hidden_size}
    params.update(kw)
    params["dtype"] = "float64"
    src = (f"PyTorch {TV} autograd, torch.nn.{cls.__name__} (float64, CPU), tools/reference/grad_torch.py; weights: "
           f"PyTorch's default init under torch.manual_seed({seed})" + (f" times {scale}" if scale != 1 else "")
           + ", inputs and upstream gradients torch.randn")
    write_case("grad", name, f"torch.{cls.__name__}", title, src, ["gradients", "gradcheck", "torch", cls.__name__.lower()],
               params, to_np(inputs), to_np(expect), TOL, np.float64, notes)
    gradcheck_line(name, wrt)


RNN, LSTM, GRU = torch.nn.RNN, torch.nn.LSTM, torch.nn.GRU

run_case("torch_rnn_2_layers_bidirectional_batch_first", RNN,
         "nn.RNN backward: 2 bidirectional layers, batch_first, doutput and dh_n", seed=101,
         num_layers=2, bidirectional=True, batch_first=True)
run_case("torch_rnn_relu_lengths", RNN, "nn.RNN(relu) backward over a packed batch of lengths [4, 2, 3] (L = 5)", N=3, seed=102,
         lengths=[4, 2, 3], nonlinearity="relu", bidirectional=True)
run_case("torch_lstm_lengths_bidirectional_2_layers", LSTM,
         "nn.LSTM backward: 2 bidirectional layers over a packed batch of lengths [5, 3], doutput, dh_n, dc_n", seed=103,
         lengths=[5, 3], num_layers=2, bidirectional=True)
run_case("torch_lstm_proj_saturated", LSTM,
         "nn.LSTM backward with proj_size 2, weights scaled ×8 (saturated gates), batch_first", seed=104, hidden_size=4,
         proj_size=2, batch_first=True, scale=8.0)
run_case("torch_gru_saturated_unbatched", GRU,
         "nn.GRU backward on an unbatched input, weights scaled ×8 (saturated gates), doutput only", seed=105, unbatched=True,
         scale=8.0, dh_n=False)
run_case("torch_gru_lengths_2_layers_no_bias", GRU,
         "nn.GRU(bias=False) backward: 2 layers over a packed batch of lengths [2, 4, 1] (L = 4 < 6 steps in input)",
         N=3, L=6, seed=106, lengths=[2, 4, 1], num_layers=2, bias=False)
