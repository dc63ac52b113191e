"""Reference cases for keras.layers.Bidirectional and keras.layers.Masking: Keras 3 (torch backend).

Builds real keras.layers.Bidirectional layers around SimpleRNN, LSTM and GRU (merge modes concat,
sum, mul, ave, None; with or without a backward_layer of its own), and SimpleRNN / LSTM / GRU behind
a keras.layers.Masking(mask_value), sets seeded random weights (numpy default_rng normals times
`scale`, biases included) with set_weights, calls them with optional initial_state and mask, and
writes:
  cases/interop/keras/bidirectional_*.yaml, masking_*.yaml   float32 forward outputs
  cases/interop/grad/keras_bidirectional_*.yaml, keras_masking_*.yaml
                                 float64 outputs and PyTorch-autograd gradients of
                                 loss = Σ upstream ⊙ output (upstreams numpy normals), with a gradcheck
  cases/interop/cross/keras_bidirectional_*_as_torch_*.yaml
                                 a Keras Bidirectional moved into torch.LSTM / torch.GRU(bidirectional=True)
Each case's notes list the layer's weight paths as Keras names them, and the input each one is.

Usage: KERAS_BACKEND=torch python tools/reference/interop_keras_bidirectional.py
       (keras 3.15.1, torch 2.13.0 CPU; a venv with `pip install keras` and a CPU torch wheel)
"""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np
import torch
from keras.src.backend.common import dtypes as keras_dtypes

# As in grad_keras.py: let float64 layers compute in float64 (Keras otherwise promotes to float32).
keras_dtypes.BIT64_TO_BIT32_DTYPE["float64"] = "float64"

from interop_common import ROOT, write_case

KV, TV = keras.__version__, torch.__version__.split("+")[0]
STATE_COUNT = {"SimpleRNN": 1, "LSTM": 2, "GRU": 1}


def t(a, dtype, grad=False):
    return torch.tensor(np.asarray(a), dtype=torch.float64 if dtype == "float64" else torch.float32, requires_grad=grad)


def to_np(v):
    if isinstance(v, torch.Tensor):
        return v.detach().cpu().numpy()
    if hasattr(v, "numpy"):
        return keras.ops.convert_to_numpy(v)
    return v


def outputs_and_loss(outs, rng, dtype, grad, inputs):
    """The expect: values of the outputs; with grad, first `loss` = Σ upstream⊙output over upstreams drawn
    from rng (added to inputs as d<output>), backpropagated."""
    expect = {}
    if grad:
        ups = {"d" + k: t(rng.normal(size=tuple(v.shape)), dtype) for k, v in outs.items()}
        loss = sum((ups["d" + k] * v).sum() for k, v in outs.items())
        loss.backward()
        inputs.update({k: to_np(v) for k, v in ups.items()})
        expect["loss"] = to_np(loss)
    expect.update({k: to_np(v) for k, v in outs.items()})
    return expect


def gradcheck_line(name, wrt):
    with open(f"{ROOT}/grad/{name}.yaml", "a") as fh:
        fh.write(f"gradcheck: {{wrt: [{', '.join(wrt)}], eps: 1e-6, abs: 1e-7, rel: 1e-5}}\n")


