"""rnnspec_backend: speak rnnspec's worker protocol (version 1) from Python.

One file, standard library plus NumPy. A backend is a module that registers functions and calls
`serve()`:

    from rnnspec_backend import kernel, serve
    import numpy as np

    @kernel("rnn.step")
    def rnn_step(x, h_prev, W_xh, W_hh, b_h=None, activation="tanh", **_):
        a = W_xh @ x + W_hh @ h_prev + (0 if b_h is None else b_h)
        return {"a": a, "h": np.tanh(a)}

    if __name__ == "__main__":
        serve("my numpy")

    $ rnnspec run cases/exercises --backend 'python3 my_backend.py'

What the helper does (docs/worker-protocol.md is the protocol):
- writes the hello with the registered kernel names (cases of other kernels are UNSUPPORTED);
- decodes every input to a NumPy array of its dtype and shape (float64, float32, int64, bool;
  `string` tensors as object arrays; `list` tensors as Python lists of arrays) and the params to
  Python values (`"nan"`, `"inf"`, `"-inf"` to floats). rnnspec sends real inputs in float64
  whatever the case's `dtype` param; when the request has `dtype: float32` the helper casts them,
  so a kernel written with plain NumPy operations computes, and answers, in float32;
- calls the function with the inputs and params as keyword arguments. An input the case does not
  give is not passed (give it a default); a function with an argument named `dims` gets the
  request's dims ({"H": 2, ...}); a param the function does not name is dropped, unless
  the function takes `**kwargs`; an input it does not name is an error naming that input;
- encodes what the function returns: a dict {output name: value} (or a list of (name, value)
  pairs), each value a NumPy array or scalar (float64/float32 stay as computed, integers become
  int64, booleans bool, strings string, Python floats float64) or a list/tuple of those (a `list`
  tensor);
- `NotImplementedError` -> an `unsupported` reply (the case is UNSUPPORTED, not failed); any
  other exception -> an `error` reply (UNRESOLVED) with the exception's type and message, at the
  input or param named by `KernelError(message, input=NAME)` / `KernelError(message, param=NAME)`,
  or by the input that could not be decoded, else at `kernel`;
- writes each reply as one line and flushes it. While a kernel runs, anything printed to standard
  output (a learner's `print`, a library's chatter) goes to standard error, so it cannot corrupt
  the protocol.
"""

import base64
import inspect
import json
import os
import sys
import traceback

import numpy as np

PROTOCOL = 1

_DECODE = {"float64": "<f8", "float32": "<f4", "int64": "<i8", "bool": "|b1"}
_NONFINITE = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}

KERNELS = {}
"""The registered kernels: registry name -> function. `kernel(...)` fills it; a plain assignment
`KERNELS["rnn.step"] = f` works too."""


def kernel(name):
    """Decorator: register the function as the implementation of kernel `name`."""
    def register(fn):
        KERNELS[name] = fn
        return fn
    return register


class KernelError(Exception):
    """An error that names what is wrong: `KernelError("must be positive", param="clip")` or
    `KernelError("wrong shape", input="W_hh")`. rnnspec points at that line of the case file."""

    def __init__(self, message, input=None, param=None):
        super().__init__(message)
        if input is not None:
            self.at = f"input:{input}"
        elif param is not None:
            self.at = f"param:{param}"
        else:
            self.at = "kernel"


class ProtocolError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# tensors

def decode(t):
    """A protocol tensor -> a NumPy array (a list of arrays for dtype `list`)."""
    dtype = t["dtype"]
    if dtype == "list":
        return [decode(item) for item in t["items"]]
    shape = tuple(t["shape"])
    if dtype == "string":
        return np.array(t["data"], dtype=object).reshape(shape)
    if dtype not in _DECODE:
        raise ValueError(f"unknown dtype {dtype!r}")
    raw = base64.b64decode(t["data"], validate=True)
    a = np.frombuffer(raw, dtype=_DECODE[dtype]).reshape(shape)
    # native byte order, writable (frombuffer gives a read-only view of the bytes)
    return a.astype(a.dtype.newbyteorder("="), copy=True)


def encode(value, name=None):
    """A NumPy array, NumPy or Python scalar, or list/tuple of those -> a protocol tensor."""
    if isinstance(value, (list, tuple)) and not _is_string_list(value):
        t = {"dtype": "list", "items": [encode(v) for v in value]}
    else:
        a = np.asarray(value)
        if a.dtype == np.float32:
            dtype, a = "float32", a.astype("<f4")
        elif a.dtype.kind == "f":            # float64, and float16 or longdouble widened/narrowed
            dtype, a = "float64", a.astype("<f8")
        elif a.dtype.kind == "b":
            dtype, a = "bool", a.astype("|b1")
        elif a.dtype.kind in "iu":
            dtype, a = "int64", a.astype("<i8")
        elif a.dtype.kind in "OUS":
            t = {"dtype": "string", "shape": list(a.shape),
                 "data": [str(s) for s in a.reshape(-1).tolist()]}
            if name is not None:
                t["name"] = name
            return t
        else:
            raise TypeError(f"cannot encode an array of dtype {a.dtype}")
        a = np.array(a, order="C")           # not ascontiguousarray: it makes a scalar [1]
        t = {"dtype": dtype, "shape": list(a.shape),
             "data": base64.b64encode(a.tobytes()).decode("ascii")}
    if name is not None:
        t["name"] = name
    return t


