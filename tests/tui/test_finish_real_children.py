"""The Finish screen with its real child processes, not stand-ins: `c` opens the Chat screen on the real chat child,
`m` runs `python -m tuiapp.training.action_main merge` to done (its outcome in the run's events.jsonl), and `x`
cancels a real GGUF child mid-work (its process gone, the state "cancelled", nothing half-written left).

Nothing here imports torch: the tiny model and its LoRA run are built by a script in a child. The one stand-in is
llama.cpp's llama-quantize (not built here, as in tests/training/test_gguf.py): it holds the GGUF action in its
last step, after the merge and the f16 conversion left their temporary files, so the cancel is never a race.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest
from screen_harness import COMPLETED_RUN
from textual.pilot import Pilot
from textual.widgets import Input, Select

from tuiapp.core.chat.settings import GenerationSettings
from tuiapp.core.child_env import child_env
from tuiapp.core.runs.layout import RunPaths
from tuiapp.core.runs.status import write_status
from tuiapp.tui.app import FTWizardApp
from tuiapp.tui.screens.action_options_screen import ActionOptionsScreen
from tuiapp.tui.screens.chat_screen import ChatScreen
from tuiapp.tui.screens.finish_screen import FinishScreen
from tuiapp.tui.widgets.finish_panels import ActionRow

pytestmark = pytest.mark.slow  # each test waits on a child that imports torch (and loads, merges, converts)

TRAINING_HELPERS = Path(__file__).resolve().parents[1] / "training"
BUILD_RUN = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from chat_runs import adapter_run
from tuiapp.training.tiny_model import build_tiny_model
folder = Path(sys.argv[1])
model = build_tiny_model(folder / "model", tokenizer="sentencepiece")  # a tokenizer llama.cpp's converter takes
print(adapter_run(model, folder / "run"))
"""
HOLDING_QUANTIZE = """#!{python}
# A stand-in for llama.cpp's llama-quantize that says its pid, prints one progress line and then holds (as a
# big model's quantization does) until it is stopped.
import os, sys, time
with open(os.environ["HOLDING_QUANTIZE_PID"], "w") as out:
    out.write(str(os.getpid()))
print("[   1/  21]  token_embd.weight - [   64,   512], type =    f16, converting to q4_K", flush=True)
time.sleep(600)
"""
CHILD_S = 240.0  # a child that imports torch on two busy cores: generous, polled, never slept out


@pytest.fixture(scope="module")
def built_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny llama (SentencePiece tokenizer) and a LoRA run on it whose adapter changes the answers."""
    folder = tmp_path_factory.mktemp("finish_real")
    done = subprocess.run(
        [sys.executable, "-c", BUILD_RUN, str(folder), str(TRAINING_HELPERS)],
        capture_output=True, text=True, env=child_env(), timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return Path(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def run(built_run: Path, tmp_path: Path) -> RunPaths:
    """A copy of the built run, laid out as a completed one: the recorded run's events, its worker long gone."""
    target = tmp_path / "runs" / built_run.name
    shutil.copytree(built_run, target)
    shutil.copy(COMPLETED_RUN / "events.jsonl", target / "events.jsonl")
    write_status(target / "status.json", 1, launched_at=0.0)
    return RunPaths(target)


async def until(pilot: Pilot, condition: Callable[[], bool], seconds: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not there after {seconds:.0f} s: {what}")
        await pilot.pause(0.05)


async def open_finish(pilot: Pilot, paths: RunPaths) -> FinishScreen:
    """The Finish screen of `paths` with the real launcher and canceller (the defaults)."""
    screen = FinishScreen(paths.root, in_wizard=False, poll_s=0.05)
    await pilot.app.push_screen(screen)
    await until(pilot, lambda: screen.result is not None and screen.result.finished, what="the result")
    return screen


async def start_action(pilot: Pilot, key: str, **choices: Any) -> None:
    """Press the action's key, set the dialog's choices (Select id -> value), Start."""
    await pilot.press(key)
    await until(pilot, lambda: isinstance(pilot.app.screen, ActionOptionsScreen), what="the options dialog")
    for name, value in choices.items():
        pilot.app.screen.query_one(f"#option-{name}", Select).value = value
    await pilot.pause()
    await pilot.click("#option-start")


def row_text(screen: FinishScreen, action: str) -> str:
    return str(screen.query_one(f"#finish-{action}", ActionRow).query_one(".finish-action-state").render())


def events(paths: RunPaths, action: str) -> list[dict[str, Any]]:
    lines = paths.events.read_text(encoding="utf-8").splitlines()
    return [e for e in map(json.loads, lines) if e.get("action") == action]


def gone(pid: int) -> bool:
    """The process has ended (an unreaped zombie counts: it runs nothing and holds nothing)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def chat_children() -> list[psutil.Process]:
    """The chat children of this test process that still run."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "tuiapp.training.chat_child" in child.cmdline() and not gone(child.pid):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def hidden_leftovers(folder: Path) -> list[Path]:
    """Temporary names (`.x.partial-...`, `.gguf-merge-...`) anywhere under `folder` (the action lock stays)."""
    return [p for p in folder.rglob(".*") if p.name != ".action.lock"]


async def test_c_opens_the_chat_screen_on_the_real_chat_child(run: RunPaths) -> None:
    app = FTWizardApp(hardware=None, detect=lambda: None)
    async with app.run_test(size=(80, 24)) as pilot:
        finish = await open_finish(pilot, run)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ChatScreen), what="the chat screen")
        chat = app.screen
        await until(pilot, lambda: chat.facts is not None or chat.fatal is not None, CHILD_S, "the chat child")
        assert chat.fatal is None, chat.fatal
        assert (chat.facts["run"], chat.facts["base_mode"]) == (run.name, "adapter off")
        assert len(chat_children()) == 1

        chat.settings = GenerationSettings(temperature=0, max_new_tokens=12)
        chat.query_one("#chat-input", Input).value = "Name a prime."
        await pilot.press("enter")
        await until(pilot, lambda: not chat.generating, CHILD_S, "both answers")
        answers = chat.conversation.exchanges[0].answers
        assert answers["tuned"].state == answers["base"].state == "done"
        assert answers["tuned"].text.strip() and answers["tuned"].text != answers["base"].text

        await pilot.press("escape")
        await until(pilot, lambda: app.screen is finish, what="back on the Finish screen")
        await until(pilot, lambda: not chat_children(), 30, "the chat child to end")