def bidi_case(name, cls, title, seed, B=3, T=4, F=3, units=3, dtype="float32", grad=False, initial_state=False, mask=None,
              mask_value=None, merge_mode="concat", backward=None, scale=0.5, notes="", tol=None, **kw):
    """kw: the wrapped layer's arguments; backward: a dict of a backward_layer's own arguments (or None)."""
    keras.utils.clear_session()  # layer names without counters: bidirectional/forward_lstm/...
    rng = np.random.default_rng(seed)
    np_dtype = np.float64 if dtype == "float64" else np.float32
    layer = getattr(keras.layers, cls)(units, dtype=dtype, **kw)
    bl = None
    if backward is not None:
        common = {k: v for k, v in kw.items() if k in ("return_sequences", "return_state")}
        bl = getattr(keras.layers, cls)(backward.get("units", units), go_backwards=True, dtype=dtype, **common,
                                        **{k: v for k, v in backward.items() if k != "units"})
    bidi = keras.layers.Bidirectional(layer, merge_mode=merge_mode, backward_layer=bl, dtype=dtype)
    bidi.build((None, None, F))
    bidi.set_weights([(rng.normal(size=w.shape) * scale).astype(np_dtype) for w in bidi.get_weights()])
    xn = rng.normal(size=(B, T, F)).astype(np_dtype)
    masked = None
    if mask_value is not None:
        masked = np.array(mask, dtype=bool)
        xn[~masked] = mask_value
        mask = None
    x = t(xn, dtype, grad)
    inputs = {"inputs": xn}
    paths = []
    for side, sub in (("forward", bidi.forward_layer), ("backward", bidi.backward_layer)):
        for w in sub.weights:
            short = w.path.split("/")[-1]
            inputs[f"{side}_{short}"] = to_np(w.value)
            paths.append(f"{w.path} = {side}_{short}")
    call_kw = {}
    states = []
    if initial_state:
        n = STATE_COUNT[cls]
        sizes = [units] * n + [(backward or {}).get("units", units)] * n
        states = [t(rng.normal(size=(B, u)), dtype, grad) for u in sizes]
        call_kw["initial_state"] = states
        inputs["initial_state"] = np.stack([to_np(s) for s in states])
    if mask is not None:
        call_kw["mask"] = torch.tensor(np.array(mask, dtype=bool))
        inputs["mask"] = np.array(mask, dtype=bool)
    if mask_value is not None:
        res = bidi(keras.layers.Masking(mask_value, dtype=dtype)(x), **call_kw)
    else:
        res = bidi(x, **call_kw)
    res = list(res) if isinstance(res, (list, tuple)) else [res]
    out_names = ["output"] if merge_mode is not None else ["forward_output", "backward_output"]
    if kw.get("return_state"):
        for side in ("forward", "backward"):
            out_names += [f"{side}_state_h"] + ([f"{side}_state_c"] if cls == "LSTM" else [])
    outs = dict(zip(out_names, res))
    expect = outputs_and_loss(outs, rng, dtype, grad, inputs)
    if grad:
        expect["dinputs"] = to_np(x.grad)
        for side, sub in (("forward", bidi.forward_layer), ("backward", bidi.backward_layer)):
            for w in sub.weights:
                expect[f"d{side}_{w.path.split('/')[-1]}"] = to_np(w.value.grad)
        if states:
            expect["dinitial_state"] = np.stack([to_np(s.grad) for s in states])
    params = {"layer": cls, "units": units}
    params.update({k: v for k, v in kw.items()})
    if merge_mode != "concat":
        params["merge_mode"] = "None" if merge_mode is None else merge_mode
    for k, v in (backward or {}).items():
        params["backward_" + k] = v
    if mask_value is not None:
        params["mask_value"] = float(mask_value)
    params["dtype"] = dtype
    what = "keras.layers.Bidirectional" + (" behind keras.layers.Masking" if mask_value is not None else "")
    src = (f"Keras {KV} (torch backend, {dtype}) {what}({cls}), " + (f"PyTorch {TV} autograd, " if grad else "")
           + f"tools/reference/interop_keras_bidirectional.py; weights and inputs numpy default_rng({seed}) normals"
           + (f" (weights ×{scale})" if scale != 1 else ""))
    all_notes = (notes + " " if notes else "") + "Keras weight paths: " + "; ".join(paths)
    folder = "grad" if grad else "keras"
    tags = (["gradients", "gradcheck"] if grad else ["interop"]) + ["keras", "bidirectional", cls.lower()]
    write_case(folder, name, "keras.Bidirectional", title, src, tags, params, inputs, expect,
               tol or ("1e-12" if grad else "1e-5"), np_dtype, all_notes)
    if grad:
        wrt = ([] if mask_value is not None else ["inputs"]) + [k for k in inputs if k.startswith(("forward_", "backward_"))]
        if states:
            wrt.append("initial_state")
        gradcheck_line(name, wrt)
    return bidi, inputs, expect


