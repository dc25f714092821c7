"""Run with LLaMA-Factory's own Python: parse each YAML given with get_train_args, passing its keys as command
line strings (the only form it type-checks, refusing unknown keys), and print the parsed values per file."""

import dataclasses
import json
import sys

import yaml
from llamafactory.hparams import get_train_args


def words(values):
    for key, value in values.items():
        if isinstance(value, bool):
            text = str(value).lower()
        else:
            text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        yield from (f"--{key}", text)


results = []
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as handle:
        given = yaml.safe_load(handle)
    try:
        parsed = {}
        for part in get_train_args(list(words(given))):
            fields = part.to_dict() if hasattr(part, "to_dict") else dataclasses.asdict(part)
            parsed |= {key: value for key, value in fields.items() if key in given}
        results.append({"file": path, "in": given, "out": json.loads(json.dumps(parsed, default=str))})
    except (Exception, SystemExit) as exc:
        results.append({"file": path, "in": given, "error": f"{type(exc).__name__}: {exc}"})
print("RESULTS " + json.dumps(results))
