"""Whether a run's files can be read at all: the checks behind a `damaged` run in `ftwizard runs`, and behind
resume's refusal to start a worker that could not read its config."""

from __future__ import annotations

from pathlib import Path

import yaml

MAX_CONFIG_BYTES = 1 << 20  # a resolved config is a few KB; past this it is not one the launcher wrote


def config_problem(path: Path) -> str | None:
    """Why the run's config.yaml cannot be read as a YAML mapping (missing, unreadable, cut short), or None."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        return f"{path.name} is missing"
    except OSError as exc:
        return f"{path.name} cannot be read: {exc.strerror or exc}"
    if len(raw) > MAX_CONFIG_BYTES:
        return f"{path.name} is over {MAX_CONFIG_BYTES >> 20} MiB, not a config the launcher wrote"
    try:
        data = yaml.load(raw.decode("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except UnicodeDecodeError as exc:
        return f"{path.name} is not UTF-8 text (byte {exc.start})"
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        return f"{path.name} is not valid YAML{where} (cut short, or edited)"
    except RecursionError:
        return f"{path.name} is nested too deeply to read"
    if not isinstance(data, dict):
        return f"{path.name} does not hold a config (a mapping of sections)"
    return None


def events_problem(path: Path) -> str | None:
    """Why the run's events.jsonl exists but cannot be opened for reading, or None (a missing one is fine)."""
    try:
        path.open("rb").close()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"{path.name} cannot be read: {exc.strerror or exc}"
    return None