def masking_case(name, cls, title, seed, mask, mask_value=0.0, B=3, T=5, F=3, units=3, dtype="float32", grad=False,
                 initial_state=False, scale=0.5, **kw):
    """cls behind keras.layers.Masking(mask_value): the steps of mask False are set to mask_value."""
    keras.utils.clear_session()
    rng = np.random.default_rng(seed)
    np_dtype = np.float64 if dtype == "float64" else np.float32
    layer = getattr(keras.layers, cls)(units, dtype=dtype, **kw)
    layer.build((None, None, F))
    layer.set_weights([(rng.normal(size=w.shape) * scale).astype(np_dtype) for w in layer.get_weights()])
    xn = rng.normal(size=(B, T, F)).astype(np_dtype)
    xn[~np.array(mask, dtype=bool)] = mask_value
    x = t(xn, dtype, grad)
    inputs = {"inputs": xn}
    for w in layer.weights:
        inputs[w.path.split("/")[-1]] = to_np(w.value)
    call_kw, states = {}, []
    if initial_state:
        states = [t(rng.normal(size=(B, units)), dtype, grad) for _ in range(STATE_COUNT[cls])]
        call_kw["initial_state"] = states
        inputs["initial_state"] = np.stack([to_np(s) for s in states])
    res = layer(keras.layers.Masking(mask_value, dtype=dtype)(x), **call_kw)
    res = list(res) if isinstance(res, (list, tuple)) else [res]
    outs = dict(zip(["output", "state_h", "state_c"], res))
    expect = outputs_and_loss(outs, rng, dtype, grad, inputs)
    if grad:
        expect["dinputs"] = to_np(x.grad)
        for w in layer.weights:
            expect["d" + w.path.split("/")[-1]] = to_np(w.value.grad)
        if states:
            expect["dinitial_state"] = np.stack([to_np(s.grad) for s in states])
    params = {"units": units}
    params.update(kw)
    params["mask_value"] = float(mask_value)
    params["dtype"] = dtype
    src = (f"Keras {KV} (torch backend, {dtype}) keras.layers.Masking({mask_value}) then keras.layers.{cls}, "
           + (f"PyTorch {TV} autograd, " if grad else "")
           + f"tools/reference/interop_keras_bidirectional.py; weights and inputs numpy default_rng({seed}) normals (weights ×{scale}), masked steps set to mask_value")
    folder = "grad" if grad else "keras"
    tags = (["gradients", "gradcheck"] if grad else ["interop"]) + ["keras", "masking", cls.lower()]
    write_case(folder, name, f"keras.{cls}", title, src, tags, params, inputs, expect, "1e-12" if grad else "1e-5", np_dtype)
    if grad:
        wrt = [k for k in ("kernel", "recurrent_kernel", "bias") if k in inputs] + (["initial_state"] if states else [])
        gradcheck_line(name, wrt)


# No zero-length cases: Keras 3 fails on a sequence of 0 timesteps (checked here, not written).
try:
    keras.layers.GRU(2, return_sequences=True)(np.zeros((2, 0, 3), np.float32))
    raise SystemExit("Keras ran a GRU over 0 timesteps: add zero-length cases")
except IndexError:
    pass

# Masks: unequal lengths (padding at the end), a hole in the middle, and a row that is all padding.
LENGTHS = [[True, True, True, True], [True, True, False, False], [True, False, False, False]]
HOLES = [[True, False, True, True], [True, True, True, False], [False, False, False, False]]

