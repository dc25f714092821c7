"""The push action against a Hub on 127.0.0.1 (tests/training/fake_hub.py) that answers huggingface_hub's own
requests: what arrives (names and bytes), the card read back with huggingface_hub's ModelCard, the token in
no byte but the Authorization header, one clear error per failure, and a rerun that finishes a cut upload."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_hub import FakeHub
from push_runs import SECRET, add_gguf, add_merge, build_adapter, event_kinds, make_run, tree_digest

from tuiapp.core.runs.layout import RunPaths
from tuiapp.training import push_action
from tuiapp.training.action_runner import run_action

ADAPTER_FILES = {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "tokenizer_config.json"}
OURS = {"README.md", "config.yaml", "loss_curve.png"}


@pytest.fixture(scope="module")
def adapter_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_adapter(tiny_model_dir, tmp_path_factory.mktemp("adapter") / "final")


@pytest.fixture
def hub_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Online for huggingface_hub (its constants were read at import, under the suite's HF_HUB_OFFLINE), over
    the LFS protocol this server speaks, with HF_TOKEN as the only token (no stored login)."""
    from huggingface_hub import constants

    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_ENDPOINT", "HUGGING_FACE_HUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-stored-login"))
    monkeypatch.setenv("HF_TOKEN", SECRET)


@pytest.fixture
def hub(hub_env: None) -> Iterator[FakeHub]:
    orgs = {"acme": {"alice": "write"}, "readers": {"alice": "read"}, "bob": {}}
    with FakeHub({SECRET: "alice"}, orgs=orgs) as server:
        yield server


@pytest.fixture
def run_dir(tmp_path: Path, adapter_dir: Path, tiny_model_dir: Path) -> RunPaths:
    return make_run(tmp_path / "runs", adapter_dir, str(tiny_model_dir))


def push(paths: RunPaths, hub: FakeHub, **options: Any) -> tuple[int, Any]:
    chosen = {"repo": "tiny-push", "what": "adapter", "private": True, "endpoint": hub.url, **options}
    return run_action(paths, "push", lambda report: push_action.run(paths, chosen, report))


def assert_token_only_in_authorization(hub: FakeHub, paths: RunPaths) -> None:
    secret = SECRET.encode()
    for request in hub.requests:
        assert SECRET not in request.path
        assert secret not in request.body, request.path
        assert all(SECRET not in v for k, v in request.headers.items() if k.lower() != "authorization")
    auth = [{k.lower(): v for k, v in r.headers.items()}.get("authorization") for r in hub.requests]
    assert f"Bearer {SECRET}" in auth
    stored = [a for r, a in zip(hub.requests, auth, strict=True) if r.path.startswith("/lfs-store")]
    assert not any(stored)  # the object store's upload URL gets no token
    for file in paths.root.rglob("*"):
        assert not file.is_file() or secret not in file.read_bytes(), file


def test_push_adapter(hub: FakeHub, run_dir: RunPaths) -> None:
    from huggingface_hub import ModelCard

    before = tree_digest(run_dir.root)
    code, final = push(run_dir, hub)
    assert (code, final.kind) == (0, "action_done"), final
    repo = hub.repos["alice/tiny-push"]
    assert repo.private
    assert set(repo.files) == ADAPTER_FILES | {"chat_template.jinja"} | OURS  # no PEFT card, no pickled args
    for name in ("adapter_model.safetensors", "tokenizer.json", "chat_template.jinja"):
        assert repo.files[name] == (run_dir.final / name).read_bytes(), name
    assert {"adapter_model.safetensors", "loss_curve.png"} <= repo.lfs_paths  # through the LFS batch API and PUT
    assert repo.files["loss_curve.png"].startswith(b"\x89PNG")
    assert str(run_dir.root.parent) not in repo.files["adapter_config.json"].decode()
    assert b'"base_model_name_or_path": "llama"' in repo.files["adapter_config.json"]
    card = ModelCard(repo.files["README.md"].decode())
    assert card.data.library_name == "peft" and card.data.pipeline_tag == "text-generation"
    assert {"ftwizard", "lora", "sft"} <= set(card.data.tags)
    assert (
        b"runs_root: null" in repo.files["config.yaml"] and str(run_dir.root).encode() not in repo.files["config.yaml"]
    )
    assert final.outputs == [f"{hub.url}/alice/tiny-push"]
    assert final.facts["repo"] == "alice/tiny-push" and final.facts["files"] == 8 and not final.facts["existed"]
    assert tree_digest(run_dir.root) == before  # the run's files are read, never changed
    phases = [e.get("phase") for e in event_kinds(run_dir) if e["event"] == "action_progress"]
    assert phases[:3] == ["checking the token", "writing the model card", "creating the repo"]
    assert any(p and p.startswith("uploading 8 files") for p in phases)
    assert_token_only_in_authorization(hub, run_dir)


