"""Generated config files through `ftwizard check` and `ftwizard train` (up to the worker's start, which is faked).

Exit 0 must mean the config loads with load_config and reads back the values written; exit 2 must name the
file and the line of every mistake (or the file, for a file that is no config at all).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from fuzz_config_docs import (
    ConfigDoc,
    cross_field_documents,
    encoding_documents,
    structure_documents,
    value_documents,
)
from fuzz_profile import fuzz_settings
from fuzz_runner import Outcome, check_clean, expect_exit, expect_true, fail, run_cli, working_dir
from hypothesis import given
from hypothesis import strategies as st

from tuiapp.core.config import dump_config, load_config, loads_config

KIND = "config"
PLANNED_GPU = ["--gpu", "RTX 4090"]  # a planned GPU: the same findings on every machine
RESOLVED = {"model.name_or_path", "dataset.source", "output.runs_root", "output.run_name"}  # train rewrites these


def _value(config: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        config = getattr(config, part)
    return config


def _expected(dotted: str, value: Any) -> Any:
    if dotted == "model.name_or_path" or dotted == "dataset.source":
        return value.strip()
    if dotted == "lora.target_modules" and isinstance(value, list):
        return [name.strip() for name in value]
    return value


def _names_line(err: str, number: int) -> bool:
    return re.search(rf"(?::|\bline ){number}\b", err) is not None


def judge_refusal(outcome: Outcome, doc: ConfigDoc, path: Path) -> None:
    """Exit 2 names the file, and each line the document's mistakes are on (or the bad byte's offset)."""
    if not expect_true(KIND, outcome, str(path) in outcome.err, f"exit 2 without naming the file ({doc.what})"):
        return
    if doc.whole_file:
        return
    missing = [n for n in doc.must_name if not _names_line(outcome.err, n)]
    if missing and doc.offsets and any(re.search(rf"\b{o}\b", outcome.err) for o in doc.offsets):
        missing = []
    expect_true(KIND, outcome, not missing, f"exit 2 does not name line(s) {missing} ({doc.what})")


def judge_acceptance(outcome: Outcome, doc: ConfigDoc, config_path: Path, skip: set[str] = frozenset()) -> None:
    """The file loads and every value written reads back unchanged; the config round-trips through dump."""
    try:
        config = load_config(config_path)
    except Exception as exc:
        fail(KIND, outcome, f"exit 0 but load_config({config_path.name}) fails: {str(exc)[:300]}")
        return
    for dotted, value in doc.values.items():
        if dotted in skip:
            continue
        got = _value(config, dotted)
        if got != _expected(dotted, value):
            fail(KIND, outcome, f"exit 0 but {dotted} reads back as {got!r}, not {value!r} ({doc.what})")
            return
    again = loads_config(dump_config(config))
    expect_true(KIND, outcome, again == config, "the accepted config does not round-trip through dump_config")


def judge(outcome: Outcome, doc: ConfigDoc, path: Path) -> bool:
    """The clean-exit checks and the document's expectation; True when the case exited 0 as it may."""
    if not check_clean(KIND, outcome):
        return False
    allowed = {"accept": (0,), "refuse": (2,), "either": (0, 2)}[doc.expect]
    if not expect_exit(KIND, outcome, allowed, doc.what):
        return False
    if outcome.code == 2:
        judge_refusal(outcome, doc, path)
        return False
    return True


def _write(folder: Path, doc: ConfigDoc) -> Path:
    path = folder / "run.yaml"
    path.write_bytes(doc.data)
    return path


def _data_files(folder: Path) -> None:
    """The local data files the generated configs name (check and train refuse a local source that is not there)."""
    (folder / "data.jsonl").write_text('{"text": "hello"}\n', encoding="utf-8")
    (folder / "sets").mkdir()
    (folder / "sets" / "train.csv").write_text("text\nhello\n", encoding="utf-8")


def check_case(case_dir: Callable[[], AbstractContextManager[Path]], doc: ConfigDoc, as_json: bool) -> None:
    with case_dir() as folder, working_dir(folder):
        path = _write(folder, doc)
        _data_files(folder)
        argv = ["check", str(path), *PLANNED_GPU, *(["--json"] if as_json else [])]
        outcome = run_cli(argv, KIND, {"run.yaml": doc.show()})
        if not judge(outcome, doc, path):
            return
        if as_json:
            report = json.loads(outcome.out)
            expect_true(KIND, outcome, report["valid"] is True, "check exit 0 with valid: false in --json")
        judge_acceptance(outcome, doc, path)


def train_case(case_dir: Callable[[], AbstractContextManager[Path]], doc: ConfigDoc, spawned: list[list[str]]) -> None:
    """`train CONFIG --detach` with the worker faked: the run directory is prepared exactly as for training."""
    with case_dir() as folder, working_dir(folder):
        path, runs = _write(folder, doc), folder / "runs"
        _data_files(folder)
        before = len(spawned)
        argv = ["train", str(path), "--detach", "--runs-dir", str(runs)]
        outcome = run_cli(argv, KIND, {"run.yaml": doc.show()})
        if not judge(outcome, doc, path):
            return
        made = [p for p in runs.iterdir()] if runs.is_dir() else []
        if not expect_true(KIND, outcome, len(made) == 1 and made[0].is_dir(), f"train made {made} in the runs root"):
            return
        run = made[0]
        inside = run.resolve().parent == runs.resolve()
        expect_true(KIND, outcome, inside, f"the run directory {run} is not directly in the runs root")
        expect_true(KIND, outcome, len(spawned) == before + 1, "train exit 0 without starting the (fake) worker")
        name = doc.values.get("output.run_name")
        if name is not None:
            expect_true(KIND, outcome, run.name == name, f"run_name {name!r} became the folder {run.name!r}")
        judge_acceptance(outcome, doc, run / "config.yaml", skip=RESOLVED)


@fuzz_settings(150)
@given(doc=value_documents(), as_json=st.booleans())
def test_check_field_values(case_dir: Any, doc: ConfigDoc, as_json: bool) -> None:
    check_case(case_dir, doc, as_json)


@fuzz_settings(90)
@given(doc=structure_documents())
def test_check_structure(case_dir: Any, doc: ConfigDoc) -> None:
    check_case(case_dir, doc, as_json=False)


@fuzz_settings(60)
@given(doc=encoding_documents())
def test_check_encodings(case_dir: Any, doc: ConfigDoc) -> None:
    check_case(case_dir, doc, as_json=False)


@fuzz_settings(30)
@given(doc=cross_field_documents())
def test_check_rules_over_two_keys(case_dir: Any, doc: ConfigDoc) -> None:
    check_case(case_dir, doc, as_json=False)


@fuzz_settings(70)
@given(doc=st.one_of(value_documents(need_dataset=True), structure_documents(need_dataset=True)))
def test_train_prepares_or_refuses(case_dir: Any, no_children: list[list[str]], doc: ConfigDoc) -> None:
    train_case(case_dir, doc, no_children)


@fuzz_settings(30)
@given(doc=encoding_documents(need_dataset=True))
def test_train_encodings(case_dir: Any, no_children: list[list[str]], doc: ConfigDoc) -> None:
    train_case(case_dir, doc, no_children)
