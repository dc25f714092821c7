"""A config carrying something like an HF token is refused by `check` and `train` (exit 2, at the key's line),
and the token is never echoed back: not in the output, not in a run folder (none is created)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuiapp.cli import main
from tuiapp.core.data.samples import sample_path

TOKEN = "hf_" + "FAKEftwizardSECRET0123456789abcdefXYZ"  # built, so secret scanners skip this file
PLACES = {
    "output.hub_repo": "output:\n  hub_repo: {token}\n",
    "output.hub_repo (user/name)": "output:\n  hub_repo: alice/{token}\n",
    "model.revision": "model:\n  revision: {token}\n",
    "an unknown key": "notes: {token}\n",
    "a quoted value with a prefix": 'output:\n  run_name: "token={token}"\n',
}


def config_text(model: Path, extra: str) -> str:
    base = f"model:\n  name_or_path: {model}\ndataset:\n  source: {sample_path('messages.jsonl')}\n"
    if extra.startswith("model:"):  # merge into the model section rather than repeat it (a duplicate is refused)
        return base.replace("model:\n", extra, 1)
    return base + extra


@pytest.mark.parametrize("command", ["check", "train"])
@pytest.mark.parametrize("where", list(PLACES))
def test_a_config_with_a_token_is_refused_without_echoing_it(
    command: str, where: str, tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_text(config_text(tiny_model_dir, PLACES[where].format(token=TOKEN)), encoding="utf-8")
    runs = tmp_path / "runs"
    args = [command, str(path)] + (["--runs-dir", str(runs)] if command == "train" else [])
    assert main(args) == 2
    out = capsys.readouterr()
    said = out.out + out.err
    assert "looks like a Hugging Face token" in said and "HF_TOKEN" in said, said
    assert f"{path.name}:" in said and "unexpected error" not in said
    for leak in (TOKEN, TOKEN[3:], TOKEN[:12], TOKEN[-12:]):
        assert leak not in said, f"the token was echoed: {said}"
    assert not runs.exists() or not any(runs.iterdir()), "train created a run from a refused config"
