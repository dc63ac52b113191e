#!/usr/bin/env python3
"""NumPy reference for `rnnspec bench`: LSTM and GRU forward, and forward + full BPTT, written the
way the seed notebooks write them (a Python loop over time, one matrix product per step through
NumPy, sigmoid as 1/(1+np.exp(-x))), with a batch dimension added. Prints one JSON object.

    python3 tools/bench/numpy_reference.py                      # default sizes, random inputs
    python3 tools/bench/numpy_reference.py --manifest M.json    # what `rnnspec bench` passes

Conventions are PyTorch's, as in the Swift rows: LSTM gate rows [i, f, g, o] of W_ih [4H, I] and
W_hh [4H, H]; GRU rows [r, z, n], n = tanh(W_n x + b_in + r * (U_n h + b_hn)),
h = (1 - z) * n + z * h_prev. The loss of the BPTT rows is sum(dy * h) over every step, so dy is
the upstream gradient of every output step.

With a manifest, the inputs are the float64 arrays rnnspec wrote (x, W_ih, W_hh, b_ih, b_hh, dy),
cast to float32 for the float32 rows, and each row reports a few check values (norms of h_T and
of the gradients, the loss) that rnnspec compares with its own.

When this Python also has `onnxruntime` and `onnx`, the script times ONNX Runtime's LSTM and GRU
forward in float32 (its CPU kernels' only precision) on the same inputs: one opset-22 node built
with `onnx.helper`, the PyTorch-layout weights moved to ONNX's (gate rows LSTM i,f,g,o -> i,o,f,c,
GRU r,z,n -> z,r,h with linear_before_reset=1, B = [b_ih, b_hh]), CPUExecutionProvider with
`intra_op_num_threads` = the manifest's `threads` (the threads rnnspec's kernels use). Its rows
go under "ort" with the same timing rule and check values; without the packages, "ort" says why.
"""
import argparse
import json
import os
import platform
import sys
import time

try:
    import numpy as np
except ImportError:  # rnnspec bench reads this and prints "NumPy missing"
    print(json.dumps({"error": "numpy is not installed for " + sys.executable}))
    sys.exit(0)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# ---- LSTM: one matrix over the concatenation [x, h], as seed 000 writes it ----

def lstm_forward(x, W, b, H, keep=False):
    """W = [W_ih, W_hh] side by side, [4H, I+H]; b = b_ih + b_hh."""
    T, B, _ = x.shape
    h = np.zeros((B, H), dtype=x.dtype)
    c = np.zeros((B, H), dtype=x.dtype)
    cache = []
    for t in range(T):
        concat = np.concatenate([x[t], h], axis=1)
        gates = concat @ W.T + b
        i = sigmoid(gates[:, :H])
        f = sigmoid(gates[:, H:2*H])
        g = np.tanh(gates[:, 2*H:3*H])
        o = sigmoid(gates[:, 3*H:])
        c_prev = c
        c = f * c + i * g
        tc = np.tanh(c)
        h = o * tc
        if keep:
            cache.append((concat, i, f, g, o, c_prev, tc, h))
    return h, c, cache


def lstm_forward_backward(x, W, b, H, dy):
    _, _, cache = lstm_forward(x, W, b, H, keep=True)
    T, B, I = x.shape
    loss = 0.0
    for t in range(T):
        loss += np.sum(dy[t] * cache[t][7])
    dW = np.zeros_like(W)
    db = np.zeros_like(b)
    dx = np.zeros_like(x)
    dh_next = np.zeros((B, H), dtype=x.dtype)
    dc_next = np.zeros((B, H), dtype=x.dtype)
    for t in reversed(range(T)):
        concat, i, f, g, o, c_prev, tc, h = cache[t]
        dh = dy[t] + dh_next
        do = dh * tc
        dc = dc_next + dh * o * (1 - tc ** 2)
        di = dc * g
        dg = dc * i
        df = dc * c_prev
        dgates = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g ** 2), do * o * (1 - o)], axis=1)
        dW += dgates.T @ concat
        db += dgates.sum(axis=0)
        dconcat = dgates @ W
        dx[t] = dconcat[:, :I]
        dh_next = dconcat[:, I:]
        dc_next = dc * f
    return loss, dW[:, :I], dW[:, I:], db


# ---- GRU: separate W·x + U·h (the reset gate multiplies U·h, so they cannot share a product) ----

def gru_forward(x, W, U, bw, bu, H, keep=False):
    T, B, _ = x.shape
    h = np.zeros((B, H), dtype=x.dtype)
    cache = []
    for t in range(T):
        gx = x[t] @ W.T + bw
        gh = h @ U.T + bu
        r = sigmoid(gx[:, :H] + gh[:, :H])
        z = sigmoid(gx[:, H:2*H] + gh[:, H:2*H])
        n = np.tanh(gx[:, 2*H:] + r * gh[:, 2*H:])
        h_prev = h
        h = (1 - z) * n + z * h
        if keep:
            cache.append((x[t], h_prev, r, z, n, gh[:, 2*H:], h))
    return h, cache


