"""Pushing with the token huggingface_hub's `login` stored (HF_HOME/token; no HF_TOKEN in the environment), in
fresh processes as a user runs them: `ftwizard push` and the Finish screen's child. The Hub on 127.0.0.1
(fake_hub.py) gets the stored token in the Authorization header and nowhere else, and no byte of the run folder
(events, actions.log), the crash-log folder, the uploaded card and config, or the command's output holds it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_hub import FakeHub
from push_runs import SECRET, build_adapter, event_kinds, make_run
from test_push_action import ADAPTER_FILES, OURS, assert_token_only_in_authorization

from tuiapp.core.runs.layout import RunPaths

TOKEN_VARIABLES = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_STORED_TOKENS_PATH")
OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_ENDPOINT")
LOGIN = "import sys; from huggingface_hub import login; login(token=sys.stdin.read().strip())"
LOGIN_FILES = ("token", "stored_tokens")  # what huggingface_hub's login writes under HF_HOME (its own copies)
WAIT_S = 180


@pytest.fixture(scope="module")
def adapter_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_adapter(tiny_model_dir, tmp_path_factory.mktemp("adapter") / "final")


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with FakeHub({SECRET: "alice"}) as server:
        yield server


@pytest.fixture
def hf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This process's environment as the children inherit it (child_env copies it): online over the LFS protocol
    the fake Hub speaks, HF_HOME in tmp_path, crash logs in tmp_path, and no token variable at all."""
    for name in (*TOKEN_VARIABLES, *OFFLINE_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "hf-home"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.setenv("FTWIZARD_STATE_DIR", str(tmp_path / "state"))
    return home


@pytest.fixture
def run_dir(tmp_path: Path, adapter_dir: Path, tiny_model_dir: Path) -> RunPaths:
    return make_run(tmp_path / "runs", adapter_dir, str(tiny_model_dir))


def hf_login(hub: FakeHub, home: Path, token: str) -> None:
    """`login(token=...)` in a fresh process, as `hf auth login` does it: checked with whoami, stored under HF_HOME."""
    from tuiapp.core.child_env import child_env

    env = {**child_env(), "HF_ENDPOINT": hub.url}
    done = subprocess.run(
        [sys.executable, "-c", LOGIN], input=token, env=env, capture_output=True, text=True, timeout=WAIT_S
    )
    assert done.returncode == 0, done.stderr
    assert (home / "token").read_text(encoding="utf-8").strip() == token  # the stored login, where it belongs
    assert [r.path for r in hub.requests] == ["/api/whoami-v2"]  # login asked the fake Hub, nothing else
    hub.requests.clear()


def cli_push(paths: RunPaths, hub: FakeHub, repo: str) -> tuple[int, str]:
    """`ftwizard push RUN --repo REPO --endpoint URL` in a fresh process: its exit code and everything it printed."""
    from tuiapp.core.child_env import child_env

    command = [sys.executable, "-m", "tuiapp", "push", str(paths.root), "--repo", repo, "--endpoint", hub.url]
    done = subprocess.run(command, env=child_env(), capture_output=True, text=True, timeout=WAIT_S)
    return done.returncode, done.stdout + done.stderr


def finish_screen_push(paths: RunPaths, hub: FakeHub, repo: str) -> tuple[int, str]:
    """The push as the Finish screen starts it (action_launcher: a detached child, its output in RUN/actions.log)."""
    from tuiapp.core.runs.action_launcher import launch_action

    options = {"repo": repo, "what": "adapter", "private": True, "endpoint": hub.url}
    process = launch_action(paths, "push", options, f"adapter to {repo} (private)")
    code = process.wait(timeout=WAIT_S)
    return code, paths.actions_log.read_text(encoding="utf-8")


def files_holding(secret: str, root: Path, skip: tuple[Path, ...] = ()) -> list[Path]:
    """Every file under `root` (but `skip`) whose bytes contain `secret`."""
    return [p for p in root.rglob("*") if p.is_file() and p not in skip and secret.encode() in p.read_bytes()]


PUSHES = {"ftwizard push": cli_push, "finish screen child": finish_screen_push}


@pytest.mark.parametrize("push", PUSHES.values(), ids=PUSHES.keys())
def test_a_stored_login_pushes_and_the_token_is_written_nowhere(
    hub: FakeHub, hf_home: Path, run_dir: RunPaths, tmp_path: Path, push
) -> None:
    from huggingface_hub import ModelCard

    hf_login(hub, hf_home, SECRET)
    code, output = push(run_dir, hub, "tiny-stored")
    assert code == 0, output
    repo = hub.repos["alice/tiny-stored"]  # the stored token's owner, as whoami named it
    assert set(repo.files) == ADAPTER_FILES | {"chat_template.jinja"} | OURS
    for name in ("adapter_model.safetensors", "tokenizer.json", "tokenizer_config.json"):  # sent as they are
        assert repo.files[name] == (run_dir.final / name).read_bytes(), name
    card = ModelCard(repo.files["README.md"].decode())
    assert card.data.library_name == "peft" and "ftwizard" in card.data.tags
    final = event_kinds(run_dir)[-1]
    assert final["event"] == "action_done" and final["action"] == "push", final
    assert final["outputs"] == [f"{hub.url}/alice/tiny-stored"]

    assert_token_only_in_authorization(hub, run_dir)  # sent as "Bearer TOKEN" only; not in the run's files
    assert SECRET not in output
    for name, data in repo.files.items():  # the card, config.yaml, adapter_config.json, ...
        assert SECRET.encode() not in data, name
    login_copies = tuple(hf_home / name for name in LOGIN_FILES)
    assert files_holding(SECRET, tmp_path, skip=login_copies) == []  # run, events, actions.log, crash logs, hf-home
    assert files_holding(SECRET, hf_home) == [p for p in login_copies if p.exists()]  # login's own copies, no other


def test_a_revoked_stored_login_is_named_as_the_source_and_stays_unwritten(
    hub: FakeHub, hf_home: Path, run_dir: RunPaths, tmp_path: Path
) -> None:
    hf_login(hub, hf_home, SECRET)
    hub.tokens.clear()  # revoked on the Hub after the login
    code, output = cli_push(run_dir, hub, "tiny-revoked")
    assert code == 2, output
    assert "refused the token from your stored login (hf auth login) while checking the token (401)" in output
    assert "Fix:" in output and "hf auth login" in output.split("Fix:", 1)[1]
    assert [r.path for r in hub.requests] == ["/api/whoami-v2"] and not hub.repos  # nothing after the refusal
    assert SECRET not in output
    assert files_holding(SECRET, tmp_path, skip=tuple(hf_home / name for name in LOGIN_FILES)) == []
    final = event_kinds(run_dir)[-1]
    assert (final["event"], final["action"]) == ("action_failed", "push")
