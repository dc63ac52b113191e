"""Reference cases for torch.nn.RNNCell, LSTMCell, GRUCell and pad_packed_sequence(..., total_length=T).

Runs real torch.nn cells (CPU) with seeded weights (PyTorch's default init under torch.manual_seed,
optionally scaled) on batched (N, H_in) and unbatched (H_in) inputs, and writes
  cases/interop/torch/*cell*.yaml         float32 and float64 forward outputs (h_1, c_1)
  cases/interop/grad/torch_*cell*.yaml    float64 outputs and autograd gradients of
                                          loss = Σ dh_1⊙h_1 (+ Σ dc_1⊙c_1), with a gradcheck
  cases/interop/torch/*_total_length.yaml, grad/torch_*_total_length.yaml
                                          torch.RNN/LSTM/GRU over a packed batch, unpacked with
                                          pad_packed_sequence(..., total_length=T) (T > max(lengths),
                                          also T > the input's own steps)

Usage: python tools/reference/interop_torch_cells.py   (torch 2.13.0 CPU)
"""
import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from interop_common import ROOT, write_case

TV = torch.__version__.split("+")[0]


def to_np(d):
    return {k: (v.detach().numpy() if isinstance(v, torch.Tensor) else v) for k, v in d.items()}


def gradcheck_line(name, wrt):
    with open(f"{ROOT}/grad/{name}.yaml", "a") as fh:
        fh.write(f"gradcheck: {{wrt: [{', '.join(wrt)}], eps: 1e-6, abs: 1e-7, rel: 1e-5}}\n")


def cell_case(name, cls, title, seed, N=3, input_size=3, hidden_size=4, unbatched=False, h0=True, c0=True,
              dtype=torch.float32, grad=False, scale=1.0, only_h=False, **kw):
    torch.manual_seed(seed)
    m = cls(input_size, hidden_size, **kw).to(dtype)
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(scale)
    lead = () if unbatched else (N,)
    x = torch.randn(*lead, input_size, dtype=dtype, requires_grad=grad)
    inputs = {"input": x}
    lstm = cls is torch.nn.LSTMCell
    hx = None
    if h0:
        inputs["h_0"] = torch.randn(*lead, hidden_size, dtype=dtype, requires_grad=grad)
    if lstm and c0:
        inputs["c_0"] = torch.randn(*lead, hidden_size, dtype=dtype, requires_grad=grad)
    if lstm:
        if h0 or c0:
            hx = (inputs.get("h_0", torch.zeros(*lead, hidden_size, dtype=dtype)),
                  inputs.get("c_0", torch.zeros(*lead, hidden_size, dtype=dtype)))
    else:
        hx = inputs.get("h_0")
    with torch.set_grad_enabled(grad):
        res = m(x, hx)
    outs = {"h_1": res[0], "c_1": res[1]} if lstm else {"h_1": res}
    expect = {}
    if grad:
        ups = {"d" + k: torch.randn(*v.shape, dtype=dtype) for k, v in outs.items() if not (only_h and k == "c_1")}
        loss = sum((ups["d" + k] * outs[k]).sum() for k in outs if "d" + k in ups)
        loss.backward()
        expect["loss"] = loss
    for k, v in m.state_dict().items():
        inputs[k] = v
    expect.update(outs)
    if grad:
        inputs.update(ups)
        named = dict(m.named_parameters())
        wrt = ["input"] + [k for k in ("h_0", "c_0") if k in inputs] + list(named)
        for k in wrt:
            expect["d" + k] = named[k].grad if k in named else inputs[k].grad
    params = {"input_size": input_size, "hidden_size": hidden_size}
    params.update(kw)
    params["dtype"] = "float32" if dtype == torch.float32 else "float64"
    src = (f"PyTorch {TV}" + (" autograd" if grad else "") + f", torch.nn.{cls.__name__} ({params['dtype']}, CPU), "
           f"tools/reference/interop_torch_cells.py; weights: PyTorch's default init under torch.manual_seed({seed})"
           + (f" times {scale}" if scale != 1 else "") + ", inputs" + (" and upstream gradients" if grad else "") + " torch.randn")
    folder = "grad" if grad else "torch"
    tags = (["gradients", "gradcheck"] if grad else ["interop"]) + ["torch", cls.__name__.lower()]
    np_dtype = np.float32 if dtype == torch.float32 else np.float64
    tol = "1e-12" if dtype == torch.float64 else "1e-5"
    write_case(folder, name, f"torch.{cls.__name__}", title, src, tags, params, to_np(inputs), to_np(expect), tol, np_dtype)
    if grad:
        gradcheck_line(name, wrt)


RNNCell, LSTMCell, GRUCell = torch.nn.RNNCell, torch.nn.LSTMCell, torch.nn.GRUCell

