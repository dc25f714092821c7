"""Run the dataset doctor in a child process and hand its events back one by one (for the TUI).

The child (`python -m tuiapp.training.dataset_inspect`) owns every heavy import; this side only reads
JSON lines, so the UI process never loads transformers or datasets.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

from tuiapp.core.child_env import child_env
from tuiapp.core.data.inspect_request import InspectRequest
from tuiapp.core.data.records import DataError

COMMAND = [sys.executable, "-m", "tuiapp.training.dataset_inspect"]


def inspection_events(
    request: InspectRequest, should_stop: Callable[[], bool] = lambda: False
) -> Iterator[dict[str, Any]]:
    """Yield the child's events until `done`; an `error` event or a crash raises DataError.

    `should_stop` is polled between events: when it turns true the child is killed and the iteration ends.
    """
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as stderr:
        try:
            proc = subprocess.Popen(
                COMMAND,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                encoding="utf-8",
                env=child_env(),
            )
        except OSError as exc:
            raise DataError(f"could not start the dataset inspection ({sys.executable}): {exc}") from None
        try:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(json.dumps(request.to_json()))
            proc.stdin.close()
            for line in proc.stdout:
                if should_stop():
                    return
                event = _parse(line)
                if event is None:
                    continue
                if event.get("event") == "error":
                    raise DataError(event.get("message", "the dataset inspection failed"))
                if event.get("event") == "done":
                    return
                yield event
            proc.wait()
            stderr.seek(0)
            last = (stderr.read().strip().splitlines() or ["no output"])[-1]
            raise DataError(f"the dataset inspection stopped unexpectedly (exit status {proc.returncode}): {last}")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _parse(line: str) -> dict[str, Any] | None:
    """One event, or None for a line a library printed on stdout."""
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None