def test_public_push_into_an_org(hub: FakeHub, run_dir: RunPaths) -> None:
    code, final = push(run_dir, hub, repo="acme/tiny-push", private=False)
    assert code == 0, final
    assert not hub.repos["acme/tiny-push"].private


def test_a_rerun_sends_nothing_new(hub: FakeHub, run_dir: RunPaths) -> None:
    assert push(run_dir, hub)[0] == 0
    first = len(hub.requests)
    code, final = push(run_dir, hub)
    assert code == 0, final
    again = hub.requests[first:]
    assert not [r for r in again if r.method == "PUT" or "/commit/" in r.path]  # no upload, no empty commit
    assert final.facts["existed"] and final.facts["unchanged_files"] == 8
    assert "nothing had changed" in final.summary
    assert len(hub.repos["alice/tiny-push"].commits) == 1


def test_a_connection_cut_during_an_upload_is_retried(hub: FakeHub, run_dir: RunPaths) -> None:
    hub.fail("put", cut=True, times=1)
    code, final = push(run_dir, hub)
    assert code == 0, final
    puts = hub.paths_of("PUT", "/lfs-store/")
    assert len(puts) == 3 and len(set(puts)) == 2  # the cut object was sent again, in the same run
    assert (
        hub.repos["alice/tiny-push"].files["adapter_model.safetensors"]
        == (run_dir.final / "adapter_model.safetensors").read_bytes()
    )


def test_a_push_cut_before_its_commit_finishes_on_a_rerun(hub: FakeHub, run_dir: RunPaths) -> None:
    hub.fail("commit", cut=True, times=1)
    code, final = push(run_dir, hub)
    assert (code, final.kind) == (1, "action_failed")
    assert "connection" in final.message and "was cut while committing" in final.message
    assert final.fixes == ["run the same command again: the files already uploaded are not sent again"]
    assert not hub.repos["alice/tiny-push"].files and len(hub.lfs) == 2  # objects stored, nothing committed
    first = len(hub.requests)
    code, final = push(run_dir, hub)
    assert code == 0, final
    assert not [r for r in hub.requests[first:] if r.method == "PUT"]  # the stored objects are not sent again
    assert set(hub.repos["alice/tiny-push"].files) == ADAPTER_FILES | {"chat_template.jinja"} | OURS
    assert_token_only_in_authorization(hub, run_dir)


FAULTS = [
    ("create", {"status": 403}, "may not write to alice/tiny-push (403 Forbidden while creating the repo)"),
    ("commit", {"status": 500}, "server error while committing (500)"),
    ("commit", {"status": 409}, "another change reached alice/tiny-push first (409 Conflict)"),
    ("put", {"status": 413, "message": "storage quota exceeded"}, "too large (413)"),
    ("batch", {"status": 403}, "may not write to alice/tiny-push (403 Forbidden while uploading"),
    ("whoami", {"status": 401}, "refused the token from HF_TOKEN while checking the token (401)"),
    ("whoami", {"status": 404}, "does not answer like a Hugging Face Hub (404 on its whoami API)"),
]


@pytest.mark.parametrize(("step", "fault", "message"), FAULTS, ids=[f"{s}-{f['status']}" for s, f, _ in FAULTS])
def test_hub_errors_are_one_clear_message(
    hub: FakeHub, run_dir: RunPaths, step: str, fault: dict[str, Any], message: str
) -> None:
    hub.fail(step, **fault)
    before = tree_digest(run_dir.root)
    started = time.monotonic()
    code, final = push(run_dir, hub)
    assert (code, final.kind) == (1, "action_failed"), final
    assert message in final.message
    assert final.fixes and final.crash_log is None
    assert time.monotonic() - started < 20
    assert tree_digest(run_dir.root) == before
    assert_token_only_in_authorization(hub, run_dir)
    assert push(run_dir, hub)[0] == 0  # the fault is gone: the same push goes through


