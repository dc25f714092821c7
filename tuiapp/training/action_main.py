"""`python -m tuiapp.training.action_main ACTION RUN_DIR OPTIONS_JSON [DETAIL]`: one action in a child process.

The Finish screen starts it (tuiapp.core.runs.action_launcher) and follows its events in the run's
`events.jsonl`; its output goes to the run's `actions.log`. Each action's body is a function
`run(paths, options, report) -> ActionOutcome` in the module named below, imported only here.
"""

from __future__ import annotations

import importlib
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.user_error import UserError
from tuiapp.training.action_runner import ActionOutcome, ActionReport, run_action

ACTION_BODIES = {
    "merge": "tuiapp.training.merge_action",
    "gguf": "tuiapp.training.gguf_action",
    "push": "tuiapp.training.push_action",
}
ActionBody = Callable[[RunPaths, dict[str, Any], ActionReport], ActionOutcome]


def action_body(action: str) -> ActionBody:
    """The body of `action` (its module imports its heavy libraries inside `run`)."""
    module = importlib.import_module(ACTION_BODIES[action])
    return module.run


def main(argv: list[str]) -> int:
    if len(argv) not in (3, 4) or argv[0] not in ACTION_BODIES:
        print(
            f"usage: python -m tuiapp.training.action_main {'|'.join(ACTION_BODIES)} RUN_DIR OPTIONS_JSON",
            file=sys.stderr,
        )
        return 2
    action, paths, options = argv[0], RunPaths(Path(argv[1])), json.loads(argv[2])
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # a dropped SSH link does not stop an upload
    body = action_body(action)
    detail = argv[3] if len(argv) > 3 else None
    echo = lambda line: print(line, flush=True)  # noqa: E731
    try:
        code, final = run_action(paths, action, lambda report: body(paths, options, report), detail, echo)
    except UserError as refused:  # refused before it began (another action holds the run): no event was written
        print(f"ftwizard: {refused}", flush=True)
        return 2
    print(f"{action}: {final.kind}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
