#!/usr/bin/env python3
"""Re-create every reference number and report each case whose `expect:` values differ.

    python3 tools/reference/recreate.py [--python PY] [--python-for SCRIPT=PY ...] [--rnnspec BIN] [--only NAME,...] [--keep DIR]

1. Runs every reference script below with PY (default: this interpreter) into a scratch directory
   (RNNSPEC_REFDATA for data files, RNNSPEC_REFERENCE_CASES for the scripts that write case files),
   never into the repository. A script whose modules PY lacks is SKIPPED, and says which.
2. Exports the committed cases with `rnnspec export` (so the values compared are the ones rnnspec
   reads: drawn inputs drawn, float32 rounded), and the re-created case files the same way.
3. For every `expect:` output whose source (the output's `source:` or else the case's) names one
   of these scripts:
   - a script that writes case files: the re-created case's value of the same output must agree
     within the output's tolerance (abs + rel·|expected|, exact where both are 0);
   - a script that writes data or prints: the expected values, flattened, must appear as one run
     among the numbers the script wrote (JSON in document order, or printed text), within the
     same tolerance.
   Outputs whose source is not a script (by hand, a seed's printed text) are counted, not checked.

Prints one line per output that DIFFERS or is NOT FOUND, then a summary; exits 1 if any, else 0.
Make the environment with tools/reference/requirements.txt (see tools/reference/README.md).
"""
import argparse
import glob
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))

# name: (kind, modules it needs, extra environment). kind: "json" (writes REFDATA/<stem>.json),
# "cases" (writes case files), "stdout" (prints). In the order they must run.
SCRIPTS = {
    "seed000.py": ("json", ["numpy"], {}),
    "seed001.py": ("json", ["numpy"], {}),
    "seed002.py": ("json", ["numpy"], {}),
    "seed003.py": ("json", ["numpy"], {}),
    "seed004.py": ("json", ["numpy"], {}),
    "catalog_extra.py": ("json", ["numpy"], {}),
    "charrnn_numpy_sample.py": ("stdout", ["numpy"], {}),
    "init_numpy.py": ("stdout", ["numpy"], {}),
    "npy_case.py": ("stdout", ["numpy"], {}),
    "charrnn_train.py": ("cases", ["numpy"], {}),
    "interop_torch.py": ("cases", ["numpy", "torch"], {}),
    "interop_onnx.py": ("cases", ["numpy", "torch", "onnx", "onnxruntime"], {}),
    "interop_keras.py": ("cases", ["numpy", "torch", "keras"], {"KERAS_BACKEND": "torch"}),
    "interop_cross.py": ("cases", ["numpy", "torch"], {}),
    "interop_torch_cells.py": ("cases", ["numpy", "torch"], {}),
    "interop_keras_bidirectional.py": ("cases", ["numpy", "torch", "keras"], {"KERAS_BACKEND": "torch"}),
    "interop_flax.py": ("cases", ["numpy", "jax", "flax"], {}),
    "interop_mlx.py": ("cases", ["numpy", "mlx"], {}),
    "grad_torch.py": ("cases", ["numpy", "torch"], {}),
    "grad_onnx.py": ("cases", ["numpy", "torch", "onnx", "onnxruntime"], {}),
    "grad_keras.py": ("cases", ["numpy", "torch", "keras"], {"KERAS_BACKEND": "torch"}),
    "bptt_torch.py": ("cases", ["numpy", "torch"], {}),
}
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def missing_modules(python, modules):
    code = "import importlib.util, sys; print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))"
    out = subprocess.run([python, "-c", code, *modules], capture_output=True, text=True, check=True).stdout.split()
    return out


def export(rnnspec, cases_root, golden_root, to):
    os.makedirs(golden_root, exist_ok=True)
    r = subprocess.run([rnnspec, "export", "--to", to, "--cases-root", cases_root, "--golden-root", golden_root, cases_root],
                       capture_output=True, text=True)
    if r.returncode not in (0, 1):
        sys.exit(f"rnnspec export failed ({r.returncode}): {r.stderr.strip()}")
    cases = {}
    for path in glob.glob(os.path.join(to, "**", "case.json"), recursive=True):
        with open(path) as fh:
            c = json.load(fh)
        c["_dir"] = os.path.dirname(path)
        cases[c["id"]] = c
    return cases


def expect_values(case, name):
    e = case.get("expect", {}).get(name)
    if e is None or "file" not in e:
        return None
    return np.load(os.path.join(case["_dir"], e["file"]), allow_pickle=False)


def numbers_in(value):
    """Every number in a JSON value, in document order."""
    out = []
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, bool):
            out.append(float(v))
        elif isinstance(v, (int, float)):
            out.append(float(v))
        elif isinstance(v, list):
            stack.extend(reversed(v))
        elif isinstance(v, dict):
            stack.extend(reversed(list(v.values())))
    return out


def allowed(expected, abs_tol, rel_tol):
    return abs_tol + rel_tol * np.abs(expected)


