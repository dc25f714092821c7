"""`ftwizard chat` on a run the worker really trained (not an adapter made up with random weights): under greedy
decoding `--base` answers differently from the tuned model, and the merged model (`--merged`, after
`ftwizard merge`) answers what base + adapter answer.

Why these settings: at the suite's usual learning rate (5e-3) the tiny model's greedy choices are decided by logit
margins of ~0.01, below what the bf16 merge moves a logit (up to ~0.015 here), so a merged answer may differ in a
token without anything being wrong (seen: one prompt in three). At 2e-2 for 30 steps the smallest top-2 margin
along the answer to PROMPT measured 0.6, forty times that: equal answers are what a correct merge gives, while a
lost adapter answers as the base does."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_worker import make_config
from worker_runs import run_to_end

from tuiapp.cli import main
from tuiapp.core.runs.layout import RunPaths

PROMPT = "How many pounds is 5 kg?"  # a question from the bundled messages.jsonl the run trains on
GREEDY = ["--temperature", "0", "--max-new-tokens", "16"]
STEPS = 30
TRAIN_TIMEOUT_S = 300
pytestmark = pytest.mark.slow  # both tests need the trained run (~10-30 s of training on two cores)


@pytest.fixture(scope="module")
def trained_run(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> RunPaths:
    """The tiny llama trained with LoRA by the real worker for STEPS steps (one checkpoint, at the end)."""
    from tuiapp.core.runs.launcher import prepare_run

    config = make_config(tiny_model_dir, max_steps=STEPS, save_steps=STEPS, learning_rate=2e-2)
    paths = prepare_run(config, runs_dir=str(tmp_path_factory.mktemp("trained")))
    code, _ = run_to_end(paths, TRAIN_TIMEOUT_S)
    assert code == 0, paths.log.read_text(encoding="utf-8")[-3000:]
    return paths


def chat(capsys: pytest.CaptureFixture[str], paths: RunPaths, *flags: str) -> str:
    """`ftwizard chat RUN --prompt PROMPT FLAGS` in this process (the model loads in its chat child): stdout."""
    capsys.readouterr()
    code = main(["chat", str(paths.root), "--prompt", PROMPT, *GREEDY, *flags])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Traceback" not in err
    return out


def tuned_and_base(out: str) -> tuple[str, str]:
    """The two answers of `chat --base`: `[tuned]\\n...\\n[base]\\n...`."""
    assert out.startswith("[tuned]\n"), out
    tuned, base = out.removeprefix("[tuned]\n").split("\n[base]\n")
    return tuned.strip(), base.strip()


def test_the_worker_changed_the_adapter_weights(trained_run: RunPaths) -> None:
    """PEFT starts every lora_B at zero (the adapter changes nothing); after training they are not."""
    from safetensors.torch import load_file

    weights = load_file(trained_run.final / "adapter_model.safetensors")
    lora_b = {name: tensor for name, tensor in weights.items() if "lora_B" in name}
    assert lora_b and all(tensor.abs().max().item() > 1e-3 for tensor in lora_b.values()), {
        name: tensor.abs().max().item() for name, tensor in lora_b.items()
    }


def test_base_and_tuned_differ_and_the_merged_model_answers_as_base_plus_adapter(
    trained_run: RunPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    tuned, base = tuned_and_base(chat(capsys, trained_run, "--base"))
    assert tuned and base and tuned != base, (tuned, base)
    assert chat(capsys, trained_run).strip() == tuned  # greedy: the same tuned answer without --base

    assert not trained_run.merged.exists()
    assert main(["merge", str(trained_run.root)]) == 0, capsys.readouterr().err
    assert (trained_run.merged / "config.json").is_file() and not (trained_run.merged / "adapter_config.json").exists()
    merged = chat(capsys, trained_run, "--merged")
    assert merged.strip() == tuned, (merged, tuned)
    merged_tuned, merged_base = tuned_and_base(chat(capsys, trained_run, "--merged", "--base"))
    assert (merged_tuned, merged_base) == (tuned, base)  # --merged --base loads the base as a second model
