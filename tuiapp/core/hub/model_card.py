"""The model card (README.md) pushed with a run: YAML metadata the Hub reads (base model and how this repo
stands to it, library, license, datasets, tags) and a body saying what was trained, how, on what, at what cost,
with what result, how to load it and how to train it again. Pure text from CardFacts: no file, no network."""

from __future__ import annotations

from typing import Any

import yaml

from tuiapp.core.config.choices import METHOD_LABELS, TASK_LABELS
from tuiapp.core.hub.card_facts import CardFacts, TrainingFigures
from tuiapp.core.hub.card_snippets import how_to_use, quant_label

LIBRARY = {"adapter": "peft", "full": "transformers", "merged": "transformers", "gguf": "gguf"}
FRAMEWORKS = {
    "hf": "transformers + PEFT + TRL",
    "unsloth": "Unsloth (on transformers + PEFT + TRL)",
    "axolotl": "Axolotl (on transformers + PEFT + TRL)",
}
ADAPTER_NAMES = {"lora": "LoRA", "qlora": "QLoRA", "lora8": "LoRA (8-bit base)", "full": "full"}
MAX_NOTE = 400


def card_metadata(facts: CardFacts) -> dict[str, Any]:
    """The YAML front matter, in the keys huggingface_hub's ModelCardData reads."""
    meta: dict[str, Any] = {}
    base = facts.quantized_from if facts.relation == "quantized" else facts.base_model
    if base:
        meta["base_model"] = base
        meta["base_model_relation"] = facts.relation
    meta["library_name"] = LIBRARY[facts.kind]
    if facts.license is not None:
        meta["license"] = facts.license.license
        if facts.license.name:
            meta["license_name"] = facts.license.name
        if facts.license.link:
            meta["license_link"] = facts.license.link
    if facts.dataset_id:
        meta["datasets"] = [facts.dataset_id]
    meta["pipeline_tag"] = "text-generation"
    meta["tags"] = _tags(facts)
    return meta


def _tags(facts: CardFacts) -> list[str]:
    config = facts.config
    tags = ["ftwizard", config.method, config.task, {"hf": "trl"}.get(config.framework, config.framework)]
    if config.uses_adapter:
        tags.append("lora")
    if config.uses_adapter and config.lora.use_dora:
        tags.append("dora")
    if facts.kind == "gguf":
        tags.append("gguf")
    if facts.kind == "merged":
        tags.append("merged")
    return list(dict.fromkeys(tags))


def render_model_card(facts: CardFacts) -> str:
    """The whole README.md."""
    meta = yaml.safe_dump(card_metadata(facts), sort_keys=False, allow_unicode=True, default_flow_style=False)
    sections = [
        f"# {facts.repo_id.split('/')[-1]}\n\n{_summary(facts)}\n",
        _training(facts),
        _hyperparameters(facts),
        _cost(facts.figures),
        _results(facts),
        _action_section(facts),
        f"## How to use\n\n{how_to_use(facts)}",
        _versions(facts.figures),
        _reproduce(facts),
    ]
    return f"---\n{meta}---\n\n" + "\n".join(section for section in sections if section)


def _base_text(facts: CardFacts) -> str:
    if facts.base_model:
        return f"[{facts.base_model}]({_hub_url(facts, facts.base_model)})"
    return f"`{facts.base_label}` (a local model folder)"


def _hub_url(facts: CardFacts, repo: str, kind: str = "") -> str:
    return f"{facts.endpoint or 'https://huggingface.co'}/{kind}{repo}"


def _summary(facts: CardFacts) -> str:
    config, base = facts.config, _base_text(facts)
    task = TASK_LABELS[config.task]
    trained = f"trained with {task} ({config.task}) with ftwizard"
    name = ADAPTER_NAMES[config.method] + (" (DoRA)" if config.uses_adapter and config.lora.use_dora else "")
    if facts.kind == "adapter":
        return f"A {name} adapter for {base}, {trained}."
    if facts.kind == "full":
        return f"{base} fine-tuned in full (every weight), {trained}."
    if facts.kind == "merged":
        return f"{base} with a {name} adapter merged into its weights, {trained}."
    quants = sorted({q for q in (quant_label(facts, f) for f in facts.gguf_files) if q})
    quant = f" ({', '.join(quants)})" if quants else ""
    return f"A GGUF{quant} of {base} fine-tuned with {name}, for llama.cpp and Ollama; {trained}."


