"""Gradient reference cases for onnx.RNN, onnx.LSTM, onnx.GRU: PyTorch autograd (float64).

ONNX Runtime has no backward for these operators, so the ONNX opset-22 equations are transcribed
step by step in torch (gate orders [i, o, f, c] / [z, r, h], B = [Wb, Rb], P = [Pi, Po, Pf], clip,
input_forget, linear_before_reset, sequence_lens (a length 0 giving Y_h = Y_c = 0, as ONNX Runtime does),
directions, layout), the transcription's Y, Y_h
and Y_c are asserted equal (to 1e-5) to ONNX Runtime running the real operator (float32, its only
precision for these kernels) (layout-1
cases transposed to layout 0 for it), and the gradients of loss = Σ dY⊙Y + Σ dY_h⊙Y_h (+ Σ dY_c⊙Y_c) are torch autograd's.
Writes cases/interop/grad/onnx_*.yaml with those expect: values and a gradcheck over every input.

Usage: python3 tools/reference/grad_onnx.py   (torch 2.15.0, onnx 1.23.2, onnxruntime 1.31.1)
"""
import numpy as np
import onnx
import torch
from onnx import TensorProto, helper
import onnxruntime as ort

from interop_common import ROOT, write_case

TV, OV, RV = torch.__version__.split("+")[0], onnx.__version__, ort.__version__
GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}
ACT = {"Tanh": torch.tanh, "Sigmoid": torch.sigmoid, "Relu": torch.relu,
       "LeakyRelu": lambda x: torch.nn.functional.leaky_relu(x, 0.01)}


def reference_outputs(op, feeds, attrs):
    """The real operator run by ONNX Runtime (CPU; its RNN kernels take float32 only) in layout 0: a layout-1 case's
    tensors are transposed to layout 0 and the outputs back (ORT's CPU kernels reject layout 1)."""
    layout = attrs.get("layout", 0)
    attrs = {k: v for k, v in attrs.items() if k != "layout"}
    feeds = {k: (v if k == "sequence_lens" else v.astype(np.float32)) for k, v in feeds.items()}
    if layout:
        feeds["X"] = feeds["X"].transpose(1, 0, 2)
        for n in ("initial_h", "initial_c"):
            if n in feeds:
                feeds[n] = feeds[n].transpose(1, 0, 2)
    names = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"][: (8 if op == "LSTM" else 6)]
    node_inputs = [n if n in feeds else "" for n in names]
    while node_inputs[-1] == "":
        node_inputs.pop()
    outs = ["Y", "Y_h", "Y_c"][: (3 if op == "LSTM" else 2)]
    node = helper.make_node(op, node_inputs, outs, **attrs)
    vi = lambda n: helper.make_tensor_value_info(n, TensorProto.INT32 if n == "sequence_lens" else TensorProto.FLOAT,
                                                 list(feeds[n].shape))
    graph = helper.make_graph([node], op.lower(), [vi(n) for n in node_inputs if n],
                              [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outs])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)])
    model.ir_version = 10
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    res = dict(zip(outs, sess.run(outs, {n: feeds[n] for n in node_inputs if n})))
    if layout:
        res["Y"] = res["Y"].transpose(2, 0, 1, 3)
        for n in ("Y_h", "Y_c"):
            if n in res:
                res[n] = res[n].transpose(1, 0, 2)
    return res