def test_an_invalid_token(hub: FakeHub, run_dir: RunPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = "hf_" + "notTheRightOneAtAllButLongEnough"
    monkeypatch.setenv("HF_TOKEN", wrong)
    code, final = push(run_dir, hub)
    assert code == 1 and "refused the token from HF_TOKEN" in final.message and "hf auth login" in final.fixes[0]
    assert wrong not in run_dir.events.read_text() and not hub.repos


PRECHECKS = [
    ({"repo": "bob/tiny"}, "bob is neither your account (alice) nor one of your organizations (acme, readers)"),
    ({"repo": "carol/tiny"}, "carol/tiny would belong to someone else"),
    ({"repo": "readers/tiny"}, "you may only read in the readers organization"),
]


@pytest.mark.parametrize(("options", "message"), PRECHECKS)
def test_namespaces_that_are_not_ours_fail_before_any_write(
    hub: FakeHub, run_dir: RunPaths, options: dict[str, Any], message: str
) -> None:
    code, final = push(run_dir, hub, **options)
    assert code == 1 and message in final.message
    assert [r.path for r in hub.requests] == ["/api/whoami-v2"]


def test_a_read_only_token(hub: FakeHub, run_dir: RunPaths) -> None:
    hub.token_roles[SECRET] = "read"
    code, final = push(run_dir, hub)
    assert code == 1 and "read-only" in final.message
    assert [r.path for r in hub.requests] == ["/api/whoami-v2"]


LOCAL_FAILURES = [
    ({"repo": "alice/bad--name"}, "'--' and '..' are not allowed"),
    ({"what": "merged"}, "has no merged model"),
    ({"what": "gguf"}, "has no GGUF file"),
    ({"endpoint": "ftp://hub"}, "is not a Hub address"),
]


@pytest.mark.parametrize(("options", "message"), LOCAL_FAILURES)
def test_local_problems_make_no_request(hub: FakeHub, run_dir: RunPaths, options: dict[str, Any], message: str) -> None:
    code, final = push(run_dir, hub, **options)
    assert code == 1 and message in final.message, final
    assert not hub.requests


def test_the_merged_model_needs_a_merge_first(hub: FakeHub, run_dir: RunPaths) -> None:
    _, final = push(run_dir, hub, what="merged")
    assert final.fixes == [f"run `ftwizard merge {run_dir.name}` first"]


def test_no_token(hub: FakeHub, run_dir: RunPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_TOKEN")
    code, final = push(run_dir, hub)
    assert code == 1 and "no Hugging Face token" in final.message and "hf auth login" in final.fixes[0]
    assert not hub.requests


def test_offline(hub: FakeHub, run_dir: RunPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, final = push(run_dir, hub)
    assert code == 1 and "HF_HUB_OFFLINE is set" in final.message
    assert not hub.requests


def test_an_unreachable_hub_fails_fast(hub_env: None, run_dir: RunPaths) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    chosen = {"repo": "tiny-push", "endpoint": f"http://127.0.0.1:{port}"}
    code, final = run_action(run_dir, "push", lambda report: push_action.run(run_dir, chosen, report))
    assert code == 1 and f"cannot reach http://127.0.0.1:{port} while checking the token" in final.message
    assert time.monotonic() - started < 5


def test_a_hub_that_stops_answering_times_out(hub: FakeHub, run_dir: RunPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    from tuiapp.training import hub_client

    monkeypatch.setattr(hub_client, "WHOAMI_TIMEOUT_S", 0.5)  # 15 s for real: a black-holed address fails in that
    hub.fail("whoami", hang_s=3)
    started = time.monotonic()
    code, final = push(run_dir, hub)
    assert code == 1 and "stopped answering while checking the token (timed out)" in final.message
    assert time.monotonic() - started < 2.5
    assert "already uploaded" not in final.fixes[0], "nothing was sent: the fix is the address or the network"


def test_push_merged_with_the_merge_notes(hub: FakeHub, run_dir: RunPaths, tiny_model_dir: Path) -> None:
    from huggingface_hub import ModelCard

    note = "QLoRA: the adapter was trained on a 4-bit base and is merged onto the 16-bit base"
    add_merge(run_dir, tiny_model_dir, [note])
    code, final = push(run_dir, hub, repo="tiny-merged", what="merged")
    assert code == 0, final
    repo = hub.repos["alice/tiny-merged"]
    assert repo.files["model.safetensors"] == (tiny_model_dir / "model.safetensors").read_bytes()
    assert {"config.json", "tokenizer.json", "generation_config.json"} <= set(repo.files)
    card = ModelCard(repo.files["README.md"].decode())
    assert card.data.library_name == "transformers" and "merged" in card.data.tags
    assert f"> **Note:** {note}" in card.text
    assert final.facts["what"] == "merged"


def test_push_gguf_names_the_pushed_merged_model_as_its_base(
    hub: FakeHub, run_dir: RunPaths, tiny_model_dir: Path
) -> None:
    from huggingface_hub import ModelCard

    add_merge(run_dir, tiny_model_dir, [])
    add_gguf(run_dir)
    assert push(run_dir, hub, repo="tiny-merged", what="merged")[0] == 0
    code, final = push(run_dir, hub, repo="tiny-gguf", what="gguf")
    assert code == 0, final
    repo = hub.repos["alice/tiny-gguf"]
    assert set(repo.files) == {"tiny-run-Q8_0.gguf", "Modelfile"} | OURS
    assert repo.files["Modelfile"].startswith(b"FROM ./tiny-run-Q8_0.gguf")  # no path of this machine
    gguf = (run_dir.gguf / "tiny-run-Q8_0.gguf").read_bytes()
    assert hashlib.sha256(repo.files["tiny-run-Q8_0.gguf"]).digest() == hashlib.sha256(gguf).digest()
    card = ModelCard(repo.files["README.md"].decode())
    assert (card.data.library_name, card.data.base_model, card.data.base_model_relation) == (
        "gguf",
        "alice/tiny-merged",
        "quantized",
    )
    assert "ollama create tiny-gguf -f Modelfile" in card.text
    assert "| quant | q8_0 |" in card.text and "ollama run hf.co/" not in card.text  # a self-hosted Hub here
    assert "/home/ada" not in card.text and str(run_dir.root) not in card.text  # local facts and notes left out


def _snippet(card_text: str) -> str:
    """The card's Python example (the first fenced python block)."""
    return card_text.split("```python\n", 1)[1].split("```", 1)[0]


@pytest.mark.parametrize("what", ["adapter", "merged"])
def test_the_cards_example_loads_what_arrived(
    hub: FakeHub, run_dir: RunPaths, tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, what: str
) -> None:
    """The card's own code, pointed at a folder holding exactly the files the Hub received, loads and generates."""
    if what == "merged":
        add_merge(run_dir, tiny_model_dir, [])
    assert push(run_dir, hub, what=what)[0] == 0
    received = tmp_path / "received"
    for name, data in hub.repos["alice/tiny-push"].files.items():
        (received / name).parent.mkdir(parents=True, exist_ok=True)
        (received / name).write_bytes(data)
    code = _snippet(hub.repos["alice/tiny-push"].files["README.md"].decode())
    assert '"alice/tiny-push"' in code
    code = code.replace('"alice/tiny-push"', repr(str(received)))
    code = code.replace('"path/to/your/copy/of/llama"', repr(str(tiny_model_dir)))
    monkeypatch.setenv("HF_ENDPOINT", hub.url)  # the example sets it; put back after the test
    printed: list[str] = []
    exec(compile(code, "card-example", "exec"), {"print": lambda *a: printed.append(" ".join(map(str, a)))})
    assert len(printed) == 1 and isinstance(printed[0], str)


def test_the_finish_screens_child_process_pushes(hub: FakeHub, run_dir: RunPaths, tmp_path: Path) -> None:
    """`python -m tuiapp.training.action_main push RUN OPTIONS`, as the Finish screen starts it: a fresh process
    whose huggingface_hub reads HF_HUB_OFFLINE / HF_HUB_DISABLE_XET from its own environment at import."""
    import json
    import os
    import subprocess
    import sys

    from tuiapp.core.child_env import child_env

    env = {k: v for k, v in child_env().items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update({"HF_HUB_DISABLE_XET": "1", "HF_HOME": str(tmp_path / "hf-home"), "HF_TOKEN": SECRET})
    options = json.dumps({"repo": "tiny-child", "what": "adapter", "private": True, "endpoint": hub.url})
    command = [sys.executable, "-m", "tuiapp.training.action_main", "push", str(run_dir.root), options]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=os.getcwd(), check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "push: action_done" in done.stdout and SECRET not in done.stdout + done.stderr
    assert "adapter_model.safetensors" in hub.repos["alice/tiny-child"].files
    assert_token_only_in_authorization(hub, run_dir)


def test_a_server_message_that_echoes_the_token_is_scrubbed(hub: FakeHub, run_dir: RunPaths) -> None:
    hub.fail("commit", status=500, message=f"upstream rejected Bearer {SECRET}")
    code, final = push(run_dir, hub)
    assert code == 1 and "server error while committing (500)" in final.message
    assert SECRET not in final.message and "***" in final.message
    assert SECRET not in run_dir.events.read_text()


def test_push_what_the_real_merge_action_made(hub: FakeHub, run_dir: RunPaths) -> None:
    """`ftwizard merge` then `ftwizard push --merged`: the card carries the merge's own facts, none of them local."""
    from huggingface_hub import ModelCard

    from tuiapp.training import merge_action

    options = {"dtype": "bf16", "device": "cpu", "out": None}
    code, merged = run_action(run_dir, "merge", lambda report: merge_action.run(run_dir, options, report))
    assert code == 0, merged
    code, final = push(run_dir, hub, repo="tiny-merged", what="merged")
    assert code == 0, final
    repo = hub.repos["alice/tiny-merged"]
    shards = [name for name in repo.files if name.endswith(".safetensors")]
    assert shards and all(repo.files[n] == (run_dir.merged / n).read_bytes() for n in shards)
    card = ModelCard(repo.files["README.md"].decode())
    assert "## How it was merged" in card.text and "| dtype | bf16 |" in card.text
    assert str(run_dir.root.parent) not in card.text
    assert "base_model_relation" not in card.data.to_dict()  # the base is a local folder: no Hub id to relate to
