"""Helpers shared by the reference scripts: where they write, JSON conversion, captured prints.

Every script that writes reference data takes its output path as argv[1]; without it, it writes
under the reference-data directory: $RNNSPEC_REFDATA, or .build/reference/ in the repository (never
committed). Scripts that write case files write under $RNNSPEC_REFERENCE_CASES, or the repository's
cases/ (so that running one re-creates the committed cases in place, for `git diff`).
"""
import contextlib
import io
import json
import os
import sys

import numpy as np

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
REFDATA = os.environ.get("RNNSPEC_REFDATA", os.path.join(REPO, ".build", "reference"))
CASES = os.environ.get("RNNSPEC_REFERENCE_CASES", os.path.join(REPO, "cases"))


def output_path(default_name):
    """argv[1] if given, else REFDATA/default_name (its directory created)."""
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REFDATA, default_name)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return path


def refdata(name):
    """A file another script wrote under REFDATA (e.g. seed000.json for catalog_extra.py)."""
    path = os.path.join(REFDATA, name)
    if not os.path.exists(path):
        sys.exit(f"{path} is missing: run the script that writes it first (tools/reference/recreate.py runs them in order)")
    return path


def J(v):
    """Make v JSON-ready: numpy arrays/scalars -> nested lists of float64 (ints stay ints, bools bools)."""
    if isinstance(v, np.ndarray):
        return v.tolist() if v.dtype == bool else v.astype(np.float64).tolist()
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, dict):
        return {k: J(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [J(x) for x in v]
    return v


def write_json(path, obj, indent=1):
    """Writes obj (already J-converted) as JSON; NaN and infinities are refused."""
    with open(path, "w") as fh:
        fh.write(json.dumps(obj, indent=indent, allow_nan=False))


def capture(fn):
    """What fn prints to standard output, as text."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        fn()
    return buf.getvalue()
