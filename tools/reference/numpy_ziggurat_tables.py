#!/usr/bin/env python3
"""Writes Sources/RNNKernels/NumPyZiggurat.swift: NumPy's normal ziggurat tables (ki_double,
wi_double, fi_double) as bit patterns, read from the compiled tables in the installed NumPy's
libnpyrandom.a (the object file keeps them as local symbols). Needs `ar` and `nm`.

    python tools/reference/numpy_ziggurat_tables.py [OUT.swift]
"""
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

OUT = sys.argv[1] if len(sys.argv) > 1 else "Sources/RNNKernels/NumPyZiggurat.swift"
lib = os.path.join(os.path.dirname(np.random.__file__), "lib", "libnpyrandom.a")
with tempfile.TemporaryDirectory() as d:
    subprocess.run(["ar", "x", lib], cwd=d, check=True)
    obj = os.path.join(d, "src_distributions_distributions.c.o")
    data = open(obj, "rb").read()
    sections = subprocess.run(["readelf", "-S", "-W", obj], capture_output=True, text=True, check=True).stdout
    rodata = next(l for l in sections.splitlines() if " .rodata " in l)
    base = int(rodata.split()[rodata.split().index("PROGBITS") + 2], 16)  # file offset
    syms = {}
    for line in subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "r":
            syms[parts[2]] = int(parts[0], 16)


def table(name, fmt):
    off = base + syms[name]
    return struct.unpack("<256" + fmt, data[off:off + 0x800])


ki, wi, fi = table("ki_double", "Q"), table("wi_double", "d"), table("fi_double", "d")
dbits = lambda v: "0x%016x" % struct.unpack("<Q", struct.pack("<d", v))[0]


def rows(vals, f):
    return "\n".join("        " + ", ".join(f(v) for v in vals[i:i + 4]) + "," for i in range(0, 256, 4))


print("NumPy", np.__version__, "ki[0..2]", ki[:3], "wi[255]", wi[255], "fi[255]", fi[255])
with open(OUT, "w") as out:
    out.write(f"""// NumPy's ziggurat tables for the standard normal (numpy/random/src/distributions/ziggurat_constants.h:
// ki_double, wi_double, fi_double), as IEEE-754 bit patterns, copied from the compiled tables of
// NumPy {np.__version__} (libnpyrandom.a) by tools/reference/numpy_ziggurat_tables.py.
// NumPyRandomTests.testZigguratTablesFollowTheirDefinitions checks them against their defining formulas.

enum NumPyZiggurat {{
    /// r, the start of the tail: 3.6541528853610088.
    static let r = 3.6541528853610088
    /// 1 / r.
    static let invR = 0.27366123732975828

    static let ki: [UInt64] = [
{rows(ki, lambda v: "0x%016x" % v)}
    ]

    static let wi: [Double] = [
{rows(wi, dbits)}
    ].map(Double.init(bitPattern:))

    static let fi: [Double] = [
{rows(fi, dbits)}
    ].map(Double.init(bitPattern:))
}}
""")
