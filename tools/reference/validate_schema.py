#!/usr/bin/env python3
"""Validates case files against rnnspec.schema.json with the `jsonschema` package (draft 2020-12).

    python tools/reference/validate_schema.py rnnspec.schema.json cases/ [--expect-invalid DIR]

Every *.yaml under the case directories must validate; with --expect-invalid, every *.yaml under
DIR must be rejected. YAML is read with PyYAML's safe loader taught YAML 1.2's floats (`1e-12`
without a dot is a number, as for rnnspec and the YAML language server).
"""
import importlib.metadata
import json
import pathlib
import re
import sys

import jsonschema
import yaml


class Loader(yaml.SafeLoader):
    pass


Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""", re.X),
    list("-+0123456789."))

args = sys.argv[1:]
schema = json.load(open(args[0]))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
invalid_dir = None
if "--expect-invalid" in args:
    i = args.index("--expect-invalid")
    invalid_dir = args[i + 1]
    args = args[:i] + args[i + 2:]
ok = bad = 0
for d in args[1:]:
    for p in sorted(pathlib.Path(d).rglob("*.yaml")):
        errors = list(validator.iter_errors(yaml.load(p.read_text(), Loader=Loader)))
        if errors:
            bad += 1
            print(f"INVALID {p}: {errors[0].message[:300]} at {list(errors[0].absolute_path)}")
        else:
            ok += 1
print(f"jsonschema {importlib.metadata.version('jsonschema')}: {ok} valid, {bad} invalid case files")
rejected = missed = 0
if invalid_dir:
    for p in sorted(pathlib.Path(invalid_dir).rglob("*.yaml")):
        errors = list(validator.iter_errors(yaml.load(p.read_text(), Loader=Loader)))
        if errors:
            rejected += 1
            print(f"rejected as expected {p.name}: {errors[0].message[:160]}")
        else:
            missed += 1
            print(f"NOT REJECTED {p}")
    print(f"wrong files: {rejected} rejected, {missed} accepted")
sys.exit(1 if bad or missed else 0)