def find_run(haystack, needle, tol):
    """Whether needle appears as one contiguous run of haystack, element by element within tol."""
    n = len(needle)
    if n == 0 or n > len(haystack):
        return n == 0
    starts = np.nonzero(np.abs(haystack[: len(haystack) - n + 1] - needle[0]) <= tol[0])[0]
    for s in starts:
        if np.all(np.abs(haystack[s:s + n] - needle) <= tol):
            return True
    return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", default=sys.executable, help="the interpreter that runs the scripts (a venv from requirements.txt)")
    ap.add_argument("--rnnspec", default=os.path.join(REPO, ".build", "release", "rnnspec"),
                    help="the rnnspec binary (default .build/release/rnnspec: swift build -c release)")
    ap.add_argument("--python-for", action="append", default=[], metavar="SCRIPT=PY",
                    help="run one script with another interpreter (e.g. interop_mlx.py=/tmp/mlx/bin/python); repeatable")
    ap.add_argument("--only", default="", help="comma-separated script names to run (default: all)")
    ap.add_argument("--keep", default=None, help="keep the scratch directory here (default: a temporary one, removed)")
    args = ap.parse_args()
    if not os.access(args.rnnspec, os.X_OK):
        sys.exit(f"no rnnspec binary at {args.rnnspec}: run `swift build -c release` or pass --rnnspec")
    only = set(filter(None, args.only.split(",")))
    interpreters = dict(item.split("=", 1) for item in args.python_for)
    scratch = args.keep or tempfile.mkdtemp(prefix="rnnspec-reference-")
    os.makedirs(scratch, exist_ok=True)
    refdata, cases_out = os.path.join(scratch, "refdata"), os.path.join(scratch, "cases")
    os.makedirs(refdata, exist_ok=True)
    os.makedirs(cases_out, exist_ok=True)

    ran, skipped, outputs = {}, {}, {}
    for script, (kind, modules, extra_env) in SCRIPTS.items():
        if only and script not in only:
            continue
        python = interpreters.get(script, args.python)
        missing = missing_modules(python, modules)
        if missing:
            skipped[script] = "needs " + ", ".join(missing)
            continue
        env = dict(os.environ, RNNSPEC_REFDATA=refdata, RNNSPEC_REFERENCE_CASES=cases_out, **extra_env)
        r = subprocess.run([python, os.path.join(HERE, script)], capture_output=True, text=True, env=env, cwd=REPO)
        if r.returncode != 0:
            print(f"FAILED {script} (exit {r.returncode}):\n{r.stderr.strip()[-2000:]}")
            skipped[script] = "failed"
            continue
        ran[script] = kind
        if kind == "stdout":
            outputs[script] = np.array([float(m) for m in NUMBER.findall(r.stdout)])
        elif kind == "json":
            with open(os.path.join(refdata, script.replace(".py", ".json"))) as fh:
                outputs[script] = np.array(numbers_in(json.load(fh)))
        print(f"ran {script}")

    committed = export(args.rnnspec, os.path.join(REPO, "cases"), os.path.join(REPO, "golden"), os.path.join(scratch, "committed"))
    recreated = export(args.rnnspec, cases_out, os.path.join(scratch, "golden-none"), os.path.join(scratch, "recreated")) \
        if any(k == "cases" for k in ran.values()) else {}

    script_name = re.compile(r"tools/reference/(\w+\.py)")
    counts = {"agree": 0, "differ": 0, "not found": 0, "skipped": 0, "not from a script": 0}
    problems = []
    for cid in sorted(committed):
        case = committed[cid]
        for name, e in sorted(case.get("expect", {}).items()):
            m = script_name.search(e.get("source") or case.get("source") or "")  # the output's own source wins
            if not m or m.group(1) not in SCRIPTS:
                counts["not from a script"] += 1
                continue
            script = m.group(1)
            if script not in ran:
                counts["skipped"] += 1
                continue
            want = expect_values(case, name)
            if want is None or not np.issubdtype(want.dtype, np.number) and want.dtype != bool:
                counts["not from a script"] += 1
                continue
            want = want.astype(np.float64).ravel()
            tol = allowed(want, float(e.get("abs") or 0), float(e.get("rel") or 0))
            if ran[script] == "cases":
                other = recreated.get(cid)
                got = expect_values(other, name) if other else None
                if got is None:
                    counts["not found"] += 1
                    problems.append(f"NOT FOUND {cid} {name}: {script} no longer writes this case or output")
                    continue
                got = got.astype(np.float64).ravel()
                if got.shape != want.shape:
                    counts["differ"] += 1
                    problems.append(f"DIFFERS {cid} {name}: {script} now gives {got.size} values, the case holds {want.size}")
                    continue
                excess = np.abs(got - want) - tol
                if np.all(excess <= 0):
                    counts["agree"] += 1
                else:
                    k = int(np.argmax(excess))
                    counts["differ"] += 1
                    problems.append(f"DIFFERS {cid} {name}: element {k} expected {want[k]!r}, {script} now gives {got[k]!r} "
                                    f"(|diff| {abs(got[k] - want[k]):.3g}, allowed {tol[k]:.3g})")
            else:
                if find_run(outputs[script], want, tol):
                    counts["agree"] += 1
                else:
                    counts["not found"] += 1
                    problems.append(f"NOT FOUND {cid} {name}: its {want.size} expected values are not among what {script} "
                                    f"now writes (within abs {e.get('abs') or 0}, rel {e.get('rel') or 0})")
    for p in problems:
        print(p)
    for script, why in skipped.items():
        print(f"SKIPPED {script}: {why}")
    print("expect: outputs: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
