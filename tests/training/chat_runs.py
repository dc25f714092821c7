"""Finished runs for the chat tests, built without training: config.yaml plus a final/ that PEFT (or
`save_pretrained`) writes directly. Importable, or run as a script so a test that must not import torch (the
TUI's) can build one in a child: `python tests/training/chat_runs.py FOLDER` prints the run's directory."""

from __future__ import annotations

import sys
from pathlib import Path


def _config(model_dir: Path, run_dir: Path, method: str) -> None:
    from tuiapp.core.config import save_config, with_changes
    from tuiapp.core.demo import demo_config

    config = demo_config(model_dir)
    if method != "lora":
        config = with_changes(config, {"method": method})
    run_dir.mkdir(parents=True, exist_ok=True)
    save_config(config, run_dir / "config.yaml")


def adapter_run(model_dir: Path, run_dir: Path, scale: float = 0.5, seed: int = 1) -> Path:
    """A LoRA run whose adapter is far from zero (random B matrices), so tuned and base answers differ."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _config(model_dir, run_dir, "lora")
    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32),
        LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM"),
    )
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, weight in model.named_parameters():
            if "lora_B" in name:
                weight.copy_(torch.randn(weight.shape, generator=generator) * scale)
    model.save_pretrained(run_dir / "final")
    AutoTokenizer.from_pretrained(model_dir).save_pretrained(run_dir / "final")
    return run_dir


def full_run(model_dir: Path, run_dir: Path, seed: int = 2) -> Path:
    """A full fine-tuning run: final/ is a whole model (the base with its weights nudged)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _config(model_dir, run_dir, "full")
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for weight in model.parameters():
            weight.add_(torch.randn(weight.shape, generator=generator) * 0.05)
    model.save_pretrained(run_dir / "final")
    AutoTokenizer.from_pretrained(model_dir).save_pretrained(run_dir / "final")
    return run_dir


if __name__ == "__main__":
    from tuiapp.training.tiny_model import build_tiny_model

    folder = Path(sys.argv[1])
    model = folder / "model" if (folder / "model" / "config.json").is_file() else build_tiny_model(folder / "model")
    print(adapter_run(model, folder / "run"))
