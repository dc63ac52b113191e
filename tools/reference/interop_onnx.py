"""Reference cases for onnx.RNN, onnx.LSTM, onnx.GRU from ONNX Runtime (and cross-convention cases).

Builds one-node ONNX models (opset 22) with onnx.helper, runs them with ONNX Runtime's CPU provider
in float32, and writes cases/interop/onnx/*.yaml whose expect: values are ONNX Runtime's outputs
(layout 1, which ONNX Runtime's CPU kernels reject, runs in onnx.reference.ReferenceEvaluator).
Weights and inputs: numpy.random.default_rng(seed) normals (weights scaled by 0.5), float32.
Cross-convention cases (cases/interop/cross/) take a PyTorch layer's tensors, reorder the gate
blocks into ONNX's order, and expect PyTorch's own outputs.

Usage: python3 tools/reference/interop_onnx.py   (onnx 1.23.2, onnxruntime 1.31.1, torch 2.15.0)
"""
import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

from interop_common import write_case

OV, RV = onnx.__version__, ort.__version__
TOL = "1e-5"
GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def run_ort(op, feeds, attrs, n_out):
    names = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"][: (8 if op == "LSTM" else 6)]
    node_inputs = [n if n in feeds else "" for n in names]
    while node_inputs and node_inputs[-1] == "":
        node_inputs.pop()
    outs = ["Y", "Y_h", "Y_c"][:n_out]
    node = helper.make_node(op, node_inputs, outs, **attrs)
    graph_inputs = []
    for n in node_inputs:
        if not n:
            continue
        v = feeds[n]
        et = TensorProto.INT32 if n == "sequence_lens" else TensorProto.FLOAT
        graph_inputs.append(helper.make_tensor_value_info(n, et, list(v.shape)))
    graph = helper.make_graph([node], op.lower(), graph_inputs,
                              [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outs])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)])
    model.ir_version = 10
    if attrs.get("layout", 0) == 1:
        # ONNX Runtime's CPU kernels reject layout 1; the ONNX reference implementation runs it.
        res = ReferenceEvaluator(model).run(None, {k: feeds[k] for k in node_inputs if k})
    else:
        sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        res = sess.run(outs, {k: feeds[k] for k in node_inputs if k})
    return dict(zip(outs, res))


def case(name, op, title, seed, T=4, N=2, I=3, H=3, bias=True, h0=False, c0=False, peep=False, lens=None,
         direction="forward", layout=0, attrs=None, notes=None):
    rng = np.random.default_rng(seed)
    D = 2 if direction == "bidirectional" else 1
    G = GATES[op]
    f32 = lambda *s, scale=1.0: (rng.normal(size=s) * scale).astype(np.float32)
    feeds = {"X": f32(N, T, I) if layout else f32(T, N, I), "W": f32(D, G * H, I, scale=0.5),
             "R": f32(D, G * H, H, scale=0.5)}
    if bias:
        feeds["B"] = f32(D, 2 * G * H, scale=0.5)
    if lens is not None:
        feeds["sequence_lens"] = np.array(lens, dtype=np.int32)
    if h0:
        feeds["initial_h"] = f32(N, D, H) if layout else f32(D, N, H)
    if c0:
        feeds["initial_c"] = f32(N, D, H) if layout else f32(D, N, H)
    if peep:
        feeds["P"] = f32(D, 3 * H, scale=0.5)
    a = dict(attrs or {})
    if direction != "forward":
        a["direction"] = direction
    if layout:
        a["layout"] = layout
    a["hidden_size"] = H
    out = run_ort(op, feeds, a, 3 if op == "LSTM" else 2)
    params = {}
    for k, v in a.items():
        params[k] = list(v) if k == "activations" else ([float(x) for x in v] if isinstance(v, list) else v)
    params["dtype"] = "float32"
    runner = (f"onnx.reference.ReferenceEvaluator (onnx {OV}, float32; ONNX Runtime {RV} rejects layout 1)" if layout
              else f"ONNX Runtime {RV} (CPUExecutionProvider, float32) running an onnx {OV} {op} node")
    src = f"{runner}, opset 22, tools/reference/interop_onnx.py; inputs numpy default_rng({seed}) normals"

    write_case("onnx", name, f"onnx.{op}", title, src, ["interop", "onnx", op.lower()], params, feeds, out, TOL,
               notes=notes)


# onnx.RNN
case("rnn_defaults_no_bias", "RNN", "ONNX RNN with defaults: Tanh, no B (zeros), no initial_h", 1, bias=False)
case("rnn_bias_initial_h", "RNN", "ONNX RNN with B and initial_h", 2, h0=True)
case("rnn_reverse", "RNN", "ONNX RNN, direction reverse, with initial_h", 3, h0=True, direction="reverse")
case("rnn_bidirectional_sequence_lens", "RNN",
     "ONNX RNN, bidirectional, sequence_lens [4, 2, 3]: Y is 0 past each length, reverse starts at the last real step",
     4, N=3, h0=True, lens=[4, 2, 3], direction="bidirectional")
case("rnn_layout_1", "RNN", "ONNX RNN with layout 1 (batch-major X, initial_h, Y, Y_h)", 5, h0=True, layout=1)
case("rnn_clip", "RNN", "ONNX RNN with clip 0.5: pre-activations clamped to [-0.5, 0.5]", 6, attrs={"clip": 0.5})
ACTS = [("Relu", None, None), ("Sigmoid", None, None), ("Affine", 0.7, -0.2), ("LeakyRelu", 0.2, None),
        ("ThresholdedRelu", 0.3, None), ("ScaledTanh", 1.5, 0.8), ("HardSigmoid", 0.3, 0.4), ("Elu", 0.6, None),
        ("Softsign", None, None), ("Softplus", None, None)]
