"""A PyTorch backend for rnnspec: `torch.RNN`, `torch.LSTM`, `torch.GRU` run by real `torch.nn`
layers, and their backward outputs by autograd.

    rnnspec run cases/ --backend '/path/to/venv/bin/python tools/backends/torch_backend.py'

For each case: build the layer from the params (`input_size`, `hidden_size`, `num_layers`,
`bias`, `batch_first`, `bidirectional`, `nonlinearity`, `proj_size`) in the case's dtype, copy
every weight the case gives into the parameter of the same name (`weight_ih_l0`,
`bias_hh_l1_reverse`, ...), run forward (through `pack_padded_sequence` when the case gives
`lengths`). When the case gives upstream gradients (`doutput`, `dh_n`, `dc_n`), the scalar
loss = Σ doutput·output + Σ dh_n·h_n (+ Σ dc_n·c_n) is backpropagated by autograd and the
gradients of the input, the initial states and every parameter are returned as `d<name>`.
"""

import os
import sys

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rnnspec_backend import KernelError, kernel, serve  # noqa: E402

DTYPES = {"float64": torch.float64, "float32": torch.float32}


def run_layer(kind, inputs, params):
    dtype = DTYPES[params.get("dtype", "float32")]
    kw = dict(input_size=params["input_size"], hidden_size=params["hidden_size"],
              num_layers=params.get("num_layers", 1), bias=params.get("bias", True),
              batch_first=params.get("batch_first", False),
              bidirectional=params.get("bidirectional", False), dtype=dtype)
    if kind == "RNN":
        kw["nonlinearity"] = params.get("nonlinearity", "tanh")
    if kind == "LSTM" and params.get("proj_size", 0):
        kw["proj_size"] = params["proj_size"]
    layer = getattr(nn, kind)(**kw)

    # the case's weights, by name; a weight the case does not give keeps PyTorch's initialisation
    names = dict(layer.named_parameters())
    with torch.no_grad():
        for name, p in names.items():
            if name in inputs:
                w = torch.from_numpy(np.ascontiguousarray(inputs[name])).to(dtype)
                if tuple(w.shape) != tuple(p.shape):
                    raise KernelError(f"'{name}' has shape {list(w.shape)}, nn.{kind} has "
                                      f"{list(p.shape)}", input=name)
                p.copy_(w)

    def leaf(name):
        if name not in inputs:
            return None
        return torch.tensor(inputs[name], dtype=dtype, requires_grad=True)

    x, h_0, c_0 = leaf("input"), leaf("h_0"), leaf("c_0")
    state = (h_0, c_0) if kind == "LSTM" and h_0 is not None else h_0
    if kind == "LSTM" and (h_0 is None) != (c_0 is None):
        raise NotImplementedError("nn.LSTM takes h_0 and c_0 together")

    lengths = inputs.get("lengths")
    if lengths is not None:
        packed = pack_padded_sequence(x, torch.as_tensor(lengths, dtype=torch.int64),
                                      batch_first=layer.batch_first, enforce_sorted=False)
        out, st = layer(packed, state)
        # output has max(lengths) steps, as pad_packed_sequence gives without total_length
        output, _ = pad_packed_sequence(out, batch_first=layer.batch_first)
    else:
        output, st = layer(x, state)
    h_n, c_n = st if kind == "LSTM" else (st, None)

    result = {"output": output, "h_n": h_n}
    if c_n is not None:
        result["c_n"] = c_n

    upstream = {"output": "doutput", "h_n": "dh_n", "c_n": "dc_n"}
    if any(g in inputs for g in upstream.values()):
        loss = sum((result[o] * torch.as_tensor(inputs[g], dtype=dtype)).sum()
                   for o, g in upstream.items() if g in inputs and o in result)
        loss.backward()
        result["loss"] = loss
        result["dinput"] = x.grad
        if h_0 is not None:
            result["dh_0"] = h_0.grad
        if c_0 is not None:
            result["dc_0"] = c_0.grad
        for name, p in names.items():
            if name in inputs:  # the gradients of the weights the case gives
                result["d" + name] = p.grad if p.grad is not None else torch.zeros_like(p)
    return {k: v.detach().numpy() for k, v in result.items()}


@kernel("torch.RNN")
def torch_rnn(**kw):
    return run_layer("RNN", *split(kw))


@kernel("torch.LSTM")
def torch_lstm(**kw):
    return run_layer("LSTM", *split(kw))


@kernel("torch.GRU")
def torch_gru(**kw):
    return run_layer("GRU", *split(kw))


PARAMS = {"input_size", "hidden_size", "num_layers", "bias", "batch_first", "bidirectional",
          "nonlinearity", "proj_size", "dtype", "dropout"}


def split(kw):
    inputs = {k: v for k, v in kw.items() if k not in PARAMS}
    params = {k: v for k, v in kw.items() if k in PARAMS}
    return inputs, params


if __name__ == "__main__":
    torch.use_deterministic_algorithms(True)
    serve(f"pytorch {torch.__version__} (torch.nn layers, autograd)")