def transcription(op, t, attrs, acts):
    """The ONNX equations in torch, layout 0 inside; t: name -> tensor (layout as given)."""
    layout = attrs.get("layout", 0)
    X = t["X"].transpose(0, 1) if layout else t["X"]
    T, N, _ = X.shape
    D, GH, _ = t["W"].shape
    H = GH // GATES[op]
    st = lambda n: (t[n].transpose(0, 1) if layout else t[n]) if n in t else torch.zeros(D, N, H, dtype=torch.float64)
    h0, c0 = st("initial_h"), st("initial_c")
    B = t.get("B", torch.zeros(D, 2 * GH, dtype=torch.float64))
    P = t.get("P", torch.zeros(D, 3 * H, dtype=torch.float64))
    lens = t["sequence_lens"] if "sequence_lens" in t else torch.tensor([T] * N)
    clip = attrs.get("clip")
    cl = (lambda x: torch.clamp(x, -clip, clip)) if clip else (lambda x: x)
    direction = attrs.get("direction", "forward")
    Ys, Yh, Yc = [], [], []
    for d in range(D):
        f, g, hact = [ACT[a] for a in acts[d]] + [None] * (3 - len(acts[d]))
        reverse = direction == "reverse" or d == 1
        W, R, Wb, Rb = t["W"][d], t["R"][d], B[d][:GH], B[d][GH:]
        h, c = h0[d], c0[d]
        y = [None] * T
        for s in (reversed(range(T)) if reverse else range(T)):
            m = (s < lens).double().unsqueeze(1)
            gx, gh = X[s] @ W.T + Wb, h @ R.T + Rb
            if op == "RNN":
                hn, cn = f(cl(gx + gh)), c
            elif op == "LSTM":
                ai, ao, af, ac = (gx + gh).split(H, 1)
                pi, po, pf = P[d].split(H)
                i = f(cl(ai + pi * c))
                fg = 1 - i if attrs.get("input_forget", 0) else f(cl(af + pf * c))
                cn = fg * c + i * g(cl(ac))
                o = f(cl(ao + po * cn))
                hn = o * hact(cn)
            else:
                z = f(cl(gx[:, :H] + gh[:, :H]))
                r = f(cl(gx[:, H:2 * H] + gh[:, H:2 * H]))
                if attrs.get("linear_before_reset", 0):
                    hh = g(cl(gx[:, 2 * H:] + r * gh[:, 2 * H:]))
                else:
                    hh = g(cl(gx[:, 2 * H:] + (r * h) @ R[2 * H:].T + Rb[2 * H:]))
                hn, cn = (1 - z) * hh + z * h, c
            y[s] = m * hn
            h, c = m * hn + (1 - m) * h, m * cn + (1 - m) * c
        Ys.append(torch.stack(y))
        # ONNX Runtime gives Y_h = 0 and Y_c = 0 for a sequence of length 0 (not initial_h / initial_c).
        nonempty = (lens > 0).double().unsqueeze(1)
        Yh.append(nonempty * h)
        Yc.append(nonempty * c)
    Y, Yh, Yc = torch.stack(Ys, 1), torch.stack(Yh), torch.stack(Yc)
    if layout:
        Y, Yh, Yc = Y.permute(2, 0, 1, 3), Yh.transpose(0, 1), Yc.transpose(0, 1)
    return {"Y": Y, "Y_h": Yh, "Y_c": Yc} if op == "LSTM" else {"Y": Y, "Y_h": Yh}