def _is_string_list(value):
    return len(value) > 0 and all(isinstance(v, str) for v in value)


def _param(v):
    if isinstance(v, str) and v in _NONFINITE:
        return _NONFINITE[v]
    if isinstance(v, list):
        return [_param(x) for x in v]
    return v


# ---------------------------------------------------------------------------------------------
# one request

def _call(fn, inputs, params, dims):
    sig = inspect.signature(fn)
    takes_all = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
    names = set(sig.parameters)
    if not takes_all:
        for name in inputs:
            if name not in names:
                raise KernelError(f"{fn.__name__}() takes no input '{name}'", input=name)
        params = {k: v for k, v in params.items() if k in names}
    clash = set(inputs) & set(params)
    if clash:
        raise KernelError(f"an input and a param are both named {sorted(clash)}")
    if "dims" in names and "dims" not in inputs and "dims" not in params:
        params = {**params, "dims": dims}
    return fn(**inputs, **params)


def _outputs(result):
    if isinstance(result, dict):
        items = list(result.items())
    elif isinstance(result, (list, tuple)) and all(
            isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in result):
        items = list(result)
    else:
        raise TypeError("a kernel returns a dict {output name: value}, "
                        f"not a {type(result).__name__}")
    return [encode(v, name=str(k)) for k, v in items if v is not None]


def handle(req):
    """One request (a decoded JSON object) -> the reply's fields (without protocol and id)."""
    name = req.get("kernel")
    fn = KERNELS.get(name)
    if fn is None:
        return {"unsupported": f"this backend does not implement {name}"}
    inputs = {}
    for t in req.get("inputs", []):
        try:
            inputs[t["name"]] = decode(t)
        except Exception as e:  # noqa: BLE001 - a bad tensor is reported, not fatal
            return {"error": {"message": f"cannot decode input: {type(e).__name__}: {e}",
                              "at": f"input:{t.get('name', '?')}"}}
    params = {k: _param(v) for k, v in req.get("params", {}).items()}
    if params.get("dtype") in ("float32", "float64"):
        # real inputs arrive in float64 whatever the case's dtype: compute in the dtype asked for
        inputs = {k: _as_real(v, params["dtype"]) for k, v in inputs.items()}
    try:
        result = _call(fn, inputs, params, req.get("dims", {}))
        return {"outputs": _outputs(result)}
    except NotImplementedError as e:
        return {"unsupported": str(e) or f"{fn.__name__} is not implemented"}
    except KernelError as e:
        return {"error": {"message": str(e), "at": e.at}}
    except Exception as e:  # noqa: BLE001 - the case is UNRESOLVED, the backend goes on
        traceback.print_exc(file=sys.stderr)
        return {"error": {"message": f"{type(e).__name__}: {e}", "at": _guess_at(e, inputs, params)}}


def _as_real(v, dtype):
    if isinstance(v, list):
        return [_as_real(x, dtype) for x in v]
    return v.astype(dtype) if v.dtype.kind == "f" else v


def _guess_at(e, inputs, params):
    """Name the input or param an exception's message quotes, when exactly one is quoted."""
    text = str(e)
    named = [f"input:{n}" for n in inputs if f"'{n}'" in text]
    named += [f"param:{n}" for n in params if f"'{n}'" in text]
    return named[0] if len(named) == 1 else "kernel"


# ---------------------------------------------------------------------------------------------
# the loop

def serve(worker="python backend", kernels=None):
    """Run the protocol on standard input/output until rnnspec closes standard input.
    `kernels`: a dict name -> function (default: those registered with `@kernel`)."""
    table = KERNELS if kernels is None else kernels
    if table is not KERNELS:
        KERNELS.clear()
        KERNELS.update(table)
    # The protocol gets its own copy of file descriptor 1; descriptor 1 and sys.stdout then point
    # at standard error, so a stray print (or a C library writing to fd 1) cannot break a reply.
    sys.stdout.flush()
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8", newline="\n")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def send(obj):
        proto.write(json.dumps(obj, allow_nan=False, separators=(",", ":")) + "\n")
        proto.flush()

    send({"protocol": PROTOCOL, "worker": worker, "kernels": sorted(KERNELS)})
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
        except json.JSONDecodeError as e:
            print(f"rnnspec_backend: not a JSON request: {e}: {line[:200]!r}", file=sys.stderr)
            continue
        reply = handle(req)
        send({"protocol": PROTOCOL, "id": req.get("id"), **reply})
    proto.close()
