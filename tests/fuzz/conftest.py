"""The fuzz suite's settings and guards: a seeded hypothesis profile, a memory ceiling, no child processes, a
tiny local tokenizer, a fresh folder per example, and the counts printed at the end of the run. The hypothesis
profile is in fuzz_profile.py."""

from __future__ import annotations

import io
import resource
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, redirect_stderr, redirect_stdout, suppress
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fuzz_runner import summary_lines

from tuiapp.cli import main

MEMORY_HEADROOM = 4 * 2**30  # a blow-up becomes a MemoryError (exit 1, a finding) instead of swapping the box


def _data_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmData:"):
            return int(line.split()[1]) * 1024
    return 0


@pytest.fixture(scope="session", autouse=True)
def memory_ceiling() -> Iterator[None]:
    """Cap this process's data segment a few GiB above what it uses now, for the fuzz tests only."""
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    ceiling = _data_bytes() + MEMORY_HEADROOM
    if hard != resource.RLIM_INFINITY:
        ceiling = min(ceiling, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (ceiling, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))


@pytest.fixture(scope="session", autouse=True)
def crash_logs_aside(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """An unexpected error's crash log goes to a temporary folder, not the developer's state folder."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FTWIZARD_STATE_DIR", str(tmp_path_factory.mktemp("fuzz_state")))
        yield


class ChildRefused(RuntimeError):
    """A command tried to start a process during a fuzz case (the suite never trains, converts or simulates)."""


@pytest.fixture(autouse=True)
def no_children(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """`train` gets a fake worker (its command recorded, nothing started); any other child process is refused."""
    from tuiapp.core.runs import launcher

    spawned: list[list[str]] = []

    def fake_spawn(command: list[str], cwd: Path, log_path: Path) -> Any:
        spawned.append(list(command))
        return SimpleNamespace(pid=2**22 + 17, poll=lambda: 0, wait=lambda timeout=None: 0, returncode=0)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise ChildRefused(f"the fuzz suite starts no child process: {args[:1]!r}")

    monkeypatch.setattr(launcher, "spawn_detached", fake_spawn)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    # `train` checks the config against this machine as `check --gpu "RTX 4090"` does against that GPU: the
    # same GPU here, so a config's verdict does not depend on the machine running the suite
    import tuiapp.core.hardware as hardware

    rtx_4090 = hardware.planned_hardware(hardware.resolve_gpu("RTX 4090"))
    monkeypatch.setattr(hardware, "detect_hardware", lambda *args, **kwargs: rtx_4090)
    return spawned


@pytest.fixture
def case_dir(tmp_path: Path) -> Callable[[], AbstractContextManager[Path]]:
    """A fresh empty folder per hypothesis example (tmp_path is one per test), removed afterwards."""

    @contextmanager
    def fresh() -> Iterator[Path]:
        folder = Path(tempfile.mkdtemp(dir=tmp_path))
        try:
            yield folder
        finally:
            for path in [folder, *folder.rglob("*")]:  # a case may leave a folder unreadable
                path.chmod(0o700) if path.is_dir() and not path.is_symlink() else None
            shutil.rmtree(folder, ignore_errors=True)

    return fresh


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(offline_env: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with only the tiny model's trained BPE tokenizer (ChatML template), built once."""
    from tuiapp.training.tiny_model import train_tokenizer

    folder = tmp_path_factory.mktemp("fuzz_tokenizer")
    train_tokenizer().save_pretrained(folder)
    data = folder.parent / "fuzz_warm_up.jsonl"
    data.write_text('{"text": "warm up"}\n', encoding="utf-8")
    _quietly(["data", "inspect", str(data), "--model", str(folder), "--json"])  # the heavy imports, unwatched
    return folder


def _quietly(argv: list[str]) -> None:
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()), suppress(SystemExit):
        main(argv)


@pytest.fixture(scope="session", autouse=True)
def warm_imports(offline_env: None, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Import what check, plan and data inspect import before the first timed case (a cold import on a busy
    2-core machine takes seconds, and the watchdog stopping an import half-way would break later cases)."""
    folder = tmp_path_factory.mktemp("fuzz_warm_up")
    (folder / "c.yaml").write_text("model: {name_or_path: org/m}\n", encoding="utf-8")
    (folder / "d.jsonl").write_text('{"text": "warm up"}\n', encoding="utf-8")
    _quietly(["check", str(folder / "c.yaml"), "--gpu", "24GB"])
    _quietly(["plan", "--model", "Qwen/Qwen2.5-0.5B-Instruct", "--gpu", "24GB", "--json"])
    _quietly(["data", "inspect", str(folder / "d.jsonl"), "--json"])


def pytest_terminal_summary(terminalreporter: Any) -> None:
    lines = summary_lines()
    if lines:
        terminalreporter.section("fuzz cases")
        for line in lines:
            terminalreporter.write_line(line)