def gru_forward_backward(x, W, U, bw, bu, H, dy):
    _, cache = gru_forward(x, W, U, bw, bu, H, keep=True)
    T, B, I = x.shape
    loss = 0.0
    for t in range(T):
        loss += np.sum(dy[t] * cache[t][6])
    dW = np.zeros_like(W)
    dU = np.zeros_like(U)
    dbw = np.zeros_like(bw)
    dbu = np.zeros_like(bu)
    dx = np.zeros_like(x)
    dh_next = np.zeros((B, H), dtype=x.dtype)
    for t in reversed(range(T)):
        xt, h_prev, r, z, n, hn, h = cache[t]
        dh = dy[t] + dh_next
        dn = dh * (1 - z) * (1 - n ** 2)
        dz = dh * (h_prev - n) * z * (1 - z)
        dr = dn * hn * r * (1 - r)
        dgx = np.concatenate([dr, dz, dn], axis=1)
        dgh = np.concatenate([dr, dz, dn * r], axis=1)
        dW += dgx.T @ xt
        dU += dgh.T @ h_prev
        dbw += dgx.sum(axis=0)
        dbu += dgh.sum(axis=0)
        dx[t] = dgx @ W
        dh_next = dh * z + dgh @ U
    return loss, dW, dU, dbw


# ---- timing: the median of repetitions after a warm-up, as rnnspec times its rows ----

def measure(body, reps):
    times = []
    if reps["warm_up"]:
        t0 = time.perf_counter()
        result = body()
        first = time.perf_counter() - t0
        if first > reps["budget_seconds"]:
            return first * 1000, 1, result
        # Untimed runs until the warm-up has taken warm_up_seconds (a burst's first 100-200 ms run slower here).
        while time.perf_counter() - t0 < reps.get("warm_up_seconds", 0):
            result = body()
    else:
        t0 = time.perf_counter()
        result = body()
        first = time.perf_counter() - t0
        times.append(first)
    # A body whose first run is shorter than short_below_seconds is timed up to short_count times.
    limit = reps["count"]
    if first < reps.get("short_below_seconds", 0):
        limit = max(limit, reps.get("short_count", limit))
    while len(times) < limit and (len(times) < reps["minimum"] or sum(times) < reps["budget_seconds"]):
        t0 = time.perf_counter()
        result = body()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) * 1000, len(times), result


def norm(a):
    return float(np.sqrt(np.sum(np.asarray(a, dtype=np.float64) ** 2)))


def load_inputs(config, directory):
    T, B, I, H = config["T"], config["B"], config["I"], config["H"]
    G = 4 if config["kind"] == "lstm" else 3
    shapes = {"x": (T, B, I), "W_ih": (G * H, I), "W_hh": (G * H, H), "b_ih": (G * H,), "b_hh": (G * H,), "dy": (T, B, H)}
    if directory is None:
        rng = np.random.default_rng(0)
        k = 1 / np.sqrt(H)
        out = {name: rng.uniform(-k, k, size=shape) for name, shape in shapes.items()}
        out["x"] = rng.normal(size=shapes["x"])
        out["dy"] = rng.normal(size=shapes["dy"])
        return out
    return {name: np.fromfile(os.path.join(directory, config["files"][name]), dtype="<f8").reshape(shape)
            for name, shape in shapes.items()}


def run_config(config, directory, reps):
    rows = []
    H = config["H"]
    data64 = load_inputs(config, directory)
    for dtype in config["dtypes"]:
        d = {k: v.astype(np.float32 if dtype == "float32" else np.float64) for k, v in data64.items()}
        x, dy = d["x"], d["dy"]
        if config["kind"] == "lstm":
            # The notebook's single matrix over [x, h], built once like its weights.
            W = np.ascontiguousarray(np.concatenate([d["W_ih"], d["W_hh"]], axis=1))
            b = d["b_ih"] + d["b_hh"]
            fwd = lambda: lstm_forward(x, W, b, H)[0]
            bwd = lambda: lstm_forward_backward(x, W, b, H, dy)
        else:
            fwd = lambda: gru_forward(x, d["W_ih"], d["W_hh"], d["b_ih"], d["b_hh"], H)[0]
            bwd = lambda: gru_forward_backward(x, d["W_ih"], d["W_hh"], d["b_ih"], d["b_hh"], H, dy)
        base = {"kind": config["kind"], "dtype": dtype, "T": config["T"], "B": config["B"], "I": config["I"], "H": H}
        ms, n, h = measure(fwd, reps)
        rows.append(dict(base, **{"pass": "forward", "ms": ms, "runs": n,
                                  "checks": {"h_last_norm": norm(h), "h_last_0": float(h[0, 0])}}))
        ms, n, (loss, dWi, dWh, db) = measure(bwd, reps)
        rows.append(dict(base, **{"pass": "forward+bptt", "ms": ms, "runs": n,
                                  "checks": {"loss": float(loss), "dW_ih_norm": norm(dWi), "dW_hh_norm": norm(dWh), "db_norm": norm(db)}}))
    return rows


