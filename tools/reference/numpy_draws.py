#!/usr/bin/env python3
"""Records what NumPy's generators draw, for NumPyRandomTests (no Python needed by the tests).

For several seeds, sizes and call sequences it runs np.random.default_rng(seed) (Generator over
PCG64) and np.random.RandomState(seed) (what np.random.seed(seed) sets up), concatenates every
value drawn in a stream as 64-bit little-endian patterns (float64 bits, int64 two's complement)
and writes, per stream, the calls, the number of values, the SHA-256 of all of them, a mix64 checksum
of all of them (fast to compute in a debug build) and the first and last values in hex. The Swift test
repeats the calls and compares the checksum of its own bit patterns (so every draw, bit for bit; and
the SHA-256 too with RNNSPEC_FULL_TESTS=1) and the listed values (to show where a mismatch starts).

It also replays every Generator normal stream through a Python transcription of NumPy's ziggurat
over the raw PCG64 output, checks that the transcription gives NumPy's values, and prints how many
draws took the tail path (|x| > r = 3.6541528853610088) and the wedge path.

    python tools/reference/numpy_draws.py [OUT.swift]   # default Tests/RNNSpecTests/NumPyDrawsData.swift
"""
import hashlib
import math
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

OUT = sys.argv[1] if len(sys.argv) > 1 else "Tests/RNNSpecTests/NumPyDrawsData.swift"

GEN_SEEDS = [0, 1, 42, 20260101, 2**63 + 12345]
LEGACY_SEEDS = [0, 1, 42, 2**32 - 1]
P7 = [0.05, 0.25, 0.1, 0.0, 0.3, 0.2, 0.1]
P3 = [1 / 3, 1 / 3, 1 / 3]
RANGES = [(0, 2), (0, 10), (-1000, 1000), (0, 2**31 + 1), (0, 2**32 - 1), (0, 2**32), (0, 2**32 + 1),
          (-2**62, 2**62), (0, 2**63 - 1), (-2**63, 2**63 - 1)]


def call(gen, method, size, args):
    """One NumPy call; returns a flat array."""
    if method == "seed":
        gen.seed(args[0])
        return np.zeros(0)
    if method in ("random", "random_sample"):
        return (gen.random if method == "random" else gen.random_sample)(size)
    if method in ("standard_normal", "randn"):
        return gen.standard_normal(size) if method == "standard_normal" else gen.randn(size)
    if method == "normal":
        return gen.normal(args[0], args[1], size)
    if method == "uniform":
        return gen.uniform(args[0], args[1], size)
    if method == "integers":
        return gen.integers(args[0], args[1], size=size, dtype=np.int64)
    if method == "randint":
        return gen.randint(args[0], args[1], size=size, dtype=np.int64)
    if method == "choice":
        n = int(args[0])
        return np.asarray(gen.choice(n, size=size, p=args[1:]), dtype=np.int64)
    raise ValueError(method)


MIX_STEP = np.uint64(0x9E3779B97F4A7C15)


def fmix64(k):
    """MurmurHash3's 64-bit finalizer (a bijection of 64-bit words), on a uint64 array."""
    k = k ^ (k >> np.uint64(33))
    k = k * np.uint64(0xFF51AFD7ED558CCD)
    k = k ^ (k >> np.uint64(33))
    k = k * np.uint64(0xC4CEB9FE1A85EC53)
    return k ^ (k >> np.uint64(33))


