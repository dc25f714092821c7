"""Start the chat child and talk to it: requests go to its stdin, replies come back on a reader thread.

The model loads once in the child (`python -m tuiapp.training.chat_child RUN_DIR --model ...`); this side
imports no torch, so the TUI can use it. Replies go to a callback (called on the reader thread: hand them to
the UI's own loop) or, without one, to `replies`, a queue. If the child dies, one fatal Error reply says how,
with the last line it wrote on stderr.
"""

from __future__ import annotations

import itertools
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from tuiapp.core.chat.protocol import Error, Generate, Quit, Reply, Request, Stop, Which, encode, parse_reply
from tuiapp.core.chat.settings import GenerationSettings
from tuiapp.core.child_env import child_env
from tuiapp.core.user_error import UserError

CHILD_MODULE = "tuiapp.training.chat_child"
ModelChoice = Literal["tuned", "merged", "base"]
STDERR_TAIL_CHARS = 4000


class ChatClient:
    """One chat child. `start()` launches it; `generate()` queues an answer; `close()` ends it."""

    def __init__(
        self,
        run_dir: Path,
        model: ModelChoice = "tuned",
        on_reply: Callable[[Reply], None] | None = None,
        *,
        command: list[str] | None = None,
    ) -> None:
        self.run_dir, self.model = Path(run_dir), model
        self.replies: queue.Queue[Reply] = queue.Queue()
        self._deliver = on_reply or self.replies.put
        self._command = command or [sys.executable, "-m", CHILD_MODULE, str(self.run_dir), "--model", model]
        self._proc: subprocess.Popen[str] | None = None
        # The child's stderr, read once it has exited (the reader thread closes it then).
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")  # noqa: SIM115
        self._write_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._closing = False
        self._fatal_seen = False

    def start(self) -> None:
        """Launch the child; the model loads there (a `ready` reply says when it is done)."""
        try:
            self._proc = subprocess.Popen(
                self._command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                text=True,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
                env=child_env(),
                start_new_session=True,  # Ctrl+C in the terminal is ours (it stops an answer), not the child's
            )
        except OSError as exc:
            raise UserError(f"could not start the chat process ({self._command[0]}): {exc}") from None
        threading.Thread(target=self._read, name="chat-replies", daemon=True).start()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def generate(self, messages: list[dict[str, str]], which: Which, settings: GenerationSettings) -> str:
        """Queue an answer to `messages` by the `which` model; its id names its token and done replies."""
        request_id = f"g{next(self._ids)}"
        self._send(Generate(request_id, messages, which, settings))
        return request_id

    def stop(self, request_id: str | None = None) -> None:
        """Stop one generation, or (None) the current one and all that wait."""
        self._send(Stop(request_id))

    def close(self, timeout: float = 5.0) -> None:
        """Ask the child to quit, close its stdin, and kill it if it has not gone within `timeout` seconds."""
        self._closing = True
        proc = self._proc
        if proc is None:
            return
        self._send(Quit())
        try:
            if proc.stdin:
                proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def _send(self, request: Request) -> None:
        proc = self._proc
        if proc is None or proc.stdin is None:
            raise UserError("the chat process is not started")
        with self._write_lock:
            try:
                proc.stdin.write(encode(request) + "\n")
                proc.stdin.flush()
            except (OSError, ValueError):  # it has gone: the reader reports how
                pass

    def _read(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        for line in proc.stdout:
            reply = parse_reply(line)
            if reply is None:
                continue  # a library printed on stdout
            if isinstance(reply, Error) and reply.fatal:
                self._fatal_seen = True
            self._deliver(reply)
        code = proc.wait()
        if not self._closing and not self._fatal_seen:
            self._deliver(Error(f"the chat process ended (exit status {code}): {self._stderr_tail()}", fatal=True))
        self._stderr.close()

    def _stderr_tail(self) -> str:
        """The last line the child wrote on stderr, once it has exited (the file's offset is shared with it)."""
        try:
            self._stderr.seek(0)
            text = self._stderr.read()[-STDERR_TAIL_CHARS:]
        except (OSError, ValueError):
            return "no output"
        lines = [line for line in text.strip().splitlines() if line.strip()]
        return lines[-1][:400] if lines else "no output"
