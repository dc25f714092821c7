"""What may name a run directory: one rule for the config (`output.run_name`) and the runs layout."""

from __future__ import annotations

import re

MAX_RUN_NAME = 120  # characters (and twice that in UTF-8 bytes): with `-999`, well inside a file name's 255 bytes
_RUN_NAME = re.compile(r"[A-Za-z0-9][\w.-]*")
NAME_RULE = (
    "use letters, digits, '.', '_' and '-' for output.run_name, starting with a letter or digit "
    "(no slashes, spaces or line breaks)"
)


def run_name_problem(name: str) -> str | None:
    """Why `name` cannot name a run folder that every command reaches again, or None when it can. The whole
    name must match (a trailing newline does not slip past as it does past `^...$`)."""
    if len(name) > MAX_RUN_NAME or len(name.encode("utf-8", "replace")) > 2 * MAX_RUN_NAME:
        return f"the run name {name[:40]!r}… is {len(name):,} characters long; a run name has at most {MAX_RUN_NAME}"
    if not _RUN_NAME.fullmatch(name):
        return f"the run name {name[:MAX_RUN_NAME]!r} cannot name a run folder"
    return None
