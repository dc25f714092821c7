"""Start and cancel the Finish screen's actions (merge, GGUF, push) as child processes of their own session,
so a closed terminal or a dropped SSH link does not stop a 20-minute upload; we follow them through the
run's `events.jsonl` and stop them with SIGTERM (the action removes its partial files)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from typing import Any

from tuiapp.core.child_env import child_env
from tuiapp.core.runs.action_history import ActionRecord
from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.runs.status import WorkerStatus, is_alive

ACTION_MODULE = "tuiapp.training.action_main"


def launch_action(
    paths: RunPaths, action: str, options: dict[str, Any], detail: str | None = None
) -> subprocess.Popen[bytes]:
    """Start `action` on the run with `options` (plain JSON values); it writes its own events."""
    command = [sys.executable, "-m", ACTION_MODULE, action, str(paths.root), json.dumps(options)]
    if detail:
        command.append(detail)
    with paths.actions_log.open("ab") as log:
        return subprocess.Popen(
            command,
            cwd=paths.root,
            env=child_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )


def cancel_action(record: ActionRecord) -> bool:
    """Ask a running action to stop; False when its process is already gone."""
    if record.state != "running" or not is_alive(WorkerStatus(record.pid, None, record.started_at)):
        return False
    try:
        os.kill(record.pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True
