"""`ftwizard plan` takes the stack's choices (--loss-path, --kbit-upcast, --adapter-dtype) and says them."""

from __future__ import annotations

import json

import pytest

from tuiapp.cli import main

PLAN = ["plan", "--model", "Llama-3.1-8B-Instruct", "--gpu", "H100", "--framework", "hf", "--seq-len", "4096"]
PLAN += ["--micro-batch", "4", "--grad-accum", "4", "--grad-ckpt"]


def _plan(capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    assert main([*PLAN, "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_carries_the_resolved_setup_of_every_method(capsys: pytest.CaptureFixture[str]) -> None:
    methods = _plan(capsys)["methods"]
    assert methods["lora"]["setup"] == {
        "framework": "hf",
        "loss_path": "chunked",
        "kbit_upcast": False,
        "adapter_dtype": "fp32",
        "line": "setup: transformers + PEFT + TRL · chunked loss · norms and head in bf16 · adapters fp32",
    }
    assert methods["qlora"]["setup"]["adapter_dtype"] == "bf16"  # TRL casts QLoRA adapters to bf16
    assert methods["full"]["setup"]["adapter_dtype"] is None


def test_full_logits_is_the_what_if_of_an_older_stack(capsys: pytest.CaptureFixture[str]) -> None:
    chunked = _plan(capsys, "--method", "lora")["methods"]["lora"]
    full = _plan(capsys, "--method", "lora", "--loss-path", "full-logits")["methods"]["lora"]
    assert full["setup"]["loss_path"] == "full_logits"
    assert full["peak_alloc_gib"] - chunked["peak_alloc_gib"] > 10  # 128k vocabulary x 16k tokens


def test_kbit_upcast_and_adapter_dtype_are_passed_through(capsys: pytest.CaptureFixture[str]) -> None:
    qlora = _plan(capsys, "--method", "qlora", "--kbit-upcast", "on", "--adapter-dtype", "fp32")["methods"]["qlora"]
    assert (qlora["setup"]["kbit_upcast"], qlora["setup"]["adapter_dtype"]) == (True, "fp32")
    assert "norms and head in fp32 · adapters fp32" in qlora["setup"]["line"]
    plain = _plan(capsys, "--method", "qlora")["methods"]["qlora"]
    assert qlora["peak_alloc_gib"] > plain["peak_alloc_gib"]  # fp32 norms, embeddings and head


def test_the_table_says_which_setup_each_figure_describes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main([*PLAN, "--loss-path", "full-logits"]) == 0
    out = capsys.readouterr().out
    assert "lora: setup: transformers + PEFT + TRL · full logits · norms and head in bf16 · adapters fp32" in out


@pytest.mark.parametrize("flag", ["--loss-path", "--kbit-upcast", "--adapter-dtype"])
def test_an_unknown_choice_is_refused(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*PLAN, flag, "sideways"])
    assert exited.value.code == 2
    assert "invalid choice: 'sideways'" in capsys.readouterr().err
