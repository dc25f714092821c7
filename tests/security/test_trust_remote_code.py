"""trust_remote_code is off unless the config asks: every from_pretrained in tuiapp passes the config's choice
(read from the source, then watched with the loaders patched), and what ftwizard hands on (the model card's
loading code, the config a GPU box gets) carries the same choice."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import Any

import pytest

import tuiapp
from tuiapp.core.config import FTConfig, load_config, save_config, validate_config, with_changes

PACKAGE = Path(tuiapp.__file__).parent
NO_REMOTE_CODE = {
    # (file, what from_pretrained is called on): why it cannot run a repo's code
    ("training/chat_model.py", "PeftModel"): "loads adapter weights onto a base already loaded with the choice",
    ("training/merge_action.py", "PeftModel"): "loads adapter weights onto a base already loaded with the choice",
    ("training/merge_action.py", "GenerationConfig"): "reads generation_config.json: JSON only",
    ("training/tiny_model.py", "LlamaTokenizer"): "a concrete class on a folder ftwizard built itself",
    ("training/memory_sim.py", "AutoModelForCausalLM"): "measures a local test model; the default (off) applies",
}


def from_pretrained_calls() -> list[tuple[str, str, ast.Call, ast.FunctionDef | None]]:
    """(file, receiver, call, enclosing function) for every `X.from_pretrained(...)` in the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ast.parse(path.read_text(encoding="utf-8"))
        for function in [node for node in ast.walk(module) if isinstance(node, ast.FunctionDef)] + [None]:
            body = function if function is not None else module
            for node in ast.walk(body):
                called = node.func if isinstance(node, ast.Call) else None
                is_load = isinstance(called, ast.Attribute) and called.attr == "from_pretrained"
                if is_load and isinstance(called.value, ast.Name):
                    found.append((path.relative_to(PACKAGE).as_posix(), called.value.id, node, function))
    unique: dict[int, tuple[str, str, ast.Call, ast.FunctionDef | None]] = {}
    for entry in found:  # the innermost function wins: walked functions come before the module
        unique.setdefault(id(entry[2]), entry)
    return list(unique.values())


def passes_the_choice(call: ast.Call, function: ast.FunctionDef | None) -> bool:
    """trust_remote_code=<a config's or request's trust_remote_code, or a name bound to it>, or **kwargs in a
    function whose dict sets "trust_remote_code" from the config."""
    for keyword in call.keywords:
        if keyword.arg == "trust_remote_code":
            value = keyword.value
            return (isinstance(value, ast.Attribute) and value.attr == "trust_remote_code") or (
                isinstance(value, ast.Name) and function is not None and f"{value.id} = " in ast.unparse(function)
            )
        if keyword.arg is None and function is not None:
            source = ast.unparse(function)
            return "'trust_remote_code': config.model.trust_remote_code" in source
    return False


def test_every_from_pretrained_passes_the_configs_choice() -> None:
    calls = from_pretrained_calls()
    assert len(calls) >= 10, "the scan found too few calls to be reading the package"
    unexplained = [
        f"{file}:{call.lineno} {receiver}.from_pretrained"
        for file, receiver, call, function in calls
        if (file, receiver) not in NO_REMOTE_CODE and not passes_the_choice(call, function)
    ]
    assert not unexplained, unexplained
    explained = sum(1 for file, receiver, _, _ in calls if (file, receiver) in NO_REMOTE_CODE)
    print(f"\nfrom_pretrained calls read: {len(calls)}; {len(calls) - explained} pass the config's choice")


def test_nothing_in_the_package_turns_remote_code_on_by_itself() -> None:
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "trust_remote_code":
                assert not (isinstance(node.value, ast.Constant) and node.value.value is True), path
    assert validate_config({"model": {"name_or_path": "acme/m"}}).model.trust_remote_code is False


class Loaded(Exception):
    """Raised by a patched from_pretrained once it has recorded its keyword arguments."""


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    import transformers

    calls: list[dict[str, Any]] = []

    def record(cls: Any, source: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append({"class": cls.__name__, **kwargs})
        raise Loaded

    for name in ("AutoModelForCausalLM", "AutoTokenizer"):
        monkeypatch.setattr(getattr(transformers, name), "from_pretrained", classmethod(record))
    return calls


def config_with(trust: bool, tmp_path: Path) -> FTConfig:
    from tuiapp.core.demo import demo_config

    return with_changes(demo_config(tmp_path), {"model.trust_remote_code": trust})


@pytest.mark.parametrize("trust", [False, True])
def test_the_loaders_pass_what_the_config_says(trust: bool, tmp_path: Path, recorded: list[dict[str, Any]]) -> None:
    from tuiapp.training import backend_hf, chat_model, merge_action

    config = config_with(trust, tmp_path)
    loaders = [
        lambda: backend_hf._load_model(config, "fp32", False),
        lambda: chat_model._load_whole(str(tmp_path), config, "cpu", None),
        lambda: merge_action._tokenizer(tmp_path, config, []),
    ]
    for load in loaders:
        with pytest.raises(Loaded):
            load()
    assert [call["trust_remote_code"] for call in recorded] == [trust] * len(loaders), recorded


def card_facts(trust: bool, kind: str) -> Any:
    from tuiapp.core.hub.card_facts import CardFacts, TrainingFigures
    from tuiapp.core.hub.public_config import public_config

    config = validate_config({"model": {"name_or_path": "acme/base", "trust_remote_code": trust}})
    public = public_config(config, "alice/tuned")
    fields = {field.name for field in dataclasses.fields(TrainingFigures)}
    figures = TrainingFigures(**dict.fromkeys(fields))  # type: ignore[arg-type]
    return CardFacts(
        repo_id="alice/tuned",
        kind=kind,  # type: ignore[arg-type]
        config=public.config,
        config_yaml=public.yaml_text,
        config_changes=public.changes,
        base_model="acme/base",
        base_label="acme/base",
        license=None,
        dataset_id=None,
        figures=figures,
    )


@pytest.mark.parametrize("kind", ["adapter", "merged", "full"])
def test_the_model_cards_loading_code_carries_the_choice(kind: str) -> None:
    from tuiapp.core.hub.card_snippets import how_to_use

    on, off = how_to_use(card_facts(True, kind)), how_to_use(card_facts(False, kind))
    loads = [line for line in on.splitlines() if "AutoModelForCausalLM.from_pretrained" in line or "Tokenizer." in line]
    assert loads and all("trust_remote_code=True" in line for line in loads), on
    assert "trust_remote_code" not in off
    assert "trust_remote_code: true" in card_facts(True, kind).config_yaml


def test_the_config_a_gpu_box_gets_keeps_the_choice(tmp_path: Path) -> None:
    from tuiapp.core.gpu_box_commands import gpu_box_commands

    for trust in (False, True):
        path = tmp_path / f"box-{trust}.yaml"
        save_config(config_with(trust, tmp_path), path)
        assert load_config(path).model.trust_remote_code is trust
        lines = gpu_box_commands(load_config(path), path, tmp_path)
        assert f"ftwizard train {path.name}" in lines and not any("trust" in line for line in lines)