def mix64(words):
    """Σ fmix64(w_i ⊕ (i + 1)·0x9E3779B97F4A7C15) mod 2^64: a position-dependent checksum of every word that
    the tests compute quickly in a debug build (each term is a bijection of its word, so a single changed
    value always changes it)."""
    i = np.arange(1, len(words) + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return int(np.sum(fmix64(words.astype(np.uint64) ^ (i * MIX_STEP)), dtype=np.uint64))


def bits(a):
    a = np.asarray(a).ravel()
    if a.dtype.kind == "f":
        return a.astype("<f8").view("<u8")
    return a.astype("<i8").view("<u8")


streams = []


def stream(kind, seed, calls, repeat=1):
    gen = np.random.default_rng(seed) if kind == "default_rng" else np.random.RandomState(seed)
    parts = []
    for _ in range(repeat):
        for method, size, args in calls:
            parts.append(bits(call(gen, method, size, args)))
    allbits = np.concatenate(parts) if parts else np.zeros(0, "<u8")
    streams.append(dict(kind=kind, seed=seed, calls=calls, repeat=repeat, count=len(allbits),
                        sha=hashlib.sha256(allbits.astype("<u8").tobytes()).hexdigest(), mix=mix64(allbits),
                        head=[int(x) for x in allbits[:8]], last=[int(x) for x in allbits[-4:]]))


# ---- Generator (default_rng)
for s in GEN_SEEDS:
    stream("default_rng", s, [("random", 40000, [])])
    stream("default_rng", s, [("standard_normal", 250000, [])])
    stream("default_rng", s, [("normal", 30000, [0.5, 0.3])])
    stream("default_rng", s, [("uniform", 30000, [-1.0, 2.0])])
    for lo, hi in RANGES:
        stream("default_rng", s, [("integers", 4000, [lo, hi])])
    stream("default_rng", s, [("choice", 20000, [7] + P7)])
    stream("default_rng", s, [("choice", 5000, [3] + P3)])
    # Mixed calls: the 32-bit buffer of PCG64 carries over between integers() calls.
    stream("default_rng", s, [("integers", 3, [0, 10]), ("random", 1, []), ("integers", 1, [0, 10]),
                              ("normal", 5, [0.0, 1.0]), ("integers", 1, [0, 2**33]), ("integers", 1, [0, 7]),
                              ("uniform", 2, [0.0, 1.0]), ("choice", 1, [3] + P3)], repeat=2000)

# ---- RandomState (np.random.seed)
for s in LEGACY_SEEDS:
    stream("legacy", s, [("random_sample", 40000, [])])
    stream("legacy", s, [("randn", 250001, [])])
    stream("legacy", s, [("normal", 30001, [0.5, 0.3])])
    stream("legacy", s, [("uniform", 30000, [-1.0, 2.0])])
    for lo, hi in RANGES:
        stream("legacy", s, [("randint", 4000, [lo, hi])])
    stream("legacy", s, [("choice", 25000, [7] + P7)])
    # The cached second normal survives other methods' calls; seed() clears it.
    stream("legacy", s, [("randn", 3, []), ("random_sample", 1, []), ("normal", 1, [1.0, 2.0]), ("randn", 1, []),
                         ("uniform", 1, [-1.0, 1.0]), ("randint", 1, [0, 10]), ("randn", 5, []),
                         ("choice", 1, [3] + P3), ("standard_normal", 1, [])], repeat=2000)
    stream("legacy", s, [("randn", 1, []), ("seed", 0, [s]), ("randn", 1, []), ("seed", 0, [s]), ("randn", 2, [])])

# ---- Ziggurat paths: replay the Generator normal streams through a transcription.
lib = os.path.join(os.path.dirname(np.random.__file__), "lib", "libnpyrandom.a")
with tempfile.TemporaryDirectory() as d:
    subprocess.run(["ar", "x", lib], cwd=d, check=True)
    obj = os.path.join(d, "src_distributions_distributions.c.o")
    data = open(obj, "rb").read()
    sec = next(l for l in subprocess.run(["readelf", "-S", "-W", obj], capture_output=True, text=True).stdout.splitlines()
               if " .rodata " in l).split()
    base = int(sec[sec.index("PROGBITS") + 2], 16)
    syms = {p[2]: int(p[0], 16) for p in (l.split() for l in subprocess.run(["nm", obj], capture_output=True,
                                                                             text=True).stdout.splitlines()) if len(p) == 3}
tab = lambda n, f: struct.unpack("<256" + f, data[base + syms[n]:base + syms[n] + 0x800])
KI, WI, FI = tab("ki_double", "Q"), tab("wi_double", "d"), tab("fi_double", "d")
R, INV_R = 3.6541528853610088, 0.27366123732975828
paths = {"fast": 0, "tail": 0, "wedge": 0, "wedge_rejected": 0}
for s in GEN_SEEDS:
    n = 250000
    raw = np.random.PCG64(s)
    nd = lambda: (int(raw.random_raw()) >> 11) * (1.0 / 9007199254740992.0)
    want = np.random.default_rng(s).standard_normal(n)
    for k in range(n):
        while True:
            r = int(raw.random_raw())
            idx = r & 0xFF
            r >>= 8
            sign = r & 1
            rabs = (r >> 1) & 0x000FFFFFFFFFFFFF
            x = rabs * WI[idx]
            if sign:
                x = -x
            if rabs < KI[idx]:
                paths["fast"] += 1
                break
            if idx == 0:
                paths["tail"] += 1
                while True:
                    xx = -INV_R * math.log1p(-nd())
                    yy = -math.log1p(-nd())
                    if yy + yy > xx * xx:
                        x = -(R + xx) if (rabs >> 8) & 1 else R + xx
                        break
                break
            paths["wedge"] += 1
            if (FI[idx - 1] - FI[idx]) * nd() + FI[idx] < math.exp(-0.5 * x * x):
                break
            paths["wedge_rejected"] += 1
        assert x == want[k], (s, k, x, want[k])

total = {}
for st in streams:
    for method, size, _ in st["calls"]:
        if method != "seed":
            total[method] = total.get(method, 0) + size * st["repeat"]
print(f"NumPy {np.__version__}; {len(streams)} streams, {sum(st['count'] for st in streams)} values")
for m, c in sorted(total.items()):
    print(f"  {m}: {c} draws")
print(f"  default_rng standard_normal replay ({len(GEN_SEEDS)} x 250000): fast {paths['fast']}, tail {paths['tail']}, "
      f"wedge {paths['wedge']} (rejected {paths['wedge_rejected']}); transcription equals NumPy")


def lit(v):
    return repr(float(v)) if isinstance(v, float) else str(int(v))


with open(OUT, "w") as out:
    out.write(f"// Generated by tools/reference/numpy_draws.py with NumPy {np.__version__}; do not edit.\n")
    out.write("// Each stream: the calls (repeated `repeats` times), the number of values, the SHA-256 of their\n")
    out.write("// 64-bit little-endian patterns, their mix64 checksum (see numpy_draws.py), and the first and last patterns.\n\n")
    out.write(f'let numpyDrawsVersion = "{np.__version__}"\n\n')
    out.write("let numpyDrawStreams: [NumPyDrawStream] = [\n")
    for st in streams:
        calls = ", ".join(f'.init("{m}", {n}, [{", ".join(lit(a) for a in args)}])' for m, n, args in st["calls"])
        out.write(f'    .init(kind: "{st["kind"]}", seed: {st["seed"]}, calls: [{calls}], repeats: {st["repeat"]},\n')
        out.write(f'          count: {st["count"]}, sha256: "{st["sha"]}", mix64: 0x{st["mix"]:016x},\n')
        out.write(f'          head: [{", ".join("0x%016x" % x for x in st["head"])}],\n')
        out.write(f'          last: [{", ".join("0x%016x" % x for x in st["last"])}]),\n')
    out.write("]\n")
