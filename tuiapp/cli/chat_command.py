"""`ftwizard chat RUN`: talk to a finished run's model in the terminal, or answer one `--prompt` for a script.

The model loads once in a child process (tuiapp.core.chat.client); answers stream as they come. Ctrl+C stops
an answer, Ctrl+D quits. With --base each prompt is also answered by the base model (the adapter switched off),
the two labelled; without it only the tuned model answers and, with --prompt, only its text is printed.
"""

from __future__ import annotations

import argparse
import queue
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tuiapp.cli.arg_types import number_between, whole_number
from tuiapp.cli.train_command import RUNS_DIR_HELP
from tuiapp.core.chat.printable import printable
from tuiapp.core.chat.settings import BOUNDS, SYSTEM_PROMPT_CHARS

if TYPE_CHECKING:
    from tuiapp.core.chat.client import ChatClient
    from tuiapp.core.chat.protocol import Done, Ready, Reply
    from tuiapp.core.chat.settings import GenerationSettings

POLL_S = 0.2  # how often the wait for a reply lets Ctrl+C in
BASE_HELP = (
    "also answer with the base model, for comparison: the same weights with the adapter switched off (for a "
    "full fine-tune or --merged, a second copy of the base model, loaded at the first base answer). Each answer "
    "is labelled [tuned] then [base]; without --base only the tuned model answers and --prompt prints its text alone"
)


def _bounded(name: str) -> str:
    low, high, what = BOUNDS[name]
    return f"{what} ({low:g} to {high:g})"


def register(commands: Any) -> None:
    chat = commands.add_parser(
        "chat",
        help="chat with a finished run's model (tuned, and with --base the base beside it)",
        description="Chat with a finished run: its adapter on the base model (or RUN/merged with --merged). "
        "Ctrl+C stops an answer, Ctrl+D quits, /clear forgets the conversation. --prompt answers once and exits.",
    )
    chat.add_argument("run", metavar="RUN", help="the run's name (see `ftwizard runs`) or its directory")
    chat.add_argument("--base", action="store_true", help=BASE_HELP)
    chat.add_argument("--prompt", metavar="TEXT", help="answer this one message, print the answer and exit")
    chat.add_argument("--merged", action="store_true", help="chat with RUN/merged (made by ftwizard merge)")
    chat.add_argument(
        "--system", metavar="TEXT", default="", help=f"a system prompt (up to {SYSTEM_PROMPT_CHARS} characters)"
    )
    low, high, _ = BOUNDS["max_new_tokens"]
    tokens = whole_number(int(low), int(high))
    chat.add_argument("--max-new-tokens", type=tokens, default=256, metavar="N", help=_bounded("max_new_tokens"))
    for flag, name, default, metavar in (
        ("--temperature", "temperature", 0.7, "T"),
        ("--top-p", "top_p", 0.95, "P"),
        ("--repetition-penalty", "repetition_penalty", 1.1, "R"),
    ):
        kind = number_between(*BOUNDS[name][:2])
        chat.add_argument(flag, type=kind, default=default, metavar=metavar, help=_bounded(name))
    chat.add_argument("--runs-dir", metavar="DIR", help=RUNS_DIR_HELP)
    chat.set_defaults(handler=run_chat)