def _training(facts: CardFacts) -> str:
    config = facts.config
    lines = [
        f"- **Base model:** {_base_text(facts)}",
        f"- **Method:** {METHOD_LABELS[config.method]}",
        f"- **Task:** {TASK_LABELS[config.task]} (`{config.task}`)",
        f"- **Framework:** {FRAMEWORKS[config.framework]}",
    ]
    if config.dataset is not None:
        data = config.dataset
        source = (
            f"[{facts.dataset_id}]({_hub_url(facts, facts.dataset_id, 'datasets/')})"
            if facts.dataset_id
            else f"`{data.source}` (a local file)"
        )
        subset = f", subset `{data.config_name}`" if data.config_name else ""
        held = f"split `{data.eval_split}`" if data.eval_split else _held_out(data.eval_size)
        lines.append(f"- **Dataset:** {source}{subset}, split `{data.split}`, format `{data.format}`; eval: {held}")
    if facts.license is not None:
        lines.append(f"- **License:** {facts.license.license}, the base model's")
    return "## Training\n\n" + "\n".join(lines) + "\n"


def _held_out(eval_size: float) -> str:
    if not eval_size:
        return "none"
    return f"{eval_size:.0%} of the rows held out" if eval_size < 1 else f"{int(eval_size)} rows held out"


def _table(rows: list[tuple[str, str]], head: tuple[str, str] = ("Setting", "Value")) -> str:
    cell = lambda text: str(text).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    body = "".join(f"| {cell(a)} | {cell(b)} |\n" for a, b in rows)
    return f"| {head[0]} | {head[1]} |\n|---|---|\n{body}"


def _hyperparameters(facts: CardFacts) -> str:
    config, t = facts.config, facts.config.training
    rows: list[tuple[str, str]] = []
    if config.uses_adapter:
        lora = config.lora
        targets = lora.target_modules if isinstance(lora.target_modules, str) else ", ".join(lora.target_modules)
        rows += [("LoRA rank (r)", str(lora.r)), ("LoRA alpha", str(lora.alpha)), ("LoRA dropout", f"{lora.dropout:g}")]
        rows += [("Target modules", targets), ("DoRA", _yes(lora.use_dora)), ("rsLoRA", _yes(lora.use_rslora))]
    length = f"{t.max_steps} steps" if t.max_steps else f"{t.epochs:g} epochs"
    rows += [
        ("Training length", length),
        ("Learning rate", f"{t.learning_rate:g}"),
        ("Scheduler", f"{t.lr_scheduler}, warmup {t.warmup_ratio:g}"),
        ("Batch", f"{t.micro_batch_size} x {t.grad_accum} accumulation = {t.effective_batch_size} sequences a step"),
        ("Max length", f"{t.max_length} tokens" + (", packed" if t.packing else "")),
        ("Optimizer", f"{t.optimizer}, weight decay {t.weight_decay:g}, grad norm clip {t.max_grad_norm:g}"),
        ("Precision", t.precision),
        ("Gradient checkpointing", _yes(t.gradient_checkpointing)),
        ("Seed", str(t.seed)),
    ]
    return "### Hyperparameters\n\n" + _table(rows)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _hardware(hardware: dict[str, Any]) -> str:
    gpus = hardware.get("gpus")
    if isinstance(gpus, list) and gpus:
        names: dict[str, int] = {}
        for gpu in gpus:
            if isinstance(gpu, dict):
                memory = gpu.get("memory_bytes")
                label = str(gpu.get("name", "GPU")) + (
                    f" ({memory / 1024**3:.0f} GiB)" if isinstance(memory, int) else ""
                )
                names[label] = names.get(label, 0) + 1
        cuda = f", CUDA {hardware['cuda']}" if hardware.get("cuda") else ""
        return ", ".join(f"{count} x {label}" for label, count in names.items()) + cuda
    if hardware.get("device") == "cpu":
        cores = hardware.get("cpu_count")
        return f"CPU ({cores} cores)" if cores else "CPU"
    return "not recorded"


