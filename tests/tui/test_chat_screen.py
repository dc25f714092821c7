"""The Chat screen: scripted clients for the layout, keys, coalescing and snapshots; one test with the real child.

Nothing here imports torch: the real child's run is built by a script in its own process.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from screen_harness import ScreenHarness
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, Static

from tuiapp.core.chat.protocol import Done, Error, Ready, Reply, Token
from tuiapp.core.chat.settings import GenerationSettings
from tuiapp.core.child_env import child_env
from tuiapp.tui.screens.chat_screen import ChatScreen
from tuiapp.tui.screens.chat_settings_screen import ChatSettingsScreen
from tuiapp.tui.widgets.chat_pane import ChatPane

HEAVY = ("torch", "transformers", "peft", "trl", "datasets")
RUN = Path("/runs/tiny-llama-lora-20260101-120000")  # shown on screen; never read by a scripted client
FACTS = {
    "run": RUN.name,
    "base_model": "/models/tiny-llama",
    "method": "lora",
    "base_mode": "adapter off",
    "sides": ["tuned", "base"],
    "device": "cuda",
    "dtype": "bfloat16",
    "weight_bytes": 2_000_000_000,
    "base_extra_bytes": 0,
    "prompt": "chat template",
    "context": 4096,
    "load_seconds": 3.2,
}
ANSWERS = {
    "tuned": "LoRA trains two small matrices beside each frozen weight; their product is the change.",
    "base": "LoRA is a long-range radio protocol used by sensors in the field.",
}


class ScriptedChat:
    """A client answering with fixed words: at once, from a thread with a delay per word, or (hold) never
    until stopped. Every request it got is kept."""

    def __init__(
        self, facts: dict | None = None, *, hold: bool = False, words: list[str] | None = None, delay_s: float = 0.0
    ) -> None:
        self.facts, self.hold, self.words, self.delay_s = facts or FACTS, hold, words, delay_s
        self.requests: list[tuple[str, list[dict[str, str]], str, GenerationSettings]] = []
        self.open: list[str] = []
        self.closed = False
        self.on_reply: Callable[[Reply], None] = lambda reply: None

    def __call__(self, run_dir: Path, model: str, on_reply: Callable[[Reply], None]) -> ScriptedChat:
        self.on_reply = on_reply
        return self

    def start(self) -> None:
        self.on_reply(Ready(dict(self.facts)))

    def generate(self, messages: list[dict[str, str]], which: str, settings: GenerationSettings) -> str:
        request_id = f"r{len(self.requests) + 1}"
        self.requests.append((request_id, messages, which, settings))
        words = self.words or [f"{w} " for w in ANSWERS[which].split()]
        if self.hold:
            self.open.append(request_id)
            self.on_reply(Token(request_id, words[0]))
        elif self.delay_s:
            threading.Thread(target=self._trickle, args=(request_id, words), daemon=True).start()
        else:
            for word in words:
                self.on_reply(Token(request_id, word))
            self.on_reply(Done(request_id, len(words), 0.8, first_token_seconds=0.05))
        return request_id

    def _trickle(self, request_id: str, words: list[str]) -> None:
        for word in words:
            self.on_reply(Token(request_id, word))
            time.sleep(self.delay_s)
        self.on_reply(Done(request_id, len(words), 1.0))

    def stop(self, request_id: str | None = None) -> None:
        for open_id in list(self.open):
            self.open.remove(open_id)
            self.on_reply(Done(open_id, 1, 0.2, stopped=True))

    def close(self, timeout: float = 5.0) -> None:
        self.closed = True


def chat_app(client: ScriptedChat, **kwargs) -> ScreenHarness:
    return ScreenHarness(lambda: ChatScreen(RUN, make_client=client, **kwargs))


async def until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the chat screen did not get there in time")
        await pilot.pause(0.05)
    await pilot.pause(0.1)  # one more drain and a refresh


async def send(pilot: Pilot, text: str) -> None:
    pilot.app.screen.query_one("#chat-input", Input).value = text
    await pilot.press("enter")


def pane_text(pilot: Pilot, side: str) -> str:
    return str(pilot.app.screen.query_one(f"#chat-{side}", ChatPane).query_one(Static).render())


async def ask_about_lora(pilot: Pilot) -> None:
    await until(pilot, lambda: pilot.app.screen.facts is not None)
    await send(pilot, "What does LoRA change?")
    await until(pilot, lambda: not pilot.app.screen.generating)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda size: f"{size[0]}x{size[1]}")
def test_chat_snapshot(snap_compare, size: tuple[int, int]) -> None:
    settings = GenerationSettings(temperature=0, system_prompt="Answer in one sentence.")
    assert snap_compare(chat_app(ScriptedChat(), settings=settings), run_before=ask_about_lora, terminal_size=size)


async def test_both_panes_fill_and_each_side_keeps_its_own_history() -> None:
    client = ScriptedChat()
    async with chat_app(client).run_test(size=(80, 24)) as pilot:
        await ask_about_lora(pilot)
        assert "small matrices" in pane_text(pilot, "tuned") and "radio" in pane_text(pilot, "base")
        assert "small matrices" not in pane_text(pilot, "base")
        assert pilot.app.screen.has_class("-stacked")
        await send(pilot, "Say more.")
        await until(pilot, lambda: not pilot.app.screen.generating)
        (_, _, first, _), (_, _, second, _), (_, tuned, _, _), (_, base, _, _) = client.requests
        assert (first, second) == ("tuned", "base")  # the tuned answer is generated first
        assert tuned[1]["content"] == ANSWERS["tuned"].strip() and base[1]["content"] == ANSWERS["base"].strip()


async def test_side_by_side_from_100_columns() -> None:
    async with chat_app(ScriptedChat()).run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: pilot.app.screen.facts is not None)
        base, tuned = (pilot.app.screen.query_one(f"#chat-{side}").region for side in ("base", "tuned"))
        assert not pilot.app.screen.has_class("-stacked")
        assert base.y == tuned.y and base.right <= tuned.x


async def test_a_fast_stream_is_drawn_in_batches() -> None:
    words = [f"w{i} " for i in range(300)]
    client = ScriptedChat(words=words, delay_s=0.002)
    async with chat_app(client).run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: pilot.app.screen.facts is not None)
        tuned = pilot.app.screen.query_one("#chat-tuned", ChatPane)
        before, started = tuned.draws, time.monotonic()
        await send(pilot, "Count.")
        await until(pilot, lambda: not pilot.app.screen.generating, timeout=20)
        seconds = time.monotonic() - started
        answer = pilot.app.screen.conversation.exchanges[-1].answers["tuned"]
        assert answer.text == "".join(words) and answer.state == "done"
        assert tuned.draws - before <= 20 * seconds + 4, (tuned.draws - before, seconds)  # not 600 draws


async def test_esc_stops_the_answers_then_goes_back() -> None:
    client = ScriptedChat(hold=True)
    app = ScreenHarness(lambda: Screen())
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ChatScreen(RUN, make_client=client))
        await until(pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen.facts is not None)
        chat = app.screen
        await send(pilot, "Tell me everything.")
        await pilot.pause(0.2)
        assert chat.generating and client.open == ["r1", "r2"]
        await pilot.press("escape")
        await until(pilot, lambda: not chat.generating)
        assert [a.state for a in chat.conversation.exchanges[0].answers.values()] == ["stopped", "stopped"]
        assert "stopped" in pane_text(pilot, "tuned")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is not chat and client.closed


async def test_settings_are_edited_within_bounds_and_shown_in_the_titles() -> None:
    client = ScriptedChat()
    async with chat_app(client).run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: pilot.app.screen.facts is not None)
        chat = pilot.app.screen
        await pilot.press("ctrl+s")
        await pilot.pause()
        dialog = pilot.app.screen
        assert isinstance(dialog, ChatSettingsScreen)
        dialog.query_one("#set-temperature", Input).value = "9"
        await pilot.press("enter")
        await pilot.pause()
        assert pilot.app.screen is dialog and "out of bounds" in str(
            dialog.query_one("#chat-settings-problem").render()
        )
        dialog.query_one("#set-temperature", Input).value = "0"
        dialog.query_one("#set-max_new_tokens", Input).value = "64"
        await pilot.press("enter")
        await pilot.pause()
        assert pilot.app.screen is chat and chat.settings.greedy and chat.settings.max_new_tokens == 64
        assert chat.query_one("#chat-tuned").border_title == "Tuned · greedy · rep 1.1 · max 64"
        await send(pilot, "Hi")
        await until(pilot, lambda: not chat.generating)
        assert client.requests[0][3] == chat.settings


async def test_clear_and_base_off() -> None:
    client = ScriptedChat()
    async with chat_app(client).run_test(size=(80, 24)) as pilot:
        await ask_about_lora(pilot)
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert not pilot.app.screen.conversation.exchanges and "Type a message" in pane_text(pilot, "tuned")
        await pilot.press("ctrl+b")
        await send(pilot, "Only you.")
        await until(pilot, lambda: not pilot.app.screen.generating)
        assert [which for _, _, which, _ in client.requests[2:]] == ["tuned"]
        assert "(not asked)" in pane_text(pilot, "base")


async def test_a_full_fine_tune_starts_tuned_only_and_says_what_base_answers_cost() -> None:
    facts = {**FACTS, "method": "full", "base_mode": "second model", "base_extra_bytes": 2_000_000_000}
    client = ScriptedChat(facts)
    async with chat_app(client).run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: pilot.app.screen.facts is not None)
        assert "second copy" in pane_text(pilot, "base") and "2.0 GB" in pane_text(pilot, "base")
        await send(pilot, "One")
        await until(pilot, lambda: not pilot.app.screen.generating)
        await pilot.press("ctrl+b")
        await send(pilot, "Two")
        await until(pilot, lambda: not pilot.app.screen.generating)
        assert [which for _, _, which, _ in client.requests] == ["tuned", "tuned", "base"]


async def test_a_dead_child_is_said_in_words_and_the_input_closes() -> None:
    client = ScriptedChat()
    async with chat_app(client).run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: pilot.app.screen.facts is not None)
        client.on_reply(Error("the chat process ended (exit status 1): CUDA out of memory", fatal=True))
        await until(pilot, lambda: pilot.app.screen.fatal is not None)
        assert "CUDA out of memory" in str(pilot.app.screen.query_one("#chat-status").render())
        assert pilot.app.screen.query_one("#chat-input", Input).disabled


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model and a LoRA run on it, built by a script in a child (this process stays free of torch)."""
    script = Path(__file__).resolve().parents[1] / "training" / "chat_runs.py"
    folder = tmp_path_factory.mktemp("chat_real")
    done = subprocess.run(
        [sys.executable, str(script), str(folder)], capture_output=True, text=True, env=child_env(), check=True
    )
    return Path(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
async def test_with_the_real_child_both_panes_fill_and_esc_stops(real_run: Path) -> None:
    settings = GenerationSettings(temperature=0, max_new_tokens=20)
    app = ScreenHarness(lambda: ChatScreen(real_run, settings=settings))
    async with app.run_test(size=(80, 24)) as pilot:
        chat = pilot.app.screen
        await until(pilot, lambda: chat.facts is not None or chat.fatal is not None, timeout=120)
        assert chat.fatal is None and chat.facts["base_mode"] == "adapter off"
        await send(pilot, "Name a prime.")
        await until(pilot, lambda: not chat.generating, timeout=60)
        answers = chat.conversation.exchanges[0].answers
        assert answers["tuned"].state == answers["base"].state == "done"
        assert answers["tuned"].text.strip() and answers["base"].text.strip()
        assert answers["tuned"].text != answers["base"].text
        chat.settings = GenerationSettings(temperature=0, max_new_tokens=400, repetition_penalty=1.0)
        await send(pilot, "Go on, at length.")
        await until(pilot, lambda: chat.conversation.exchanges[-1].answers["tuned"].text != "", timeout=30)
        await pilot.press("escape")
        await until(pilot, lambda: not chat.generating, timeout=30)
        stopped = chat.conversation.exchanges[-1].answers
        assert stopped["tuned"].state == stopped["base"].state == "stopped"
        assert len(stopped["tuned"].text.split()) < 400


def test_the_chat_screen_imports_no_heavy_library() -> None:
    probe = f"import sys, tuiapp.tui.screens.chat_screen; print(sorted(m for m in sys.modules if m in {HEAVY!r}))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
