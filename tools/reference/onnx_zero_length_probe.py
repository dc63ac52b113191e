"""Probe: what ONNX Runtime's RNN, LSTM and GRU return for a batch entry whose sequence_lens is 0.

For every operator, every direction (forward, reverse, bidirectional) and a few length patterns
(one entry 0 among full and partial ones; every entry 0), runs a one-node model (opset 22, float32,
CPUExecutionProvider) with non-zero X, initial_h, initial_c, and prints, for each zero-length entry,
whether Y (all its steps), Y_h and Y_c are exactly 0 or equal initial_h / initial_c; and checks that
the other entries agree with a run without the zero-length entries (to float32 rounding: the
batched matmuls may sum in another order).
onnx.reference ignores sequence_lens, so it is no reference for this. Prints only; writes nothing.

Usage: python3 tools/reference/onnx_zero_length_probe.py   (onnx 1.23.2, onnxruntime 1.31.1)
"""
import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def run(op, feeds, attrs):
    names = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c"][: (7 if op == "LSTM" else 6)]
    outs = ["Y", "Y_h", "Y_c"][: (3 if op == "LSTM" else 2)]
    node = helper.make_node(op, names, outs, **attrs)
    vi = lambda n: helper.make_tensor_value_info(n, TensorProto.INT32 if n == "sequence_lens" else TensorProto.FLOAT,
                                                 list(feeds[n].shape))
    graph = helper.make_graph([node], op.lower(), [vi(n) for n in names],
                              [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outs])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)])
    model.ir_version = 10
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return dict(zip(outs, sess.run(outs, {n: feeds[n] for n in names})))


def probe(op, direction, lens, T=4, I=3, H=2, seed=7):
    rng = np.random.default_rng(seed)
    N, D, G = len(lens), 2 if direction == "bidirectional" else 1, GATES[op]
    f32 = lambda *s: rng.normal(size=s).astype(np.float32)
    feeds = {"X": f32(T, N, I), "W": f32(D, G * H, I), "R": f32(D, G * H, H), "B": f32(D, 2 * G * H),
             "sequence_lens": np.array(lens, dtype=np.int32), "initial_h": f32(D, N, H)}
    if op == "LSTM":
        feeds["initial_c"] = f32(D, N, H)
    attrs = {"hidden_size": H, "direction": direction}
    out = run(op, feeds, attrs)
    report = []
    for n in [k for k, l in enumerate(lens) if l == 0]:
        y0 = bool(np.all(out["Y"][:, :, n] == 0))
        s = f"entry {n}: Y all 0: {y0}"
        for o, init in (("Y_h", "initial_h"), ("Y_c", "initial_c")):
            if o in out:
                v = out[o][:, n]
                s += f"; {o} == 0: {bool(np.all(v == 0))}, == {init}: {bool(np.array_equal(v, feeds[init][:, n]))}"
        report.append(s)
    keep = [k for k, l in enumerate(lens) if l > 0]
    if keep:
        sub = dict(feeds)
        sub["X"] = feeds["X"][:, keep]
        sub["sequence_lens"] = feeds["sequence_lens"][keep]
        for k in ("initial_h", "initial_c"):
            if k in sub:
                sub[k] = feeds[k][:, keep]
        ref = run(op, sub, attrs)
        diff = max(float(np.max(np.abs((out[o][..., keep, :] if o != "Y" else out[o][:, :, keep]) - ref[o]))) for o in out)
        report.append(f"other entries vs a run without the zero-length ones: max |diff| {diff:.1e}")
    print(f"{op:4s} {direction:13s} lens {lens}: " + " | ".join(report))


print(f"onnx {onnx.__version__}, onnxruntime {ort.__version__}")
for op in ("RNN", "LSTM", "GRU"):
    for direction in ("forward", "reverse", "bidirectional"):
        for lens in ([0, 4, 2], [3, 0], [0, 0], [0]):
            probe(op, direction, lens)
