"""Every number and choice on the command line is checked as it is parsed: usage and exit 2, with the bounds of
the config field the flag sets (issue 11, items 3 and 6)."""

from __future__ import annotations

import argparse

import pytest

from tuiapp.cli import build_parser, main
from tuiapp.cli.arg_types import config_number, eval_size, number_between, whole_number
from tuiapp.core.config.choices import FIELD_BOUNDS

DATA = ["data", "inspect", "rows.jsonl"]
PLAN = ["plan", "--model", "org/m"]
# (words before the flag, the flag, the config field whose bounds it takes)
CONFIG_FLAGS = [
    (PLAN, "--seq-len", "training.max_length"),
    (PLAN, "--micro-batch", "training.micro_batch_size"),
    (PLAN, "--grad-accum", "training.grad_accum"),
    (PLAN, "--lora-r", "lora.r"),
    (DATA, "--max-len", "training.max_length"),
    (DATA, "--micro-batch", "training.micro_batch_size"),
    (DATA, "--grad-accum", "training.grad_accum"),
]
BAD = [
    (PLAN, "--micro-batch", "-1"),
    (PLAN, "--lora-r", "0"),
    (PLAN, "--seq-len", "0"),
    (PLAN, "--task", "rlhf"),
    (PLAN, "--method", "half"),
    (PLAN, "--framework", "vllm"),
    (DATA, "--row", "-1"),
    (DATA, "--row", "0"),
    (DATA, "--max-len", "0"),
    (DATA, "--grad-accum", "0"),
    (DATA, "--eval-size", "2.5"),
    (DATA, "--eval-size", "nan"),
    (DATA, "--eval-size", "inf"),
    (DATA, "--eval-size", "1e300"),
    (DATA, "--format", "xml"),
    (["chat", "run"], "--max-new-tokens", "0"),
    (["chat", "run"], "--max-new-tokens", "1e9"),
    (["chat", "run"], "--temperature", "nan"),
    (["chat", "run"], "--temperature", "-1"),
    (["chat", "run"], "--top-p", "inf"),
    (["chat", "run"], "--repetition-penalty", "0.5"),
    (["gguf", "run"], "--quant", "q9"),
    (["merge", "run"], "--dtype", "fp8"),
]


def refused(words: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(words)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: ftwizard")
    return err


@pytest.mark.parametrize(("before", "flag", "value"), BAD, ids=[f"{w[0]} {f} {v}" for w, f, v in BAD])
def test_a_bad_number_or_choice_is_refused_with_the_usage_line(before, flag, value, capsys) -> None:
    assert f"argument {flag}" in refused([*before, flag, value], capsys)


@pytest.mark.parametrize(("before", "flag", "path"), CONFIG_FLAGS, ids=[f"{w[0]} {f}" for w, f, _ in CONFIG_FLAGS])
def test_a_flag_takes_exactly_the_bounds_of_its_config_field(before, flag, path, capsys) -> None:
    low, high = FIELD_BOUNDS[path]
    for fits in (low, high):
        assert getattr(build_parser().parse_args([*before, flag, str(fits)]), flag[2:].replace("-", "_")) == fits
    for past in (low - 1, high + 1):
        refused([*before, flag, str(past)], capsys)


def _numeric_actions(parser: argparse.ArgumentParser, where: str = "ftwizard"):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _numeric_actions(sub, f"{where} {name}")
        elif action.type is not None:
            yield where, action


def test_no_option_takes_a_bare_int_or_float() -> None:
    """A bare `type=int` lets -1 and 10**30 through, `type=float` NaN and infinity: every numeric option
    of every command uses a bounded type."""
    bare = [
        f"{where} {action.dest}" for where, action in _numeric_actions(build_parser()) if action.type in (int, float)
    ]
    assert bare == []
    assert len(list(_numeric_actions(build_parser()))) >= 12  # the walk reached every command's options


def test_the_types_say_what_they_take() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="at least 1 and at most 4,096"):
        config_number("training.micro_batch_size")("4097")
    with pytest.raises(argparse.ArgumentTypeError, match="not a whole number"):
        whole_number(1)("9" * 5000)  # past Python's digit limit for int(): refused, not a crash
    with pytest.raises(argparse.ArgumentTypeError, match="from 0 to 2"):
        number_between(0, 2)("nan")
    assert eval_size("0.05") == 0.05 and eval_size("200") == 200 and eval_size("0") == 0


def test_plan_refuses_an_effective_batch_past_the_configs_bound(capsys) -> None:
    words = ["plan", "--model", "Qwen2.5-0.5B", "--gpu", "24GB", "--micro-batch", "4096", "--grad-accum", "4096"]
    assert main(words) == 2
    assert "16,777,216 sequences per step" in capsys.readouterr().err


def test_an_unknown_chat_template_is_refused_even_without_a_model(tmp_path, capsys) -> None:
    """It was silently ignored: no tokenizer, so nothing read the name."""
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"text": "hello"}\n', encoding="utf-8")
    assert main(["data", "inspect", str(rows), "--template", "nosuch"]) == 2
    assert "unknown chat template 'nosuch'" in capsys.readouterr().err