# --- forward, float32 ---
bidi_case("bidirectional_lstm_concat_defaults", "LSTM",
          "Bidirectional(LSTM) with defaults: merge_mode concat, last outputs only (forward at t = T-1, backward at t = 0)", 401)
bidi_case("bidirectional_lstm_sequences_state_initial_mask", "LSTM",
          "Bidirectional(LSTM), return_sequences and return_state, initial_state [h_f, c_f, h_b, c_b], unequal lengths by a mask",
          402, initial_state=True, mask=LENGTHS, return_sequences=True, return_state=True)
bidi_case("bidirectional_gru_sum_holes", "GRU",
          "Bidirectional(GRU), merge_mode sum, a mask with holes and an all-padding row (zero_output_for_mask = return_sequences)",
          403, merge_mode="sum", mask=HOLES, return_sequences=True, return_state=True)
bidi_case("bidirectional_gru_mul_reset_before", "GRU", "Bidirectional(GRU(reset_after=False)), merge_mode mul, initial_state",
          404, merge_mode="mul", reset_after=False, initial_state=True, return_sequences=True)
bidi_case("bidirectional_simple_rnn_ave_last", "SimpleRNN",
          "Bidirectional(SimpleRNN), merge_mode ave, last outputs with a mask (masked steps repeat the previous output)",
          405, merge_mode="ave", mask=HOLES, return_state=True)
bidi_case("bidirectional_simple_rnn_none", "SimpleRNN",
          "Bidirectional(SimpleRNN), merge_mode None: two outputs (the backward one in time order), with return_state",
          406, merge_mode=None, return_sequences=True, return_state=True, initial_state=True)
bidi_case("bidirectional_lstm_backward_layer", "LSTM",
          "Bidirectional(LSTM(3), backward_layer=LSTM(2, activation='softsign', go_backwards=True)), concat of unequal units",
          407, backward={"units": 2, "activation": "softsign"}, return_sequences=True, return_state=True, mask=LENGTHS)
bidi_case("bidirectional_gru_backward_layer_reset_before_none", "GRU",
          "Bidirectional(GRU, backward_layer=GRU(reset_after=False, recurrent_activation='hard_sigmoid', use_bias=False)), merge_mode None",
          408, merge_mode=None, backward={"reset_after": False, "recurrent_activation": "hard_sigmoid", "use_bias": False},
          return_sequences=True)
bidi_case("bidirectional_gru_masking_initial_state", "GRU",
          "Masking(0.0) then Bidirectional(GRU)(x, initial_state=...): Keras drops Masking's mask when initial_state is given",
          410, mask=HOLES, mask_value=0.0, initial_state=True, return_sequences=True)
masking_case("masking_gru_value_minus_one", "GRU", "Masking(mask_value=-1.0) then GRU, last output and state", 414,
             [[True, True, True, False, False], [True, True, True, True, True], [True, False, False, False, False]],
             mask_value=-1.0, return_state=True)
masking_case("keras_masking_gru_sequences", "GRU", "Masking(0.0) then GRU(reset_after=False) backward: unequal lengths, a hole, an all-padding row",
             415, [[True, True, True, True, True], [True, True, False, True, False], [False] * 5], dtype="float64", grad=True,
             return_sequences=True, return_state=True, reset_after=False)
bidi_case("bidirectional_lstm_masking", "LSTM",
          "Masking(0.0) then Bidirectional(LSTM): steps whose features are all 0 are masked (unequal lengths, one all-padding row)",
          409, mask=[[True, True, True, True], [True, True, True, False], [False, False, False, False]], mask_value=0.0,
          return_sequences=True, return_state=True)
masking_case("masking_lstm", "LSTM", "Masking(mask_value=0.0) then LSTM: unequal lengths, a hole, an all-padding row",
             411, [[True, True, True, True, True], [True, True, False, True, False], [False] * 5],
             return_sequences=True, return_state=True)
