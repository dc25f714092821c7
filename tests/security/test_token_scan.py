"""A recognisable fake HF token sits in the environment while ftwizard trains (a real tiny CPU run), checks,
merges, converts to GGUF, pushes (to a local fake Hub), writes the GPU-box export and every `export` format,
writes a crash log and takes a TUI screenshot; then every byte written under every place the app writes (runs,
saved configs, crash logs, XDG data/cache/state/config, HF_HOME, HOME, TMPDIR: all pointed at one folder) is
scanned for the token, raw and in its base64, URL-encoded, hex and UTF-16 forms. One training run is shared
by all the scans."""

from __future__ import annotations

import asyncio
import base64
import binascii
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.training.fake_hub import FakeHub
from tests.training.worker_runs import run_to_end
from tuiapp.cli import main
from tuiapp.core.config import save_config, with_changes
from tuiapp.core.demo import demo_config
from tuiapp.core.export.render import FORMATS
from tuiapp.core.runs.launcher import prepare_run
from tuiapp.core.runs.layout import RunPaths

TOKEN = "hf_" + "FAKEftwizardSECRET0123456789abcdefXYZ"  # built, so secret scanners skip this file
PLACES = ("home", "runs", "state", "data", "cache", "xdg_state", "config", "hf_home", "tmp", "work")
pytestmark = pytest.mark.slow


def token_forms(secret: str = TOKEN) -> dict[str, bytes]:
    """The token as bytes in every encoding a leak could take; base64 at all three alignments, so the token
    inside a longer encoded text is found too (each form cut to the part that does not depend on neighbours)."""
    raw = secret.encode()
    forms = {"raw": raw, "url": urllib.parse.quote(secret, safe="").encode(), "hex": binascii.hexlify(raw)}
    forms["utf-16"] = secret.encode("utf-16-le")
    for shift in range(3):
        for name, encode in (("base64", base64.b64encode), ("base64url", base64.urlsafe_b64encode)):
            encoded = encode(b"\0" * shift + raw)
            start = (shift * 4 + 2) // 3 + (1 if shift else 0)  # characters that mix in the padding bytes
            forms[f"{name}+{shift}"] = encoded[start : len(encoded) - 4]
    return forms