# forward
cell_case("rnncell_batched", RNNCell, "nn.RNNCell on a batch (N, H_in) with hx", 501)
cell_case("rnncell_relu_unbatched_no_bias", RNNCell, "nn.RNNCell(nonlinearity='relu', bias=False) on an unbatched (H_in) input", 502,
          unbatched=True, nonlinearity="relu", bias=False)
cell_case("rnncell_no_hx_float64", RNNCell, "nn.RNNCell in float64 without hx (zeros)", 503, h0=False, dtype=torch.float64)
cell_case("lstmcell_batched", LSTMCell, "nn.LSTMCell on a batch with hx = (h_0, c_0): returns (h_1, c_1), gate order i, f, g, o", 511)
cell_case("lstmcell_unbatched_no_hx", LSTMCell, "nn.LSTMCell on an unbatched input without hx", 512, unbatched=True, h0=False, c0=False)
cell_case("lstmcell_float64_no_bias", LSTMCell, "nn.LSTMCell(bias=False) in float64", 513, bias=False, dtype=torch.float64)
cell_case("grucell_batched", GRUCell, "nn.GRUCell on a batch with hx: gate order r, z, n, reset after the recurrent matmul", 521)
cell_case("grucell_unbatched_float64", GRUCell, "nn.GRUCell on an unbatched input in float64", 522, unbatched=True, dtype=torch.float64)
cell_case("grucell_no_hx_no_bias", GRUCell, "nn.GRUCell(bias=False) without hx", 523, h0=False, bias=False)

# backward (float64)
cell_case("torch_rnncell_batched", RNNCell, "nn.RNNCell backward on a batch with hx", 531, dtype=torch.float64, grad=True)
cell_case("torch_rnncell_relu_unbatched", RNNCell, "nn.RNNCell(relu) backward on an unbatched input", 532, dtype=torch.float64,
          grad=True, unbatched=True, nonlinearity="relu")
cell_case("torch_lstmcell_batched", LSTMCell, "nn.LSTMCell backward: dh_1 and dc_1, with (h_0, c_0)", 533, dtype=torch.float64, grad=True)
cell_case("torch_lstmcell_unbatched_saturated_dh_only", LSTMCell,
          "nn.LSTMCell backward on an unbatched input, weights ×6 (saturated gates), dh_1 only", 534, dtype=torch.float64, grad=True,
          unbatched=True, scale=6.0, only_h=True)
cell_case("torch_grucell_batched", GRUCell, "nn.GRUCell backward on a batch with hx", 535, dtype=torch.float64, grad=True)
cell_case("torch_grucell_unbatched_no_bias", GRUCell, "nn.GRUCell(bias=False) backward on an unbatched input", 536,
          dtype=torch.float64, grad=True, unbatched=True, bias=False)


# No zero-length cases: pack_padded_sequence rejects a length of 0 (checked here, not written).
try:
    pack_padded_sequence(torch.zeros(3, 2, 1), torch.tensor([3, 0]), enforce_sorted=False)
    raise SystemExit("pack_padded_sequence accepted a length of 0: add zero-length cases")
except RuntimeError:
    pass


def total_length_case(name, cls, title, seed, lengths, total, L=4, input_size=3, hidden_size=3, dtype=torch.float32, grad=False, **kw):
    torch.manual_seed(seed)
    m = cls(input_size, hidden_size, **kw).to(dtype)
    bf = kw.get("batch_first", False)
    D = 2 if kw.get("bidirectional") else 1
    N = len(lengths)
    x = torch.randn(*((N, L) if bf else (L, N)), input_size, dtype=dtype, requires_grad=grad)
    h0 = torch.randn(D * kw.get("num_layers", 1), N, hidden_size, dtype=dtype, requires_grad=grad)
    inputs = {"input": x, "h_0": h0}
    hx = h0
    if cls is torch.nn.LSTM:
        c0 = torch.randn(D * kw.get("num_layers", 1), N, hidden_size, dtype=dtype, requires_grad=grad)
        inputs["c_0"] = c0
        hx = (h0, c0)
    with torch.set_grad_enabled(grad):
        packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=bf, enforce_sorted=False)
        out, hn = m(packed, hx)
        out, _ = pad_packed_sequence(out, batch_first=bf, total_length=total)
    finals = dict(zip(["h_n", "c_n"], hn)) if cls is torch.nn.LSTM else {"h_n": hn}
    inputs["lengths"] = np.array(lengths, dtype=np.int64)
    expect = {}
    if grad:
        ups = {"doutput": torch.randn(*out.shape, dtype=dtype)}
        ups.update({"d" + k: torch.randn(*v.shape, dtype=dtype) for k, v in finals.items()})
        loss = (ups["doutput"] * out).sum() + sum((ups["d" + k] * v).sum() for k, v in finals.items())
        loss.backward()
        expect["loss"] = loss
    for k, v in m.state_dict().items():
        inputs[k] = v
    expect["output"] = out
    expect.update(finals)
    wrt = []
    if grad:
        inputs.update(ups)
        named = dict(m.named_parameters())
        wrt = ["input", "h_0"] + (["c_0"] if cls is torch.nn.LSTM else []) + list(named)
        for k in wrt:
            expect["d" + k] = named[k].grad if k in named else inputs[k].grad
    params = {"input_size": input_size, "hidden_size": hidden_size}
    params.update(kw)
    params["total_length"] = total
    params["dtype"] = "float32" if dtype == torch.float32 else "float64"
    src = (f"PyTorch {TV}" + (" autograd" if grad else "") + f", torch.nn.{cls.__name__} ({params['dtype']}, CPU) over "
           f"pack_padded_sequence(enforce_sorted=False), pad_packed_sequence(total_length={total}), tools/reference/interop_torch_cells.py; "
           f"weights: PyTorch's default init under torch.manual_seed({seed}), inputs torch.randn")
    folder = "grad" if grad else "torch"
    tags = (["gradients", "gradcheck"] if grad else ["interop"]) + ["torch", cls.__name__.lower(), "total_length"]
    write_case(folder, name, f"torch.{cls.__name__}", title, src, tags, params, to_np(inputs), to_np(expect),
               "1e-12" if dtype == torch.float64 else "1e-5", np.float32 if dtype == torch.float32 else np.float64)
    if grad:
        gradcheck_line(name, wrt)


