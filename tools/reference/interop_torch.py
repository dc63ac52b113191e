"""Reference cases for torch.RNN, torch.LSTM, torch.GRU (and lstm.step's torch layout) from PyTorch.

Runs real torch.nn modules (CPU, float32 unless noted) with seeded random weights (PyTorch's
default init under torch.manual_seed) and writes cases/interop/torch/*.yaml whose expect: values
are the module's outputs. Lengths go through pack_padded_sequence(enforce_sorted=False) and
pad_packed_sequence, as a user would.

Usage: python3 tools/reference/interop_torch.py   (torch 2.15.0)
"""
import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from interop_common import write_case

TV = torch.__version__.split("+")[0]
TOL32, TOL64 = "1e-5", "1e-12"


def run_case(name, cls, title, L=5, N=2, input_size=3, hidden_size=4, seed=0, h0=False, c0=False, lengths=None,
             unbatched=False, dtype=torch.float32, notes=None, **kw):
    torch.manual_seed(seed)
    m = cls(input_size, hidden_size, **kw).to(dtype)
    bf = kw.get("batch_first", False)
    D = 2 if kw.get("bidirectional", False) else 1
    layers = kw.get("num_layers", 1)
    h_out = kw.get("proj_size", 0) or hidden_size
    shape = (L, input_size) if unbatched else ((N, L, input_size) if bf else (L, N, input_size))
    x = torch.randn(*shape, dtype=dtype)
    sshape = (D * layers, h_out) if unbatched else (D * layers, N, h_out)
    cshape = (D * layers, hidden_size) if unbatched else (D * layers, N, hidden_size)
    state = []
    inputs = {"input": x}
    if h0:
        inputs["h_0"] = torch.randn(*sshape, dtype=dtype)
    if c0:
        inputs["c_0"] = torch.randn(*cshape, dtype=dtype)
    if cls is torch.nn.LSTM and (h0 or c0):
        hx = (inputs.get("h_0", torch.zeros(*sshape, dtype=dtype)), inputs.get("c_0", torch.zeros(*cshape, dtype=dtype)))
    else:
        hx = inputs.get("h_0")
    with torch.no_grad():
        if lengths is not None:
            packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=bf, enforce_sorted=False)
            out, hn = m(packed, hx)
            out, _ = pad_packed_sequence(out, batch_first=bf)
            inputs["lengths"] = np.array(lengths, dtype=np.int64)
        else:
            out, hn = m(x, hx)
    expect = {"output": out}
    if cls is torch.nn.LSTM:
        expect["h_n"], expect["c_n"] = hn
    else:
        expect["h_n"] = hn
    for k, v in m.state_dict().items():
        inputs[k] = v
    np_dtype = np.float32 if dtype == torch.float32 else np.float64
    to_np = lambda d: {k: (v.numpy() if isinstance(v, torch.Tensor) else v) for k, v in d.items()}
    params = {"input_size": input_size, "hidden_size": hidden_size}
    params.update(kw)
    params["dtype"] = "float32" if dtype == torch.float32 else "float64"
    src = f"PyTorch {TV}, torch.nn.{cls.__name__} ({params['dtype']}, CPU), tools/reference/interop_torch.py; weights: PyTorch's default init under torch.manual_seed({seed}), inputs torch.randn"
    write_case("torch", name, f"torch.{cls.__name__}", title, src, ["interop", "torch", cls.__name__.lower()], params,
               to_np(inputs), to_np(expect), TOL32 if dtype == torch.float32 else TOL64, np_dtype, notes)


RNN, LSTM, GRU = torch.nn.RNN, torch.nn.LSTM, torch.nn.GRU

# torch.RNN
run_case("rnn_defaults", RNN, "nn.RNN with defaults: tanh, biases, zero h_0, one layer", seed=1)
run_case("rnn_relu_no_bias_h0", RNN, "nn.RNN(nonlinearity='relu', bias=False) with an initial state h_0", seed=2,
         h0=True, nonlinearity="relu", bias=False)
run_case("rnn_bidirectional_2_layers_batch_first", RNN, "nn.RNN, 2 stacked bidirectional layers, batch_first, with h_0",
         seed=3, h0=True, num_layers=2, bidirectional=True, batch_first=True)
