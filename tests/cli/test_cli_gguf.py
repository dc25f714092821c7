"""`ftwizard gguf RUN --quant Q`: its flags, its refusals before any heavy work, and (slow) the CPU demo walked
all the way: train, then a q8_0 GGUF and a Modelfile from the run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tuiapp.cli import main


def _run_folder(root: Path, model_dir: Path) -> Path:
    from tuiapp.core.config import save_config
    from tuiapp.core.demo import demo_config

    run = root / "some-run"
    run.mkdir(parents=True)
    save_config(demo_config(model_dir), run / "config.yaml")
    return run


def test_help_names_the_quants_and_where_llama_quantize_comes_from(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["gguf", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for word in ("--quant", "q4_k_m", "q8_0", "--llama-quantize", "FTWIZARD_LLAMA_QUANTIZE", "-o DIR", "--dtype"):
        assert word in text, word


def test_an_unknown_quant_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["gguf", "some-run", "--quant", "q1_0"])
    assert done.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_a_llama_quantize_that_is_not_there_is_refused_before_any_work(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _run_folder(tmp_path / "runs", tiny_model_dir)
    code = main(
        [
            "gguf",
            "some-run",
            "--quant",
            "Q4_K_M",
            "--llama-quantize",
            str(tmp_path / "nope"),
            "--runs-dir",
            str(tmp_path / "runs"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "is not an executable file" in err and "Fix: give the path of llama.cpp's" in err
    events = [json.loads(line)["event"] for line in (run / "events.jsonl").read_text().splitlines()]
    assert events == ["action_started", "action_failed"] and not (run / "gguf").exists()


@pytest.mark.slow
def test_the_demo_walks_to_a_gguf_and_a_modelfile(tmp_path: Path) -> None:
    from gguf import GGUFReader

    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "FTWIZARD_RUNS_DIR": str(tmp_path / "runs")}
    trained = subprocess.run(
        [sys.executable, "-m", "tuiapp", "demo", "--headless"], capture_output=True, text=True, timeout=600, env=env
    )
    assert trained.returncode == 0, trained.stderr[-2000:]
    (run,) = (tmp_path / "runs").iterdir()
    exported = subprocess.run(
        [sys.executable, "-m", "tuiapp", "gguf", run.name, "--quant", "q8_0"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert exported.returncode == 0, exported.stderr[-2000:]
    gguf_file = run / "gguf" / "demo-model-Q8_0.gguf"
    assert f"  {gguf_file}" in exported.stdout and f"ollama create {run.name.lower()} -f " in exported.stdout
    reader = GGUFReader(gguf_file)
    assert reader.fields["general.architecture"].contents() == "llama"
    assert 'PARAMETER stop "<|im_end|>"' in (run / "gguf" / "Modelfile").read_text(encoding="utf-8")
    assert "Traceback" not in exported.stdout + exported.stderr


@pytest.mark.parametrize("where", ["run", "final", "merged", "base"])
def test_a_folder_that_holds_what_we_keep_is_refused(
    where: str, tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`-o` into the run, its adapter, its merged model or the base would mix the GGUF with files used as-is."""
    run = _run_folder(tmp_path / "runs", tiny_model_dir)
    out = {"run": run, "final": run / "final", "merged": run / "merged", "base": tiny_model_dir}[where]
    code = main(["gguf", "some-run", "--quant", "q8_0", "-o", str(out), "--runs-dir", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == 2 and f"cannot write the GGUF into {out.resolve()}: it would mix with" in err
    assert "Fix: choose a folder of its own with -o DIR" in err
    assert not list(out.glob("*.gguf")) and not (out / "Modelfile").exists()
