"""Shared writer for the interop reference scripts (interop_torch.py, interop_onnx.py, interop_keras.py).

Each script builds a real framework layer with seeded random weights, runs it, and writes a case
file under cases/interop/<framework>/ whose inputs are the layer's tensors and whose `expect:`
values are the framework's outputs. Float32 numbers are written as their shortest float32 text
(reading it back and rounding to float32 gives the exact value the framework used).
"""
import json
import os

import numpy as np

from refcommon import CASES

ROOT = os.path.join(CASES, "interop")


def num(v, dtype):
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if dtype == np.float32:
        return str(np.float32(v))  # shortest float32 round-trip text
    return repr(float(v))


def flow(a, dtype):
    a = np.asarray(a)
    if a.ndim == 0:
        return num(a.item(), dtype)
    return "[" + ", ".join(flow(x, dtype) for x in a) + "]"


def block(name, a, dtype, indent=2):
    a = np.asarray(a)
    pad = " " * indent
    if a.ndim <= 2:
        return f"{pad}{name}: {flow(a, dtype)}\n"
    s = f"{pad}{name}:\n"
    for sub in a:
        s += f"{pad}  - {flow(sub, dtype)}\n"
    return s


def pval(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):  # a list of names (ONNX activations) is written bare: [Sigmoid, Tanh]
        return "[" + ", ".join(x if isinstance(x, str) and x.isidentifier() else pval(x) for x in v) + "]"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def write_case(framework, name, kernel, title, source, tags, params, inputs, expect, tol, dtype=np.float32, notes=None):
    """inputs/expect: dicts name -> array (ints stay ints); tol: absolute tolerance of every expect."""
    path = os.path.join(ROOT, framework, name + ".yaml")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    s = f"kernel: {kernel}\n"
    s += f"title: {json.dumps(title, ensure_ascii=False)}\n"
    s += f"source: {json.dumps(source, ensure_ascii=False)}\n"
    s += "tags: [" + ", ".join(tags) + "]\n"
    if params:
        s += "params:\n"
        for k, v in params.items():
            s += f"  {k}: {pval(v)}\n"
    s += "inputs:\n"
    for k, v in inputs.items():
        s += block(k, v, dtype)
    s += "expect:\n"
    for k, v in expect.items():
        s += f"  {k}:\n    abs: {tol}\n    source: {json.dumps(source.split(';')[0])}\n" + block("value", v, dtype, indent=4)
    if notes:
        s += f"notes: {json.dumps(notes, ensure_ascii=False)}\n"
    with open(path, "w") as fh:
        fh.write(s)
    print("wrote", os.path.relpath(path, os.path.join(ROOT, "..", "..")))
