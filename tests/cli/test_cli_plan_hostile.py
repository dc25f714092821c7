"""`ftwizard plan` on hostile model references: exit 2 with the file and field named (never "unexpected
error", exit 1), and `--exact` on an absurd shape answers at once from the closed form instead of simulating
for minutes."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from model_shapes import LLAMA

from tuiapp.cli import main
from tuiapp.core.estimate.backend_choices import with_backend_choices
from tuiapp.core.estimate.closed_form import TrainingSetup
from tuiapp.core.estimate.exact_check import ExactCheckError, run_exact_check
from tuiapp.core.estimate.sim_request import setup_from_request, simulation_request


def model_folder(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def no_simulation(monkeypatch: pytest.MonkeyPatch) -> None:
    """The exact check's child process must not start."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"the simulation was started: {args[:1]}")

    monkeypatch.setattr("tuiapp.core.estimate.exact_check.subprocess.run", refuse)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[" * 50_000 + "]" * 50_000, "nests more than 32 levels deep"),
        ('{"model_type": "llama", "x": "' + "a" * (5 * 1024**2) + '"}', "is larger than 4 MiB"),
        ("[1, 2]", "holds a JSON array, not an object"),
        (json.dumps({**LLAMA, "hidden_size": 2, "num_key_value_heads": 4}), "num_attention_heads (4) is more than"),
        (json.dumps({**LLAMA, "hidden_size": 66}), "hidden_size (66) is not a multiple of num_attention_heads"),
        (json.dumps({**LLAMA, "num_hidden_layers": -1}), "num_hidden_layers must be a positive integer, got -1"),
        (json.dumps({**LLAMA, "vocab_size": 0}), "vocab_size must be a positive integer, got 0"),
        (json.dumps({**LLAMA, "intermediate_size": 0}), "intermediate_size must be a positive integer, got 0"),
        (json.dumps({**LLAMA, "num_key_value_heads": 3}), "not a multiple of num_key_value_heads (3)"),
        (json.dumps({**LLAMA, "hidden_size": 1e30}), "hidden_size must be a positive integer, got 1e+30"),
        (json.dumps({**LLAMA, "model_type": 5}), "model_type must be a name"),
    ],
    ids=[
        "nested-50000",
        "5-MiB",
        "array",
        "heads-above-hidden",
        "hidden-not-multiple",
        "layers-negative",
        "vocab-0",
        "intermediate-0",
        "kv-heads-3",
        "hidden-1e30",
        "model-type-number",
    ],
)
def test_a_hostile_config_json_is_exit_2_with_the_file_named(
    tmp_path: Path, text: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = model_folder(tmp_path, text)
    assert main(["plan", "--model", str(folder), "--gpu", "24GB"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ftwizard: ") and expected in err and str(folder / "config.json") in err
    assert "unexpected error" not in err and "validation error" not in err and len(err) < 700


@pytest.mark.parametrize(
    "patch",
    [{"num_hidden_layers": 10**6}, {"hidden_size": 10**6, "num_attention_heads": 8}],
)
def test_exact_on_an_absurd_shape_says_it_is_not_simulated(
    tmp_path: Path, patch: dict[str, Any], no_simulation: None, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = model_folder(tmp_path, json.dumps({**LLAMA, "num_key_value_heads": 4, **patch}))
    started = time.perf_counter()
    assert main(["plan", "--model", str(folder), "--gpu", "H100", "--exact", "--json"]) == 0
    assert time.perf_counter() - started < 10
    exact = json.loads(capsys.readouterr().out)["exact"]
    assert (
        exact["skipped"].startswith("not simulated: the quick estimate")
        and "far past the largest GPU" in exact["skipped"]
    )
    assert exact["closed_form_gib"] > 2 * 179 and "peak_alloc_gib" not in exact


def test_exact_on_a_model_too_deep_to_simulate_quickly_says_so_in_the_table(
    tmp_path: Path, no_simulation: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    folder = model_folder(tmp_path, json.dumps({**LLAMA, "num_hidden_layers": 5000}))  # small enough to fit
    assert main(["plan", "--model", str(folder), "--gpu", "H100", "--exact", "--method", "lora"]) == 0
    out = capsys.readouterr().out
    assert "Exact check (lora): not simulated: 5,000 layers would take minutes to simulate" in out


def test_the_exact_check_itself_refuses_an_absurd_request_for_every_caller(no_simulation: None) -> None:
    """The Method and Hyperparameters screens call run_exact_check directly: it guards itself too."""
    request = simulation_request({**LLAMA, "num_hidden_layers": 10**6}, TrainingSetup(method="lora"))
    # the request carries the backend's resolved choices (loss path, kbit upcast, adapter dtype)
    assert setup_from_request(request) == with_backend_choices(TrainingSetup(method="lora"))
    started = time.perf_counter()
    with pytest.raises(ExactCheckError, match="not simulated"):
        run_exact_check(request)
    assert time.perf_counter() - started < 5


def test_an_unknown_model_offline_says_hf_hub_offline_and_a_local_folder(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--model", "someone/unknown-model-xyz", "--gpu", "24GB"]) == 2
    err = capsys.readouterr().err
    assert "HF_HUB_OFFLINE is set" in err and "give a local folder" in err and "unexpected" not in err
