"""Reference cases for mlx.RNN, mlx.GRU, mlx.LSTM from Apple MLX (the mlx[cpu] wheel, on Linux).

Builds real mlx.nn.RNN / GRU / LSTM layers, sets seeded random parameters with Module.update (numpy
default_rng normals times `scale`: MLX's own uniform init would hide nothing, but biases that are
not zero show where each one lives), calls them with an optional initial hidden (and cell) state,
batched (N, L, D) or without a batch axis (L, D), and writes

  cases/interop/mlx/*.yaml         forward, float32: expect = the layer's returns
  cases/interop/grad/mlx_*.yaml    float64: loss = Σ dall_hidden⊙all_hidden (+ Σ dall_cell⊙all_cell),
                                   expect = the returns, the loss and mx.value_and_grad's gradients of
                                   x, hidden, cell and every parameter; plus a gradcheck over them.
                                   MLX's float64 mx.exp and mx.sigmoid on the CPU are float32-accurate
                                   (about 1e-7 relative), hence the tolerance 2e-6 of these expects.
  cases/interop/cross/mlx_*_as_torch_*.yaml   an MLX layer's tensors moved into torch.nn's layout
                                   (rules in `cross` below) expect MLX's numbers from torch.* kernels

Usage (a throwaway venv with `pip install "mlx[cpu]"`): python tools/reference/interop_mlx.py   (mlx 0.32.4, numpy 2.4.6)
"""
import os

import mlx.core as mx
import mlx.nn as nn
import numpy as np

from interop_common import ROOT, write_case

MV = mx.__version__
CLS = {"RNN": nn.RNN, "GRU": nn.GRU, "LSTM": nn.LSTM}
NONLIN = {"tanh": mx.tanh, "relu": nn.relu, "sigmoid": mx.sigmoid, "softsign": nn.softsign, "softplus": nn.softplus,
          "elu": nn.elu, "leaky_relu": nn.leaky_relu}


def build(cls_name, rng, D, H, dtype, scale, bias=True, nonlinearity=None):
    kw = {"bias": bias}
    if nonlinearity:
        kw["nonlinearity"] = NONLIN[nonlinearity]
    layer = CLS[cls_name](D, H, **kw)
    params = {k: (rng.normal(size=v.shape) * scale).astype(dtype) for k, v in sorted(layer.parameters().items())}
    # mx.array(numpy float64) is float32 unless the dtype is given.
    layer.update({k: mx.array(v, dtype=mx.float64 if dtype == np.float64 else mx.float32) for k, v in params.items()})
    return layer, params


def run(layer, cls_name, x, hidden, cell):
    if cls_name == "LSTM":
        h, c = layer(x, hidden, cell)
        return {"all_hidden": h, "all_cell": c}
    return {"all_hidden": layer(x, hidden)}


