"""`ftwizard plan` says why a lighter method needs more memory, in the table's notes and in JSON."""

from __future__ import annotations

import json

import pytest

from tuiapp.cli import main

# The stack these notes arose on: full logits and a kbit-prepared (fp32) QLoRA with fp32 adapters. Our own
# backend (chunked loss, no upcast) has neither surprise on this model.
OLDER_STACK = ["--loss-path", "full-logits", "--kbit-upcast", "on", "--adapter-dtype", "fp32"]


def test_the_table_explains_qlora_above_full_on_a_small_model(capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["plan", "--model", "Qwen2.5-0.5B", "--gpu", "24GB", "--framework", "hf", *OLDER_STACK]) == 0
    out = capsys.readouterr().out
    notes = [line for line in out.splitlines() if line.startswith("Note: ")]
    assert notes[0].startswith("Note: QLoRA needs more than LoRA and full fine-tuning here: its activations are")
    assert "151,936-token vocabulary" in notes[1]
    assert "unknown of data" not in out and "(the dataset's size is not known yet)" in out


def test_json_carries_the_notes(capsys) -> None:
    assert main(["plan", "--model", "Qwen2.5-0.5B", "--gpu", "24GB", "--framework", "hf", "--json", *OLDER_STACK]) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["notes"]) == 2 and report["notes"][0].startswith("QLoRA needs more than")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seq-len", "0"], "--seq-len: 0 is not a whole number of at least 16"),
        (["--micro-batch", "0"], "--micro-batch: 0 is not a whole number of at least 1"),
        (["--micro-batch", "2", "--grad-accum", "-1"], "--grad-accum: -1 is not a whole number of at least 1"),
        (["--lora-r", "0"], "--lora-r: 0 is not a whole number of at least 1"),
    ],
)
def test_nonsense_numbers_are_refused(args: list[str], message: str, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["plan", "--model", "Qwen2.5-0.5B", "--gpu", "24GB", *args])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_grad_accum_alone_is_refused_not_ignored(capsys) -> None:
    assert main(["plan", "--model", "Qwen2.5-0.5B", "--gpu", "24GB", "--grad-accum", "4"]) == 2
    assert "ftwizard: --grad-accum needs --micro-batch too: the effective batch is their product" in (
        capsys.readouterr().err
    )
    assert main(["plan", "--model", "Qwen2.5-0.5B", "--gpu", "24GB", "--micro-batch", "2", "--grad-accum", "4"]) == 0
    assert "micro-batch 2 x 4 accumulation = effective batch 8" in capsys.readouterr().out


def test_a_long_model_path_and_its_count_stay_on_one_heading_line(tmp_path, capsys, monkeypatch) -> None:
    """A table title wraps at the table's width; the heading wraps only at the terminal's (and escapes markup)."""
    monkeypatch.setenv("COLUMNS", "400")
    folder = tmp_path / ("deep-[folder]-" * 6) / "model"
    folder.mkdir(parents=True)
    shape = {"model_type": "llama", "hidden_size": 16, "num_attention_heads": 2, "num_key_value_heads": 1}
    shape |= {"num_hidden_layers": 2, "vocab_size": 2, "intermediate_size": 1, "head_dim": 64}
    shape["max_position_embeddings"] = 2048
    (folder / "config.json").write_text(json.dumps(shape))
    assert main(["plan", "--model", str(folder), "--gpu", "24GB"]) == 0
    heading = capsys.readouterr().out.splitlines()[0]
    assert heading == f"{folder} (12.5K params) on 24 GB GPU (24.0 GiB free, planned)"
