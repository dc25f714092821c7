"""Model references and generated config.json shapes through `ftwizard plan` (offline, a planned GPU).

Exit 0 must print the parameter count computed here from the config.json written; exit 2 must name the
config.json (or the field at fault) or the reference given.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fuzz_model_json import ARCHITECTURES, REFERENCES, ModelDoc, model_documents, parameter_count
from fuzz_profile import fuzz_settings
from fuzz_runner import Outcome, check_clean, expect_exit, expect_located, expect_true, run_cli, working_dir
from hypothesis import given
from hypothesis import strategies as st

from tuiapp.core.models.catalog import model_catalog

KIND = "model"
FIELDS = ("hidden_size", "num_attention_heads", "num_key_value_heads", "num_hidden_layers", "vocab_size")
FIELDS += ("intermediate_size", "max_position_embeddings", "head_dim", "model_type", "architectures")
OPTIONS = st.lists(
    st.sampled_from([["--method", "lora"], ["--method", "full"], ["--task", "dpo"], ["--seq-len", "1024"]]),
    max_size=2,
    unique_by=lambda pair: pair[0],
)


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan's heading (with the parameter count) stays on one line."""
    monkeypatch.setenv("COLUMNS", "400")


def count_text(params: int) -> str:
    """The count as the plan table's title writes it ("1.2B params")."""
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if params >= size:
            return f"{params / size:.1f}{unit} params"
    return f"{params} params"


def judge_plan(outcome: Outcome, params: int | None, as_json: bool) -> None:
    """Exit 0 prints `params` (when known): the JSON's total_params, or the table's title."""
    if params is None:
        return
    if not as_json:
        expect_true(KIND, outcome, count_text(params) in outcome.out, f"plan's table does not say {count_text(params)}")
        return
    report = json.loads(outcome.out)
    total = report["model"]["total_params"]
    expect_true(KIND, outcome, total == params, f"plan says {total:,} parameters; the config.json has {params:,}")
    for method, row in report["methods"].items():  # adapters are extra parameters: only a full fine-tune is exact
        trained = row["trainable_params"]
        fine = trained == total if method == "full" else trained > 0
        expect_true(KIND, outcome, fine, f"{method} trains {trained:,} parameters of a {total:,}-parameter model")


def plan_case(folder: Path, doc: ModelDoc, options: list[str], as_json: bool) -> None:
    model = folder / "model"
    model.mkdir()
    if doc.as_dir:
        (model / "config.json").mkdir()
    else:
        (model / "config.json").write_bytes(doc.data)
    argv = ["plan", "--model", str(model), "--gpu", "24GB", *options, *(["--json"] if as_json else [])]
    outcome = run_cli(argv, KIND, {"config.json": doc.show()})
    if not check_clean(KIND, outcome):
        return
    allowed = {"accept": (0,), "refuse": (2,), "either": (0, 2)}[doc.expect]
    if not expect_exit(KIND, outcome, allowed, doc.what):
        return
    if outcome.code == 2:
        expect_located(KIND, outcome, [str(model), "config.json", *FIELDS], doc.what)
        return
    judge_plan(outcome, doc.params, as_json)


@fuzz_settings(170)
@given(doc=model_documents(), options=OPTIONS, as_json=st.sampled_from([True, True, True, False]))
def test_plan_on_generated_model_folders(case_dir: Any, doc: ModelDoc, options: list[list[str]], as_json: bool) -> None:
    with case_dir() as folder:
        plan_case(folder, doc, [word for pair in options for word in pair], as_json)


def _catalogue_count(config: dict[str, Any]) -> int | None:
    if config.get("model_type") in ARCHITECTURES and "text_config" not in config:
        return parameter_count(config)
    return None


@fuzz_settings(20)
@given(name=st.sampled_from(sorted(entry.name for entry in model_catalog())))
def test_plan_on_catalogue_names(name: str) -> None:
    entry = next(e for e in model_catalog() if e.name == name)
    outcome = run_cli(["plan", "--model", name, "--gpu", "RTX 4090", "--json"], KIND)
    if check_clean(KIND, outcome) and expect_exit(KIND, outcome, (0,), f"catalogue model {name}"):
        report = json.loads(outcome.out)
        known = _catalogue_count(dict(entry.config))
        total = report["model"]["total_params"]
        expect_true(KIND, outcome, known in (None, total), f"{name}: plan says {total:,}, the config gives {known}")


@fuzz_settings(40)
@given(reference=REFERENCES)
def test_plan_refuses_references_it_cannot_read(case_dir: Any, reference: str) -> None:
    """Not a folder, not in the catalogue, not cached, and offline: exit 2 naming the reference or --model."""
    if any(reference.strip() == e.name or reference.strip().lower() == e.name.lower() for e in model_catalog()):
        return
    with case_dir() as folder, working_dir(folder):
        outcome = run_cli(["plan", "--model", reference, "--gpu", "24GB"], KIND, {"cwd": "an empty folder"})
    if not (check_clean(KIND, outcome) and expect_exit(KIND, outcome, (0, 2), "an unreadable model reference")):
        return
    if outcome.code == 0:  # a catalogue alias or a fuzzy match: it must then name a real model
        expect_true(KIND, outcome, "params" in outcome.out, "plan exit 0 without a model's parameter count")
        return
    shown = reference.strip()[:30]
    expect_located(KIND, outcome, [shown, repr(shown)[1:-1][:30], "--model", "give a model"], "the model reference")