def _echo(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _next_reply(client: ChatClient) -> Reply:
    """The next reply; the short timeout lets a Ctrl+C (KeyboardInterrupt) through while waiting."""
    while True:
        try:
            return client.replies.get(timeout=POLL_S)
        except queue.Empty:
            continue


def _fatal(reply: Reply) -> None:
    from tuiapp.core.chat.protocol import Error
    from tuiapp.core.user_error import UserError

    if isinstance(reply, Error) and reply.fatal:
        raise UserError(reply.message)


def wait_ready(client: ChatClient) -> Ready:
    from tuiapp.core.chat.protocol import Ready

    while True:
        reply = _next_reply(client)
        _fatal(reply)
        if isinstance(reply, Ready):
            return reply


def answer(client: ChatClient, request_id: str, write: Callable[[str], None]) -> tuple[str, Done | None]:
    """Stream one answer through `write`; Ctrl+C asks the child to stop it. The text, and its done reply."""
    from tuiapp.core.chat.protocol import Done, Error, Token

    parts: list[str] = []
    while True:
        try:
            reply = _next_reply(client)
        except KeyboardInterrupt:
            client.stop(request_id)
            continue
        _fatal(reply)
        if isinstance(reply, Token) and reply.id == request_id:
            parts.append(reply.text)
            write(reply.text)
        elif isinstance(reply, Done) and reply.id == request_id:
            return "".join(parts), reply
        elif isinstance(reply, Error) and reply.id == request_id:
            _echo(f"ftwizard: {reply.message}")
            return "".join(parts), None


def done_line(side: str, done: Done | None) -> str:
    """`tuned: 42 tokens in 1.30 s (32.3 tokens/s, first after 0.05 s)`, `stopped` when Ctrl+C ended it."""
    if done is None:
        return f"{side}: failed"
    rate = f"{done.tokens / done.seconds:.1f} tokens/s" if done.seconds > 0 else "-"
    first = f", first after {done.first_token_seconds:.2f} s" if done.first_token_seconds is not None else ""
    stopped = ", stopped" if done.stopped else ""
    return f"{side}: {done.tokens} tokens in {done.seconds:.2f} s ({rate}{first}){stopped}"


def _write(text: str) -> None:
    sys.stdout.write(printable(text))
    sys.stdout.flush()


def _ask(client: ChatClient, conversation: Any, settings: GenerationSettings, sides: tuple[str, ...]) -> None:
    labelled = len(sides) > 1
    for side in sides:
        if labelled:
            print(f"[{side}]", flush=True)
        request_id = client.generate(conversation.messages_for(side, settings.system_prompt), side, settings)
        text, done = answer(client, request_id, _write)
        exchange = conversation.exchanges[-1].answers[side]
        exchange.text, exchange.state = text, "failed" if done is None else "done"
        print("\n" if labelled else "", flush=True)
        _echo(done_line(side, done))


def _facts_line(ready: Ready) -> str:
    facts = ready.facts
    how = {"adapter off": "adapter on the base", "second model": "a whole model", "base only": "the base alone"}
    return (
        f"ftwizard: {facts.get('run')}: {how.get(facts.get('base_mode'), '?')} ({facts.get('base_model')}), "
        f"{facts.get('device')} {facts.get('dtype')}, {facts.get('prompt')}, loaded in {facts.get('load_seconds')} s"
    )


def run_chat(args: argparse.Namespace) -> int:
    from tuiapp.core.chat.client import ChatClient
    from tuiapp.core.chat.conversation import Conversation
    from tuiapp.core.chat.settings import GenerationSettings
    from tuiapp.core.runs.layout import find_run, resolve_runs_root

    settings = GenerationSettings(
        max_new_tokens=args.max_new_tokens,
        temperature=args.temperature,
        top_p=args.top_p,
        repetition_penalty=args.repetition_penalty,
        system_prompt=args.system,
    )
    paths = find_run(args.run, resolve_runs_root(args.runs_dir))
    sides = ("tuned", "base") if args.base else ("tuned",)
    conversation = Conversation()
    if args.prompt is not None:
        conversation.ask(args.prompt, sides)  # an empty or oversized prompt is refused before the model loads
    client = ChatClient(paths.root, "merged" if args.merged else "tuned")
    _echo(f"ftwizard: loading {paths.name}…")
    client.start()
    try:
        ready = wait_ready(client)
        _echo(_facts_line(ready))
        if args.base and ready.facts.get("base_mode") == "second model":
            extra = ready.facts.get("base_extra_bytes", 0) / 1e9
            _echo(f"ftwizard: base answers load the base model as a second copy (about {extra:.1f} GB more)")
        if args.prompt is not None:
            _ask(client, conversation, settings, sides)
            return 0
        return _interactive(client, conversation, settings, sides)
    finally:
        client.close()


def _interactive(client: ChatClient, conversation: Any, settings: GenerationSettings, sides: tuple[str, ...]) -> int:
    from tuiapp.core.user_error import UserError

    _echo("Type a message and Enter. Ctrl+C stops an answer, Ctrl+D quits, /clear forgets the conversation.")
    while True:
        try:
            line = input("you> ")
        except EOFError:
            print()
            return 0
        except KeyboardInterrupt:
            print()
            continue
        if not line.strip():
            continue
        if line.strip() == "/clear":
            conversation.clear()
            _echo("(conversation cleared)")
            continue
        try:
            conversation.ask(line, sides)
        except UserError as exc:
            _echo(f"ftwizard: {exc}")
            continue
        _ask(client, conversation, settings, sides)