# ---- ONNX Runtime: the same forward pass, one LSTM/GRU node ----

def ort_available():
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as e:
        return "not run: " + str(e) + " (for " + sys.executable + "; docs/performance.md says how to make a venv with it)"
    return None


def ort_model(kind, I, H, W, R, B):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    op = "LSTM" if kind == "lstm" else "GRU"
    attrs = {"hidden_size": H}
    if kind == "gru":
        attrs["linear_before_reset"] = 1
    node = helper.make_node(op, ["X", "W", "R", "B"], ["Y", "Y_h"], **attrs)
    graph = helper.make_graph(
        [node], "rnnspec_bench",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["T", "N", I])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["T", 1, "N", H]), helper.make_tensor_value_info("Y_h", TensorProto.FLOAT, [1, "N", H])],
        initializer=[numpy_helper.from_array(W, "W"), numpy_helper.from_array(R, "R"), numpy_helper.from_array(B, "B")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)])
    model.ir_version = 10
    onnx.checker.check_model(model)
    return model.SerializeToString()


def ort_rows(config, directory, reps, threads):
    import onnxruntime as ort
    H, I = config["H"], config["I"]
    d = {k: v.astype(np.float32) for k, v in load_inputs(config, directory).items()}
    if config["kind"] == "lstm":
        order = [0, 3, 1, 2]  # ONNX i, o, f, c from PyTorch's i, f, g, o
    else:
        order = [1, 0, 2]     # ONNX z, r, h from PyTorch's r, z, n
    def reorder(a):
        return np.concatenate([a[g * H:(g + 1) * H] for g in order], axis=0)
    W = reorder(d["W_ih"])[None]
    R = reorder(d["W_hh"])[None]
    B = np.concatenate([reorder(d["b_ih"]), reorder(d["b_hh"])])[None]
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(ort_model(config["kind"], I, H, W, R, B), options, providers=["CPUExecutionProvider"])
    x = np.ascontiguousarray(d["x"])
    ms, n, (_, yh) = measure(lambda: session.run(None, {"X": x}), reps)
    h = yh[0]
    return [{"kind": config["kind"], "dtype": "float32", "T": config["T"], "B": config["B"], "I": I, "H": H,
             "pass": "forward", "ms": ms, "runs": n, "checks": {"h_last_norm": norm(h), "h_last_0": float(h[0, 0])}}]


def matmul_peak(n, dtype, reps):
    rng = np.random.default_rng(2048)
    a = rng.uniform(-1, 1, size=(n, n)).astype(dtype)
    b = rng.uniform(-1, 1, size=(n, n)).astype(dtype)
    ms, runs, _ = measure(lambda: a @ b, reps)
    return {"dtype": np.dtype(dtype).name, "n": n, "ms": ms, "runs": runs, "gflops": 2 * n ** 3 / (ms / 1000) / 1e9}


DEFAULT = {
    "repetitions": {"count": 7, "budget_seconds": 3.0, "minimum": 3, "warm_up": True, "warm_up_seconds": 0.3,
                    "short_count": 201, "short_below_seconds": 0.001},
    "peak_n": 2048,
    "configs": [
        {"kind": kind, "T": T, "B": B, "I": I, "H": H, "dtypes": ["float32", "float64"]}
        for kind in ["lstm", "gru"] for (T, B, I, H) in [(128, 32, 128, 256), (64, 1, 8, 16)]
    ],
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--manifest", help="the JSON manifest rnnspec bench writes (sizes, repetitions, input files)")
    args = parser.parse_args()
    if args.manifest:
        with open(args.manifest) as f:
            manifest = json.load(f)
        directory = os.path.dirname(os.path.abspath(args.manifest))
    else:
        manifest, directory = DEFAULT, None
    reps = manifest["repetitions"]
    rows = []
    for config in manifest["configs"]:
        rows += run_config(config, directory, reps)
    peak = [matmul_peak(manifest["peak_n"], dt, reps) for dt in (np.float32, np.float64)] if manifest.get("peak_n") else []
    report = {"numpy": np.__version__, "python": platform.python_version(), "rows": rows, "peak": peak}
    missing = ort_available()
    if missing:
        report["ort"] = {"missing": missing}
    else:
        import onnxruntime
        threads = int(manifest.get("threads", 2))
        ort = []
        for config in manifest["configs"]:
            if "float32" in config["dtypes"]:
                ort += ort_rows(config, directory, reps, threads)
        report["ort"] = {"version": onnxruntime.__version__, "threads": threads, "rows": ort}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
