"""Gradient reference cases for keras.SimpleRNN, keras.LSTM, keras.GRU: Keras 3 (torch backend) + autograd.

Builds real keras.layers layers in float64 with seeded random weights (numpy default_rng normals
times `scale`, biases included), calls them on torch tensors that require grad (inputs, initial
states; float64 throughout, see the BIT64_TO_BIT32_DTYPE note below) with an optional mask, backpropagates loss = Σ doutput⊙output + Σ dstate_h⊙state_h
(+ Σ dstate_c⊙state_c) with torch autograd, and writes cases/interop/grad/keras_*.yaml whose expect:
values are the .grad of the layer's kernel, recurrent_kernel, bias (torch Parameters under the
torch backend), the inputs and the initial states, plus a gradcheck over the tensor inputs.

Usage: KERAS_BACKEND=torch python3 tools/reference/grad_keras.py   (keras 3.15.1, torch 2.15.0)
"""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np
import torch
from keras.src.backend.common import dtypes as keras_dtypes

# Keras' type promotion canonicalizes float64 to float32 on every backend but TensorFlow (as JAX
# does without x64), so keras.ops.matmul on two float64 tensors computes in float32. Map float64 to
# itself, as the TensorFlow backend does, so that the float64 layer runs in float64 throughout.
keras_dtypes.BIT64_TO_BIT32_DTYPE["float64"] = "float64"

from interop_common import ROOT, write_case

KV, TV = keras.__version__, torch.__version__.split("+")[0]


def case(name, cls_name, title, seed, B=2, T=4, F=3, units=3, scale=0.5, mask=None, initial_state=True,
         upstream=("output", "state_h", "state_c"), notes=None, **kw):
    rng = np.random.default_rng(seed)
    layer = getattr(keras.layers, cls_name)(units, dtype="float64", **kw)
    layer.build((None, None, F))
    layer.set_weights([rng.normal(size=w.shape) * scale for w in layer.get_weights()])
    x = torch.tensor(rng.normal(size=(B, T, F)), requires_grad=True)
    inputs = {"inputs": x}
    for n, w in zip(["kernel", "recurrent_kernel", "bias"], layer.get_weights()):
        inputs[n] = w
    call_kw = {}
    states = []
    if initial_state:
        states = [torch.tensor(rng.normal(size=(B, units)), requires_grad=True) for _ in range(2 if cls_name == "LSTM" else 1)]
        call_kw["initial_state"] = states
        inputs["initial_state"] = torch.stack(states)
    if mask is not None:
        call_kw["mask"] = torch.tensor(mask)
        inputs["mask"] = np.array(mask, dtype=bool)
    res = layer(x, **call_kw)
    res = list(res) if isinstance(res, (list, tuple)) else [res]
    outs = dict(zip(["output", "state_h", "state_c"], res))
    ups = {"d" + k: torch.tensor(rng.normal(size=tuple(v.shape))) for k, v in outs.items() if k in upstream}
    loss = sum((ups["d" + k] * outs[k]).sum() for k in outs if k in upstream)
    loss.backward()
    inputs.update(ups)
    grads = {w.path.split("/")[-1]: w.value.grad for w in layer.weights}
    expect = {"loss": loss, "output": outs["output"], "dinputs": x.grad,
              "dkernel": grads["kernel"], "drecurrent_kernel": grads["recurrent_kernel"]}
    if "bias" in grads:
        expect["dbias"] = grads["bias"]
    if states:
        expect["dinitial_state"] = torch.stack([s.grad for s in states])
    to_np = lambda d: {k: (v.detach().numpy() if isinstance(v, torch.Tensor) else v) for k, v in d.items()}
    params = {"units": units}
    params.update(kw)
    params["dtype"] = "float64"
    src = (f"Keras {KV} (torch backend, float64 with float64 type promotion) keras.layers.{cls_name} with PyTorch {TV} autograd, "
           f"tools/reference/grad_keras.py; weights and inputs numpy default_rng({seed}) normals")
    write_case("grad", name, f"keras.{cls_name}", title, src, ["gradients", "gradcheck", "keras", cls_name.lower()],
               params, to_np(inputs), to_np(expect), "1e-12", np.float64, notes)
    wrt = ["inputs", "kernel", "recurrent_kernel"] + (["bias"] if "bias" in grads else [])
    with open(f"{ROOT}/grad/{name}.yaml", "a") as fh:
        fh.write(f"gradcheck: {{wrt: [{', '.join(wrt)}], eps: 1e-6, abs: 1e-7, rel: 1e-5}}\n")


MASK = [[True, True, False, True], [False, True, True, False]]
case("keras_simple_rnn_mask_sequences_state", "SimpleRNN",
     "SimpleRNN backward: mask (masked steps repeat the previous output), return_sequences, return_state, initial_state",
     301, mask=MASK, return_sequences=True, return_state=True)
case("keras_lstm_go_backwards_mask_state", "LSTM",
     "LSTM backward: go_backwards, mask, last output only, return_state (doutput, dstate_h, dstate_c)",
     302, mask=MASK, go_backwards=True, return_state=True)
case("keras_lstm_saturated_zero_output_for_mask", "LSTM",
     "LSTM backward: weights std 3 (saturated gates), mask with zero_output_for_mask, return_sequences",
     303, scale=3.0, mask=MASK, return_sequences=True, zero_output_for_mask=True, initial_state=False)
case("keras_gru_reset_after_mask", "GRU",
     "GRU backward: reset_after (bias (2, 3*units)), mask, return_sequences, initial_state",
     304, mask=MASK, return_sequences=True)
case("keras_gru_reset_before_go_backwards_saturated", "GRU",
     "GRU backward: reset_after false, go_backwards, weights std 3 (saturated gates), return_sequences and return_state",
     305, scale=3.0, reset_after=False, go_backwards=True, return_sequences=True, return_state=True)
