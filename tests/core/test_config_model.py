"""The one config model: defaults, cross-field rules, readable errors, YAML round trip."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuiapp.core.config import (
    ConfigError,
    FTConfig,
    dump_config,
    load_config,
    loads_config,
    save_config,
    with_changes,
)
from tuiapp.core.config.choices import TASK_FORMATS, choices
from tuiapp.core.config.root import Method, Task

MINIMAL = "model: {name_or_path: Qwen/Qwen2.5-0.5B}\n"


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        loads_config(text, "cfg.yaml")
    return caught.value.problems


def test_minimal_config_has_safe_defaults() -> None:
    config = loads_config(MINIMAL)
    assert config.schema_version == 1
    assert config.model.trust_remote_code is False
    assert (config.task, config.method, config.framework) == ("sft", "lora", "hf")
    assert config.training.effective_batch_size == 16
    assert config.dataset is None


def test_config_is_frozen() -> None:
    config = loads_config(MINIMAL)
    with pytest.raises(ValueError):
        config.lora.r = 4  # type: ignore[misc]


def test_every_field_is_documented() -> None:
    def walk(model_cls: type) -> list[str]:
        missing = []
        for name, field in model_cls.model_fields.items():
            if not field.description:
                missing.append(f"{model_cls.__name__}.{name}")
            for arg in (field.annotation, *getattr(field.annotation, "__args__", ())):
                if isinstance(arg, type) and hasattr(arg, "model_fields"):
                    missing += walk(arg)
        return missing

    assert walk(FTConfig) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (MINIMAL + "lora: {r: 0}\n", "cfg.yaml:2: lora.r must be a positive integer, got 0"),
        (MINIMAL + "lora:\n  rank: 8\n", "cfg.yaml:3: lora.rank is not a known setting (did you mean r?)"),
        (
            MINIMAL + "training: {lr: 0.001}\n",
            "training.lr is not a known setting (did you mean learning_rate?)",
        ),
        (MINIMAL + "lora: {alpah: 8}\n", "lora.alpah is not a known setting (did you mean alpha?)"),
        (
            MINIMAL + "method: qlorra\n",
            "method must be one of full, lora, qlora or lora8, got 'qlorra' (did you mean qlora?)",
        ),
        (
            MINIMAL + "training: {learning_rate: fast}\n",
            "training.learning_rate must be a number, got 'fast'",
        ),
        (MINIMAL + "training: {packing: maybe}\n", "training.packing must be true or false, got 'maybe'"),
        ("task: sft\n", "model is required"),
        (
            MINIMAL + "output: {hub_repo: not a repo}\n",
            "output.hub_repo: write the Hub repo as user-or-org/name",
        ),
        (MINIMAL + "lora: {target_modules: everything}\n", 'use "all-linear" or a list of module names'),
        (MINIMAL + "dataset: {source: d.jsonl, eval_size: 2.5}\n", "eval_size must be a fraction below 1"),
    ],
)
def test_errors_name_field_value_and_fix(text: str, expected: str) -> None:
    found = problems(text)
    assert any(expected in problem for problem in found), found


def test_every_problem_is_reported_at_once() -> None:
    found = problems(MINIMAL + "lora: {r: 0, alpha: -1}\ntraining: {micro_batch_size: 0}\n")
    assert len(found) == 3


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "task: dpo\ndataset: {source: d.jsonl, format: alpaca}\n",
            "task dpo cannot train on dataset.format alpaca",
        ),
        ("task: grpo\ndataset: {source: d.jsonl, format: preference}\n", "task grpo cannot train"),
        ("task: dpo\ntraining: {packing: true}\n", "training.packing works with task sft only"),
        ("training: {eval_steps: 10}\n", "training.eval_steps is set but there is no eval data"),
        (
            "training: {eval_steps: 50, max_steps: 10}\n",
            "eval_steps (50) is larger than training.max_steps (10)",
        ),
    ],
)
def test_cross_field_rules_say_what_to_change(extra: str, expected: str) -> None:
    assert any(expected in problem for problem in problems(MINIMAL + extra))


def test_preference_data_fits_dpo() -> None:
    config = loads_config(MINIMAL + "task: dpo\ndataset: {source: p.jsonl, format: preference, eval_size: 0.1}\n")
    assert config.task == "dpo"


def test_yaml_syntax_error_points_at_line_and_column() -> None:
    found = problems("model:\n  name_or_path: [unclosed\n")
    assert found[0].startswith("cfg.yaml:3:1: not valid YAML")


def test_missing_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.yaml")


def test_saved_yaml_is_commented_and_round_trips(tmp_path) -> None:
    config = loads_config(
        MINIMAL + "method: qlora\nlora: {r: 64, target_modules: [q_proj, v_proj]}\n"
        "dataset: {source: 'data: odd name.jsonl', columns: {question: instruction}, eval_size: 0.05}\n"
        "training: {max_steps: 100, eval_steps: 20}\noutput: {hub_repo: alice/qwen-lora}\n"
    )
    path = save_config(config, tmp_path / "sub" / "run.yaml")
    text = path.read_text()
    assert "# Rank of the adapter matrices" in text
    assert load_config(path) == config
    assert dump_config(load_config(path)) == text
    assert [p.name for p in path.parent.iterdir()] == ["run.yaml"]  # no temp file left behind


def test_with_changes_revalidates() -> None:
    config = loads_config(MINIMAL)
    changed = with_changes(config, {"lora.r": 8, "method": "qlora", "dataset.source": "x.jsonl"})
    assert (changed.lora.r, changed.method, changed.dataset.source) == (8, "qlora", "x.jsonl")
    assert config.lora.r == 16  # the original is untouched
    with pytest.raises(ConfigError, match=r"lora\.r must be a positive integer"):
        with_changes(config, {"lora.r": -2})


def test_task_format_table_covers_every_task() -> None:
    assert set(TASK_FORMATS) == set(choices(Task))


@settings(max_examples=60, deadline=None)
@given(
    task=st.sampled_from(choices(Task)),
    method=st.sampled_from(choices(Method)),
    r=st.integers(1, 512),
    lr=st.floats(1e-7, 1.0, allow_nan=False),
    micro=st.integers(1, 64),
    max_len=st.integers(16, 131072),
    targets=st.one_of(st.just("all-linear"), st.lists(st.sampled_from(["q_proj", "k_proj", "v_proj"]), min_size=1)),
    source=st.text(min_size=1, max_size=30).filter(lambda s: s.strip()),
)
def test_round_trip_property(task, method, r, lr, micro, max_len, targets, source) -> None:
    config = FTConfig.model_validate(
        {
            "model": {"name_or_path": "org/model"},
            "task": task,
            "method": method,
            "lora": {"r": r, "target_modules": targets},
            "dataset": {"source": source},
            "training": {"learning_rate": lr, "micro_batch_size": micro, "max_length": max_len},
        }
    )
    assert loads_config(dump_config(config)) == config
