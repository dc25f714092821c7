"""Run a Finish-screen action (merge, GGUF, push) from the command line, in this process: progress lines on
stderr, the result on stdout, the same events in the run's `events.jsonl` as the Finish screen writes.

Exit codes as for every command: 0 done, 2 a problem the user can fix (the message and its Fix lines),
1 an unexpected failure (its crash log named), 130 cancelled with Ctrl+C (partial files removed).
"""

from __future__ import annotations

import sys
from typing import Any

from tuiapp.core.runs.layout import RunPaths


def _echo(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run_action_here(paths: RunPaths, action: str, options: dict[str, Any], detail: str | None = None) -> int:
    """Run `action` on `paths` with `options` (the same JSON-able dict the Finish screen passes)."""
    from tuiapp.training.action_main import action_body
    from tuiapp.training.action_runner import run_action

    body = action_body(action)
    code, final = run_action(paths, action, lambda report: body(paths, options, report), detail, _echo)
    if final.kind == "action_done":
        print(final.summary)
        for output in final.outputs:
            print(f"  {output}")
        for note in final.notes:
            print(f"note: {note}")
        return 0
    if final.kind == "action_cancelled":
        _echo(f"ftwizard: {action} cancelled; nothing half-written was kept")
        return 130
    _echo(f"ftwizard: {action} failed: {final.message}")
    for fix in final.fixes:
        _echo(f"  Fix: {fix}")
    if final.crash_log:
        _echo(f"  Details: {final.crash_log}")
        return 1
    return 2 if code else 0