def case(name, cls_name, title, seed, N=2, L=4, D=3, H=3, batched=True, hidden=False, cell=False, bias=True,
         nonlinearity=None, scale=0.5, grad=False, upstream=("all_hidden", "all_cell")):
    dtype = np.float64 if grad else np.float32
    mdt = mx.float64 if grad else mx.float32
    rng = np.random.default_rng(seed)
    layer, params = build(cls_name, rng, D, H, dtype, scale, bias, nonlinearity)
    lead = (N,) if batched else ()
    x = rng.normal(size=lead + (L, D)).astype(dtype)
    inputs = {"x": x}
    h0 = rng.normal(size=lead + (H,)).astype(dtype) if hidden else None
    c0 = rng.normal(size=lead + (H,)).astype(dtype) if cell else None
    if hidden:
        inputs["hidden"] = h0
    if cell:
        inputs["cell"] = c0
    inputs.update(params)
    arr = lambda a: None if a is None else mx.array(a, dtype=mdt)
    outs = run(layer, cls_name, arr(x), arr(h0), arr(c0))
    assert all(v.dtype == mdt for v in outs.values())
    expect = {k: np.array(v) for k, v in outs.items()}
    p = {"input_size": D, "hidden_size": H}
    # bias=False: the case leaves the bias tensors out (MLX's layers then have no such parameter).
    if nonlinearity:
        p["nonlinearity"] = nonlinearity
    if not grad:
        p["dtype"] = "float32"
        src = (f"MLX {MV} (mlx[cpu] wheel, Linux, float32), mlx.nn.{cls_name}, tools/reference/interop_mlx.py; "
               f"parameters and inputs numpy default_rng({seed}) normals (parameters ×{scale}) set with Module.update")
        write_case("mlx", name, f"mlx.{cls_name}", title, src, ["interop", "mlx", cls_name.lower()], p, inputs, expect, "1e-5")
        return layer, inputs, expect
    ups = {"d" + k: rng.normal(size=v.shape).astype(dtype) for k, v in expect.items() if k in upstream}
    names = sorted(params)

    def loss_fn(ps, xx, hh, cc):
        layer.update(ps)
        o = run(layer, cls_name, xx, hh, cc)
        return sum((arr(ups["d" + k]) * o[k]).sum() for k in o if "d" + k in ups)

    argnums = [0, 1] + ([2] if hidden else []) + ([3] if cell else [])
    loss, g = mx.value_and_grad(loss_fn, argnums=argnums)({k: arr(v) for k, v in params.items()}, arr(x), arr(h0), arr(c0))
    layer.update({k: arr(v) for k, v in params.items()})
    assert all(v.dtype == mdt for v in g[0].values()) and g[1].dtype == mdt
    inputs.update(ups)
    expect = {"loss": np.array(loss), **expect, "dx": np.array(g[1])}
    k = 2
    if hidden:
        expect["dhidden"] = np.array(g[k]); k += 1
    if cell:
        expect["dcell"] = np.array(g[k]); k += 1
    for n in names:
        expect["d" + n] = np.array(g[0][n])
    p["dtype"] = "float64"
    src = (f"MLX {MV} (mlx[cpu] wheel, Linux, float64) mlx.nn.{cls_name} with mx.value_and_grad, tools/reference/interop_mlx.py; "
           f"parameters, inputs and upstream gradients numpy default_rng({seed}) normals (parameters ×{scale})")
    write_case("grad", name, f"mlx.{cls_name}", title, src, ["gradients", "gradcheck", "mlx", cls_name.lower()],
               p, inputs, expect, "2e-6", np.float64,
               "MLX's float64 exp and sigmoid on the CPU are only float32-accurate (about 1e-7 relative; its tanh and "
               "matmul are exact), so the expect: tolerance is 2e-6; the gradcheck checks every gradient to 1e-7.")
    wrt = ["x"] + (["hidden"] if hidden else []) + (["cell"] if cell else []) + names
    with open(f"{ROOT}/grad/{name}.yaml", "a") as fh:
        fh.write(f"gradcheck: {{wrt: [{', '.join(wrt)}], eps: 1e-6, abs: 1e-7, rel: 1e-5}}\n")


# Forward, float32.
case("rnn_defaults", "RNN", "mlx.nn.RNN with defaults: tanh, bias, batched (N, L, D), hidden None", 1)
case("rnn_relu_unbatched_hidden", "RNN", "mlx.nn.RNN(nonlinearity=nn.relu) on (L, D) without a batch axis, hidden (H,)", 2,
     batched=False, hidden=True, nonlinearity="relu")
case("rnn_no_bias_softsign", "RNN", "mlx.nn.RNN(bias=False, nonlinearity=nn.softsign) with hidden", 3, bias=False, hidden=True,
     nonlinearity="softsign")
case("rnn_sigmoid", "RNN", "mlx.nn.RNN(nonlinearity=mx.sigmoid)", 4, nonlinearity="sigmoid")
case("rnn_softplus_unbatched", "RNN", "mlx.nn.RNN(nonlinearity=nn.softplus) without a batch axis", 5, batched=False, nonlinearity="softplus")
case("gru_defaults", "GRU", "mlx.nn.GRU with defaults: Wx rows r, z, n; b on the input side, bhn inside the reset; hidden None", 11)
case("gru_hidden_unbatched", "GRU", "mlx.nn.GRU on (L, D) without a batch axis, hidden (H,)", 12, batched=False, hidden=True)
case("gru_no_bias_hidden", "GRU", "mlx.nn.GRU(bias=False) with hidden", 13, bias=False, hidden=True)
case("lstm_defaults", "LSTM", "mlx.nn.LSTM with defaults: Wx rows i, f, g, o; returns all hidden and all cell states", 21)
case("lstm_hidden_cell", "LSTM", "mlx.nn.LSTM with hidden and cell", 22, hidden=True, cell=True)
case("lstm_cell_only_unbatched", "LSTM", "mlx.nn.LSTM on (L, D) without a batch axis, cell given, hidden None", 23, batched=False,
     cell=True)
case("lstm_no_bias_hidden", "LSTM", "mlx.nn.LSTM(bias=False) with hidden only", 24, bias=False, hidden=True)

# Backward, float64.
case("mlx_rnn_leaky_relu_hidden", "RNN", "mlx.nn.RNN(nonlinearity=nn.leaky_relu) backward, hidden", 201, hidden=True,
     nonlinearity="leaky_relu", grad=True)
