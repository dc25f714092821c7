"""`python -m tuiapp.training.chat_child RUN_DIR [--model tuned|merged|base]`: the chat's model process.

It loads the model once, says `ready`, then answers JSON-lines requests from stdin (tuiapp.core.chat.protocol)
until stdin closes or a quit request comes. Answers are generated one at a time, in order, on a thread, and
streamed as token replies; the main loop keeps reading, so a stop request ends the current answer at the next
token. stdout carries the protocol only (anything a library prints goes to stderr); every failure becomes an
error reply, never a traceback on stdout.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import IO

from tuiapp.core.chat.protocol import Error, Generate, ProtocolError, Quit, Ready, Reply, Stop, encode, parse_request
from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.user_error import UserError
from tuiapp.core.user_paths import user_path
from tuiapp.training.chat_generate import Generator

MODEL_CHOICES = ("tuned", "merged", "base")


class Sender:
    """Writes replies to the protocol stream, one whole line at a time from any thread."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream, self._lock = stream, threading.Lock()

    def __call__(self, reply: Reply) -> None:
        with self._lock:
            try:
                self._stream.write(encode(reply) + "\n")
                self._stream.flush()
            except (OSError, ValueError):  # the reader has gone: nobody is left to answer
                os._exit(0)


def protocol_stream() -> IO[str]:
    """stdout for the protocol alone: file descriptor 1 (what C code and print() use) now points at stderr."""
    sys.stdout.flush()
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return protocol


def _load_failure(exc: BaseException) -> Error:
    if isinstance(exc, UserError):
        return Error(str(exc), fatal=True)
    traceback.print_exception(exc, file=sys.stderr)
    return Error(f"could not load the model: {type(exc).__name__}: {str(exc)[:500]}", fatal=True)


def serve(requests: IO[str], send: Callable[[Reply], None], generator: Generator) -> None:
    """Read requests until stdin closes or a quit comes; a bad line gets an error reply and is skipped."""
    for line in requests:
        if not line.strip():
            continue
        try:
            request = parse_request(line)
        except ProtocolError as exc:
            send(Error(f"bad request: {exc}"))
            continue
        if isinstance(request, Quit):
            return
        if isinstance(request, Stop):
            generator.stop(request.id)
        elif isinstance(request, Generate):
            generator.submit(request)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tuiapp.training.chat_child")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--model", choices=MODEL_CHOICES, default="tuned")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the terminal stops an answer (the client's job)
    send = Sender(protocol_stream())
    try:
        from tuiapp.training.chat_model import load_chat_model

        chat = load_chat_model(RunPaths(user_path(args.run_dir).resolve()), args.model)
    except Exception as exc:  # the whole point: a reply in words, the traceback on stderr
        send(_load_failure(exc))
        return 2 if isinstance(exc, UserError) else 1
    send(Ready(chat.facts))
    generator = Generator(chat, send)
    generator.start()
    try:
        serve(sys.stdin, send, generator)
    finally:
        generator.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
