#!/usr/bin/env python3
"""Writes Tests/Fixtures/npy/: .npy files NumPy itself saved (every supported dtype, both byte
orders, C and Fortran order, format versions 1.0, 2.0 and 3.0) and .npz archives (stored and
deflated), with expected.json listing each file's shape and values (floats as float64 bit
patterns in hex, so nothing is rounded). NpyFileTests reads them.

    python tools/reference/npy_fixtures.py [DIR]
"""
import io
import json
import os
import struct
import sys

import numpy as np
from numpy.lib import format as npformat

OUT = sys.argv[1] if len(sys.argv) > 1 else "Tests/Fixtures/npy"
os.makedirs(OUT, exist_ok=True)
expected = {"numpy": np.__version__, "files": {}}


def record(name, a):
    a = np.asarray(a)
    flat = np.ascontiguousarray(a).ravel()  # C order, whatever the memory order
    if a.dtype.kind == "f":
        vals = ["%016x" % struct.unpack("<Q", struct.pack("<d", float(v)))[0] for v in flat]
        kind = "real"
    elif a.dtype.kind == "b":
        vals = [bool(v) for v in flat]
        kind = "bool"
    else:
        vals = [int(v) for v in flat]
        kind = "int"
    expected["files"][name] = {"shape": list(a.shape), "kind": kind, "values": vals}


base = np.array([[1.5, -2.25, 3.0], [np.pi, -0.0, 1e-300]])
arrays = {
    "f8": base, "f4": base.astype(np.float32), "f2": np.array([[1.5, -2.25, 65504.0], [0.000061035156, -0.0, 5.96e-8]], np.float16),
    "i1": np.array([[-128, 0, 127]], np.int8), "i2": np.array([[-32768, 1, 32767]], np.int16),
    "i4": np.array([-2**31, 7, 2**31 - 1], np.int32), "i8": np.array([-2**63, 7, 2**63 - 1], np.int64),
    "u1": np.array([0, 200, 255], np.uint8), "u2": np.array([0, 65535], np.uint16),
    "u4": np.array([0, 2**32 - 1], np.uint32), "u8": np.array([0, 2**63 - 1], np.uint64),
    "b1": np.array([[True, False], [False, True]]),
}
for key, a in arrays.items():
    for order in ("<", ">"):
        if a.dtype.itemsize == 1 and order == ">":
            continue
        b = a.astype(a.dtype.newbyteorder(order)) if a.dtype.itemsize > 1 else a
        name = f"{key}_{'le' if order == '<' else 'be'}.npy"
        np.save(os.path.join(OUT, name), b)
        record(name, a)
# Fortran order, 3-D.
cube = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 8
np.save(os.path.join(OUT, "f8_fortran_3d.npy"), np.asfortranarray(cube))
record("f8_fortran_3d.npy", cube)
np.save(os.path.join(OUT, "i4_fortran_be.npy"), np.asfortranarray(np.arange(6, dtype=">i4").reshape(2, 3)))
record("i4_fortran_be.npy", np.arange(6).reshape(2, 3))
# Scalars and empty arrays.
np.save(os.path.join(OUT, "scalar.npy"), np.float64(2.5))
record("scalar.npy", np.float64(2.5))
np.save(os.path.join(OUT, "empty.npy"), np.zeros((0, 3)))
record("empty.npy", np.zeros((0, 3)))
# Versions 2.0 and 3.0, written explicitly.
for v in ((2, 0), (3, 0)):
    name = f"f8_v{v[0]}.npy"
    with open(os.path.join(OUT, name), "wb") as f:
        npformat.write_array(f, base, version=v)
    record(name, base)
# .npz archives, stored and deflated.
np.savez(os.path.join(OUT, "weights_stored.npz"), weight_ih_l0=base, bias=np.array([0.5, -1.0]))
np.savez_compressed(os.path.join(OUT, "weights_deflated.npz"), weight_ih_l0=base, bias=np.array([0.5, -1.0]))
record("weights.npz:weight_ih_l0", base)
record("weights.npz:bias", np.array([0.5, -1.0]))
# Unsupported dtypes.
np.save(os.path.join(OUT, "complex.npy"), np.array([1 + 2j]))
np.save(os.path.join(OUT, "structured.npy"), np.zeros(2, dtype=[("a", "<f8"), ("b", "<i4")]))
np.save(os.path.join(OUT, "object.npy"), np.array([None, 1], dtype=object), allow_pickle=True)
np.save(os.path.join(OUT, "strings.npy"), np.array(["ab", "c"]))
with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(expected, f, indent=0, sort_keys=True)
print(f"NumPy {np.__version__}: {len(expected['files'])} arrays in {OUT}")
