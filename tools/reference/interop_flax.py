"""Reference cases for flax.LSTMCell, flax.OptimizedLSTMCell, flax.GRUCell, flax.SimpleCell from Flax on JAX (CPU).

Builds real Flax modules, NNX (flax.nnx.RNN / flax.nnx.Bidirectional around a cell) or linen
(flax.linen.RNN / Bidirectional), sets every parameter to seeded numpy default_rng normals times
`scale` (biases included: Flax's zero biases would hide where each one lives), calls the module with
optional initial_carry, seq_lengths, reverse, keep_order, time_major, return_carry, and writes

  cases/interop/flax/*.yaml        forward, float32: expect = the module's outputs (and carry)
  cases/interop/grad/flax_*.yaml   float64 (jax_enable_x64): loss = Σ doutputs⊙outputs + Σ dcarry⊙carry,
                                   expect = outputs, carry, loss and jax.grad's gradients of the
                                   inputs, the initial carry and every parameter; plus a gradcheck
  cases/interop/cross/flax_*_as_torch_*.yaml   a Flax module's tensors moved into torch.nn's layout
                                   (rules in `cross` below) expect Flax's numbers from torch.* kernels

Parameters are named by their path in the wrapper's state joined with dots (nnx.to_flat_state;
linen: flax.traverse_util.flatten_dict(params, sep=".")): cell.ii.kernel, forward_rnn.cell.dense_i.bias.
A carry is written stacked: LSTM (c, h) -> (2, batch, H); Bidirectional (forward, backward) in front.

Usage (a throwaway venv with `pip install "jax[cpu]" flax`): python tools/reference/interop_flax.py
(flax 0.12.8, jax 0.10.2, numpy 2.4.6)
"""
import os

import jax

jax.config.update("jax_enable_x64", True)

import flax
import flax.linen as linen
import jax.numpy as jnp
import numpy as np
from flax import nnx
from flax.traverse_util import flatten_dict, unflatten_dict

from interop_common import ROOT, write_case

FV, JV = flax.__version__, jax.__version__
ACT = {"tanh": jnp.tanh, "sigmoid": jax.nn.sigmoid, "relu": jax.nn.relu, "softsign": jax.nn.soft_sign,
       "softplus": jax.nn.softplus, "elu": jax.nn.elu, "hard_sigmoid": jax.nn.hard_sigmoid, "identity": lambda v: v}


def cell_kwargs(cell_name, gate_fn, activation_fn, residual):
    kw = {"activation_fn": ACT[activation_fn]}
    if cell_name != "SimpleCell":
        kw["gate_fn"] = ACT[gate_fn]
    elif residual:
        kw["residual"] = True
    return kw


def stack_carry(carry, lstm, bidirectional):
    one = (lambda c: np.stack([np.asarray(c[0]), np.asarray(c[1])])) if lstm else np.asarray
    return np.stack([one(carry[0]), one(carry[1])]) if bidirectional else one(carry)


def unstack_carry(a, lstm, bidirectional):
    one = (lambda c: (c[0], c[1])) if lstm else (lambda c: c)
    return (one(a[0]), one(a[1])) if bidirectional else one(a)


