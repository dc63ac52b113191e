"""Tests of rnnspec_backend.py (standard library + NumPy; not run by CI, which needs no Python):

    python3 -m unittest discover -s tools/backends -p 'test_*.py'
"""

import base64
import json
import os
import subprocess
import sys
import textwrap
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import rnnspec_backend as rb  # noqa: E402


def tensor(name, a, dtype="float64"):
    a = np.asarray(a, dtype={"float64": "<f8", "float32": "<f4", "int64": "<i8"}[dtype])
    return {"name": name, "dtype": dtype, "shape": list(a.shape),
            "data": base64.b64encode(a.tobytes()).decode()}


def run_backend(source, requests):
    """Start a backend from source, send requests, return (hello, replies, stderr)."""
    prog = "import sys; sys.path.insert(0, %r)\n" % HERE + textwrap.dedent(source)
    p = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True,
                       input="".join(json.dumps(r) + "\n" for r in requests), timeout=60)
    lines = [json.loads(l) for l in p.stdout.splitlines()]
    return lines[0], lines[1:], p.stderr


class TensorTests(unittest.TestCase):
    def test_round_trip_keeps_dtype_and_shape(self):
        for a in [np.arange(6.0).reshape(2, 3), np.float32([1.5, -2]), np.int64([3, 1]),
                  np.array([True, False]), np.zeros((0, 4))]:
            t = rb.encode(a, "x")
            b = rb.decode(t)
            self.assertEqual(b.dtype, a.dtype)
            self.assertEqual(b.shape, a.shape)
            np.testing.assert_array_equal(a, b)

    def test_a_scalar_has_shape_empty_not_one(self):
        self.assertEqual(rb.encode(np.float64(2.0))["shape"], [])
        self.assertEqual(rb.encode(np.array(2.0))["shape"], [])
        self.assertEqual(rb.encode(2.0)["dtype"], "float64")

    def test_float32_stays_float32_and_lists_are_list_tensors(self):
        self.assertEqual(rb.encode(np.float32(1))["dtype"], "float32")
        t = rb.encode([np.zeros(2), np.ones((1, 2))])
        self.assertEqual(t["dtype"], "list")
        self.assertEqual([i["shape"] for i in t["items"]], [[2], [1, 2]])

    def test_strings(self):
        t = rb.encode(np.array(["I", "like"], dtype=object), "s")
        self.assertEqual((t["dtype"], t["shape"], t["data"]), ("string", [2], ["I", "like"]))
        self.assertEqual(rb.decode(t).tolist(), ["I", "like"])

    def test_decoded_arrays_are_writable(self):
        a = rb.decode(rb.encode(np.zeros(3)))
        a += 1
        self.assertEqual(a.tolist(), [1, 1, 1])


class HandleTests(unittest.TestCase):
    def setUp(self):
        rb.KERNELS.clear()

    def test_inputs_are_cast_to_the_requested_dtype(self):
        rb.KERNELS["k"] = lambda x, dtype: {"y": x * 2}
        reply = rb.handle({"kernel": "k", "params": {"dtype": "float32"},
                           "inputs": [tensor("x", [1.0, 2.0])]})
        self.assertEqual(reply["outputs"][0]["dtype"], "float32")

    def test_not_implemented_is_unsupported(self):
        def k(x):
            raise NotImplementedError("variant relu")
        rb.KERNELS["k"] = k
        reply = rb.handle({"kernel": "k", "params": {}, "inputs": [tensor("x", [1.0])]})
        self.assertEqual(reply, {"unsupported": "variant relu"})

    def test_unknown_kernel_is_unsupported(self):
        self.assertIn("unsupported", rb.handle({"kernel": "nope", "params": {}, "inputs": []}))

    def test_errors_name_the_input(self):
        def k(x, W):
            raise rb.KernelError("W must be square", input="W")
        rb.KERNELS["k"] = k
        reply = rb.handle({"kernel": "k", "params": {},
                           "inputs": [tensor("x", [1.0]), tensor("W", [[1.0, 2.0]])]})
        self.assertEqual(reply["error"], {"message": "W must be square", "at": "input:W"})

    def test_other_exceptions_are_errors_at_the_quoted_input_or_the_kernel(self):
        def k(x):
            raise ValueError("bad 'x'")
        rb.KERNELS["k"] = k
        reply = rb.handle({"kernel": "k", "params": {}, "inputs": [tensor("x", [1.0])]})
        self.assertEqual(reply["error"]["at"], "input:x")
        self.assertIn("ValueError", reply["error"]["message"])

    def test_an_input_the_function_does_not_take_is_an_error_params_are_dropped(self):
        rb.KERNELS["k"] = lambda x: {"y": x}
        reply = rb.handle({"kernel": "k", "params": {"activation": "tanh"},
                           "inputs": [tensor("x", [1.0]), tensor("b", [1.0])]})
        self.assertEqual(reply["error"]["at"], "input:b")
        reply = rb.handle({"kernel": "k", "params": {"activation": "tanh"},
                           "inputs": [tensor("x", [1.0])]})
        self.assertIn("outputs", reply)

    def test_nonfinite_params(self):
        rb.KERNELS["k"] = lambda x, clip: {"y": np.float64(clip)}
        reply = rb.handle({"kernel": "k", "params": {"clip": "inf"}, "inputs": [tensor("x", [1.0])]})
        self.assertEqual(rb.decode(reply["outputs"][0]), np.inf)


class ServeTests(unittest.TestCase):
    def test_hello_replies_and_prints_kept_off_standard_output(self):
        hello, replies, stderr = run_backend("""
            from rnnspec_backend import kernel, serve
            @kernel("seq.probability")
            def sp(probs):
                print("debugging", probs)
                return {"p": probs.prod()}
            serve("test")
        """, [{"protocol": 1, "id": "a/b", "kernel": "seq.probability", "params": {"dtype": "float64"},
               "inputs": [tensor("probs", [0.5, 0.5])]},
              {"protocol": 1, "id": "c", "kernel": "rnn.step", "params": {}, "inputs": []}])
        self.assertEqual(hello, {"protocol": 1, "worker": "test", "kernels": ["seq.probability"]})
        self.assertEqual(replies[0]["id"], "a/b")
        self.assertEqual(rb.decode(replies[0]["outputs"][0]), 0.25)
        self.assertIn("unsupported", replies[1])
        self.assertIn("debugging", stderr)


if __name__ == "__main__":
    unittest.main()