def case(name, op, title, seed, T=4, N=2, I=3, H=3, direction="forward", layout=0, lens=None, peep=False,
         scale=0.5, attrs=None, acts=None, upstream=("Y", "Y_h", "Y_c"), notes=None):
    rng = np.random.default_rng(seed)
    D = 2 if direction == "bidirectional" else 1
    G = GATES[op]
    nrm = lambda *s, sc=1.0: rng.normal(size=s) * sc
    feeds = {"X": nrm(N, T, I) if layout else nrm(T, N, I), "W": nrm(D, G * H, I, sc=scale),
             "R": nrm(D, G * H, H, sc=scale), "B": nrm(D, 2 * G * H, sc=scale)}
    if lens is not None:
        feeds["sequence_lens"] = np.array(lens, dtype=np.int32)
    feeds["initial_h"] = nrm(N, D, H) if layout else nrm(D, N, H)
    if op == "LSTM":
        feeds["initial_c"] = nrm(N, D, H) if layout else nrm(D, N, H)
        if peep:
            feeds["P"] = nrm(D, 3 * H, sc=scale)
    a = dict(attrs or {})
    if direction != "forward":
        a["direction"] = direction
    if layout:
        a["layout"] = layout
    a["hidden_size"] = H
    default = {"RNN": ["Tanh"], "LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"]}[op]
    acts = acts or [default] * D
    if acts != [default] * D:
        a["activations"] = [x for per in acts for x in per]

    ref = reference_outputs(op, feeds, a)
    t = {k: torch.tensor(v, requires_grad=k != "sequence_lens") for k, v in feeds.items()}
    out = transcription(op, t, a, acts)
    for k, v in ref.items():
        assert np.allclose(out[k].detach().numpy(), v, rtol=0, atol=1e-5), (name, k, out[k].detach().numpy(), v)
    ups = {"d" + k: torch.tensor(nrm(*out[k].shape)) for k in upstream if k in out}
    loss = sum((ups["d" + k] * out[k]).sum() for k in upstream if k in out)
    loss.backward()
    wrt = [k for k in feeds if k != "sequence_lens"]
    expect = {"loss": loss.detach().numpy(), "Y": out["Y"].detach().numpy()}
    for k in wrt:
        expect["d" + k] = t[k].grad.numpy()
    inputs = dict(feeds)
    inputs.update({k: v.numpy() for k, v in ups.items()})
    params = dict(a)
    params["dtype"] = "float64"
    src = (f"PyTorch {TV} autograd through a transcription of the ONNX opset-22 {op} equations whose outputs equal "
           f"ONNX Runtime {RV} (CPU, float32) running an onnx {OV} {op} node to 1e-5, tools/reference/grad_onnx.py; "
           f"inputs numpy default_rng({seed}) normals")
    write_case("grad", name, f"onnx.{op}", title, src, ["gradients", "gradcheck", "onnx", op.lower()], params, inputs,
               expect, "1e-12", np.float64, notes)
    with open(f"{ROOT}/grad/{name}.yaml", "a") as fh:
        fh.write(f"gradcheck: {{wrt: [{', '.join(wrt)}], eps: 1e-6, abs: 1e-7, rel: 1e-5}}\n")


case("onnx_rnn_bidirectional_sequence_lens", "RNN",
     "ONNX RNN backward: bidirectional over sequence_lens [4, 2, 1], dY and dY_h",
     201, N=3, lens=[4, 2, 1], direction="bidirectional")
case("onnx_rnn_layout_1_clip", "RNN", "ONNX RNN backward with layout 1 and clip 1.0 (clamped pre-activations pass no gradient)",
     202, layout=1, scale=1.0, attrs={"clip": 1.0})
case("onnx_lstm_peepholes_input_forget_reverse", "LSTM",
     "ONNX LSTM backward: peepholes P, input_forget 1, direction reverse, sequence_lens [3, 4], dY, dY_h, dY_c",
     203, lens=[3, 4], peep=True, direction="reverse", attrs={"input_forget": 1})
case("onnx_lstm_bidirectional_layout_1_clip_saturated", "LSTM",
     "ONNX LSTM backward: bidirectional, layout 1, peepholes, weights std 3 (saturated gates), clip 4",
     204, layout=1, peep=True, direction="bidirectional", scale=3.0, attrs={"clip": 4.0})
case("onnx_gru_bidirectional_sequence_lens_reset_before", "GRU",
     "ONNX GRU backward: linear_before_reset 0, bidirectional, sequence_lens [2, 4, 3], dY only",
     205, N=3, lens=[2, 4, 3], direction="bidirectional", upstream=("Y",))
case("onnx_gru_linear_before_reset_saturated", "GRU",
     "ONNX GRU backward: linear_before_reset 1, weights std 3 (saturated gates), layout 1, dY_h only",
     206, layout=1, scale=3.0, attrs={"linear_before_reset": 1}, upstream=("Y_h",))
case("onnx_lstm_bidirectional_zero_length", "LSTM",
     "ONNX LSTM backward: bidirectional, sequence_lens [2, 0, 4], dY, dY_h, dY_c: the zero-length entry's Y_h, Y_c are 0, "
     "so its dY_h, dY_c reach no initial state",
     207, N=3, lens=[2, 0, 4], peep=True, direction="bidirectional")
