"""Reference cases for keras.SimpleRNN, keras.LSTM, keras.GRU from Keras 3 (torch backend).

Builds real keras.layers layers (float32), sets seeded random weights (numpy default_rng normals
scaled by 0.5, biases included: Keras' default zero biases would hide a wrong bias layout), calls
them with optional initial_state and mask, and writes cases/interop/keras/*.yaml whose expect:
values are the layer's outputs. Also writes cross-convention cases (cases/interop/cross/): a Keras
layer's weights moved into ONNX's and PyTorch's layouts give Keras' numbers.

Usage: KERAS_BACKEND=torch python3 tools/reference/interop_keras.py   (keras 3.15.1, torch 2.15.0)
"""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np

from interop_common import ROOT, write_case

KV = keras.__version__
G = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}


def build(cls_name, seed, units, features, **kw):
    rng = np.random.default_rng(seed)
    layer = getattr(keras.layers, cls_name)(units, **kw)
    layer.build((None, None, features))
    weights = [(rng.normal(size=w.shape) * 0.5).astype(np.float32) for w in layer.get_weights()]
    layer.set_weights(weights)
    return layer, rng


def case(name, cls_name, title, seed, B=2, T=4, F=3, units=3, initial_state=False, mask=None, **kw):
    layer, rng = build(cls_name, seed, units, F, **kw)
    x = rng.normal(size=(B, T, F)).astype(np.float32)
    call_kw = {}
    inputs = {"inputs": x}
    names = ["kernel", "recurrent_kernel", "bias"]
    for n, w in zip(names, layer.get_weights()):
        inputs[n] = w
    if initial_state:
        states = [rng.normal(size=(B, units)).astype(np.float32) for _ in range(2 if cls_name == "LSTM" else 1)]
        call_kw["initial_state"] = states
        inputs["initial_state"] = np.stack(states)
    if mask is not None:
        m = np.array(mask, dtype=bool)
        call_kw["mask"] = m
        inputs["mask"] = m
    res = layer(x, **call_kw)
    res = res if isinstance(res, (list, tuple)) else [res]
    res = [keras.ops.convert_to_numpy(r) for r in res]
    expect = {"output": res[0]}
    if kw.get("return_state"):
        expect["state_h"] = res[1]
        if cls_name == "LSTM":
            expect["state_c"] = res[2]
    params = {"units": units}
    params.update(kw)
    params["dtype"] = "float32"
    src = (f"Keras {KV} (torch backend, float32), keras.layers.{cls_name}, tools/reference/interop_keras.py; "
           f"weights and inputs numpy default_rng({seed}) normals (weights ×0.5) set with set_weights")
    write_case("keras", name, f"keras.{cls_name}", title, src, ["interop", "keras", cls_name.lower()], params, inputs, expect, "1e-5")
    return layer, inputs, expect


MASK_MID = [[True, True, False, True], [True, False, False, False]]
MASK_END = [[True, True, True, False], [True, True, False, False]]

# SimpleRNN
case("simple_rnn_defaults", "SimpleRNN", "SimpleRNN with defaults: tanh, bias, last output only", 1)
case("simple_rnn_sequences_state_initial", "SimpleRNN", "SimpleRNN with return_sequences, return_state and an initial_state", 2,
     initial_state=True, return_sequences=True, return_state=True)
case("simple_rnn_no_bias_relu", "SimpleRNN", "SimpleRNN(activation='relu', use_bias=False)", 3, activation="relu", use_bias=False,
     return_sequences=True)
case("simple_rnn_go_backwards", "SimpleRNN", "SimpleRNN(go_backwards=True): read backwards, outputs in that (reversed) order", 4,
     go_backwards=True, return_sequences=True, return_state=True)
case("simple_rnn_mask", "SimpleRNN", "SimpleRNN with a mask (a hole in the middle, padding at the end): masked steps keep the state and repeat the previous output",
     5, mask=MASK_MID, return_sequences=True, return_state=True)

# LSTM
case("lstm_defaults", "LSTM", "LSTM with defaults: kernel column blocks i, f, c, o; last output only", 11)
case("lstm_sequences_state_initial", "LSTM", "LSTM with return_sequences, return_state and initial_state [h, c]", 12,
     initial_state=True, return_sequences=True, return_state=True)
case("lstm_no_bias", "LSTM", "LSTM(use_bias=False)", 13, use_bias=False, return_sequences=True)
case("lstm_activations", "LSTM", "LSTM(activation='softsign', recurrent_activation='hard_sigmoid')", 14, activation="softsign",
     recurrent_activation="hard_sigmoid", return_sequences=True, return_state=True)
case("lstm_go_backwards_mask", "LSTM", "LSTM with go_backwards and a padding mask: the backward read starts at the padding, which keeps the zero state",
     15, mask=MASK_END, go_backwards=True, return_sequences=True, return_state=True, initial_state=True)
case("lstm_mask_zero_output", "LSTM", "LSTM with a mask and zero_output_for_mask=True: masked steps output 0", 16, mask=MASK_MID,
     zero_output_for_mask=True, return_sequences=True, return_state=True)

# GRU
case("gru_defaults_reset_after", "GRU", "GRU with defaults: reset_after=True, bias (2, 3*units), blocks z, r, h; last output", 21)
case("gru_reset_before", "GRU", "GRU(reset_after=False): reset applied to h before the recurrent matmul, bias (3*units,)", 22,
     reset_after=False, return_sequences=True, return_state=True, initial_state=True)
case("gru_no_bias", "GRU", "GRU(use_bias=False)", 23, use_bias=False, return_sequences=True)
case("gru_go_backwards_initial_state", "GRU", "GRU(go_backwards=True) with an initial_state", 24, go_backwards=True, initial_state=True,
     return_sequences=True, return_state=True)
