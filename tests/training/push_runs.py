"""Run folders for the push tests, laid out as a finished run (config.yaml, events.jsonl with started / metrics
/ eval / completed events, final/ with a real PEFT adapter and its tokenizer), built without training."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from tuiapp.core.config import save_config, with_changes
from tuiapp.core.demo import demo_config
from tuiapp.core.runs.action_events import ActionDone, ActionStarted
from tuiapp.core.runs.events import EventWriter
from tuiapp.core.runs.layout import RunPaths

RECORDED_EVENTS = Path(__file__).parents[1] / "fixtures" / "runs" / "tiny-llama-lora" / "events.jsonl"
SECRET = "hf_" + "pushTestTokenThatMustNeverBeWrittenAnywhere"  # built, so secret scanners skip this file
QLORA_NOTE = "the adapter was trained on a 4-bit base and merged onto the 16-bit base"


def build_adapter(model_dir: Path, out: Path) -> Path:
    """A LoRA adapter on the tiny model, saved as TRL's save_model + tokenizer.save_pretrained leave final/."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(model_dir)
    peft_model = get_peft_model(
        model, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", task_type="CAUSAL_LM")
    )
    peft_model.save_pretrained(out)
    AutoTokenizer.from_pretrained(model_dir).save_pretrained(out)
    (out / "training_args.bin").write_bytes(b"pickled trainer arguments naming " + str(out).encode())
    return out


def make_run(root: Path, adapter: Path, model: str, name: str = "tiny-run", **changes: Any) -> RunPaths:
    """A completed run under `root` whose final/ is a copy of `adapter` and whose config names `model`."""
    paths = RunPaths(root / name)
    paths.root.mkdir(parents=True)
    config = with_changes(
        demo_config(Path(model)),
        {"model.name_or_path": model, "output.runs_root": str(root), "output.run_name": name, **changes},
    )
    save_config(config, paths.config)
    shutil.copyfile(RECORDED_EVENTS, paths.events)
    shutil.copytree(adapter, paths.final)
    return paths


def add_merge(paths: RunPaths, model_dir: Path, notes: list[str]) -> None:
    """A merged/ folder (the tiny model itself stands in for the merge) and the merge's done record."""
    shutil.copytree(model_dir, paths.merged)
    with EventWriter(paths.events) as writer:
        writer.write(ActionStarted("merge", "merge-1", 1, "bf16 into RUN/merged"))
        facts = {"method": "lora", "dtype": "bf16", "bytes": 560488, "base_model": "llama"}
        writer.write(ActionDone("merge", "merge-1", "merged", [str(paths.merged)], facts, notes))


def add_gguf(paths: RunPaths, quant: str = "q8_0") -> None:
    """A gguf/ folder with a small stand-in .gguf and an Ollama Modelfile, and the GGUF action's done record."""
    paths.gguf.mkdir()
    model = paths.gguf / f"tiny-run-{quant.upper()}.gguf"
    model.write_bytes(b"GGUF\x03\x00\x00\x00" + bytes(range(256)) * 64)
    (paths.gguf / "Modelfile").write_text(f"FROM {model}\nPARAMETER stop <|im_end|>\n", encoding="utf-8")
    with EventWriter(paths.events) as writer:
        writer.write(ActionStarted("gguf", "gguf-1", 1, quant))
        facts = {"quant": quant, "written": quant, "llama_quantize": "/home/ada/llama.cpp/build/bin/llama-quantize"}
        notes = [f"to use it with Ollama: ollama create tiny-run -f {paths.gguf / 'Modelfile'}"]
        writer.write(ActionDone("gguf", "gguf-1", "made a GGUF", [str(model)], facts, notes))


def tree_digest(folder: Path, skip: tuple[str, ...] = ("events.jsonl", ".action.lock")) -> dict[str, str]:
    """Every file under `folder` by relative path -> sha256, to show a push leaves the run as it was."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in skip
    }


def event_kinds(paths: RunPaths) -> list[dict[str, Any]]:
    return [json.loads(line) for line in paths.events.read_text(encoding="utf-8").splitlines()]
