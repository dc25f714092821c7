"""The chat's pure side: settings bounds, the JSON-lines protocol, the two-sided conversation, and the client
driving a scripted child (no model, no torch)."""

from __future__ import annotations

import math
import queue
import sys
import textwrap
from pathlib import Path

import pytest

from tuiapp.core.chat.client import ChatClient
from tuiapp.core.chat.conversation import HISTORY_CHARS, Conversation
from tuiapp.core.chat.protocol import (
    MAX_MESSAGE_CHARS,
    Done,
    Error,
    Generate,
    ProtocolError,
    Quit,
    Ready,
    Stop,
    Token,
    encode,
    parse_reply,
    parse_request,
)
from tuiapp.core.chat.settings import BOUNDS, SYSTEM_PROMPT_CHARS, GenerationSettings
from tuiapp.core.user_error import UserError


@pytest.mark.parametrize("name", sorted(BOUNDS))
def test_each_bound_is_enforced_at_both_ends(name: str) -> None:
    low, high, _ = BOUNDS[name]
    whole = name == "max_new_tokens"
    GenerationSettings(**{name: int(low) if whole else low})
    GenerationSettings(**{name: int(high) if whole else high})
    for outside in (low - 1, high + 1):
        with pytest.raises(UserError, match="out of bounds"):
            GenerationSettings(**{name: int(outside) if whole else float(outside)})


def test_settings_refuse_nan_wrong_types_and_long_system_prompts() -> None:
    with pytest.raises(UserError):
        GenerationSettings(temperature=math.nan)
    with pytest.raises(UserError, match="whole number"):
        GenerationSettings(max_new_tokens=2.5)
    with pytest.raises(UserError, match="whole number"):
        GenerationSettings(max_new_tokens=True)
    with pytest.raises(UserError, match="system prompt"):
        GenerationSettings(system_prompt="x" * (SYSTEM_PROMPT_CHARS + 1))


def test_settings_from_typed_text_and_in_a_title() -> None:
    settings = GenerationSettings().with_text("temperature", " 0 ").with_text("max_new_tokens", "1_000")
    assert settings.greedy and settings.max_new_tokens == 1000
    assert settings.short() == "greedy · rep 1.1 · max 1000"
    assert GenerationSettings().short() == "t 0.7 · top-p 0.95 · rep 1.1 · max 256"
    with pytest.raises(UserError, match="not a number"):
        settings.with_text("top_p", "lots")
    with pytest.raises(UserError, match="unknown setting"):
        GenerationSettings.from_json({"temprature": 1})


def test_requests_and_replies_round_trip() -> None:
    generate = Generate("g1", [{"role": "user", "content": "hé"}], "base", GenerationSettings(temperature=0))
    assert parse_request(encode(generate)) == generate
    assert parse_request(encode(Stop())) == Stop(None)
    assert parse_request(encode(Stop("g1"))) == Stop("g1")
    assert parse_request(encode(Quit())) == Quit()
    for reply in (
        Ready({"device": "cpu"}),
        Token("g1", " word"),
        Done("g1", 3, 0.5, True, 0.1),
        Error("no", "g1", True),
    ):
        assert parse_reply(encode(reply)) == reply


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ('{"type": "generate", "id": "", "messages": [{"role": "user", "content": "x"}]}', "id must be"),
        ('{"type": "generate", "id": "x", "messages": [{"role": "robot", "content": "x"}]}', "role"),
        ('{"type": "generate", "id": "x", "messages": [{"role": "user", "content": 3}]}', "content"),
        ('{"type": "generate", "id": "x", "messages": [{"role": "user", "content": "x"}], "settings": 5}', "object"),
        ('{"type": "stop", "id": 7}', "id must be"),
        ("x" * 1_000_001, "longer than"),
    ],
)
def test_bad_requests_say_what_is_wrong(line: str, says: str) -> None:
    with pytest.raises(ProtocolError, match=says):
        parse_request(line)


def test_lines_that_are_not_replies_are_skipped_and_texts_capped() -> None:
    assert parse_reply("Loading weights: 100%") is None
    assert parse_reply('{"type": "token", "id": 5, "text": "x"}') is None
    token = parse_reply(encode(Token("g", "y" * (MAX_MESSAGE_CHARS + 50))))
    assert isinstance(token, Token) and len(token.text) == MAX_MESSAGE_CHARS


def test_each_side_gets_its_own_history() -> None:
    chat = Conversation()
    first = chat.ask("  Hello  ", ("tuned", "base"))
    first.answers["tuned"].text, first.answers["base"].text = "Hi, tuned.", "Hi, base."
    chat.ask("And then?", ("tuned",))
    assert chat.messages_for("base", "Be brief.") == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi, base."},
        {"role": "user", "content": "And then?"},
    ]
    assert chat.messages_for("tuned")[1] == {"role": "assistant", "content": "Hi, tuned."}
    with pytest.raises(UserError, match="type a message"):
        chat.ask("   ", ("tuned",))


def test_a_long_history_keeps_its_newest_turns() -> None:
    chat = Conversation()
    for index in range(12):
        exchange = chat.ask(f"question {index}", ("tuned",))
        exchange.answers["tuned"].text = "a" * (HISTORY_CHARS // 10)
    messages = chat.messages_for("tuned")
    assert messages[-1]["content"] == "question 11"
    assert 2 < len(messages) < 24 and messages[0]["content"] != "question 0"
    assert sum(len(m["content"]) for m in messages) <= HISTORY_CHARS + 100


FAKE_CHILD = textwrap.dedent(
    """
    import json, sys
    print("some library chatter", flush=True)
    print(json.dumps({"type": "ready", "facts": {"device": "cpu"}}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if request["type"] == "generate":
            if request["messages"][-1]["content"] == "crash":
                print("RuntimeError: the fake child fell over", file=sys.stderr, flush=True)
                sys.exit(3)
            for word in ("one ", "two"):
                print(json.dumps({"type": "token", "id": request["id"], "text": word}), flush=True)
            print(json.dumps({"type": "done", "id": request["id"], "tokens": 2, "seconds": 0.1}), flush=True)
        elif request["type"] == "quit":
            break
    """
)


def test_the_client_streams_replies_and_reports_a_dead_child(tmp_path: Path) -> None:
    client = ChatClient(tmp_path, command=[sys.executable, "-c", FAKE_CHILD])
    client.start()
    try:
        assert client.replies.get(timeout=20) == Ready({"device": "cpu"})
        request_id = client.generate([{"role": "user", "content": "hi"}], "tuned", GenerationSettings())
        replies = [client.replies.get(timeout=20) for _ in range(3)]
        assert replies == [Token(request_id, "one "), Token(request_id, "two"), Done(request_id, 2, 0.1)]
        client.generate([{"role": "user", "content": "crash"}], "tuned", GenerationSettings())
        dead = client.replies.get(timeout=20)
        assert isinstance(dead, Error) and dead.fatal
        assert "exit status 3" in dead.message and "the fake child fell over" in dead.message
        assert not client.running
        client.stop()  # writing to a dead child is not an error: the reply above said what happened
    finally:
        client.close()


def test_closing_the_client_ends_the_child_without_a_fatal_reply(tmp_path: Path) -> None:
    client = ChatClient(tmp_path, command=[sys.executable, "-c", FAKE_CHILD])
    client.start()
    assert isinstance(client.replies.get(timeout=20), Ready)
    client.close(timeout=10)
    assert not client.running
    with pytest.raises(queue.Empty):  # nothing else arrives
        client.replies.get(timeout=0.5)
