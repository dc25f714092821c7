"""`ftwizard chat RUN`: --prompt prints the tuned answer (with --base both, labelled), the interactive loop stops
an answer on Ctrl+C and quits on Ctrl+D, and bad input is refused before the model loads."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tuiapp.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "training"))  # the run builder shared with the chat child's tests
from chat_runs import adapter_run  # noqa: E402

GREEDY = ["--temperature", "0", "--max-new-tokens", "16"]


def ftwizard(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tuiapp", *args], capture_output=True, text=True, timeout=180, **kwargs
    )


@pytest.fixture(scope="module")
def run_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return adapter_run(tiny_model_dir, tmp_path_factory.mktemp("runs") / "chatty")


def test_help_says_what_base_means() -> None:
    text = " ".join(build_parser()._subparsers._group_actions[0].choices["chat"].format_help().split())
    assert "--base also answer with the base model" in text
    assert "labelled [tuned] then [base]" in text and "--prompt prints its text alone" in text
    assert "(0 to 2)" in text and "(1 to 4096)" in text


def test_bad_settings_and_unknown_runs_are_refused_before_loading(tmp_path: Path, capsys) -> None:
    assert main(["chat", "nowhere", "--runs-dir", str(tmp_path), "--prompt", "hi"]) == 2
    assert "no run named nowhere" in capsys.readouterr().err
    with pytest.raises(SystemExit) as parse_error:  # refused by the parser, with the usage line
        main(["chat", "nowhere", "--temperature", "3", "--prompt", "hi"])
    assert parse_error.value.code == 2
    assert "argument --temperature: 3 is not a number from 0 to 2" in capsys.readouterr().err


@pytest.mark.slow
def test_prompt_prints_the_tuned_answer_and_with_base_both_labelled(run_dir: Path) -> None:
    with ThreadPoolExecutor(2) as pool:  # two model loads at once: half the wait
        alone_run = pool.submit(ftwizard, "chat", str(run_dir), "--prompt", "Name a prime.", *GREEDY)
        both_run = pool.submit(ftwizard, "chat", str(run_dir), "--prompt", "Name a prime.", "--base", *GREEDY)
        alone, both = alone_run.result(), both_run.result()
    assert alone.returncode == 0 and both.returncode == 0, alone.stderr + both.stderr
    tuned = alone.stdout.strip()
    assert tuned and "[tuned]" not in alone.stdout
    assert both.stdout.startswith("[tuned]\n")
    tuned_part, base_part = both.stdout.removeprefix("[tuned]\n").split("\n[base]\n")
    assert tuned_part.strip() == tuned  # greedy: the same answer both times
    assert base_part.strip() and base_part.strip() != tuned
    assert "tuned: " in both.stderr and "base: " in both.stderr and "tokens/s" in both.stderr
    assert "adapter on the base" in both.stderr and "Traceback" not in both.stderr


@pytest.mark.slow
def test_interactive_ctrl_c_stops_an_answer_and_ctrl_d_quits(run_dir: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tuiapp",
            "chat",
            str(run_dir),
            "--temperature",
            "0",
            "--max-new-tokens",
            "400",
            "--repetition-penalty",
            "1",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    errors: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [errors.put(line) for line in proc.stderr], daemon=True).start()
    out: list[str] = []
    threading.Thread(target=lambda: out.extend(iter(lambda: proc.stdout.read(1), "")), daemon=True).start()

    def wait_for(text: str, timeout: float = 120.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = errors.get(timeout=1)
            except queue.Empty:
                continue
            if text in line:
                return line
        raise TimeoutError(f"no {text!r} on stderr")

    try:
        wait_for("Ctrl+D quits")
        proc.stdin.write("Tell me a long story.\n")
        proc.stdin.flush()
        deadline = time.monotonic() + 30
        while len("".join(out).removeprefix("you> ").strip()) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)  # what Ctrl+C sends
        stopped = wait_for("tuned: ")
        assert "stopped" in stopped
        proc.stdin.close()  # Ctrl+D
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