masking_case("masking_gru_value_minus_one_initial_state", "GRU",
             "Masking(mask_value=-1.0) then GRU(...)(x, initial_state=...): Keras drops Masking's mask when initial_state is given, every step is real",
             412, [[True, True, True, False, False], [True, True, True, True, True], [True, False, False, False, False]],
             mask_value=-1.0, return_state=True, initial_state=True)
masking_case("masking_simple_rnn", "SimpleRNN", "Masking(mask_value=0.5) then SimpleRNN with return_sequences",
             413, [[True, False, True, True, True], [True, True, True, True, False], [False] * 5], mask_value=0.5,
             return_sequences=True)

# --- backward, float64, with a gradcheck ---
bidi_case("keras_bidirectional_lstm_concat_mask_state", "LSTM",
          "Bidirectional(LSTM) backward: concat, return_sequences, return_state, initial_state, unequal lengths (doutput and every state upstream)",
          421, dtype="float64", grad=True, initial_state=True, mask=LENGTHS, return_sequences=True, return_state=True)
bidi_case("keras_bidirectional_gru_sum_holes", "GRU",
          "Bidirectional(GRU) backward: merge_mode sum, a mask with holes and an all-padding row, return_state",
          422, dtype="float64", grad=True, merge_mode="sum", mask=HOLES, return_sequences=True, return_state=True, initial_state=True)
bidi_case("keras_bidirectional_gru_mul_reset_before_last", "GRU",
          "Bidirectional(GRU(reset_after=False)) backward: merge_mode mul, last outputs only, a mask",
          423, dtype="float64", grad=True, merge_mode="mul", reset_after=False, mask=HOLES)
bidi_case("keras_bidirectional_simple_rnn_ave", "SimpleRNN",
          "Bidirectional(SimpleRNN) backward: merge_mode ave, return_sequences, initial_state",
          424, dtype="float64", grad=True, merge_mode="ave", return_sequences=True, initial_state=True)
bidi_case("keras_bidirectional_lstm_none_backward_layer", "LSTM",
          "Bidirectional(LSTM, backward_layer=LSTM(activation='relu', recurrent_activation='hard_sigmoid')) backward: merge_mode None, saturated weights",
          425, dtype="float64", grad=True, merge_mode=None, scale=2.0,
          backward={"activation": "relu", "recurrent_activation": "hard_sigmoid"}, return_sequences=True, return_state=True,
          initial_state=True, mask=LENGTHS, tol="1e-6",
          notes="abs 1e-6, not 1e-12: PyTorch's hardsigmoid backward uses the float32 constant 1/6 = 0.1666666716337204 "
                "even in float64 (a relative 3e-8 in every gradient through the backward layer's gates); rnnspec uses 1/6, "
                "and the gradcheck against finite differences holds it to abs 1e-7 / rel 1e-5.")
bidi_case("keras_bidirectional_gru_masking_backward_layer", "GRU",
          "Masking(0.0) then Bidirectional(GRU, backward_layer=GRU(2 units, reset_after=False)) backward: concat of unequal units",
          426, dtype="float64", grad=True, mask=HOLES, mask_value=0.0, backward={"units": 2, "reset_after": False},
          return_sequences=True, return_state=True)
masking_case("keras_masking_lstm", "LSTM",
             "Masking(0.0) then LSTM(...)(x, initial_state=...) backward: with initial_state Keras drops Masking's mask, every step is real",
             431, [[True, True, True, True, True], [True, True, False, True, False], [False] * 5], dtype="float64", grad=True,
             return_sequences=True, return_state=True, initial_state=True)
masking_case("keras_masking_simple_rnn_last", "SimpleRNN", "Masking(-1.0) then SimpleRNN backward: last output only",
             432, [[True, True, True, False, False], [True, True, True, True, True], [False, True, False, False, False]],
             mask_value=-1.0, dtype="float64", grad=True)


