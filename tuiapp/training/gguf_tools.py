"""llama.cpp's tools as child processes: its HF -> GGUF converter (`python -m convert_hf_to_gguf`, from the
`ftwizard[gguf]` extra) and `llama-quantize`. Their memory and any crash stay out of the action's process;
their output is read line by line for progress, kept (its tail) for the error message, and a stop request
ends them before it propagates. Known refusals become one UserError each.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tuiapp.core.child_env import child_env
from tuiapp.core.user_error import UserError

if TYPE_CHECKING:
    from tuiapp.training.action_runner import ActionReport

TAIL_LINES = 400
STOP_WAIT_S = 10.0
CONVERTER_MODULE = "convert_hf_to_gguf"
UPDATE_SCRIPT = "convert_hf_to_gguf_update.py"
_TENSOR_LINE = re.compile(r"^INFO:hf-to-gguf:\S+,\s+torch\.\w+ --> \w+")
_WRITING = re.compile(r"^Writing:\s+(\d+)%")
_QUANTIZED = re.compile(r"^\[\s*(\d+)/\s*(\d+)\]")
_UNSUPPORTED = re.compile(r"Model (\S+) is not supported|Architecture '?([^'\s]+)'? not supported")
_CHKHSH = re.compile(r"chkhsh:\s+([0-9a-f]{16,})")


class ToolFailed(UserError):
    """llama.cpp's converter or llama-quantize refused or failed; `output` is the tail of what it printed."""

    def __init__(self, message: str, fix: str | None, output: str) -> None:
        super().__init__(message, fix)
        self.output = output


@dataclass(frozen=True)
class ToolRun:
    """What a finished child printed (the tail) and its exit status."""

    code: int
    tail: list[str]


def require_converter() -> None:
    """A UserError saying how to install the converter when its module (or its `gguf` module) is missing."""
    missing = [name for name in (CONVERTER_MODULE, "gguf") if importlib.util.find_spec(name) is None]
    if missing:
        raise UserError(
            f"llama.cpp's GGUF converter is not installed (no {' or '.join(missing)} module for {sys.executable}): "
            "pip install 'ftwizard[gguf]'",
            fix="install it with: pip install 'ftwizard[gguf]' (in the environment ftwizard runs from)",
        )


def _tool_env() -> dict[str, str]:
    """The child's environment: offline (the converter reads only the folder it is given), quiet, unbuffered."""
    env = child_env()
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"})
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


def run_tool(command: list[str], on_line: Callable[[str], None], report: ActionReport) -> ToolRun:
    """Run `command`, passing each line it prints (stdout and stderr; a progress bar's `\\r` ends a line too)
    to `on_line`. A stop request (Cancelled, Ctrl+C) or any error here ends the child first, then goes on."""
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=_tool_env()
    )
    assert process.stdout is not None
    try:
        pending = b""
        while chunk := process.stdout.read1(65536):
            pending += chunk
            *lines, pending = re.split(rb"[\r\n]", pending)
            for raw in lines:
                line = raw.decode("utf-8", "replace").strip()
                if line:
                    tail.append(line[:2000])
                    on_line(line)
            report.check()
        if pending.strip():
            tail.append(pending.decode("utf-8", "replace").strip()[:2000])
        code = process.wait()
    except BaseException:
        _stop(process)
        raise
    return ToolRun(code, list(tail))


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def convert(
    source: Path,
    outfile: Path,
    outtype: str,
    tensors: int,
    report: ActionReport,
    what: str,
    shown: str,
    names: dict[str, str] | None = None,
) -> None:
    """`source` (a Hugging Face model folder) to `outfile` in `outtype` (f32, f16, bf16 or q8_0), with llama.cpp's
    own converter. `tensors` (the safetensors count) sizes the first progress phase; `what` names the model in
    messages, `shown` the file in progress lines (`outfile` is a temporary name); `names` are general.* keys
    for the GGUF (the converter would otherwise name the model after the folder it reads)."""
    command = [sys.executable, "-m", CONVERTER_MODULE, str(source), "--outtype", outtype, "--outfile", str(outfile)]
    override = outfile.with_name(outfile.name + ".metadata.json")
    if names:
        override.write_text(json.dumps(names), encoding="utf-8")
        command += ["--metadata", str(override)]
    try:
        _convert(command, source, outfile, outtype, tensors, report, what, shown)
    finally:
        override.unlink(missing_ok=True)


