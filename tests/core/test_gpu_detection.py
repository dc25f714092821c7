"""GPU detection through NVML, with a fake NVML module (and the real one, which finds no GPU here)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tuiapp.core.hardware import detect_hardware, read_gpus, read_system
from tuiapp.core.units import GIB


class NVMLError(Exception):
    pass


class NVMLError_LibraryNotFound(NVMLError):
    pass


class NVMLError_DriverNotLoaded(NVMLError):
    pass


def fake_nvml(gpus: list[dict], init_error: Exception | None = None, process_error: bool = False) -> SimpleNamespace:
    """A stand-in for pynvml holding `gpus` (name, total, used, cc, processes)."""
    calls = {"shutdown": 0}

    def init() -> None:
        if init_error:
            raise init_error

    def processes(index: int) -> list:
        if process_error:
            raise NVMLError("not supported")
        return [SimpleNamespace(pid=pid, usedGpuMemory=used) for pid, used in gpus[index].get("processes", [])]

    return SimpleNamespace(
        calls=calls,
        NVMLError=NVMLError,
        NVMLError_LibraryNotFound=NVMLError_LibraryNotFound,
        NVMLError_DriverNotLoaded=NVMLError_DriverNotLoaded,
        nvmlInit=init,
        nvmlShutdown=lambda: calls.__setitem__("shutdown", calls["shutdown"] + 1),
        nvmlSystemGetDriverVersion=lambda: b"550.54.15",
        nvmlSystemGetCudaDriverVersion=lambda: 12040,
        nvmlDeviceGetCount=lambda: len(gpus),
        nvmlDeviceGetHandleByIndex=lambda index: index,
        nvmlDeviceGetName=lambda index: "NVIDIA " + gpus[index]["name"],
        nvmlDeviceGetUUID=lambda index: f"GPU-{index}",
        nvmlDeviceGetMemoryInfo=lambda index: SimpleNamespace(
            total=gpus[index]["total"],
            used=gpus[index]["used"],
            free=gpus[index]["total"] - gpus[index]["used"],
        ),
        nvmlDeviceGetCudaComputeCapability=lambda index: gpus[index]["cc"],
        nvmlDeviceGetComputeRunningProcesses=processes,
        nvmlDeviceGetGraphicsRunningProcesses=lambda index: [],
    )


TWO_GPUS = [
    {
        "name": "GeForce RTX 4090",
        "total": 24 * GIB,
        "used": 3 * GIB,
        "cc": (8, 9),
        "processes": [(999_999, 3 * GIB)],
    },
    {"name": "Tesla T4", "total": 15 * GIB, "used": 0, "cc": (7, 5)},
]


def test_reads_every_gpu_with_memory_capability_and_versions() -> None:
    nvml = fake_nvml(TWO_GPUS)
    gpus, reason = read_gpus(nvml)
    assert reason is None
    assert [gpu.name for gpu in gpus] == ["GeForce RTX 4090", "Tesla T4"]
    first, second = gpus
    assert (first.total_bytes, first.used_bytes, first.free_bytes) == (24 * GIB, 3 * GIB, 21 * GIB)
    assert first.bf16 and first.fp8 and not second.bf16
    assert (first.driver_version, first.cuda_version, first.uuid) == ("550.54.15", "12.4", "GPU-0")
    assert nvml.calls["shutdown"] == 1


def test_processes_holding_memory_are_listed_even_from_other_containers() -> None:
    gpus, _ = read_gpus(fake_nvml(TWO_GPUS))
    (proc,) = gpus[0].processes
    assert (proc.pid, proc.used_bytes, proc.name) == (999_999, 3 * GIB, "pid 999999")


def test_process_query_failure_does_not_hide_the_gpu() -> None:
    gpus, _ = read_gpus(fake_nvml(TWO_GPUS, process_error=True))
    assert len(gpus) == 2 and gpus[0].processes == ()


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (NVMLError_LibraryNotFound(), "driver library (libnvidia-ml) is not installed"),
        (NVMLError_DriverNotLoaded(), "installed but not loaded"),
        (NVMLError("Unknown Error"), "NVML failed: Unknown Error"),
    ],
)
def test_no_driver_is_a_reason_not_a_crash(error: Exception, reason: str) -> None:
    gpus, why = read_gpus(fake_nvml([], init_error=error))
    assert gpus == () and reason in why


def test_zero_gpus_reported() -> None:
    assert read_gpus(fake_nvml([])) == ((), "the NVIDIA driver reports no GPU")


def test_real_nvml_on_this_machine_never_raises() -> None:
    profile = detect_hardware()
    if profile.gpus:
        pytest.skip("this machine has an NVIDIA GPU; the no-GPU path is covered by the fakes")
    assert profile.no_gpu_reason
    assert profile.system.ram_total_bytes > 0 and profile.system.cpu_count >= 1


def test_disk_of_a_folder_not_yet_created_is_its_parent(tmp_path) -> None:
    system = read_system(tmp_path / "runs" / "not-yet")
    assert system.disk_path == str(tmp_path.resolve())
    assert system.disk_free_bytes > 0


def test_ram_is_read_from_proc_meminfo_as_psutil_would() -> None:
    from tuiapp.core.hardware.system import _meminfo

    text = "MemTotal:       24683584 kB\nMemFree:         1000 kB\nMemAvailable:   24297756 kB\n"
    assert _meminfo(text) == (24683584 * 1024, 24297756 * 1024)
    assert _meminfo("MemTotal: 5 kB\n") is None, "an old kernel without MemAvailable: psutil answers"


def test_without_the_driver_library_pynvml_is_not_even_imported(monkeypatch) -> None:
    """On a machine without libnvidia-ml the answer comes from one failed dlopen, not a 50 ms import."""
    import sys

    from tuiapp.core.hardware import nvml

    monkeypatch.setattr(nvml, "_driver_library_missing", lambda: True)
    monkeypatch.delitem(sys.modules, "pynvml", raising=False)
    assert nvml.read_gpus() == ((), "the NVIDIA driver library (libnvidia-ml) is not installed")
    assert "pynvml" not in sys.modules
