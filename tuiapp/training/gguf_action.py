"""The GGUF action: the run's model as one GGUF file (for llama.cpp, Ollama, LM Studio) plus an Ollama Modelfile.

Straight line: pick the folder to convert (gguf_source: final/ of a full fine-tune, RUN/merged, or a merge made
for this), convert it with llama.cpp's own converter in a child process (f32/f16/bf16/q8_0 directly; other
types from an f16 file with llama-quantize, or the f16 file and the command that finishes the job when that
tool is missing), write the Modelfile. Every file is written under a hidden temporary name and renamed at the
end: a failure or a cancel leaves nothing half-written.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuiapp.core.file_kinds import not_a_folder
from tuiapp.core.gguf_plan import (
    INTERMEDIATE,
    QUANTS,
    Quant,
    check_disk_for,
    count_tensors,
    count_weights,
    expected_gguf_bytes,
    find_llama_quantize,
    gguf_file_name,
    model_label,
    ollama_model_name,
    parse_quant,
    quantize_command,
    shell_line,
)
from tuiapp.core.ollama_modelfile import build_modelfile
from tuiapp.core.tokenizer_files import chat_template_of, end_tokens_of
from tuiapp.core.units import GIB
from tuiapp.core.user_error import UserError
from tuiapp.core.user_paths import user_path
from tuiapp.training.action_runner import ActionOutcome, action_output_dir
from tuiapp.training.gguf_source import bos_said, conversion_source
from tuiapp.training.gguf_tools import ToolFailed, convert, quantize, require_converter

if TYPE_CHECKING:
    from tuiapp.core.config import FTConfig
    from tuiapp.core.runs.layout import RunPaths
    from tuiapp.training.action_runner import ActionReport

DTYPES = ("bf16", "fp16")
MIB = 1024**2


def run(paths: RunPaths, options: dict[str, Any], report: ActionReport) -> ActionOutcome:
    """The action body: options {"quant", "dtype": "bf16"|"fp16" (of a merge, when one is needed), "out",
    "llama_quantize": path or None}."""
    from tuiapp.core.config import load_config

    quant = parse_quant(options.get("quant") or "q8_0")
    dtype = options.get("dtype") or "bf16"
    if dtype not in DTYPES:
        raise UserError(f"gguf option dtype is {str(dtype)[:40]!r}", fix=f"use one of {', '.join(DTYPES)}")
    out = options.get("out")
    if out is not None and (not isinstance(out, str) or not out.strip() or len(out) > 4096):
        raise UserError(f"gguf option out must be a folder path, not {str(out)[:80]!r}", fix="give -o DIR")
    out_dir = action_output_dir(paths.gguf, out)
    if out_dir.is_file():
        raise UserError(f"cannot write the GGUF into {out_dir}: it is a file", fix="choose a folder with -o DIR")
    tool = None if quant.direct else find_llama_quantize(options.get("llama_quantize"))
    require_converter()
    config = load_config(paths.config)
    _check_destination(out_dir, paths, user_path(config.model.name_or_path))
    started = time.monotonic()
    with conversion_source(paths, config, str(dtype), report) as source:
        label = model_label(config.model.name_or_path)
        try:
            written, facts, notes = _export(source.folder, out_dir, label, quant, tool, report, config, paths)
        except ToolFailed as failure:
            _append_log(paths.actions_log, failure.output)
            seen = f"the converter's output is at the end of {paths.actions_log}"
            raise ToolFailed(failure.what, f"{failure.fix}; {seen}" if failure.fix else seen, failure.output) from None
        modelfile, modelfile_notes = _write_modelfile(source.folder, out_dir, written, config, paths)
    create = f"ollama create {ollama_model_name(paths.name)} -f {modelfile}"
    size = written.stat().st_size
    merge_facts = source.merge.facts if source.merge else {}
    unfinished = "" if facts["written"] == quant.name else f"; {quant.llama_name} needs llama-quantize (see the note)"
    return ActionOutcome(
        summary=f"wrote {written.name} ({_size(size)}) and an Ollama Modelfile in {out_dir}{unfinished}",
        outputs=[str(written), str(modelfile)],
        facts={
            **facts,
            "bytes": size,
            "source": source.kind,
            "merge_dtype": merge_facts.get("dtype", ""),
            "base_model": config.model.name_or_path,
            "seconds": round(time.monotonic() - started, 2),
        },
        notes=_next_steps_first([*notes, f"to use it with Ollama: {create}", *modelfile_notes, *source.notes]),
    )


def _check_destination(out_dir: Path, paths: RunPaths, base: Path) -> None:
    """Refuse a folder that is (or holds) the run, its adapter, its merged model or a local base: the GGUF and
    its Modelfile would mix with files that are uploaded or loaded as they are."""
    out = out_dir.resolve()
    if kind := not_a_folder(out):
        raise UserError(f"cannot write the GGUF into {out}: it is {kind}, not a folder", "choose a folder with -o DIR")
    for keep in (paths.root, paths.final, paths.merged, *([base] if base.is_dir() else [])):
        keep = keep.resolve()
        if out == keep or keep.is_relative_to(out):
            raise UserError(
                f"cannot write the GGUF into {out}: it would mix with {keep}",
                fix=f"choose a folder of its own with -o DIR (the default is {paths.gguf})",
            )


def _next_steps_first(notes: list[str]) -> list[str]:
    """The notes that say what to run next come first: the Finish screen shows the first ones only."""
    actionable = [note for note in notes if "To finish the job" in note or note.startswith("to use it with Ollama")]
    return actionable + [note for note in notes if note not in actionable]


def _export(
    source: Path,
    out_dir: Path,
    label: str,
    quant: Quant,
    tool: Path | None,
    report: ActionReport,
    config: FTConfig,
    paths: RunPaths,
) -> tuple[Path, dict[str, Any], list[str]]:
    """Convert (and quantize) `source` into `out_dir`; the file written, its facts, notes."""
    weights, tensors = count_weights(source), count_tensors(source)
    first = quant if quant.direct else QUANTS[INTERMEDIATE]
    needed = expected_gguf_bytes(weights, first) + (expected_gguf_bytes(weights, quant) if tool else 0)
    check_disk_for(out_dir, needed)
    out_dir.mkdir(parents=True, exist_ok=True)
    what = f"{config.model.name_or_path} (run {paths.name})"
    notes: list[str] = []
    facts: dict[str, Any] = {"quant": quant.name, "weights": weights}
    with _partial_files(out_dir) as partial:
        converted = partial(gguf_file_name(label, first))
        began = time.monotonic()
        with bos_said(source, out_dir) as folder:
            if folder != source:
                notes.append("the tokenizer adds no BOS token, and the GGUF says so (tokenizer.ggml.add_bos_token)")
            names = {"general.name": paths.name, "general.basename": label, "general.finetune": config.method}
            convert(folder, converted, first.name, tensors, report, what, gguf_file_name(label, first), names)
        facts["convert_seconds"] = round(time.monotonic() - began, 2)
        if quant.direct:
            report.commit()  # past here the file is put in place, whatever a stop says
            return _install(converted, out_dir / gguf_file_name(label, quant)), {**facts, "written": quant.name}, notes
        f16_file = out_dir / gguf_file_name(label, first)
        target = out_dir / gguf_file_name(label, quant)
        if tool is None:
            finish = shell_line(quantize_command("llama-quantize", f16_file, target, quant))
            notes.append(
                f"{quant.llama_name} needs llama.cpp's llama-quantize, which was not found (--llama-quantize PATH, "
                f"$FTWIZARD_LLAMA_QUANTIZE or PATH): this is the {first.name} GGUF. To finish the job: {finish} "
                f"(then change FROM in the Modelfile to ./{target.name})"
            )
            report.commit()  # past here the file is put in place, whatever a stop says
            return _install(converted, f16_file), {**facts, "written": first.name, "finish_command": finish}, notes
        quantized = partial(target.name)
        began = time.monotonic()
        try:
            quantize(tool, converted, quantized, quant.llama_name, report)
        except ToolFailed as failure:
            _install(converted, f16_file)
            raise ToolFailed(
                failure.what, f"the {first.name} GGUF it started from is kept: {f16_file}", failure.output
            ) from None
        facts["quantize_seconds"] = round(time.monotonic() - began, 2)
        facts["llama_quantize"] = str(tool)
        report.commit()
        return _install(quantized, target), {**facts, "written": quant.name}, notes


@contextmanager
def _partial_files(out_dir: Path) -> Iterator[Any]:
    """Hand out hidden temporary names in `out_dir`; whatever was not renamed into place is deleted at the end,
    however the block ends (a cancel included)."""
    token = uuid.uuid4().hex[:8]
    made: list[Path] = []

    def partial(name: str) -> Path:
        path = out_dir / f".{name}.partial-{token}"
        made.append(path)
        return path

    try:
        yield partial
    finally:
        for path in made:
            path.unlink(missing_ok=True)


def _install(partial: Path, final: Path) -> Path:
    partial.replace(final)  # atomic on one disk: an older file of that name is replaced whole
    return final


def _write_modelfile(
    source: Path, out_dir: Path, gguf: Path, config: FTConfig, paths: RunPaths
) -> tuple[Path, list[str]]:
    """Modelfile beside the GGUF (written under a temporary name, then renamed); it and its notes."""
    name = ollama_model_name(paths.name)
    modelfile = build_modelfile(
        gguf.name,
        chat_template_of(source),
        end_tokens_of(source),
        system=_system_prompt(config),
        heading=f"Ollama Modelfile for {gguf.name}, written by ftwizard from run {paths.name}",
        create_command=f"ollama create {name} -f Modelfile",
    )
    path = out_dir / "Modelfile"
    with _partial_files(out_dir) as partial:
        temporary = partial(path.name)
        temporary.write_text(modelfile.text, encoding="utf-8")
        _install(temporary, path)
    return path, modelfile.notes


def _system_prompt(config: FTConfig) -> str | None:
    """The run config's system prompt, when it has one (a top-level or section field named system_prompt)."""
    data = config.model_dump()
    sections = [data, *(value for value in data.values() if isinstance(value, dict))]
    found = next((s["system_prompt"] for s in sections if isinstance(s.get("system_prompt"), str)), None)
    return found or None


def _append_log(log: Path, output: str) -> None:
    try:
        with log.open("a", encoding="utf-8") as handle:
            handle.write(f"--- llama.cpp's output ({time.strftime('%Y-%m-%d %H:%M:%S')}) ---\n{output}\n")
    except OSError:
        pass


def _size(size: int) -> str:
    return f"{size / GIB:.2f} GiB" if size >= GIB else f"{size / MIB:.1f} MiB"
