"""Hub repo names checked before any request, by the Hub's own rules (huggingface_hub's `validate_repo_id`):
`name` or `namespace/name`, ASCII letters, digits, '-', '_' and '.', at most 96 characters a part, no '--' or
'..', neither part starting or ending with '-' or '.', no `.git` at the end."""

from __future__ import annotations

import re

from tuiapp.core.user_error import UserError

MAX_PART = 96
_PART = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?")
EXAMPLE = "alice/qwen-support-lora"


def check_repo_name(text: str) -> str:
    """`text` stripped when it is a valid repo name (`name` or `namespace/name`), else a UserError saying why."""
    name = text.strip()
    shown = name if len(name) <= 120 else name[:117] + "..."
    fix = f"write it as name or user-or-org/name with letters, digits, '-', '_' and '.', e.g. {EXAMPLE}"
    if not name:
        raise UserError("no Hub repo given", f"pass --repo NAME ({fix})")
    parts = name.split("/")
    if len(parts) > 2:
        raise UserError(f"{shown!r} is not a Hub repo name: it has more than one '/'", fix)
    for part in parts:
        if len(part) > MAX_PART:
            raise UserError(f"{shown!r} is not a Hub repo name: {part[:20]}... is longer than {MAX_PART}", fix)
        if not _PART.fullmatch(part):
            raise UserError(
                f"{shown!r} is not a Hub repo name: {part!r} must use ASCII letters, digits, '-', '_' or '.' "
                "and not start or end with '-' or '.'",
                fix,
            )
    if "--" in name or ".." in name:
        raise UserError(f"{shown!r} is not a Hub repo name: '--' and '..' are not allowed", fix)
    if name.endswith(".git"):
        raise UserError(f"{shown!r} is not a Hub repo name: it cannot end with .git", fix)
    return name


def split_repo(name: str) -> tuple[str | None, str]:
    """(namespace or None, name) of a checked repo name."""
    namespace, _, rest = name.rpartition("/")
    return namespace or None, rest
