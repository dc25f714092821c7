"""Run with Axolotl's own Python: validate each YAML given with axolotl's validate_config and print, per file,
what went in and what came out (validate_config drops unknown keys silently, so the caller compares)."""

import json
import sys

import yaml
from axolotl.utils.config import validate_config
from axolotl.utils.dict import DictDefault

results = []
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as handle:
        given = yaml.safe_load(handle)
    try:
        out = json.loads(json.dumps(dict(validate_config(DictDefault(given))), default=str))
        results.append({"file": path, "in": given, "out": out})
    except Exception as exc:
        results.append({"file": path, "in": given, "error": f"{type(exc).__name__}: {exc}"})
print("RESULTS " + json.dumps(results))