class Module:
    """A Flax module (NNX or linen) as a function of its flat parameters."""

    def __init__(self, api, cell_name, bidirectional, I, H, dtype, kw):
        self.api, self.bidirectional = api, bidirectional
        if api == "nnx":
            # dtype given: NNX's SimpleCell computes in float32 by default (dtype=jnp.float32), the other cells in the inputs' dtype.
            mk = lambda seed: nnx.RNN(getattr(nnx, cell_name)(I, H, dtype=dtype, param_dtype=dtype, rngs=nnx.Rngs(seed), **kw))
            m = nnx.Bidirectional(mk(0), mk(1)) if bidirectional else mk(0)
            self.graphdef, state, self.rest = nnx.split(m, nnx.Param, ...)
            self.shapes = {".".join(map(str, p)): v.get_value().shape for p, v in nnx.to_flat_state(state)}
        else:
            mk = lambda: linen.RNN(getattr(linen, cell_name)(H, dtype=dtype, param_dtype=dtype, **kw))
            self.m = linen.Bidirectional(mk(), mk()) if bidirectional else mk()
            v = self.m.init(jax.random.key(0), jnp.zeros((1, 2, I), dtype))
            self.shapes = {k: a.shape for k, a in flatten_dict(v["params"], sep=".").items()}

    def __call__(self, params, x, carry0, seq_lengths, call_kw):
        if self.api == "nnx":
            state = nnx.State(unflatten_dict({tuple(k.split(".")): nnx.Param(v) for k, v in params.items()}))
            m = nnx.merge(self.graphdef, state, self.rest)
            return m(x, initial_carry=carry0, seq_lengths=seq_lengths, **call_kw)
        p = unflatten_dict({tuple(k.split(".")): v for k, v in params.items()})
        return self.m.apply({"params": p}, x, initial_carry=carry0, seq_lengths=seq_lengths, **call_kw)


def case(name, cell_name, title, seed, api="nnx", bidirectional=False, B=2, T=4, I=3, H=3, batched=True, time_major=False,
         return_carry=False, reverse=False, keep_order=False, seq_lengths=None, initial_carry=False, gate_fn="sigmoid",
         activation_fn="tanh", residual=False, scale=0.5, grad=False, upstream=("outputs", "carry"), folder=None):
    dtype = np.float64 if grad else np.float32
    rng = np.random.default_rng(seed)
    lstm = cell_name in ("LSTMCell", "OptimizedLSTMCell")
    mod = Module(api, cell_name, bidirectional, I, H, dtype, cell_kwargs(cell_name, gate_fn, activation_fn, residual))
    params = {k: (rng.normal(size=s) * scale).astype(dtype) for k, s in sorted(mod.shapes.items())}
    lead = (B,) if batched else ()
    x = rng.normal(size=((T,) + lead if time_major else lead + (T,)) + (I,)).astype(dtype)
    carry_shape = ((2,) if bidirectional else ()) + ((2,) if lstm else ()) + lead + (H,)
    carry0 = rng.normal(size=carry_shape).astype(dtype) if initial_carry else None
    lengths = None if seq_lengths is None else np.array(seq_lengths, dtype=np.int64)
    call_kw = {"return_carry": return_carry, "time_major": time_major}
    if not bidirectional:
        call_kw.update(reverse=reverse, keep_order=keep_order)

    def forward(ps, xx, c0):
        res = mod(ps, xx, None if c0 is None else unstack_carry(c0, lstm, bidirectional),
                  None if lengths is None else jnp.asarray(lengths), call_kw)
        carry, outputs = res if return_carry else (None, res)
        return outputs, carry

    outputs, carry = forward({k: jnp.asarray(v) for k, v in params.items()}, jnp.asarray(x), None if carry0 is None else jnp.asarray(carry0))
    assert outputs.dtype == dtype
    inputs = {"inputs": x}
    if carry0 is not None:
        inputs["initial_carry"] = carry0
    if lengths is not None:
        inputs["seq_lengths"] = lengths if batched else np.int64(lengths)
    inputs.update(params)
    expect = {"outputs": np.asarray(outputs)}
    if return_carry:
        expect["carry"] = stack_carry(carry, lstm, bidirectional)
    p = {"in_features": I, "hidden_features": H}
    if api != "nnx":
        p["api"] = api
    if bidirectional:
        p["wrapper"] = "Bidirectional"
    for k, v in [("time_major", time_major), ("return_carry", return_carry), ("reverse", reverse), ("keep_order", keep_order),
                 ("residual", residual)]:
        if v:
            p[k] = v
    if gate_fn != "sigmoid":
        p["gate_fn"] = gate_fn
    if activation_fn != "tanh":
        p["activation_fn"] = activation_fn
    wrapper = f"{api}.Bidirectional({api}.RNN({cell_name}), {api}.RNN({cell_name}))" if bidirectional else f"{api}.RNN({cell_name})"
    tags = ["interop", "flax", cell_name.lower()]
    if not grad:
        p["dtype"] = "float32"
        src = (f"Flax {FV} with JAX {JV} (CPU, float32), flax.{wrapper}, tools/reference/interop_flax.py; "
               f"parameters and inputs numpy default_rng({seed}) normals (parameters ×{scale})")
        write_case(folder or "flax", name, f"flax.{cell_name}", title, src, tags, p, inputs, expect, "1e-5")
        return params, inputs, expect
    ups = {"d" + k: rng.normal(size=v.shape) for k, v in expect.items() if k in upstream}

    def loss_fn(ps, xx, c0):
        o, c = forward(ps, xx, c0)
        total = jnp.sum(jnp.asarray(ups["doutputs"]) * o) if "doutputs" in ups else 0.0
        if "dcarry" in ups:
            total = total + jnp.sum(jnp.asarray(ups["dcarry"]) * jnp.asarray(stack_carry_jnp(c, lstm, bidirectional)))
        return total

    argnums = (0, 1, 2) if carry0 is not None else (0, 1)
    args = ({k: jnp.asarray(v) for k, v in params.items()}, jnp.asarray(x), None if carry0 is None else jnp.asarray(carry0))
    loss, g = jax.value_and_grad(loss_fn, argnums=argnums)(*args)
    inputs.update(ups)
    expect = {"loss": np.asarray(loss), **expect, "dinputs": np.asarray(g[1])}
    if carry0 is not None:
        expect["dinitial_carry"] = np.asarray(g[2])
    for k in sorted(params):
        expect["d" + k] = np.asarray(g[0][k])
    p["dtype"] = "float64"
    src = (f"Flax {FV} with JAX {JV} (CPU, float64 with jax_enable_x64) flax.{wrapper} and jax.value_and_grad, "
           f"tools/reference/interop_flax.py; parameters, inputs and upstream gradients numpy default_rng({seed}) normals (parameters ×{scale})")
    write_case("grad", name, f"flax.{cell_name}", title, src, ["gradients", "gradcheck", "flax", cell_name.lower()],
               p, inputs, expect, "1e-12", np.float64)
    wrt = ["inputs"] + (["initial_carry"] if carry0 is not None else []) + sorted(params)
    with open(f"{ROOT}/grad/{name}.yaml", "a") as fh:
        fh.write(f"gradcheck: {{wrt: [{', '.join(wrt)}], eps: 1e-6, abs: 1e-7, rel: 1e-5}}\n")


