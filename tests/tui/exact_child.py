"""The exact check's child process, played back from what the real one printed.

A real `python -m tuiapp.training.memory_sim` takes 15-100 s on this CPU, too slow for a Pilot test, so only the
child is replaced: the screens call the real `run_exact_check` (request hashing, the disk cache, parsing the
child's stdout and exit status) and the request is checked by the child's own parser, as the real child checks it.
The answers below were printed by the real child for the requests named beside them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tuiapp.core.estimate import exact_check
from tuiapp.training.sim_model import parse_request

# SmolLM2-135M, lora r16 all-linear, micro-batch 8, 2048 tokens, no checkpointing, adamw_torch, bf16, TRL's chunked
# loss (the Method screen's recommendation on the scenes' RTX 4090), printed by the real child:
SMOLLM_LORA_ANSWER: dict[str, Any] = {
    "peak_bytes": 16451749376,
    "weights_bytes": 288592384,
    "trainable_params": 4884480,
    "total_params": 139399488,
    "optimizer_state_bytes": 39290880,
    "peak_forward_bytes": 16415794176,
    "after_forward_bytes": 16126669312,
    "peak_backward_bytes": 16451749376,
    "gradient_bytes": 19537920,
    "peak_optimizer_bytes": 367221248,
    "seconds": 30.848,
}
# The same at 512 tokens (the Hyperparameters screen after its test sets max_length), printed by the real child:
SMOLLM_LORA_512_ANSWER: dict[str, Any] = {
    "peak_bytes": 4566910464,
    "weights_bytes": 288592384,
    "trainable_params": 4884480,
    "total_params": 139399488,
    "optimizer_state_bytes": 39290880,
    "peak_forward_bytes": 4557690880,
    "after_forward_bytes": 4284858880,
    "peak_backward_bytes": 4566910464,
    "gradient_bytes": 19537920,
    "peak_optimizer_bytes": 367024640,
    "seconds": 19.374,
}
# The real child's answer to a model type this transformers does not know (stdout, exit status 1):
UNKNOWN_ARCH_STDOUT = (
    '{"error": "transformers 5.17.0 has no architecture for model_type \'no_such_arch\'; models that need '
    'trust_remote_code cannot be simulated"}\n'
)
# A child killed before it could answer (the kernel's OOM killer; Python prints nothing):
KILLED_STDERR = 'Traceback (most recent call last):\n  File "<frozen runpy>", line 198\nMemoryError\n'


@dataclass
class RecordedChild:
    """Answers `subprocess.run` for the simulator with a recorded stdout / exit status / stderr.

    With `expect`, a request whose fields differ gets the answer a wrong request deserves (an error), so a
    screen that sends another option's request fails its test.
    """

    stdout: str
    returncode: int = 0
    stderr: str = ""
    expect: dict[str, Any] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def run(self, command: list[str], *, input: str, **_: Any) -> subprocess.CompletedProcess[str]:
        assert command == [sys.executable, "-m", "tuiapp.training.memory_sim"]
        request = json.loads(input)
        self.requests.append(request)
        try:
            parse_request(request)  # the child's own check, before it simulates anything
        except ValueError as exc:
            return subprocess.CompletedProcess(command, 1, json.dumps({"error": str(exc)}) + "\n", "")
        wrong = {key: request.get(key) for key, value in self.expect.items() if request.get(key) != value}
        if wrong:
            return subprocess.CompletedProcess(command, 1, json.dumps({"error": f"not the recorded request: {wrong}"}))
        return subprocess.CompletedProcess(command, self.returncode, self.stdout, self.stderr)


def answered(answer: dict[str, Any], **expect: Any) -> RecordedChild:
    """A child that prints `answer` (exit status 0) for a request with the `expect` fields."""
    return RecordedChild(json.dumps(answer) + "\n", expect=expect)


def play_child(monkeypatch: pytest.MonkeyPatch, child: RecordedChild, cache_home: Path) -> RecordedChild:
    """Route exact_check's child process to `child`, with an empty result cache under `cache_home`."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    fake = SimpleNamespace(run=child.run, TimeoutExpired=subprocess.TimeoutExpired, CompletedProcess=None)
    monkeypatch.setattr(exact_check, "subprocess", fake)
    return child
