"""The chat child on the tiny model: it streams, stops, answers as base and tuned, refuses bad lines, and exits
when stdin closes. One child serves the module (loading costs the imports, ~9 s on two cores)."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from chat_runs import adapter_run, full_run

from tuiapp.core.chat.protocol import Done, Error, Generate, Ready, Stop, Token, encode, parse_reply
from tuiapp.core.chat.settings import GenerationSettings
from tuiapp.core.child_env import child_env

GREEDY = GenerationSettings(temperature=0, max_new_tokens=24)
LONG = GenerationSettings(temperature=0, max_new_tokens=400, repetition_penalty=1.0)
PROMPT = [{"role": "user", "content": "Name a prime."}]
WAIT_S = 90.0


class RawChild:
    """`python -m tuiapp.training.chat_child` with raw lines in and parsed replies out (on a reader thread)."""

    def __init__(self, run_dir: Path, *extra: str) -> None:
        command = [sys.executable, "-m", "tuiapp.training.chat_child", str(run_dir), *extra]
        self.proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env()
        )
        self.replies: queue.Queue[Any] = queue.Queue()
        self.held: list[Any] = []  # replies for another request, read while collecting one (kept for its turn)
        self.raw_lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.raw_lines.append(line)
            self.replies.put(parse_reply(line))
        self.replies.put(None)

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def next(self, timeout: float = WAIT_S) -> Any:
        return self.replies.get(timeout=timeout)

    def answer(self, request_id: str, messages: list[dict[str, str]], which: str, settings: GenerationSettings):
        """Send a generate request; its token texts and its done (or error) reply."""
        self.send(encode(Generate(request_id, messages, which, settings)))
        return self.collect(request_id)

    def collect(self, request_id: str) -> tuple[list[str], Done | Error]:
        texts: list[str] = []
        mine = [r for r in self.held if getattr(r, "id", None) == request_id]
        self.held = [r for r in self.held if r not in mine]
        while True:
            reply = mine.pop(0) if mine else self.next()
            assert reply is not None, "the child ended"
            if isinstance(reply, Token) and reply.id == request_id:
                texts.append(reply.text)
            elif isinstance(reply, Done | Error) and reply.id == request_id:
                return texts, reply
            elif isinstance(reply, Token | Done) or (isinstance(reply, Error) and reply.id is not None):
                self.held.append(reply)  # a stop answers the waiting requests at once, before the current one


@pytest.fixture(scope="module")
def adapter_run_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return adapter_run(tiny_model_dir, tmp_path_factory.mktemp("chat") / "run")


@pytest.fixture(scope="module")
def child(adapter_run_dir: Path):
    child = RawChild(adapter_run_dir)
    started = time.monotonic()
    ready = child.next()
    assert isinstance(ready, Ready), child.proc.stderr.read() if ready is None else ready
    child.load_s = time.monotonic() - started
    yield child
    if child.proc.poll() is None:
        child.proc.kill()
        child.proc.wait()


def test_ready_says_what_was_loaded(child: RawChild) -> None:
    first = json.loads(child.raw_lines[0])
    facts = first["facts"]
    assert first["type"] == "ready"
    assert facts["base_mode"] == "adapter off" and facts["sides"] == ["tuned", "base"]
    assert facts["prompt"] == "chat template" and facts["device"] == "cpu" and facts["context"] == 512


def test_tokens_stream_before_done(child: RawChild) -> None:
    texts, done = child.answer("stream", PROMPT, "tuned", GREEDY)
    assert isinstance(done, Done) and not done.stopped
    assert len(texts) > 1 and "".join(texts).strip()
    assert 0 < done.tokens <= GREEDY.max_new_tokens
    assert done.first_token_seconds is not None and done.first_token_seconds <= done.seconds


def test_base_and_tuned_answers_differ_and_greedy_repeats(child: RawChild) -> None:
    tuned, _ = child.answer("t1", PROMPT, "tuned", GREEDY)
    again, _ = child.answer("t2", PROMPT, "tuned", GREEDY)
    base, done = child.answer("b1", PROMPT, "base", GREEDY)
    assert isinstance(done, Done)
    assert "".join(tuned) == "".join(again)
    assert "".join(base) != "".join(tuned)
    after, _ = child.answer("t3", PROMPT, "tuned", GREEDY)  # the adapter is back on after a base answer
    assert "".join(after) == "".join(tuned)


def test_a_stop_request_ends_an_answer_early(child: RawChild) -> None:
    child.send(encode(Generate("long", PROMPT, "tuned", LONG)))
    while not isinstance(child.next(), Token):  # the answer has begun
        pass
    child.send(encode(Stop("long")))
    _, done = child.collect("long")
    assert isinstance(done, Done) and done.stopped
    assert done.tokens < LONG.max_new_tokens


def test_stop_without_an_id_ends_the_answer_and_drops_the_waiting_ones(child: RawChild) -> None:
    child.send(encode(Generate("first", PROMPT, "tuned", LONG)))
    child.send(encode(Generate("second", PROMPT, "base", LONG)))
    child.send(encode(Stop(None)))
    _, first = child.collect("first")
    _, second = child.collect("second")
    assert isinstance(first, Done) and first.stopped and first.tokens < LONG.max_new_tokens
    assert isinstance(second, Done) and second.stopped and second.tokens == 0


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"type": "dance"}', "unknown request type"),
        ('{"type": "generate", "id": "x", "messages": []}', "messages must be a list"),
        ('{"type": "generate", "id": "x", "messages": [{"role": "user", "content": "hi"}], "which": "both"}', "which"),
        ('{"type": "generate", "id": "x", "messages": [{"role": "assistant", "content": "hi"}]}', "last message"),
        (
            json.dumps({"type": "generate", "id": "x", "messages": [{"role": "user", "content": "a" * 20_000}]}),
            "at most",
        ),
        (
            '{"type": "generate", "id": "x", "messages": [{"role": "user", "content": "hi"}], '
            '"settings": {"temperature": 9}}',
            "out of bounds",
        ),
    ],
)
def test_malformed_lines_get_an_error_reply(child: RawChild, line: str, says: str) -> None:
    child.send(line)
    reply = child.next()
    assert isinstance(reply, Error) and not reply.fatal and reply.id is None
    assert says in reply.message


def test_every_stdout_line_is_a_reply(child: RawChild) -> None:
    assert child.raw_lines and all(parse_reply(line) is not None for line in child.raw_lines)


def test_the_child_exits_when_stdin_closes(child: RawChild) -> None:
    """Last in the module: it ends the shared child."""
    child.send(encode(Generate("cut", PROMPT, "tuned", LONG)))
    assert child.proc.stdin is not None
    child.proc.stdin.close()
    assert child.proc.wait(timeout=20) == 0


def test_a_run_without_a_result_is_a_fatal_error_in_words(tmp_path: Path, adapter_run_dir: Path) -> None:
    run = tmp_path / "unfinished"
    run.mkdir()
    (run / "config.yaml").write_text((adapter_run_dir / "config.yaml").read_text())
    child = RawChild(run)
    reply = child.next()
    assert isinstance(reply, Error) and reply.fatal
    assert "has not finished" in reply.message and "Traceback" not in reply.message
    assert child.proc.wait(timeout=20) == 2


def test_a_full_fine_tune_answers_base_with_a_second_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    child = RawChild(full_run(tiny_model_dir, tmp_path / "full"))
    try:
        ready = child.next()
        assert isinstance(ready, Ready) and ready.facts["base_mode"] == "second model"
        assert ready.facts["base_extra_bytes"] == ready.facts["weight_bytes"] > 0
        tuned, _ = child.answer("t", PROMPT, "tuned", GREEDY)
        base, done = child.answer("b", PROMPT, "base", GREEDY)
        assert isinstance(done, Done) and "".join(base) != "".join(tuned)
    finally:
        child.proc.kill()
        child.proc.wait()