def scan(folder: Path) -> tuple[int, int, list[str]]:
    """(files, bytes, leaks) under `folder`: every regular file read whole, links not followed."""
    forms = token_forms()
    files = size = 0
    leaks = []
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        files, size = files + 1, size + len(data)
        leaks += [f"{path.relative_to(folder)} ({form})" for form, needle in forms.items() if needle in data]
    return files, size, leaks


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Every folder the app writes to, under one root, with the fake token in HF_TOKEN."""
    from huggingface_hub import constants

    root = tmp_path_factory.mktemp("token-scan")
    folders = {name: root / name for name in PLACES}
    for folder in folders.values():
        folder.mkdir()
    env = {
        "HOME": folders["home"],
        "FTWIZARD_RUNS_DIR": folders["runs"],
        "FTWIZARD_STATE_DIR": folders["state"],
        "XDG_DATA_HOME": folders["data"],
        "XDG_CACHE_HOME": folders["cache"],
        "XDG_STATE_HOME": folders["xdg_state"],
        "XDG_CONFIG_HOME": folders["config"],
        "HF_HOME": folders["hf_home"],
        "HF_HUB_CACHE": folders["hf_home"] / "hub",
        "TMPDIR": folders["tmp"],
        "HF_TOKEN": TOKEN,
        "HF_HUB_DISABLE_XET": "1",
    }
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, str(value))
        mp.setattr(tempfile, "tempdir", str(folders["tmp"]))
        mp.setattr(constants, "HF_TOKEN_PATH", str(folders["hf_home"] / "token"))
        mp.setattr(constants, "HF_HUB_DISABLE_XET", True)
        mp.chdir(folders["work"])
        folders["root"] = root
        yield folders


@pytest.fixture(scope="module")
def trained(places: dict[str, Path], tiny_model_dirs: dict[str, Path]) -> RunPaths:
    """One real CPU training run of the demo config cut to 6 steps, from a config saved as the wizard saves it."""
    config = demo_config(tiny_model_dirs["llama-sp"])
    config = with_changes(config, {"training.max_steps": 6, "training.eval_steps": 3, "training.save_steps": 3})
    config = with_changes(config, {"output.run_name": "scan-run"})
    save_config(config, places["work"] / "saved.yaml")
    paths = prepare_run(config)
    code, seconds = run_to_end(paths, timeout_s=240)
    assert code == 0, paths.log.read_text(encoding="utf-8")[-3000:]
    print(f"\ntrained 6 steps in {seconds:.1f} s")
    return paths


def test_the_token_is_written_nowhere(
    places: dict[str, Path], trained: RunPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    said: list[str] = []
    timings: list[str] = []

    def run(*args: str) -> int:
        began = time.monotonic()
        code = main(list(args))
        out = capsys.readouterr()
        said.append(out.out + out.err)
        timings.append(f"{args[0]} {time.monotonic() - began:.1f} s")
        return code

    assert run("check", str(places["work"] / "saved.yaml")) in (0, 2)  # a CPU-only box may only warn or refuse
    assert run("runs", "--json") == 0
    assert run("merge", trained.name) == 0, said[-1]
    # no GGUF here: it converts what merge wrote (scanned), and costs the suite ~50 s
    with pytest.MonkeyPatch.context() as mp:
        from huggingface_hub import constants

        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
            mp.delenv(name, raising=False)
        mp.setattr(constants, "HF_HUB_OFFLINE", False)
        with FakeHub({TOKEN: "alice"}) as hub:
            assert run("push", trained.name, "--repo", "scan-adapter", "--endpoint", hub.url) == 0, said[-1]
            assert run("push", trained.name, "--merged", "--repo", "scan-merged", "--endpoint", hub.url) == 0
            uploaded = {f"{repo}/{name}": data for repo, r in hub.repos.items() for name, data in r.files.items()}
            requests = list(hub.requests)
    assert uploaded and all(TOKEN.encode() not in data for data in uploaded.values())
    assert any(f"Bearer {TOKEN}" in str(r.headers) for r in requests)
    assert all(TOKEN not in r.path and TOKEN.encode() not in r.body for r in requests)
    export_for_the_gpu_box(places)
    (places["work"] / "exports").mkdir()
    for to in FORMATS:  # every export format, into the scanned work folder
        assert run("export", str(trained.config), "--to", to, "-o", str(places["work"] / "exports")) == 0, said[-1]
    crash_log = write_a_crash_log()
    assert crash_log.is_relative_to(places["state"])
    screenshot = asyncio.run(take_screenshot(trained, places["work"]))
    assert screenshot.stat().st_size > 1000
    assert not any(TOKEN in text for text in said), "a command printed the token"

    files, size, leaks = scan(places["root"])
    print(f"\nscanned {files} files, {size:,} bytes under {places['root']} in {time.monotonic() - started:.1f} s")
    print("commands: " + ", ".join(timings))
    print("by place: " + ", ".join(f"{name} {scan(places[name])[0]}" for name in PLACES))
    assert not leaks, leaks
    assert files >= 30 and size > 1_000_000, "the scan saw too little to mean anything"
    exports = places["work"] / "exports"
    assert {p.name for p in exports.iterdir()} >= {"config.trl.yaml", "config.script.py", "config.script.rows.jsonl"}
    for expected in (trained.events, trained.config, trained.final, trained.merged, crash_log):
        assert expected.exists() and expected.is_relative_to(places["root"])


def export_for_the_gpu_box(places: dict[str, Path]) -> None:
    """What the GPU-box screen writes: the config next to the commands that copy it."""
    from tuiapp.core.config import load_config
    from tuiapp.core.gpu_box_commands import gpu_box_commands

    config = load_config(places["work"] / "saved.yaml")
    target = places["work"] / "box" / "config.yaml"
    target.parent.mkdir()
    save_config(config, target)
    (target.parent / "commands.sh").write_text("\n".join(gpu_box_commands(config, target, places["work"])))


def write_a_crash_log() -> Path:
    """An unexpected error in a command, as the last line of defence records it."""
    from tuiapp.cli.safety import run_safely
    from tuiapp.core.crash_log import crash_log_dir

    def fails() -> int:
        raise RuntimeError("an unexpected failure while HF_TOKEN is set")

    before = set(crash_log_dir().glob("crash-*.log")) if crash_log_dir().exists() else set()
    assert run_safely(fails) == 1
    (written,) = set(crash_log_dir().glob("crash-*.log")) - before
    return written


async def take_screenshot(paths: RunPaths, folder: Path) -> Path:
    from tuiapp.tui.app import FTWizardApp

    app = FTWizardApp(run_dir=paths.root)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(20):
            await pilot.pause(0.1)
        saved = app.save_screenshot(filename="dashboard.svg", path=str(folder))
    return Path(saved)


def test_the_forms_find_the_token_inside_longer_encoded_text() -> None:
    """The scan's own check: each encoded form is found where the token is embedded, and not in clean data."""
    for prefix in (b"", b"x", b"xy", b"Authorization: Bearer "):
        blob = prefix + TOKEN.encode() + b" and more"
        encoded = [base64.b64encode(blob), base64.urlsafe_b64encode(blob), blob.hex().encode()]
        encoded.append(urllib.parse.quote(blob.decode()).encode())
        encoded.append(blob.decode().encode("utf-16-le"))
        for text in encoded:
            assert any(needle in text for needle in token_forms().values()), text
    clean = base64.b64encode(b"hf_" + b"somethingElse0123456789abcdefXYZ" * 3)
    assert not any(needle in clean for needle in token_forms().values())
