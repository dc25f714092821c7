"""`ftwizard push RUN --repo NAME`: the command line over the push action, against the Hub on 127.0.0.1."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "training"))  # the fake Hub and the run builder live there

from fake_hub import FakeHub
from push_runs import SECRET, build_adapter, make_run

from tuiapp.cli import main


@pytest.fixture(scope="module")
def adapter_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_adapter(tiny_model_dir, tmp_path_factory.mktemp("adapter") / "final")


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeHub]:
    from huggingface_hub import constants

    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-stored-login"))
    monkeypatch.setenv("HF_TOKEN", SECRET)
    with FakeHub({SECRET: "alice"}) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)  # --endpoint's default, read when the command runs
        yield server


def test_push_prints_the_repo_url(
    hub: FakeHub, tmp_path: Path, adapter_dir: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = make_run(tmp_path / "runs", adapter_dir, str(tiny_model_dir))
    code = main(["push", paths.name, "--repo", "tiny-cli", "--public", "--runs-dir", str(tmp_path / "runs")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"{hub.url}/alice/tiny-cli" in out and "(public;" in out
    assert "push: uploading" in err and SECRET not in out + err
    assert not hub.repos["alice/tiny-cli"].private


def test_the_configs_hub_repo_is_the_default(
    hub: FakeHub, tmp_path: Path, adapter_dir: Path, tiny_model_dir: Path
) -> None:
    paths = make_run(tmp_path / "runs", adapter_dir, str(tiny_model_dir), **{"output.hub_repo": "alice/from-config"})
    assert main(["push", str(paths.root), "--endpoint", hub.url]) == 0
    assert hub.repos["alice/from-config"].private


def test_merged_without_a_merge(
    hub: FakeHub, tmp_path: Path, adapter_dir: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = make_run(tmp_path / "runs", adapter_dir, str(tiny_model_dir))
    assert main(["push", str(paths.root), "--repo", "x", "--merged"]) == 2
    err = capsys.readouterr().err
    assert f"Fix: run `ftwizard merge {paths.name}` first" in err
    assert not hub.requests


def test_bad_names_and_missing_repos_stop_before_the_action(
    hub: FakeHub, tmp_path: Path, adapter_dir: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = make_run(tmp_path / "runs", adapter_dir, str(tiny_model_dir))
    assert main(["push", str(paths.root), "--repo", "a/b/c"]) == 2
    assert "more than one '/'" in capsys.readouterr().err
    assert main(["push", str(paths.root)]) == 2
    assert "no Hub repo for tiny-run" in capsys.readouterr().err
    assert not hub.requests
    assert "action_started" not in paths.events.read_text()


def test_merged_and_gguf_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_code:
        main(["push", "run", "--repo", "x", "--merged", "--gguf"])
    assert exit_code.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
