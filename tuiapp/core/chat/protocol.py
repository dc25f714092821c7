"""The chat child's JSON-lines protocol: one JSON object a line, its kind in `"type"`.

Requests (client → child): generate {id, messages, which, settings}, stop {id or null: everything}, quit.
Replies (child → client): ready {facts}, token {id, text}, done {id, tokens, seconds, stopped,
first_token_seconds}, error {message, id, fatal}. Every text has a size cap; a line that breaks the rules
is refused with a ProtocolError saying why (the child answers it with an error reply).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Literal, get_args

from tuiapp.core.chat.settings import GenerationSettings
from tuiapp.core.user_error import UserError

Which = Literal["tuned", "base"]
WHICH: tuple[str, ...] = get_args(Which)
ROLES = ("system", "user", "assistant")
MAX_LINE_CHARS = 1_000_000  # one request line, all messages included
MAX_MESSAGE_CHARS = 16_000  # one message's content
MAX_MESSAGES = 200
MAX_ID_CHARS = 64
MAX_ERROR_CHARS = 2_000
MAX_FACT_CHARS = 500  # one fact's text in a ready reply


class ProtocolError(ValueError):
    """A line that is not a valid request or reply; the message says what is wrong with it."""


@dataclass(frozen=True)
class Generate:
    """Answer the conversation `messages` (the last one the user's) with the tuned or the base model."""

    KIND: ClassVar[str] = "generate"
    id: str
    messages: list[dict[str, str]]
    which: Which = "tuned"
    settings: GenerationSettings = field(default_factory=GenerationSettings)


@dataclass(frozen=True)
class Stop:
    """Stop generation `id` (None: the current one and every one waiting)."""

    KIND: ClassVar[str] = "stop"
    id: str | None = None


@dataclass(frozen=True)
class Quit:
    KIND: ClassVar[str] = "quit"


@dataclass(frozen=True)
class Ready:
    """The model is loaded; `facts` say what was loaded and how (model, adapter, device, dtype, seconds)."""

    KIND: ClassVar[str] = "ready"
    facts: dict[str, Any]


@dataclass(frozen=True)
class Token:
    """The next piece of text of generation `id` (a word or so: the streamer decodes whole characters)."""

    KIND: ClassVar[str] = "token"
    id: str
    text: str


@dataclass(frozen=True)
class Done:
    """Generation `id` ended: after `tokens` new tokens in `seconds`; `stopped` when a stop request ended it."""

    KIND: ClassVar[str] = "done"
    id: str
    tokens: int
    seconds: float
    stopped: bool = False
    first_token_seconds: float | None = None


@dataclass(frozen=True)
class Error:
    """Something failed: a request (with its `id` when known) or, when `fatal`, the child itself."""

    KIND: ClassVar[str] = "error"
    message: str
    id: str | None = None
    fatal: bool = False


Request = Generate | Stop | Quit
Reply = Ready | Token | Done | Error


def encode(message: Request | Reply) -> str:
    """One line of JSON (no newline at the end)."""
    body = asdict(message)
    if isinstance(message, Generate):
        body["settings"] = message.settings.to_json()
    return json.dumps({"type": message.KIND, **body}, ensure_ascii=False)


def _object(line: str) -> dict[str, Any]:
    if len(line) > MAX_LINE_CHARS:
        raise ProtocolError(f"a line of {len(line):,} characters is longer than the {MAX_LINE_CHARS:,} allowed")
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise ProtocolError(f"not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ProtocolError("not a JSON object")
    return data


def _id(value: Any, what: str = "id") -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_CHARS:
        raise ProtocolError(f"{what} must be text of 1 to {MAX_ID_CHARS} characters")
    return value


def check_messages(value: Any) -> list[dict[str, str]]:
    """A conversation: 1 to MAX_MESSAGES {role, content} objects, each content capped, the last a user turn."""
    if not isinstance(value, list) or not 0 < len(value) <= MAX_MESSAGES:
        raise ProtocolError(f"messages must be a list of 1 to {MAX_MESSAGES} messages")
    out = []
    for index, message in enumerate(value, 1):
        if (
            not isinstance(message, dict)
            or message.get("role") not in ROLES
            or not isinstance(message.get("content"), str)
        ):
            raise ProtocolError(f"message {index} must be {{role: {'|'.join(ROLES)}, content: text}}")
        if len(message["content"]) > MAX_MESSAGE_CHARS:
            raise ProtocolError(
                f"message {index} has {len(message['content']):,} characters: at most {MAX_MESSAGE_CHARS:,}"
            )
        out.append({"role": message["role"], "content": message["content"]})
    if out[-1]["role"] != "user":
        raise ProtocolError("the last message must be the user's")
    return out


def parse_request(line: str) -> Request:
    """The request on `line`; ProtocolError (with a sentence) when it is not one."""
    data = _object(line)
    kind = data.get("type")
    if kind == Generate.KIND:
        which = data.get("which", "tuned")
        if which not in WHICH:
            raise ProtocolError(f"which must be one of {', '.join(WHICH)}, not {str(which)[:40]!r}")
        try:
            settings = GenerationSettings.from_json(data.get("settings") or {})
        except (UserError, TypeError) as exc:
            raise ProtocolError(f"settings: {exc}") from None
        return Generate(_id(data.get("id")), check_messages(data.get("messages")), which, settings)
    if kind == Stop.KIND:
        target = data.get("id")
        return Stop(None if target is None else _id(target))
    if kind == Quit.KIND:
        return Quit()
    raise ProtocolError(f"unknown request type {str(kind)[:40]!r}: use generate, stop or quit")


def parse_reply(line: str) -> Reply | None:
    """The reply on `line`; None for a line that is not one (a library that printed on stdout)."""
    try:
        data = _object(line)
        kind = data.pop("type", None)
        if kind == Ready.KIND:
            facts = data.get("facts") if isinstance(data.get("facts"), dict) else {}
            return Ready({str(k)[:80]: v if not isinstance(v, str) else v[:MAX_FACT_CHARS] for k, v in facts.items()})
        if kind == Token.KIND:
            return Token(_id(data.get("id")), str(data.get("text", ""))[:MAX_MESSAGE_CHARS])
        if kind == Done.KIND:
            first = data.get("first_token_seconds")
            return Done(
                _id(data.get("id")),
                int(data.get("tokens", 0)),
                float(data.get("seconds", 0.0)),
                bool(data.get("stopped", False)),
                None if first is None else float(first),
            )
        if kind == Error.KIND:
            target = data.get("id")
            message = str(data.get("message", "the chat process failed"))[:MAX_ERROR_CHARS]
            return Error(message, None if target is None else _id(target), bool(data.get("fatal", False)))
    except (ProtocolError, TypeError, ValueError):
        return None
    return None
