"""benchmarks/gpu_check.py without a GPU: its arguments, the case list against its time budget, the table and CSV
from a recorded result (a hand-written fixture), the forced-OOM arithmetic, the carried wheels; and the whole
path on a tiny model on the CPU (slow)."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from gpucheck import cases, oom_case, table, wheels
from gpucheck_import import BENCHMARKS, FIXTURE_CSV, ROOT, load_script

from tuiapp.core.estimate.closed_form import TrainingSetup, estimate_memory
from tuiapp.core.runs.events import Completed, Failed, Recovering

gpu_check = load_script("gpu_check")


@pytest.mark.parametrize(
    "argv",
    [
        ["--steps", "2"],
        ["--steps", "51"],
        ["--budget-s", "10"],
        ["--models", "no-such-model"],
        ["--seq-lens", "4k"],
        ["--methods", "lora,dpo"],
        ["--framework", "axolotl"],
    ],
)
def test_bad_arguments_are_refused_with_a_usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        gpu_check.parse_args(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_filters_keep_only_what_they_name() -> None:
    args = gpu_check.parse_args(["--models", "llama-3.1-8b", "--methods", "qlora", "--steps", "5", "--no-oom"])
    chosen = gpu_check.chosen_cases(args)
    assert chosen and {c.model for c in chosen} == {cases.LLAMA_8B}
    assert {c.method for c in chosen} == {"qlora"} and {c.steps for c in chosen} == {5}
    assert all(c.kind == "measure" for c in chosen)


def test_the_default_cases_cover_what_the_issue_asks() -> None:
    chosen = list(cases.DEFAULT_CASES)
    assert {c.model for c in chosen} == {cases.LLAMA_1B, cases.QWEN_7B, cases.LLAMA_8B}
    assert {c.model for c in chosen if c.method == "full"} == {cases.LLAMA_1B}
    for method in ("full", "lora", "qlora"):
        lengths = {c.seq_len for c in chosen if c.method == method and c.kind == "measure"}
        assert len(lengths) >= 2, f"{method} is measured at {lengths}"
    assert [c.kind for c in chosen].count("oom_recovery") == 1
    assert len({c.name for c in chosen + list(cases.EXTRA_CASES)}) == len(chosen) + len(cases.EXTRA_CASES)


@pytest.mark.parametrize("case_set", [cases.DEFAULT_CASES, cases.EXTRA_CASES], ids=["default", "extra"])
def test_each_case_set_fits_the_time_budget(case_set: tuple[cases.Case, ...]) -> None:
    planned = cases.planned_seconds(list(case_set))
    assert planned <= cases.TOTAL_BUDGET_S, f"{planned:.0f} s planned"
    # a group is killed at the deadline, and the shell script's own timeout sits between the budget and 8 minutes
    timeouts = {int(t) for t in re.findall(r"timeout (\d+)", (BENCHMARKS / "gpu_check.sh").read_text())}
    assert len(timeouts) == 1 and cases.TOTAL_BUDGET_S < timeouts.pop() <= 8 * 60
    for case in case_set:
        assert 10 < cases.case_seconds(case) < 120, case.name


def test_the_oom_case_comes_last_in_its_group() -> None:
    for _model, items in cases.groups(list(cases.DEFAULT_CASES)):
        kinds = [c.kind for c in items]
        assert "oom_recovery" not in kinds[:-1]


def test_dry_run_prints_the_plan_and_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert gpu_check.main(["--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "planned" in out and all(c.name in out for c in cases.DEFAULT_CASES)
    assert gpu_check.main(["--dry-run", "--budget-s", "60"]) == 1  # a plan over its budget says so


def test_without_a_cuda_build_it_stops_at_once_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    if torch.version.cuda is not None:
        pytest.skip("a CUDA build of torch is installed here")
    assert gpu_check.main(["--no-oom"]) == 2
    assert "CPU-only build" in capsys.readouterr().err


def test_the_table_and_csv_from_a_recorded_result() -> None:
    rows = table.read_csv(FIXTURE_CSV)
    assert all("FIXTURE" in row["gpu"] for row in rows)  # a hand-written fixture, never a measurement
    assert table.to_csv(rows) == FIXTURE_CSV.read_text()  # the CSV reads back to what was written
    text = table.format_table(rows)
    lines = text.splitlines()
    assert len(lines) == 2 + len(rows)
    full = next(line for line in lines if line.startswith("Llama-3.2-1B-Instruct-full-s1024"))
    assert "11.51/11.28" in full and f"{12358144256 / 12113561600:.3f}" in full  # alloc GiB est/meas, ratio
    assert "12.70/12.48" in full and "61,250" in full and "30%" in full  # nvidia-smi, tokens/s, MFU
    failed = next(line for line in lines if "Qwen2.5-7B" in line)
    assert "failed: fixture row: crashed" in failed and failed.count(" - ") >= 2  # nothing measured: dashes


def test_the_estimate_figures_are_the_estimates_three_peaks() -> None:
    estimate = estimate_memory(cases.catalog_shape("meta-llama/Llama-3.2-1B-Instruct"), TrainingSetup(method="lora"))
    figures = table.estimate_figures(estimate)
    assert figures == {
        "alloc": estimate.peak_alloc_bytes,
        "reserved": estimate.peak_reserved_bytes,
        "smi": estimate.nvidia_smi_bytes,
    }
    assert figures["alloc"] < figures["reserved"] < figures["smi"]


def test_off_by_more_than_names_each_figure_past_the_tolerance() -> None:
    row = {"meas_alloc_bytes": 100, "meas_reserved_bytes": 100, "meas_smi_bytes": None}
    assert table.off_by_more_than(row, {"alloc": 104, "reserved": 96, "smi": 500}) == []
    problems = table.off_by_more_than(row, {"alloc": 106, "reserved": None, "smi": None})
    assert len(problems) == 1 and problems[0].startswith("alloc:")


def test_the_oom_cap_lies_between_the_light_and_the_full_micro_batch() -> None:
    case = next(c for c in cases.DEFAULT_CASES if c.kind == "oom_recovery")
    shape = cases.catalog_shape(case.model)
    limit = oom_case.oom_limit_bytes(shape, case)
    assert oom_case._alloc(shape, case, case.micro_batch // 4) < limit < oom_case._alloc(shape, case, case.micro_batch)
    with pytest.raises(ValueError, match="too close"):
        oom_case.oom_limit_bytes(shape, cases.Case(case.model, "lora", 64, micro_batch=1, kind="oom_recovery"))


def _recovering(old: int, new: int, reason: str = "CUDA out of memory. Tried to allocate 2.00 GiB") -> Recovering:
    return Recovering(
        attempt=1,
        max_attempts=3,
        reason=reason,
        step=0,
        checkpoint=None,
        old_micro_batch_size=old,
        old_grad_accum=1,
        old_gradient_checkpointing=False,
        new_micro_batch_size=new,
        new_grad_accum=8 // new,
        new_gradient_checkpointing=False,
    )


def test_the_oom_outcome_in_words() -> None:
    done = Completed(step=4)
    status, note = oom_case.oom_outcome(done, [_recovering(8, 4), _recovering(4, 2), done])
    assert status == "ok" and "8 -> 4 -> 2 in 2 recoveries" in note
    assert oom_case.oom_outcome(done, [done])[0] == "failed"  # the cap did not bite
    failed = Failed(reason="out_of_memory", message="still out of memory after 3 automatic recoveries")
    status, note = oom_case.oom_outcome(failed, [_recovering(8, 4), failed])
    assert status == "failed" and "still out of memory" in note
    assert oom_case.oom_outcome(done, [_recovering(8, 4, reason="disk full")])[0] == "failed"


def test_the_carried_wheels_are_the_versions_tested_here() -> None:
    for name, version in wheels.WHEEL_SETS["base"].items():
        assert metadata.version(name) == version, name


def _wheel(folder: Path, name: str, version: str, requires: list[str], size: int = 0) -> Path:
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        lines = [f"Name: {name}", f"Version: {version}", *(f"Requires-Dist: {r}" for r in requires)]
        archive.writestr(f"{name}-{version}.dist-info/METADATA", "\n".join(lines))
        archive.writestr("padding.bin", b"x" * size)
    return path


def test_the_wheel_check_finds_what_would_break_the_install(tmp_path: Path) -> None:
    for name, version in wheels.WHEEL_SETS["base"].items():
        _wheel(tmp_path, name, version, ['colorama; sys_platform == "win32"', 'rich; extra == "cli"', "numpy>=1"])
    _wheel(tmp_path, "ftwizard", "0.1.0", ["textual==8.2.8", "pydantic>=2"])
    assert wheels.problems(tmp_path, "base") == []  # Windows-only and extra needs do not count
    _wheel(tmp_path, "trl", "9.9.9", ["left-pad>=1"])
    (tmp_path / "datasets-4.8.5-py3-none-any.whl").unlink()
    issues = wheels.problems(tmp_path, "base", limit=100)
    assert "missing: datasets" in issues
    assert "two versions of trl: keep one" in issues
    assert any("over the" in issue for issue in issues)
    assert any("needs left-pad" in issue for issue in issues)


def test_the_scripts_are_wired_to_the_wheel_list() -> None:
    shell = (BENCHMARKS / "gpu_check.sh").read_text()
    assert "wheels/" in shell and "benchmarks/gpu_check.py" in shell and "timeout" in shell
    assert "gpucheck/wheels.py download" in (ROOT / "scripts" / "gpu_wheels.sh").read_text()
    assert subprocess.run(["bash", "-n", str(BENCHMARKS / "gpu_check.sh")], check=False).returncode == 0
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "/wheels/" in ignored and "/wheels-unsloth/" in ignored


@pytest.mark.slow
def test_the_whole_path_on_a_tiny_model_on_the_cpu(tmp_path: Path) -> None:
    """The real worker trains the tiny case through the group process; the forced OOM is skipped (no CUDA)."""
    done = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "gpu_check.py"),
            "--cpu-smoke",
            "--out",
            str(tmp_path / "results"),
            "--work-dir",
            str(tmp_path / "work"),
            "--copy-to",
            str(tmp_path / "copy"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (csv_path,) = (tmp_path / "results").glob("gpu-*.csv")
    assert (tmp_path / "copy" / csv_path.name).exists() and (tmp_path / "copy" / "gpu_check_rows.json").exists()
    rows = {row["kind"]: row for row in table.read_csv(csv_path)}
    trained = rows["measure"]
    assert trained["status"] == "ok" and trained["steps_done"] == 4
    assert trained["tokens_per_s"] > 0 and trained["s_per_step"] > 0
    assert trained["est_alloc_bytes"] > 0 and trained["meas_alloc_bytes"] is None  # no CUDA: nothing measured
    assert rows["oom_recovery"]["status"] == "skipped"
    assert "tiny-llama-lora-s64" in done.stdout
