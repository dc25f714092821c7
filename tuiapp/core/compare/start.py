"""Plan a comparison for a config on this machine, make its run directory and launch its worker: what
`ftwizard compare` and the Compare screen both do (the screen in a worker thread: it detects the hardware,
reads the model's shape and may build the demo model)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuiapp.core.user_error import UserError

if TYPE_CHECKING:
    import subprocess

    from tuiapp.core.config import FTConfig
    from tuiapp.core.runs.layout import RunPaths


def start_for_config(
    config: FTConfig, methods: tuple[str, ...], steps: int, runs_dir: str | None = None
) -> tuple[RunPaths, subprocess.Popen[bytes]]:
    """The comparison's folder and its detached worker; a UserError when no method can be trialled here."""
    from tuiapp.core.compare.plan import make_compare_plan
    from tuiapp.core.compare.run_dir import launch_comparison, prepare_comparison
    from tuiapp.core.demo import demo_config, ensure_demo_model
    from tuiapp.core.hardware import detect_hardware
    from tuiapp.core.models.resolve import resolve_model

    def shape_of(cfg: FTConfig) -> Any:
        return resolve_model(cfg.model.name_or_path, revision=cfg.model.revision).shape

    gpu = detect_hardware().primary_gpu
    plan = make_compare_plan(config, methods, steps, gpu, shape_of, lambda: demo_config(ensure_demo_model()))
    if not plan.trials:
        reasons = "; ".join(f"{method}: {why}" for method, why in plan.skipped.items())
        raise UserError(f"no method can be trialled here ({reasons})", "compare on a bigger GPU, or a smaller model")
    paths = prepare_comparison(plan, runs_dir)
    return paths, launch_comparison(paths)