# --- cross: a Keras Bidirectional in PyTorch's bidirectional layout ---
def reorder(m, H, order):
    return np.concatenate([m[j * H:(j + 1) * H] for j in order], axis=0)


def cross(name, cls, seed, lengths, T=5, title=""):
    B = len(lengths)
    mask = [[t < n for t in range(T)] for n in lengths]
    bidi, inputs, expect = bidi_case("_tmp", cls, "tmp", seed, B=B, T=T, initial_state=True, mask=mask,
                                     return_sequences=True, return_state=True)
    os.remove(os.path.join(ROOT, "keras", "_tmp.yaml"))
    H = bidi.forward_layer.units
    order = [1, 0, 2] if cls == "GRU" else [0, 1, 2, 3]  # Keras GRU z, r, h -> PyTorch r, z, n; LSTM i, f, c, o = i, f, g, o
    n = STATE_COUNT[cls]
    st = inputs["initial_state"]
    torch_in = {"input": inputs["inputs"], "h_0": np.stack([st[0], st[n]])}
    if cls == "LSTM":
        torch_in["c_0"] = np.stack([st[1], st[n + 1]])
    torch_in["lengths"] = np.array(lengths, dtype=np.int64)
    for side, suffix in (("forward", ""), ("backward", "_reverse")):
        k, rk, b = inputs[f"{side}_kernel"], inputs[f"{side}_recurrent_kernel"], inputs[f"{side}_bias"]
        torch_in["weight_ih_l0" + suffix] = reorder(k.T, H, order)
        torch_in["weight_hh_l0" + suffix] = reorder(rk.T, H, order)
        if cls == "GRU":
            torch_in["bias_ih_l0" + suffix] = reorder(b[0], H, order)
            torch_in["bias_hh_l0" + suffix] = reorder(b[1], H, order)
        else:
            torch_in["bias_ih_l0" + suffix] = b
            torch_in["bias_hh_l0" + suffix] = np.zeros_like(b)
    exp = {"output": expect["output"], "h_n": np.stack([expect["forward_state_h"], expect["backward_state_h"]])}
    if cls == "LSTM":
        exp["c_n"] = np.stack([expect["forward_state_c"], expect["backward_state_c"]])
    src = (f"Keras {KV} (torch backend, float32) keras.layers.Bidirectional({cls}, return_sequences, return_state) with a mask of "
           f"lengths {lengths}, tools/reference/interop_keras_bidirectional.py; weights numpy default_rng({seed}) normals, moved into "
           f"PyTorch's bidirectional layout: forward_* -> *_l0, backward_* -> *_l0_reverse, weight_ih = kernel^T, weight_hh = "
           f"recurrent_kernel^T" + (" with blocks z, r, h reordered to r, z, n, bias_ih = bias[0], bias_hh = bias[1]" if cls == "GRU"
                                    else ", bias_ih = bias, bias_hh = 0") +
           "; initial_state [h_f, (c_f,) h_b, (c_b)] -> h_0 = [h_f, h_b] (, c_0 = [c_f, c_b]); the mask -> lengths, output padded to "
           "total_length = T")
    write_case("cross", name, f"torch.{cls}", title, src, ["interop", "cross", "bidirectional", cls.lower()],
               {"input_size": inputs["inputs"].shape[2], "hidden_size": H, "batch_first": True, "bidirectional": True,
                "total_length": T, "dtype": "float32"}, torch_in, exp, "1e-5")


cross("keras_bidirectional_lstm_as_torch_lstm", "LSTM", 441, [5, 3, 1],
      title="A Keras Bidirectional(LSTM) with a padding mask run as torch.LSTM(bidirectional=True, batch_first=True) over lengths, total_length = T")
cross("keras_bidirectional_gru_as_torch_gru", "GRU", 442, [2, 4, 3],
      title="A Keras Bidirectional(GRU) with a padding mask run as torch.GRU(bidirectional=True, batch_first=True) over lengths, total_length = T")