async def test_m_runs_the_real_merge_child_to_done_and_logs_its_outcome(run: RunPaths) -> None:
    app = FTWizardApp(hardware=None, detect=lambda: None)
    async with app.run_test(size=(80, 24)) as pilot:
        finish = await open_finish(pilot, run)
        assert finish.result.merged is None
        await start_action(pilot, "m")
        await until(pilot, lambda: "merge" in finish.records, 60, "the merge child's first event")
        await until(pilot, lambda: finish.records["merge"].state != "running", CHILD_S, "the merge to end")
        record = finish.records["merge"]
        assert record.state == "done", (record.message, run.actions_log.read_text(encoding="utf-8")[-2000:])
        assert "done: merged the adapter into model (bf16" in row_text(finish, "merge")
        await until(pilot, lambda: finish.result.merged is not None, what="the result re-read with merged/")
        await until(pilot, lambda: gone(record.pid), 30, "the merge child to exit")  # it writes done, then ends

    logged = events(run, "merge")
    kinds = [e["event"] for e in logged]
    assert kinds[0] == "action_started" and kinds[-1] == "action_done" and kinds.count("action_done") == 1
    started, done = logged[0], logged[-1]
    assert started["detail"] == "bf16 into merged/" and done["action_id"] == started["action_id"]
    assert done["outputs"] == [str(run.merged)] and done["facts"]["dtype"] == "bf16"
    phases = [e["phase"] for e in logged if e["event"] == "action_progress"]
    assert {"loading the base model", "merging", "writing shards", "copying the tokenizer"} <= set(phases)
    assert {"config.json", "model.safetensors", "tokenizer.json", "generation_config.json"} <= {
        p.name for p in run.merged.iterdir()
    }
    assert done["facts"]["bytes"] == sum(p.stat().st_size for p in run.merged.iterdir())
    assert started["pid"] == record.pid and hidden_leftovers(run.root) == []
    assert run.actions_log.read_text(encoding="utf-8").splitlines()[-1] == "merge: action_done"


async def test_x_cancels_a_real_gguf_child_and_nothing_half_written_stays(
    run: RunPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool = tmp_path / "bin" / "llama-quantize"
    tool.parent.mkdir()
    tool.write_text(HOLDING_QUANTIZE.format(python=sys.executable), encoding="utf-8")
    tool.chmod(0o755)
    pid_file = tmp_path / "quantize.pid"
    monkeypatch.setenv("FTWIZARD_LLAMA_QUANTIZE", str(tool))  # the children inherit this process's environment
    monkeypatch.setenv("HOLDING_QUANTIZE_PID", str(pid_file))

    app = FTWizardApp(hardware=None, detect=lambda: None)
    async with app.run_test(size=(80, 24)) as pilot:
        finish = await open_finish(pilot, run)
        await start_action(pilot, "g", quant="q4_k_m")
        await until(pilot, lambda: "gguf" in finish.records, 60, "the GGUF child's first event")
        holding = lambda: pid_file.exists() and finish.records["gguf"].state == "running"  # noqa: E731
        await until(pilot, lambda: holding() or finish.records["gguf"].state != "running", CHILD_S, "llama-quantize")
        assert holding(), (finish.records["gguf"], run.actions_log.read_text(encoding="utf-8")[-2000:])
        await until(pilot, lambda: "quantizing to Q4_K_M" in row_text(finish, "gguf"), what="the phase on screen")
        half_written = [p.name for p in hidden_leftovers(run.root)]
        assert any(n.startswith(".gguf-merge-") for n in half_written), half_written  # the merge made for it
        assert any("-F16.gguf.partial-" in n for n in half_written), half_written  # the f16 file it quantizes
        action_pid, quantize_pid = finish.records["gguf"].pid, int(pid_file.read_text(encoding="utf-8"))
        assert not gone(action_pid) and not gone(quantize_pid)

        await pilot.press("x")
        await until(pilot, lambda: finish.records["gguf"].state != "running", 60, "the cancel")
        assert finish.records["gguf"].state == "cancelled"
        assert "cancelled: nothing half-written was kept" in row_text(finish, "gguf")
        await until(pilot, lambda: gone(action_pid) and gone(quantize_pid), 30, "both processes to end")

    assert [e["event"] for e in events(run, "gguf")][-1] == "action_cancelled"
    assert hidden_leftovers(run.root) == []
    assert not run.merged.exists()
    assert not run.gguf.exists() or not any(run.gguf.iterdir())
    assert run.actions_log.read_text(encoding="utf-8").splitlines()[-1] == "gguf: action_cancelled"
