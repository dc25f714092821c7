"""One set of bounds for every number in the config: what torch and the trainers take, refused by the config
model itself, so `ftwizard check`, the Hyperparameters form and the worker agree (issue 11, item 4)."""

from __future__ import annotations

import pytest

from tuiapp.core.config import ConfigError, FTConfig, loads_config
from tuiapp.core.config.choices import EFFECTIVE_BATCH_MAX, FIELD_BOUNDS
from tuiapp.core.config.form_fields import form_fields

BASE = "model: {name_or_path: org/m}\ndataset: {source: d.jsonl, eval_size: 0.1}\n"


def config_with(path: str, value: str, extra: str = "") -> FTConfig:
    """The base config with `section.field: value` (YAML text, so `.inf` and big integers arrive as YAML has them)."""
    section, name = path.split(".")
    body = BASE.replace("dataset: {source: d.jsonl, eval_size: 0.1}\n", "") if section == "dataset" else BASE
    if section == "dataset":
        body += f"dataset: {{source: d.jsonl, {name}: {value}}}\n"
    else:
        body += f"{section}: {{{name}: {value}{extra}}}\n"
    return loads_config(body)


# The values `check` called valid and the worker could not run (or, for eval_size .inf, crashed `check`).
WORKER_FAILED = [
    ("training.seed", "1099511627776"),  # 2**40: numpy's seeding raises "Seed must be between 0 and 2**32 - 1"
    ("dataset.eval_size", "1.0e+300"),
    ("dataset.eval_size", ".inf"),  # was an OverflowError inside the validator: an "unexpected error"
    ("dataset.eval_size", ".nan"),
    ("training.micro_batch_size", "100000000000000000000"),  # the worker: islice() stop must be <= sys.maxsize
    ("lora.r", "100000000000000000000"),
    ("lora.alpha", "100000000000000000000"),
    ("training.grad_accum", "100000000000000000000"),
    ("training.max_steps", "100000000000000000000"),
    ("training.save_steps", "100000000000000000000"),
    ("training.epochs", ".inf"),
    ("training.epochs", ".nan"),
    ("training.weight_decay", ".inf"),
    ("training.max_grad_norm", ".inf"),  # the worker ran it as "no clipping": 0 is the way to say that
    ("training.max_grad_norm", ".nan"),
    ("training.learning_rate", ".nan"),
    ("training.warmup_ratio", ".nan"),
    ("lora.dropout", ".nan"),
]


@pytest.mark.parametrize(("path", "value"), WORKER_FAILED)
def test_values_the_worker_cannot_run_are_refused_by_the_config(path: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_with(path, value)
    assert path in str(caught.value)


@pytest.mark.parametrize(("path", "bounds"), FIELD_BOUNDS.items(), ids=list(FIELD_BOUNDS))
def test_each_whole_number_field_takes_its_bounds_and_nothing_past_them(path: str, bounds: tuple[int, int]) -> None:
    low, high = bounds
    extra = ", micro_batch_size: 1" if path == "training.grad_accum" else ""  # keep the product within bounds
    section, name = path.split(".")
    for fits in (low, high):
        config = config_with(path, str(fits), extra)
        assert getattr(getattr(config, section), name) == fits
    for past in (low - 1, high + 1):
        with pytest.raises(ConfigError):
            config_with(path, str(past), extra)


@pytest.mark.parametrize(("path", "bounds"), FIELD_BOUNDS.items(), ids=list(FIELD_BOUNDS))
def test_the_form_shows_the_same_bounds_the_config_checks(path: str, bounds: tuple[int, int]) -> None:
    """The Hyperparameters form reads its bounds from the model's field metadata: the same table."""
    section, _ = path.split(".")
    model = FTConfig.model_fields[section].annotation
    model = next(a for a in getattr(model, "__args__", (model,)) if a is not type(None))
    (field,) = [f for f in form_fields(model, section) if f.path == path]
    assert (field.low, field.high) == bounds


def test_every_float_field_refuses_infinity() -> None:
    """allow_inf_nan=False on every section: no float field takes .inf, whatever its other bounds."""
    floats = []
    for section in ("training", "lora", "dataset"):
        model = FTConfig.model_fields[section].annotation
        model = next(a for a in getattr(model, "__args__", (model,)) if a is not type(None))
        floats += [f.path for f in form_fields(model, section) if f.kind == "float"]
    assert "training.max_grad_norm" in floats and "dataset.eval_size" in floats
    for path in floats:
        with pytest.raises(ConfigError):
            config_with(path, ".inf")
        with pytest.raises(ConfigError):
            config_with(path, "-.inf")


def test_the_effective_batch_has_a_bound_out_of_memory_recovery_keeps() -> None:
    """micro_batch_size x grad_accum is bounded, not only each: halving one and doubling the other stays valid."""
    at_most = loads_config(BASE + f"training: {{micro_batch_size: 4, grad_accum: {EFFECTIVE_BATCH_MAX // 4}}}\n")
    assert at_most.training.effective_batch_size == EFFECTIVE_BATCH_MAX
    with pytest.raises(ConfigError) as caught:
        loads_config(BASE + f"training: {{micro_batch_size: 4, grad_accum: {EFFECTIVE_BATCH_MAX // 2}}}\n")
    assert "micro_batch_size x training.grad_accum" in str(caught.value)


def test_eval_size_is_a_fraction_or_a_whole_number_of_rows() -> None:
    assert config_with("dataset.eval_size", "0.05").dataset.eval_size == 0.05
    assert config_with("dataset.eval_size", "200").dataset.eval_size == 200
    with pytest.raises(ConfigError):
        config_with("dataset.eval_size", "2.5")