def _convert(
    command: list[str],
    source: Path,
    outfile: Path,
    outtype: str,
    tensors: int,
    report: ActionReport,
    what: str,
    shown: str,
) -> None:
    seen = 0

    def progress(line: str) -> None:
        nonlocal seen
        if _TENSOR_LINE.match(line):
            seen += 1
            report.phase(f"converting tensors to {outtype}", min(seen, tensors), tensors or None)
        elif match := _WRITING.match(line):
            report.phase(f"writing {shown}", int(match.group(1)), 100)

    report.phase(f"starting llama.cpp's converter ({outtype})")
    done = run_tool(command, progress, report)
    if done.code != 0:
        raise _converter_failure(done, source, what)


def _converter_failure(done: ToolRun, source: Path, what: str) -> ToolFailed:
    """The converter's refusal as one UserError that names what it could not handle."""
    text = "\n".join(done.tail)
    output = text[-20000:]
    if "BPE pre-tokenizer was not recognized" in text:
        found = _CHKHSH.search(text)
        digest = f" (its chkhsh {found.group(1)[:64]})" if found else ""
        return ToolFailed(
            f"llama.cpp's converter does not know the tokenizer of {what}{digest}: its BPE pre-tokenizer was "
            "not recognized",
            f"support for a tokenizer is added in llama.cpp's {UPDATE_SCRIPT} (then the converter it "
            f"regenerates can convert {source}); or convert the model with a llama.cpp that knows it",
            output,
        )
    if found := _UNSUPPORTED.search(text):
        arch = found.group(1) or found.group(2)
        return ToolFailed(
            f"llama.cpp's converter does not support the architecture {arch} of {what}",
            f"convert {source} with a newer llama.cpp (convert_hf_to_gguf.py --print-supported-models lists them)",
            output,
        )
    if done.code in (-9, 137) or "MemoryError" in text:
        return ToolFailed(
            f"llama.cpp's converter ran out of memory converting {what}",
            "close other programs, or convert on a machine with more RAM",
            output,
        )
    if "No space left on device" in text:
        return ToolFailed(
            "the disk filled up while writing the GGUF",
            "free space there, or choose another folder with -o DIR",
            output,
        )
    last = next((line for line in reversed(done.tail) if "Error" in line or "error" in line), None)
    last = last or (done.tail[-1] if done.tail else "no output")
    return ToolFailed(f"llama.cpp's converter stopped (exit {done.code}): {last[:300]}", None, output)


def quantize(tool: Path, source: Path, target: Path, quant_name: str, report: ActionReport) -> None:
    """`source` (an f16 GGUF) to `target` in `quant_name` (llama.cpp's name: Q4_K_M) with llama-quantize."""
    from tuiapp.core.gguf_plan import QUANTS, quantize_command

    quant = next(q for q in QUANTS.values() if q.llama_name == quant_name)

    def progress(line: str) -> None:
        if match := _QUANTIZED.match(line):
            report.phase(f"quantizing to {quant_name}", int(match.group(1)), int(match.group(2)))

    report.phase(f"quantizing to {quant_name}")
    threads = str(max(1, (os.cpu_count() or 2)))
    done = run_tool([*quantize_command(tool, source, target, quant), threads], progress, report)
    if done.code != 0:
        last = done.tail[-1] if done.tail else "no output"
        raise ToolFailed(
            f"llama-quantize ({tool}) stopped (exit {done.code}): {last[:300]}", None, "\n".join(done.tail)[-20000:]
        )
