"""`ftwizard check` refuses what the worker cannot run and lets through what it runs (issue 11, item 4)."""

from __future__ import annotations

import hardware_fixtures
import pytest

from tuiapp.cli import main


@pytest.fixture
def cpu_only(monkeypatch: pytest.MonkeyPatch) -> None:  # detection answers: no GPU
    import tuiapp.core.hardware as hardware

    profile = hardware_fixtures.cpu_only()
    monkeypatch.setattr(hardware, "detect_hardware", lambda *a, **k: profile)


def test_bf16_on_a_cpu_is_a_warning_because_the_worker_trains_it_in_fp32(tmp_path, capsys, cpu_only) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("model: {name_or_path: org/m}\ntraining: {precision: bf16}\n")
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "warning: training.precision: precision bf16 needs a GPU: training in fp32 on the CPU" in out


@pytest.mark.parametrize(
    "training",
    ["{seed: 1099511627776}", "{micro_batch_size: 100000000000000000000}", "{epochs: .inf}", "{max_grad_norm: .inf}"],
)
def test_values_the_worker_failed_on_are_refused_located(tmp_path, capsys, cpu_only, training: str) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(f"model: {{name_or_path: org/m}}\ntraining: {training}\n")
    assert main(["check", str(path)]) == 2
    assert f"{path}:2: training." in capsys.readouterr().err


def test_eval_size_infinity_is_a_located_error_not_a_crash(tmp_path, capsys, cpu_only) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("model: {name_or_path: org/m}\ndataset: {source: d.jsonl, eval_size: .inf}\n")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "dataset.eval_size" in err and "unexpected error" not in err