def stack_carry_jnp(carry, lstm, bidirectional):
    one = (lambda c: jnp.stack([c[0], c[1]])) if lstm else (lambda c: c)
    return jnp.stack([one(carry[0]), one(carry[1])]) if bidirectional else one(carry)


if __name__ == "__main__":
    # Forward, float32 (NNX unless api="linen").
    case("lstm_rnn_carry_initial", "LSTMCell", "nnx.RNN(LSTMCell) with initial_carry (c, h) and return_carry", 1,
         initial_carry=True, return_carry=True)
    case("lstm_rnn_reverse_seq_lengths", "LSTMCell",
         "nnx.RNN(LSTMCell, reverse=True) with seq_lengths [4, 2]: each sequence flipped within its length, outputs in processing order, padding runs on",
         2, reverse=True, seq_lengths=[4, 2], return_carry=True)
    case("lstm_rnn_reverse_keep_order_seq_lengths", "LSTMCell",
         "nnx.RNN(LSTMCell, reverse=True, keep_order=True) with seq_lengths [3, 1]: outputs flipped back to time order", 3,
         reverse=True, keep_order=True, seq_lengths=[3, 1], return_carry=True, initial_carry=True)
    case("optimized_lstm_time_major", "OptimizedLSTMCell",
         "nnx.RNN(OptimizedLSTMCell, time_major=True): dense_i (in, 4H) no bias, dense_h (H, 4H) with the bias, blocks i, f, g, o", 4,
         time_major=True, return_carry=True, initial_carry=True)
    case("gru_rnn_seq_lengths_zero", "GRUCell",
         "nnx.RNN(GRUCell) with seq_lengths [3, 0]: a zero length takes the carry of the last step (index −1), outputs not zeroed", 5,
         seq_lengths=[3, 0], return_carry=True, initial_carry=True)
    case("gru_bidirectional_seq_lengths", "GRUCell",
         "nnx.Bidirectional(RNN(GRUCell), RNN(GRUCell)) with seq_lengths [4, 2]: outputs forward ‖ backward, carry (forward, backward)", 6,
         bidirectional=True, seq_lengths=[4, 2], return_carry=True)
    case("gru_rnn_no_carry_gate_hard_sigmoid", "GRUCell",
         "nnx.RNN(GRUCell, gate_fn=hard_sigmoid, activation_fn=softsign): no recurrent bias anywhere in NNX's GRU", 7,
         gate_fn="hard_sigmoid", activation_fn="softsign")
    case("simple_rnn_residual_unbatched", "SimpleCell",
         "nnx.RNN(SimpleCell(residual=True)) on (time, features) without a batch axis: h' = tanh(x·W_i + b_i + h·W_h + h)", 8,
         batched=False, residual=True, return_carry=True, initial_carry=True)
    case("simple_bidirectional_relu", "SimpleCell", "nnx.Bidirectional(RNN(SimpleCell(activation_fn=relu)), ...) with initial_carry", 9,
         bidirectional=True, activation_fn="relu", return_carry=True, initial_carry=True)
    case("lstm_rnn_activations_elu_sigmoid", "LSTMCell", "nnx.RNN(LSTMCell(gate_fn=sigmoid, activation_fn=elu)) with initial_carry", 10,
         activation_fn="elu", return_carry=True, initial_carry=True)
    case("simple_rnn_identity", "SimpleCell", "nnx.RNN(SimpleCell(activation_fn=identity)): a linear recurrence", 15, activation_fn="identity",
         return_carry=True)
    case("gru_rnn_sigmoid_candidate", "GRUCell", "nnx.RNN(GRUCell(activation_fn=sigmoid))", 16, activation_fn="sigmoid", return_carry=True)
    case("linen_lstm_rnn_reverse", "LSTMCell", "linen.RNN(LSTMCell, reverse=True): the forget kernel is `if` in linen (`if_` in NNX)", 11,
         api="linen", reverse=True, return_carry=True, initial_carry=True)
    case("linen_optimized_lstm_bidirectional", "OptimizedLSTMCell",
         "linen.Bidirectional(RNN(OptimizedLSTMCell), ...) with seq_lengths: per-gate ii…ho parameters as LSTMCell's (NNX fuses them)", 12,
         api="linen", bidirectional=True, seq_lengths=[2, 4], return_carry=True)
    case("linen_gru_rnn", "GRUCell", "linen.RNN(GRUCell): per-gate ir, iz, in (with biases), hr, hz, hn (hn with a bias, inside the reset)", 13,
         api="linen", return_carry=True, initial_carry=True)
    case("linen_simple_rnn_time_major", "SimpleCell", "linen.RNN(SimpleCell, time_major=True): i (kernel, bias) and h (kernel)", 14,
         api="linen", time_major=True, return_carry=True)

    # Backward, float64: every parameter path of every cell, API and wrapper is gradchecked.
    G = dict(grad=True)
    case("flax_lstm_rnn_seq_lengths_carry", "LSTMCell", "nnx.RNN(LSTMCell) backward: seq_lengths [4, 2], initial_carry, doutputs and dcarry",
         101, seq_lengths=[4, 2], return_carry=True, initial_carry=True, **G)
    case("flax_lstm_bidirectional_seq_lengths", "LSTMCell", "nnx.Bidirectional(LSTMCell) backward: seq_lengths [3, 0], initial_carry, return_carry",
         102, bidirectional=True, seq_lengths=[3, 0], return_carry=True, initial_carry=True, **G)
    case("flax_lstm_linen_reverse_keep_order", "LSTMCell", "linen.RNN(LSTMCell, reverse=True, keep_order=True) backward, seq_lengths [2, 4]",
         103, api="linen", reverse=True, keep_order=True, seq_lengths=[2, 4], return_carry=True, initial_carry=True, **G)
    case("flax_lstm_linen_bidirectional_saturated", "LSTMCell", "linen.Bidirectional(LSTMCell) backward, parameters std 3 (saturated gates)",
         104, api="linen", bidirectional=True, scale=3.0, return_carry=True, **G)
    case("flax_optimized_lstm_reverse_seq_lengths", "OptimizedLSTMCell",
         "nnx.RNN(OptimizedLSTMCell, reverse=True) backward: seq_lengths [4, 1], outputs in processing order, dcarry only", 111,
         reverse=True, seq_lengths=[4, 1], return_carry=True, initial_carry=True, upstream=("carry",), **G)
    case("flax_optimized_lstm_bidirectional_time_major", "OptimizedLSTMCell", "nnx.Bidirectional(OptimizedLSTMCell, time_major=True) backward",
         112, bidirectional=True, time_major=True, return_carry=True, initial_carry=True, **G)
    case("flax_optimized_lstm_linen_unbatched", "OptimizedLSTMCell", "linen.RNN(OptimizedLSTMCell) backward without a batch axis, seq_lengths 3",
         113, api="linen", batched=False, seq_lengths=3, return_carry=True, initial_carry=True, **G)
    case("flax_optimized_lstm_linen_bidirectional", "OptimizedLSTMCell", "linen.Bidirectional(OptimizedLSTMCell) backward, seq_lengths [1, 4]",
         114, api="linen", bidirectional=True, seq_lengths=[1, 4], return_carry=True, initial_carry=True, **G)
    case("flax_gru_rnn_reverse_keep_order", "GRUCell", "nnx.RNN(GRUCell, reverse=True, keep_order=True) backward, seq_lengths [4, 0]",
         121, reverse=True, keep_order=True, seq_lengths=[4, 0], return_carry=True, initial_carry=True, **G)
    case("flax_gru_bidirectional_saturated", "GRUCell", "nnx.Bidirectional(GRUCell) backward, parameters std 3 (saturated gates), initial_carry",
         122, bidirectional=True, scale=3.0, return_carry=True, initial_carry=True, **G)
    case("flax_gru_linen_seq_lengths", "GRUCell", "linen.RNN(GRUCell) backward (hn.bias inside the reset), seq_lengths [2, 3]",
         123, api="linen", seq_lengths=[2, 3], return_carry=True, initial_carry=True, **G)
    case("flax_gru_linen_bidirectional_time_major", "GRUCell", "linen.Bidirectional(GRUCell, time_major=True) backward, seq_lengths [4, 3]",
         124, api="linen", bidirectional=True, time_major=True, seq_lengths=[4, 3], return_carry=True, **G)
    case("flax_simple_rnn_residual_seq_lengths", "SimpleCell", "nnx.RNN(SimpleCell(residual=True)) backward, seq_lengths [3, 4]",
         131, residual=True, seq_lengths=[3, 4], return_carry=True, initial_carry=True, **G)
    case("flax_simple_bidirectional_unbatched", "SimpleCell", "nnx.Bidirectional(SimpleCell) backward without a batch axis, initial_carry",
         132, bidirectional=True, batched=False, return_carry=True, initial_carry=True, **G)
    case("flax_simple_linen_reverse", "SimpleCell", "linen.RNN(SimpleCell(activation_fn=softplus), reverse=True) backward, doutputs only",
         133, api="linen", reverse=True, activation_fn="softplus", initial_carry=True, **G)
    case("flax_simple_linen_bidirectional_residual", "SimpleCell", "linen.Bidirectional(SimpleCell(residual=True)) backward, seq_lengths [2, 0]",
         134, api="linen", bidirectional=True, residual=True, seq_lengths=[2, 0], return_carry=True, initial_carry=True, **G)

    # Cross: NNX tensors in torch.nn's layout (batch_first=True, one layer):
    #   LSTMCell: weight_ih rows = [ii.kernelᵀ; if_.kernelᵀ; ig.kernelᵀ; io.kernelᵀ] (i, f, g, o in both), weight_hh likewise from
    #             hi…ho, bias_ih = 0, bias_hh = [hi.bias, hf.bias, hg.bias, ho.bias]; h_0 = carry[1], c_0 = carry[0] (Flax's carry is (c, h));
    #             h_n = carry h, c_n = carry c.
    #   GRUCell:  weight_ih = dense_i.kernelᵀ, weight_hh = dense_h.kernelᵀ (r, z, n in both), bias_ih = dense_i.bias, bias_hh = 0
    #             (NNX's GRU has no recurrent bias; linen's hn.bias would go to bias_hh's n block).
    #   Bidirectional: forward_rnn -> …_l0, backward_rnn -> …_l0_reverse; outputs concatenated forward ‖ backward in both;
    #             Flax's carry (forward, backward) -> h_n[0], h_n[1]. Full-length sequences only (with seq_lengths Flax runs padding on, PyTorch zeros it).
    def run_only(cell_name, seed, **kw):
        """The module's parameters, inputs and outputs, without a case of their own (the cross case is written instead)."""
        out = case("_tmp", cell_name, "tmp", seed, return_carry=True, initial_carry=True, folder="cross", **kw)
        os.remove(os.path.join(ROOT, "cross", "_tmp.yaml"))
        return out

    def cross_lstm(seed):
        params, inputs, expect = run_only("LSTMCell", seed)
        k = lambda names: np.concatenate([params["cell." + n + ".kernel"].T for n in names])
        H = params["cell.hi.bias"].shape[0]
        torch_in = {"input": inputs["inputs"], "h_0": inputs["initial_carry"][1][None], "c_0": inputs["initial_carry"][0][None],
                    "weight_ih_l0": k(["ii", "if_", "ig", "io"]), "weight_hh_l0": k(["hi", "hf", "hg", "ho"]),
                    "bias_ih_l0": np.zeros(4 * H, np.float32),
                    "bias_hh_l0": np.concatenate([params[f"cell.{n}.bias"] for n in ["hi", "hf", "hg", "ho"]])}
        exp = {"output": expect["outputs"], "h_n": expect["carry"][1][None], "c_n": expect["carry"][0][None]}
        src = (f"Flax {FV} with JAX {JV} (CPU, float32), flax.nnx.RNN(LSTMCell), tools/reference/interop_flax.py; parameters numpy "
               f"default_rng({seed}) normals, moved into torch.nn's layout by the rules in the script")
        write_case("cross", "flax_lstm_as_torch_lstm", "torch.LSTM",
                   "A Flax nnx LSTMCell run as torch.LSTM(batch_first=True): kernels transposed and stacked i, f, g, o; the h-side biases -> bias_hh; carry (c, h) -> c_0, h_0",
                   src, ["interop", "cross", "flax", "lstm"], {"input_size": 3, "hidden_size": H, "batch_first": True, "dtype": "float32"},
                   torch_in, exp, "1e-5")

    def cross_gru_bidirectional(seed):
        params, inputs, expect = run_only("GRUCell", seed, bidirectional=True)
        H = params["forward_rnn.cell.dense_h.kernel"].shape[0]
        torch_in = {"input": inputs["inputs"], "h_0": inputs["initial_carry"]}
        for pre, suf in [("forward_rnn.cell.", ""), ("backward_rnn.cell.", "_reverse")]:
            torch_in["weight_ih_l0" + suf] = params[pre + "dense_i.kernel"].T
            torch_in["weight_hh_l0" + suf] = params[pre + "dense_h.kernel"].T
            torch_in["bias_ih_l0" + suf] = params[pre + "dense_i.bias"]
            torch_in["bias_hh_l0" + suf] = np.zeros(3 * H, np.float32)
        exp = {"output": expect["outputs"], "h_n": expect["carry"]}
        src = (f"Flax {FV} with JAX {JV} (CPU, float32), flax.nnx.Bidirectional(RNN(GRUCell), RNN(GRUCell)), tools/reference/interop_flax.py; "
               f"parameters numpy default_rng({seed}) normals, moved into torch.nn's layout by the rules in the script")
        write_case("cross", "flax_gru_bidirectional_as_torch_gru", "torch.GRU",
                   "A Flax nnx Bidirectional GRUCell run as torch.GRU(bidirectional=True, batch_first=True): kernels transposed, dense_i.bias -> bias_ih, bias_hh = 0, backward_rnn -> _reverse",
                   src, ["interop", "cross", "flax", "gru"],
                   {"input_size": 3, "hidden_size": H, "batch_first": True, "bidirectional": True, "dtype": "float32"}, torch_in, exp, "1e-5")

    def cross_linen_gru(seed):
        params, inputs, expect = run_only("GRUCell", seed, api="linen")
        H = params["cell.hn.bias"].shape[0]
        k = lambda names: np.concatenate([params["cell." + n + ".kernel"].T for n in names])
        torch_in = {"input": inputs["inputs"], "h_0": inputs["initial_carry"][None],
                    "weight_ih_l0": k(["ir", "iz", "in"]), "weight_hh_l0": k(["hr", "hz", "hn"]),
                    "bias_ih_l0": np.concatenate([params[f"cell.{n}.bias"] for n in ["ir", "iz", "in"]]),
                    "bias_hh_l0": np.concatenate([np.zeros(2 * H, np.float32), params["cell.hn.bias"]])}
        exp = {"output": expect["outputs"], "h_n": expect["carry"][None]}
        src = (f"Flax {FV} with JAX {JV} (CPU, float32), flax.linen.RNN(GRUCell), tools/reference/interop_flax.py; parameters numpy "
               f"default_rng({seed}) normals, moved into torch.nn's layout by the rules in the script")
        write_case("cross", "flax_linen_gru_as_torch_gru", "torch.GRU",
                   "A Flax linen GRUCell run as torch.GRU(batch_first=True): per-gate kernels transposed and stacked r, z, n; input biases -> bias_ih; hn.bias -> bias_hh's n block",
                   src, ["interop", "cross", "flax", "gru"], {"input_size": 3, "hidden_size": H, "batch_first": True, "dtype": "float32"},
                   torch_in, exp, "1e-5")

    def cross_simple(seed):
        params, inputs, expect = run_only("SimpleCell", seed)
        H = params["cell.dense_i.bias"].shape[0]
        torch_in = {"input": inputs["inputs"], "h_0": inputs["initial_carry"][None],
                    "weight_ih_l0": params["cell.dense_i.kernel"].T, "weight_hh_l0": params["cell.dense_h.kernel"].T,
                    "bias_ih_l0": params["cell.dense_i.bias"], "bias_hh_l0": np.zeros(H, np.float32)}
        exp = {"output": expect["outputs"], "h_n": expect["carry"][None]}
        src = (f"Flax {FV} with JAX {JV} (CPU, float32), flax.nnx.RNN(SimpleCell), tools/reference/interop_flax.py; parameters numpy "
               f"default_rng({seed}) normals, moved into torch.nn's layout by the rules in the script")
        write_case("cross", "flax_simple_as_torch_rnn", "torch.RNN",
                   "A Flax nnx SimpleCell run as torch.RNN(batch_first=True): weight_ih = dense_i.kernel^T, weight_hh = dense_h.kernel^T, bias_ih = dense_i.bias, bias_hh = 0",
                   src, ["interop", "cross", "flax", "rnn"], {"input_size": 3, "hidden_size": H, "batch_first": True, "dtype": "float32"},
                   torch_in, exp, "1e-5")

    cross_lstm(95)
    cross_gru_bidirectional(96)
    cross_linen_gru(97)
    cross_simple(98)