run_case("rnn_lengths_bidirectional", RNN, "nn.RNN bidirectional over a packed batch of unequal lengths [5, 2, 3]",
         N=3, seed=4, lengths=[5, 2, 3], bidirectional=True, h0=True)
run_case("rnn_unbatched", RNN, "nn.RNN on an unbatched (L, H_in) input with h_0 (D*num_layers, H_out)", seed=5,
         unbatched=True, h0=True)

# torch.LSTM
run_case("lstm_defaults", LSTM, "nn.LSTM with defaults: gate order i, f, g, o, both biases, zero states", seed=11)
run_case("lstm_no_bias_h0_c0", LSTM, "nn.LSTM(bias=False) with initial states h_0 and c_0", seed=12, h0=True, c0=True, bias=False)
run_case("lstm_bidirectional_2_layers", LSTM, "nn.LSTM, 2 stacked bidirectional layers with h_0 and c_0", seed=13,
         h0=True, c0=True, num_layers=2, bidirectional=True)
run_case("lstm_proj_size", LSTM, "nn.LSTM(proj_size=2): h = W_hr (o ⊙ tanh c), bidirectional, with h_0 (H_out=2) and c_0 (H_cell=4)",
         seed=14, h0=True, c0=True, proj_size=2, bidirectional=True)
run_case("lstm_lengths_bidirectional_batch_first", LSTM,
         "nn.LSTM bidirectional, batch_first, packed lengths [3, 5, 1]: zeros past each length, reverse starts at the last real step",
         N=3, seed=15, lengths=[3, 5, 1], bidirectional=True, batch_first=True)
run_case("lstm_float64_3_layers", LSTM, "nn.LSTM in float64, 3 stacked layers, computed by rnnspec in Double", seed=16,
         num_layers=3, h0=True, c0=True, dtype=torch.float64)

# torch.GRU
run_case("gru_defaults", GRU, "nn.GRU with defaults: gate order r, z, n, reset applied after the recurrent matmul, h = (1-z)n + z h", seed=21)
run_case("gru_no_bias_h0", GRU, "nn.GRU(bias=False) with an initial state h_0", seed=22, h0=True, bias=False)
run_case("gru_bidirectional_2_layers_batch_first", GRU, "nn.GRU, 2 stacked bidirectional layers, batch_first, with h_0", seed=23,
         h0=True, num_layers=2, bidirectional=True, batch_first=True)
run_case("gru_lengths", GRU, "nn.GRU over a packed batch of unequal lengths [2, 5, 4], with h_0", N=3, seed=24,
         lengths=[2, 5, 4], h0=True)
run_case("gru_lengths_shorter_than_input", GRU,
         "nn.GRU, packed lengths [3, 2] in a 5-step tensor: pad_packed_sequence returns max(lengths) = 3 steps",
         seed=25, lengths=[3, 2], bidirectional=True)

# lstm.step, layout torch: one nn.LSTMCell step.
torch.manual_seed(31)
cell = torch.nn.LSTMCell(3, 4)
x, h, c = torch.randn(2, 3), torch.randn(2, 4), torch.randn(2, 4)
with torch.no_grad():
    h1, c1 = cell(x, (h, c))
    gates = x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
    gi, gf, gg, go = gates.chunk(4, 1)
sd = cell.state_dict()
write_case("torch", "lstm_step_torch_layout_lstmcell", "lstm.step",
           "lstm.step with layout torch equals nn.LSTMCell (gate order i, f, g, o)",
           f"PyTorch {TV}, torch.nn.LSTMCell (float32, CPU), tools/reference/interop_torch.py; gates from the cell's own weights, chunk order i, f, g, o",
           ["interop", "torch", "lstm"], {"layout": "torch", "dtype": "float32"},
           {"x": x.numpy(), "h_prev": h.numpy(), "c_prev": c.numpy(), "W_ih": sd["weight_ih"].numpy(),
            "W_hh": sd["weight_hh"].numpy(), "b_ih": sd["bias_ih"].numpy(), "b_hh": sd["bias_hh"].numpy()},
           {"i": torch.sigmoid(gi).numpy(), "f": torch.sigmoid(gf).numpy(), "g": torch.tanh(gg).numpy(),
            "o": torch.sigmoid(go).numpy(), "c": c1.numpy(), "h": h1.numpy()}, TOL32)