case("gru_mask", "GRU", "GRU with a mask (hole in the middle, padding at the end)", 25, mask=MASK_MID, return_sequences=True,
     return_state=True)
_, kin, kexp = case("gru_reset_before_relu_linear", "GRU",
                    "GRU(reset_after=False, activation='relu', recurrent_activation='linear')", 26, reset_after=False,
                    activation="relu", recurrent_activation="linear", return_sequences=True)


# Cross-convention: Keras weights in ONNX's and PyTorch's layouts.
def cross_keras_gru_as_onnx(seed):
    layer, inputs, expect = case("_tmp", "GRU", "tmp", seed, reset_after=False, return_sequences=True, return_state=True,
                                 initial_state=True)
    os.remove(os.path.join(ROOT, "keras", "_tmp.yaml"))
    k, rk, b = inputs["kernel"], inputs["recurrent_kernel"], inputs["bias"]
    H = rk.shape[0]
    onnx_in = {"X": inputs["inputs"].transpose(1, 0, 2), "W": k.T[None], "R": rk.T[None],
               "B": np.concatenate([b, np.zeros_like(b)])[None], "initial_h": inputs["initial_state"]}
    exp = {"Y": expect["output"].transpose(1, 0, 2)[:, None], "Y_h": expect["state_h"][None]}
    src = (f"Keras {KV} (torch backend, float32), keras.layers.GRU(reset_after=False), tools/reference/interop_keras.py; "
           f"weights numpy default_rng({seed}) normals, moved into ONNX's layout: W = kernel^T, R = recurrent_kernel^T (blocks z, r, h in both), B = [bias, 0]")
    write_case("cross", "keras_gru_as_onnx_gru", "onnx.GRU",
               "A Keras GRU(reset_after=False) run as onnx.GRU (linear_before_reset 0): W = kernel^T, R = recurrent_kernel^T, B = [bias, zeros]",
               src, ["interop", "cross", "gru"], {"hidden_size": H, "dtype": "float32"}, onnx_in, exp, "1e-5")


def cross_keras_lstm_as_torch(seed):
    layer, inputs, expect = case("_tmp", "LSTM", "tmp", seed, return_sequences=True, return_state=True, initial_state=True)
    os.remove(os.path.join(ROOT, "keras", "_tmp.yaml"))
    k, rk, b = inputs["kernel"], inputs["recurrent_kernel"], inputs["bias"]
    H = rk.shape[0]
    torch_in = {"input": inputs["inputs"], "h_0": inputs["initial_state"][0][None], "c_0": inputs["initial_state"][1][None],
                "weight_ih_l0": k.T, "weight_hh_l0": rk.T, "bias_ih_l0": b, "bias_hh_l0": np.zeros_like(b)}
    exp = {"output": expect["output"], "h_n": expect["state_h"][None], "c_n": expect["state_c"][None]}
    src = (f"Keras {KV} (torch backend, float32), keras.layers.LSTM, tools/reference/interop_keras.py; weights numpy default_rng({seed}) "
           f"normals, moved into PyTorch's layout: weight_ih = kernel^T, weight_hh = recurrent_kernel^T (blocks i, f, g, o in both), bias_ih = bias, bias_hh = 0")
    write_case("cross", "keras_lstm_as_torch_lstm", "torch.LSTM",
               "A Keras LSTM run as torch.LSTM(batch_first=True): weight_ih = kernel^T, weight_hh = recurrent_kernel^T, bias_ih = bias, bias_hh = 0",
               src, ["interop", "cross", "lstm"],
               {"input_size": k.shape[0], "hidden_size": H, "batch_first": True, "dtype": "float32"}, torch_in, exp, "1e-5")


cross_keras_gru_as_onnx(81)
cross_keras_lstm_as_torch(82)


def cross_keras_gru_as_torch(seed):
    layer, inputs, expect = case("_tmp", "GRU", "tmp", seed, return_sequences=True, return_state=True, initial_state=True)
    os.remove(os.path.join(ROOT, "keras", "_tmp.yaml"))
    k, rk, b = inputs["kernel"], inputs["recurrent_kernel"], inputs["bias"]
    H = rk.shape[0]
    order = [1, 0, 2]  # Keras blocks z, r, h -> PyTorch r, z, n

    def rows(m):
        return np.concatenate([m[j * H:(j + 1) * H] for j in order], axis=0)

    torch_in = {"input": inputs["inputs"], "h_0": inputs["initial_state"][0][None],
                "weight_ih_l0": rows(k.T), "weight_hh_l0": rows(rk.T), "bias_ih_l0": rows(b[0]), "bias_hh_l0": rows(b[1])}
    exp = {"output": expect["output"], "h_n": expect["state_h"][None]}
    src = (f"Keras {KV} (torch backend, float32), keras.layers.GRU (reset_after=True), tools/reference/interop_keras.py; weights numpy "
           f"default_rng({seed}) normals, moved into PyTorch's layout: weight_ih = kernel^T and weight_hh = recurrent_kernel^T with blocks "
           f"z, r, h reordered to r, z, n; bias_ih = bias[0], bias_hh = bias[1] reordered likewise")
    write_case("cross", "keras_gru_as_torch_gru", "torch.GRU",
               "A Keras GRU(reset_after=True) run as torch.GRU(batch_first=True): transposed kernels, blocks z, r, h -> r, z, n, bias rows -> bias_ih, bias_hh",
               src, ["interop", "cross", "gru"],
               {"input_size": k.shape[0], "hidden_size": H, "batch_first": True, "dtype": "float32"}, torch_in, exp, "1e-5")


cross_keras_gru_as_torch(83)