def _cost(figures: TrainingFigures) -> str:
    peak = (
        f"{figures.peak_memory_bytes / 1024**3:.2f} GiB (reserved by PyTorch)"
        if figures.peak_memory_bytes
        else "not measured (no CUDA GPU)"
    )
    seconds = int(figures.training_s)
    steps = f"{figures.step} of {figures.total_steps}" if figures.total_steps else str(figures.step)
    rows = [
        ("Hardware", _hardware(figures.hardware)),
        ("Peak GPU memory", peak),
        ("Training time", f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d} ({steps} steps)"),
    ]
    if figures.tokens:
        rate = f" ({figures.tokens / figures.training_s:,.0f} tokens/s)" if figures.training_s > 0 else ""
        rows.append(("Tokens trained on", f"{figures.tokens:,}{rate}"))
    return "### Hardware and cost\n\n" + _table(rows, ("What", "Measured"))


def _loss(value: float | None) -> str:
    return f"{value:.4f}" if value is not None else "not logged"


def _results(facts: CardFacts) -> str:
    f = facts.figures
    rows = [("Train loss (mean over the run)", _loss(f.train_loss))]
    if f.last_loss_step is not None:
        rows.append((f"Train loss at step {f.last_loss_step} (last logged)", _loss(f.last_loss)))
    rows.append((f"Eval loss at step {f.eval_step}" if f.eval_step is not None else "Eval loss", _loss(f.eval_loss)))
    curve = f"\n![Train and eval loss by step]({facts.loss_curve})\n" if facts.loss_curve else ""
    return "## Results\n\n" + _table(rows, ("Metric", "Value")) + curve


def _action_section(facts: CardFacts) -> str:
    if facts.kind not in ("merged", "gguf") or not (facts.action_facts or facts.action_notes):
        return ""
    title = "How it was merged" if facts.kind == "merged" else "How the GGUF was made"
    rows = [(str(k), _fact(v)) for k, v in list(facts.action_facts.items())[:20]]
    notes = "".join(f"\n> **Note:** {note[:MAX_NOTE]}\n" for note in facts.action_notes[:5])
    return f"## {title}\n\n" + (_table(rows, ("Fact", "Value")) if rows else "") + notes


def _fact(value: Any) -> str:
    if isinstance(value, bool):
        return _yes(value)
    if isinstance(value, int) and value > 10_000_000:
        return f"{value / 1e9:.2f} GB" if value > 1e9 else f"{value / 1e6:.1f} MB"
    return str(value)[:120]


def _versions(figures: TrainingFigures) -> str:
    if not figures.versions:
        return ""
    return "## Framework versions\n\n" + "".join(f"- {name} {version}\n" for name, version in figures.versions.items())


def _reproduce(facts: CardFacts) -> str:
    changes = "".join(f"- {change}\n" for change in facts.config_changes)
    changed = f"\nChanged from the run's own config so that it runs elsewhere:\n\n{changes}" if changes else ""
    endpoint = f"HF_ENDPOINT={facts.endpoint} " if facts.endpoint else ""
    return (
        "## Reproduce\n\n"
        "`config.yaml` in this repo is the config the run trained with. With ftwizard installed:\n\n"
        f"```sh\n{endpoint}hf download {facts.repo_id} config.yaml --local-dir .\nftwizard train config.yaml\n```\n"
        f"{changed}\n<details>\n<summary>config.yaml</summary>\n\n```yaml\n{facts.config_yaml.rstrip()}\n```\n\n</details>\n"
    )