total_length_case("gru_lengths_total_length", torch.nn.GRU,
                  "nn.GRU, packed lengths [2, 3, 1] in 4 steps, pad_packed_sequence(total_length=4): the output keeps all 4 steps",
                  541, [2, 3, 1], 4)
total_length_case("lstm_bidirectional_total_length_beyond_input", torch.nn.LSTM,
                  "nn.LSTM bidirectional batch_first, lengths [3, 1], total_length=6 > the input's 4 steps: zeros up to step 6",
                  542, [3, 1], 6, bidirectional=True, batch_first=True)
total_length_case("rnn_total_length_float64", torch.nn.RNN, "nn.RNN in float64, lengths [4, 2], total_length=5", 543, [4, 2], 5,
                  dtype=torch.float64)
total_length_case("torch_lstm_total_length_bidirectional", torch.nn.LSTM,
                  "nn.LSTM bidirectional backward with lengths [2, 4, 3] and total_length=6 > 4 input steps", 544, [2, 4, 3], 6,
                  dtype=torch.float64, grad=True, bidirectional=True)
total_length_case("torch_gru_total_length_batch_first", torch.nn.GRU,
                  "nn.GRU backward, batch_first, lengths [1, 3], total_length=4 = the input's steps", 545, [1, 3], 4,
                  dtype=torch.float64, grad=True, batch_first=True)


# Cross: a cell's tensors are layer 0's, unchanged; one cell step is one step of the layer.
def cell_as_layer(name, cell_cls, layer_name, seed, N=2, I=3, H=3):
    torch.manual_seed(seed)
    cell = cell_cls(I, H)
    x, h = torch.randn(N, I), torch.randn(N, H)
    lstm = cell_cls is torch.nn.LSTMCell
    c = torch.randn(N, H) if lstm else None
    with torch.no_grad():
        res = cell(x, (h, c) if lstm else h)
    inputs = {"input": x[None], "h_0": h[None]}
    if lstm:
        inputs["c_0"] = c[None]
    for k, v in cell.state_dict().items():
        inputs[k + "_l0"] = v
    h1 = res[0] if lstm else res
    expect = {"output": h1[None], "h_n": h1[None]}
    if lstm:
        expect["c_n"] = res[1][None]
    src = (f"PyTorch {TV}, torch.nn.{cell_cls.__name__} (float32, CPU), tools/reference/interop_torch_cells.py; weights: PyTorch's "
           f"default init under torch.manual_seed({seed}), renamed weight_ih -> weight_ih_l0 etc.; input (N, I) -> (1, N, I)")
    write_case("cross", name, f"torch.{layer_name}",
               f"One torch.nn.{cell_cls.__name__} step run as torch.{layer_name} over one time step: the same tensors with the _l0 suffix",
               src, ["interop", "cross", layer_name.lower()], {"input_size": I, "hidden_size": H, "dtype": "float32"},
               to_np(inputs), to_np(expect), "1e-5")


cell_as_layer("torch_lstmcell_as_torch_lstm", torch.nn.LSTMCell, "LSTM", 551)
cell_as_layer("torch_grucell_as_torch_gru", torch.nn.GRUCell, "GRU", 552)
cell_as_layer("torch_rnncell_as_torch_rnn", torch.nn.RNNCell, "RNN", 553)
