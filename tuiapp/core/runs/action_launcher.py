"""Start and cancel the Finish screen's actions (merge, GGUF, push) as child processes of their own session,
so a closed terminal or a dropped SSH link does not stop a 20-minute upload; we follow them through the
run's `events.jsonl` and stop them with SIGTERM (the action removes its partial files)."""

from __future__ import annotations

import json
import os
import signal
import sys
from subprocess import Popen
from typing import Any

from tuiapp.core.runs.action_history import ActionRecord
from tuiapp.core.runs.launcher import spawn_detached
from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.runs.status import WorkerStatus, is_alive

ACTION_MODULE = "tuiapp.training.action_main"


def launch_action(paths: RunPaths, action: str, options: dict[str, Any], detail: str | None = None) -> Popen[bytes]:
    """Start `action` on the run with `options` (plain JSON values); it writes its own events."""
    command = [sys.executable, "-m", ACTION_MODULE, action, str(paths.root), json.dumps(options)]
    if detail:
        command.append(detail)
    return spawn_detached(command, paths.root, paths.actions_log)


def cancel_action(record: ActionRecord) -> bool:
    """Ask a running action to stop; False when its process is already gone."""
    if record.state != "running" or not is_alive(WorkerStatus(record.pid, None, record.started_at)):
        return False
    try:
        os.kill(record.pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True