case("mlx_rnn_unbatched_elu_no_hidden", "RNN", "mlx.nn.RNN(nonlinearity=nn.elu) backward without a batch axis, hidden None", 202,
     batched=False, nonlinearity="elu", grad=True)
case("mlx_gru_hidden", "GRU", "mlx.nn.GRU backward with hidden (b, bhn)", 211, hidden=True, grad=True)
case("mlx_gru_saturated_unbatched", "GRU", "mlx.nn.GRU backward without a batch axis, parameters std 3 (saturated gates), hidden",
     212, batched=False, hidden=True, scale=3.0, grad=True)
case("mlx_lstm_hidden_cell", "LSTM", "mlx.nn.LSTM backward with hidden and cell, upstream on all_hidden and all_cell", 221,
     hidden=True, cell=True, grad=True)
case("mlx_lstm_saturated_all_cell", "LSTM", "mlx.nn.LSTM backward, parameters std 3, upstream on all_cell only, unbatched",
     222, batched=False, hidden=True, cell=True, scale=3.0, grad=True, upstream=("all_cell",))


# Cross: MLX tensors in torch.nn's layout (batch_first=True, one layer):
#   RNN:  weight_ih_l0 = Wxh, weight_hh_l0 = Whh, bias_ih_l0 = bias, bias_hh_l0 = 0
#   GRU:  weight_ih_l0 = Wx, weight_hh_l0 = Wh (rows r, z, n in both), bias_ih_l0 = b, bias_hh_l0 = [0, 0, bhn]
#   LSTM: weight_ih_l0 = Wx, weight_hh_l0 = Wh (rows i, f, g, o in both), bias_ih_l0 = bias, bias_hh_l0 = 0
#   output = all_hidden, h_n = all_hidden[:, -1][None], c_n = all_cell[:, -1][None]; hidden, cell -> h_0, c_0 with a leading 1.
def cross(name, cls_name, seed, title):
    layer, inputs, expect = case("_tmp", cls_name, "tmp", seed, hidden=True, cell=cls_name == "LSTM")
    os.remove(os.path.join(ROOT, "mlx", "_tmp.yaml"))
    H = inputs["hidden"].shape[-1]
    if cls_name == "GRU":
        w = {"weight_ih_l0": inputs["Wx"], "weight_hh_l0": inputs["Wh"], "bias_ih_l0": inputs["b"],
             "bias_hh_l0": np.concatenate([np.zeros(2 * H, np.float32), inputs["bhn"]])}
    elif cls_name == "LSTM":
        w = {"weight_ih_l0": inputs["Wx"], "weight_hh_l0": inputs["Wh"], "bias_ih_l0": inputs["bias"],
             "bias_hh_l0": np.zeros_like(inputs["bias"])}
    else:
        w = {"weight_ih_l0": inputs["Wxh"], "weight_hh_l0": inputs["Whh"], "bias_ih_l0": inputs["bias"],
             "bias_hh_l0": np.zeros_like(inputs["bias"])}
    torch_in = {"input": inputs["x"], "h_0": inputs["hidden"][None]}
    exp = {"output": expect["all_hidden"], "h_n": expect["all_hidden"][:, -1][None]}
    if cls_name == "LSTM":
        torch_in["c_0"] = inputs["cell"][None]
        exp["c_n"] = expect["all_cell"][:, -1][None]
    torch_in.update(w)
    src = (f"MLX {MV} (mlx[cpu] wheel, Linux, float32), mlx.nn.{cls_name}, tools/reference/interop_mlx.py; parameters numpy "
           f"default_rng({seed}) normals, moved into torch.nn's layout by the rules in the script")
    write_case("cross", name, f"torch.{cls_name}", title, src, ["interop", "cross", "mlx", cls_name.lower()],
               {"input_size": inputs["x"].shape[-1], "hidden_size": H, "batch_first": True, "dtype": "float32"}, torch_in, exp, "1e-5")


cross("mlx_gru_as_torch_gru", "GRU", 91,
      "An MLX GRU run as torch.GRU(batch_first=True): weight_ih = Wx, weight_hh = Wh, bias_ih = b, bias_hh = [0, 0, bhn]")
cross("mlx_lstm_as_torch_lstm", "LSTM", 92,
      "An MLX LSTM run as torch.LSTM(batch_first=True): weight_ih = Wx, weight_hh = Wh, bias_ih = bias, bias_hh = 0; h_n, c_n = the last step")
cross("mlx_rnn_as_torch_rnn", "RNN", 93,
      "An MLX RNN run as torch.RNN(batch_first=True): weight_ih = Wxh, weight_hh = Whh, bias_ih = bias, bias_hh = 0")