for k, (act, al, be) in enumerate(ACTS):
    at = {"activations": [act]}
    if al is not None:
        at["activation_alpha"] = [al]
    if be is not None:
        at["activation_beta"] = [be]
    case(f"rnn_activation_{act.lower()}", "RNN", f"ONNX RNN with activations [{act}]"
         + (f", alpha {al}" if al is not None else "") + (f", beta {be}" if be is not None else ""), 10 + k, bias=True, attrs=at)
case("rnn_activation_defaults_alpha_beta", "RNN",
     "ONNX RNN, bidirectional, activations [LeakyRelu, HardSigmoid] without alpha/beta: ONNX Runtime's defaults 0.01 and 0.2/0.5",
     30, direction="bidirectional", attrs={"activations": ["LeakyRelu", "HardSigmoid"]})

# onnx.LSTM
case("lstm_defaults_no_bias", "LSTM", "ONNX LSTM with defaults: gate blocks i, o, f, c; no B, no initial states", 41, bias=False)
case("lstm_bias_initial_states", "LSTM", "ONNX LSTM with B, initial_h and initial_c", 42, h0=True, c0=True)
case("lstm_peepholes", "LSTM", "ONNX LSTM with peepholes P = [Pi, Po, Pf]", 43, h0=True, c0=True, peep=True)
case("lstm_clip", "LSTM", "ONNX LSTM with clip 0.4 (every gate pre-activation clamped)", 44, h0=True, c0=True, attrs={"clip": 0.4})
case("lstm_input_forget", "LSTM", "ONNX LSTM with input_forget 1: f = 1 - i", 45, h0=True, c0=True, peep=True,
     attrs={"input_forget": 1})
case("lstm_activations_alpha_beta", "LSTM",
     "ONNX LSTM with activations [HardSigmoid, ScaledTanh, Softsign] and alpha/beta consumed in order", 46, h0=True, c0=True,
     attrs={"activations": ["HardSigmoid", "ScaledTanh", "Softsign"], "activation_alpha": [0.25, 1.2], "activation_beta": [0.45, 0.9]})
case("lstm_bidirectional_sequence_lens", "LSTM",
     "ONNX LSTM, bidirectional with peepholes, sequence_lens [1, 4, 3]", 47, N=3, h0=True, c0=True, peep=True,
     lens=[1, 4, 3], direction="bidirectional")
case("lstm_reverse_layout_1", "LSTM", "ONNX LSTM, direction reverse, layout 1", 48, h0=True, c0=True, direction="reverse", layout=1)
case("lstm_bidirectional_activations_per_direction", "LSTM",
     "ONNX LSTM, bidirectional with a different activation list per direction", 49, direction="bidirectional",
     attrs={"activations": ["Sigmoid", "Tanh", "Tanh", "HardSigmoid", "Elu", "Softsign"], "activation_alpha": [0.3, 0.8],
            "activation_beta": [0.5]})

# onnx.GRU
case("gru_defaults_no_bias", "GRU", "ONNX GRU with defaults: gate blocks z, r, h; linear_before_reset 0 (reset before the matmul); no B", 61, bias=False)
case("gru_bias_initial_h", "GRU", "ONNX GRU with B and initial_h, linear_before_reset 0", 62, h0=True)
case("gru_linear_before_reset", "GRU", "ONNX GRU with linear_before_reset 1 (reset applied to R_h H + Rb_h, PyTorch's placement)", 63,
     h0=True, attrs={"linear_before_reset": 1})
case("gru_bidirectional_sequence_lens", "GRU", "ONNX GRU, bidirectional, sequence_lens [3, 4]", 64, h0=True, lens=[3, 4],
     direction="bidirectional", attrs={"linear_before_reset": 1})
case("gru_reverse_layout_1", "GRU", "ONNX GRU, direction reverse, layout 1", 65, h0=True, direction="reverse", layout=1)
case("gru_activations_clip", "GRU", "ONNX GRU with activations [Softsign, Elu] (alpha 0.7) and clip 0.6", 66, h0=True,
     attrs={"activations": ["Softsign", "Elu"], "activation_alpha": [0.7], "clip": 0.6})

# sequence_lens with a 0: ONNX Runtime outputs Y = 0 at every step and Y_h = 0 (Y_c = 0) for that entry,
# not initial_h / initial_c (tools/reference/onnx_zero_length_probe.py checks every operator and direction).
case("rnn_reverse_zero_length", "RNN",
     "ONNX RNN, direction reverse, sequence_lens [0, 4, 2]: the zero-length entry gives Y = 0 and Y_h = 0, not initial_h",
     71, N=3, h0=True, lens=[0, 4, 2], direction="reverse")
case("lstm_bidirectional_zero_length", "LSTM",
     "ONNX LSTM, bidirectional with peepholes, sequence_lens [3, 0, 4]: the zero-length entry gives Y = 0, Y_h = 0, Y_c = 0",
     72, N=3, h0=True, c0=True, peep=True, lens=[3, 0, 4], direction="bidirectional")
case("gru_zero_length", "GRU",
     "ONNX GRU, sequence_lens [0, 2], linear_before_reset 1: the zero-length entry gives Y = 0 and Y_h = 0, not initial_h",
     73, h0=True, lens=[0, 2], attrs={"linear_before_reset": 1})
