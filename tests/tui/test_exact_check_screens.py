"""The exact check from the Method (`x`) and Hyperparameters (Ctrl+E) screens: the child's measured peak and the
fits verdict on success, the located message (never a traceback or a crash log) on failure.

The child process is played back from the real one's output (exact_child.py): it takes minutes on this CPU.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from exact_child import (
    KILLED_STDERR,
    SMOLLM_LORA_512_ANSWER,
    SMOLLM_LORA_ANSWER,
    UNKNOWN_ARCH_STDOUT,
    RecordedChild,
    answered,
    play_child,
)
from textual.widgets import Input, Static
from tui_scenes import ALPACA, ONE_GPU, WITHOUT_UNSLOTH, catalogue_only, in_process_inspector

from tuiapp.core.estimate.closed_form import nvidia_smi_bytes, reserved_bytes
from tuiapp.core.estimate.from_config import estimate_config
from tuiapp.core.units import GIB
from tuiapp.tui.app import FTWizardApp
from tuiapp.tui.screens.hyperparams_screen import HyperparamsScreen
from tuiapp.tui.screens.method_screen import MethodScreen

SMOLLM = "SmolLM2-135M"


def wizard(tmp_path: Path) -> FTWizardApp:
    return FTWizardApp(
        hardware=ONE_GPU,
        resolve=catalogue_only,
        inspect=in_process_inspector,
        save_dir=tmp_path,
        launch=lambda paths: None,
        installed=WITHOUT_UNSLOTH,
    )


def shown(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def to_method(pilot) -> MethodScreen:
    await pilot.press("n", *SMOLLM, "enter")
    await pilot.app.workers.wait_for_complete()
    await pilot.press("ctrl+n")
    await pilot.pause()
    assert isinstance(pilot.app.screen, MethodScreen)
    return pilot.app.screen


async def to_hyperparams(pilot) -> HyperparamsScreen:
    await to_method(pilot)
    await pilot.press("enter")
    await pilot.pause()
    await pilot.press(*ALPACA, "enter")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.press("ctrl+n")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, HyperparamsScreen)
    box = screen.query_one("#field-training-max_length Input", Input)
    box.focus()
    box.value = "512"
    await pilot.pause(0.3)
    return screen


async def exact(pilot, key: str) -> None:
    await pilot.press(key)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def expected_figures(peak: int, closed: int, free: int) -> list[str]:
    return [
        f"{peak / GIB:.2f} GiB allocated, {reserved_bytes(peak) / GIB:.2f} reserved",
        f"~{nvidia_smi_bytes(reserved_bytes(peak)) / GIB:.2f} GiB in nvidia-smi",
        f"fits in {free / GIB:.1f} GiB free",
        f"closed form {closed / GIB:.2f} GiB ({closed / peak - 1:+.1%})",
    ]


# ----- the Method screen --------------------------------------------------------------------------------
async def test_method_exact_check_shows_the_childs_peak_and_verdict(tmp_path, monkeypatch) -> None:
    child = answered(SMOLLM_LORA_ANSWER, method="lora", micro_batch=8, seq_len=2048, gradient_checkpointing=False)
    play_child(monkeypatch, child, tmp_path / "cache")
    app = wizard(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await to_method(pilot)
        option = screen.highlighted
        assert option is screen.plan.recommended and option.method == "lora"
        await exact(pilot, "x")
        text = shown(screen, "#exact-result")
        peak, closed = SMOLLM_LORA_ANSWER["peak_bytes"], option.estimate.peak_alloc_bytes
        for figure in expected_figures(peak, closed, ONE_GPU.primary_gpu.free_bytes):
            assert figure in text
        assert text.startswith("Exact check (lora):") and not screen.query_one("#exact-busy").display
        (request,) = child.requests
        assert request["hf_config"]["model_type"] == "llama" and request["hf_config"]["hidden_size"] == 576
        await exact(pilot, "x")  # asked again: the cached answer, no second child
        assert len(child.requests) == 1 and shown(screen, "#exact-result") == text


@pytest.mark.parametrize(
    ("child", "located"),
    [
        (RecordedChild(UNKNOWN_ARCH_STDOUT, returncode=1), "has no architecture for model_type 'no_such_arch'"),
        (RecordedChild("", returncode=-9, stderr=KILLED_STDERR), "exit status -9): MemoryError"),
        (answered({"peak_bytes": 0, "seconds": 1.0}), "answered without a peak in bytes"),
    ],
    ids=["child-refuses", "child-killed", "no-peak"],
)
async def test_method_exact_check_failure_is_a_located_message(tmp_path, monkeypatch, child, located) -> None:
    play_child(monkeypatch, child, tmp_path / "cache")
    monkeypatch.setenv("FTWIZARD_STATE_DIR", str(tmp_path / "state"))
    app = wizard(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_method(pilot)
        await exact(pilot, "x")
        text = shown(screen, "#exact-result")
        assert text.startswith("Exact check failed: ") and located in text, text
        assert "Traceback" not in text and "Something went wrong" not in text and "GiB allocated" not in text
        assert not screen.query_one("#exact-busy").display and app.screen is screen
    assert not (tmp_path / "state").exists()  # no crash log: the failure was a message, not a bug


# ----- the Hyperparameters screen -----------------------------------------------------------------------
async def test_hyperparams_ctrl_e_shows_the_childs_peak_and_verdict(tmp_path, monkeypatch) -> None:
    child = answered(SMOLLM_LORA_512_ANSWER, method="lora", micro_batch=8, seq_len=512, gradient_checkpointing=False)
    play_child(monkeypatch, child, tmp_path / "cache")
    app = wizard(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await to_hyperparams(pilot)
        await exact(pilot, "ctrl+e")
        text = shown(screen, "#hp-hint")
        closed = estimate_config(screen.config, screen.model.shape, screen.bf16).peak_alloc_bytes
        for figure in expected_figures(SMOLLM_LORA_512_ANSWER["peak_bytes"], closed, screen.free_bytes):
            assert figure in text
        assert text.startswith("Exact check (lora, micro-batch 8, 512 tokens):")
        (request,) = child.requests
        assert request["hf_config"]["hidden_size"] == 576 and request["dtype"] == "bfloat16"
        assert not screen.query_one("#hp-exact-busy").display


async def test_hyperparams_ctrl_e_failure_is_a_located_message(tmp_path, monkeypatch) -> None:
    play_child(monkeypatch, RecordedChild(UNKNOWN_ARCH_STDOUT, returncode=1), tmp_path / "cache")
    app = wizard(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_hyperparams(pilot)
        await exact(pilot, "ctrl+e")
        text = shown(screen, "#hp-hint")
        assert text.startswith("Exact check failed: exact check failed: transformers 5.17.0 has no architecture")
        assert "Traceback" not in text and "Something went wrong" not in text
        assert not screen.query_one("#hp-exact-busy").display and app.screen is screen
