"""What this machine has (RAM, cores, GPU) and which model sizes it can afford. Qt-free, never raises.

Used by ``visage doctor`` and the first-run welcome. GPU facts come from the libraries that would use
the GPU, not from guessing: llama.cpp's ``llama_supports_gpu_offload()`` (and its system info, which
names the backend: CUDA, Metal, Vulkan…) and CTranslate2's ``get_cuda_device_count()``. When the GPU is
not used, :attr:`HardwareInfo.llm_reason` / :attr:`HardwareInfo.asr_reason` say why, in words.
"""

from __future__ import annotations

import logging
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

GB = 1024**3
#: what the app itself (Qt, ASR, TTS, avatar) needs besides the LLM, measured peak RSS ~0.95 GB
APP_OVERHEAD_BYTES = int(1.2 * GB)
_GPU_BACKENDS = ("CUDA", "Metal", "Vulkan", "ROCm", "HIP", "SYCL", "OpenCL", "MUSA", "CANN")


@dataclass(frozen=True, slots=True)
class ModelTier:
    """One step on the LLM size ladder: parameters, a typical Q4_K_M GGUF size, and examples."""

    label: str
    params_b: float
    file_gb: float
    examples: str


#: Q4_K_M file sizes of common instruct models (approximate; the GGUF on disk is what counts)
LLM_TIERS: tuple[ModelTier, ...] = (
    ModelTier("135M (shipped)", 0.135, 0.1, "SmolLM2-135M-Instruct (already installed)"),
    ModelTier("0.5B", 0.5, 0.4, "Qwen2.5-0.5B-Instruct, SmolLM2-360M-Instruct"),
    ModelTier("1–1.7B", 1.5, 1.1, "Llama-3.2-1B-Instruct, Qwen2.5-1.5B-Instruct, SmolLM2-1.7B-Instruct"),
    ModelTier("3–4B", 3.5, 2.4, "Llama-3.2-3B-Instruct, Qwen2.5-3B-Instruct, Phi-3.5-mini-instruct"),
    ModelTier("7–8B", 8.0, 4.9, "Qwen2.5-7B-Instruct, Llama-3.1-8B-Instruct"),
    ModelTier("12–14B", 14.0, 8.9, "Qwen2.5-14B-Instruct, Mistral-Nemo-Instruct"),
)
#: faster-whisper models: name -> (RAM needed in GB at int8/float32 on CPU, cores for real time)
ASR_TIERS: tuple[tuple[str, float, int], ...] = (
    ("tiny.en (shipped)", 0.3, 1),
    ("base (shipped)", 0.5, 2),
    ("small", 1.0, 4),
    ("medium", 2.5, 8),
    ("large-v3-turbo", 3.5, 8),
)


@dataclass(frozen=True, slots=True)
class HardwareInfo:
    """The machine as the engines see it. ``*_reason`` is a sentence for the user."""

    os: str
    machine: str
    cores: int
    ram_total_bytes: int | None
    ram_available_bytes: int | None
    llm_gpu_offload: bool
    llm_backend: str
    llm_reason: str
    cuda_devices: int
    asr_reason: str
    nvidia_driver: bool
    notes: list[str] = field(default_factory=list)
    #: SIMD extensions llama.cpp and CTranslate2 use (avx, avx2, avx512f, fma, f16c); empty when unknown
    cpu_flags: tuple[str, ...] = ()

    @property
    def ram_gb(self) -> float | None:
        return None if self.ram_total_bytes is None else round(self.ram_total_bytes / GB, 1)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ram_gb": self.ram_gb}


@dataclass(frozen=True, slots=True)
class Suggestion:
    role: str
    label: str
    detail: str


# -- probes -----------------------------------------------------------------------------------------


def _ram_linux() -> tuple[int | None, int | None]:
    try:
        fields = {}
        for line in Path("/proc/meminfo").read_text().splitlines():
            key, _, rest = line.partition(":")
            fields[key] = int(rest.split()[0]) * 1024
        return fields.get("MemTotal"), fields.get("MemAvailable")
    except (OSError, ValueError, IndexError):
        return None, None


def _ram_windows() -> tuple[int | None, int | None]:
    import ctypes

    class MemoryStatus(ctypes.Structure):
        _fields_ = [("dwLength", ctypes.c_ulong), ("dwMemoryLoad", ctypes.c_ulong),
                    ("ullTotalPhys", ctypes.c_ulonglong), ("ullAvailPhys", ctypes.c_ulonglong),
                    ("ullTotalPageFile", ctypes.c_ulonglong), ("ullAvailPageFile", ctypes.c_ulonglong),
                    ("ullTotalVirtual", ctypes.c_ulonglong), ("ullAvailVirtual", ctypes.c_ulonglong),
                    ("sullAvailExtendedVirtual", ctypes.c_ulonglong)]

    status = MemoryStatus()
    status.dwLength = ctypes.sizeof(MemoryStatus)
    if not ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined]
        return None, None
    return int(status.ullTotalPhys), int(status.ullAvailPhys)


def memory() -> tuple[int | None, int | None]:
    """(total, available) RAM in bytes; None where the platform does not say."""
    try:
        if sys.platform.startswith("linux"):
            return _ram_linux()
        if sys.platform == "win32":
            return _ram_windows()
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")  # macOS, BSD
        return int(total), None
    except (OSError, ValueError, AttributeError) as err:
        log.debug("cannot read the RAM size: %s", err)
        return None, None


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use (containers, taskset)
    except (AttributeError, OSError):
        return os.cpu_count() or 1


SIMD_FLAGS = ("avx", "avx2", "avx512f", "fma", "f16c")


def cpu_flags() -> tuple[str, ...]:
    """The SIMD extensions of this CPU that matter for inference (Linux: /proc/cpuinfo; elsewhere unknown)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                present = set(line.partition(":")[2].split())
                return tuple(f for f in SIMD_FLAGS if f in present)
    except OSError:
        pass
    return ()


def _nvidia_driver() -> bool:
    if sys.platform.startswith("linux"):
        return Path("/proc/driver/nvidia/version").exists() or Path("/dev/nvidia0").exists()
    if sys.platform == "win32":
        system_root = os.environ.get("SYSTEMROOT", r"C:\Windows")
        return Path(system_root, "System32", "nvml.dll").exists()
    return False


def llama_gpu(n_gpu_layers: int = 0, *, nvidia: bool = False) -> tuple[bool, str, str]:
    """(offload supported, backend name, reason sentence) for the installed llama.cpp build."""
    try:
        import llama_cpp
    except Exception as err:  # ImportError, or OSError when the shared library cannot load
        return False, "none", f"running the LLM on CPU because llama-cpp-python cannot be loaded ({err})"
    try:
        supported = bool(llama_cpp.llama_supports_gpu_offload())
        info = llama_cpp.llama_print_system_info()
        info_text = info.decode(errors="replace") if isinstance(info, bytes) else str(info)
    except Exception as err:
        return False, "unknown", f"running the LLM on CPU because llama.cpp did not report its GPU support ({err})"
    backend = next((name for name in _GPU_BACKENDS if name.lower() in info_text.lower()), "")
    if not supported:
        why = "this llama.cpp build has no GPU support (CPU-only build)"
        if nvidia:
            why += (", although an NVIDIA driver is present: reinstall llama-cpp-python with "
                    'CMAKE_ARGS="-DGGML_CUDA=on"')
        elif sys.platform == "darwin":
            why += ": reinstall llama-cpp-python with CMAKE_ARGS=\"-DGGML_METAL=on\""
        return False, "cpu", f"running the LLM on CPU because {why}"
    backend = backend or "GPU"
    if n_gpu_layers == 0:
        return True, backend, (f"running the LLM on CPU because [llm] n_gpu_layers = 0, although this llama.cpp "
                               f"build can offload to the GPU ({backend}): set it to -1 to use the GPU")
    layers = "all layers" if n_gpu_layers < 0 else f"{n_gpu_layers} layers"
    return True, backend, f"offloading {layers} of the LLM to the GPU ({backend})"


def ctranslate2_cuda(asr_device: str = "auto") -> tuple[int, str]:
    """(CUDA devices CTranslate2 sees, reason sentence for the speech recognizer)."""
    try:
        import ctranslate2

        count = int(ctranslate2.get_cuda_device_count())
    except Exception as err:
        return 0, f"running speech recognition on CPU because CTranslate2 cannot be loaded ({err})"
    if count == 0:
        return 0, "running speech recognition on CPU because CTranslate2 found no CUDA device"
    if asr_device == "cpu":
        return count, f"running speech recognition on CPU because [asr] device = cpu ({count} CUDA device(s) found)"
    return count, f"speech recognition can use CUDA ({count} device(s))"


def detect(n_gpu_layers: int = 0, asr_device: str = "auto") -> HardwareInfo:
    """Probe the machine. Loads llama.cpp's and CTranslate2's libraries (a fraction of a second)."""
    total, available = memory()
    nvidia = _nvidia_driver()
    gpu, backend, llm_reason = llama_gpu(n_gpu_layers, nvidia=nvidia)
    cuda, asr_reason = ctranslate2_cuda(asr_device)
    notes = []
    if nvidia and not gpu and not cuda:
        notes.append("An NVIDIA driver is installed but neither llama.cpp nor CTranslate2 can use it.")
    return HardwareInfo(
        os=f"{platform.system()} {platform.release()}",
        machine=platform.machine(),
        cores=cores(),
        ram_total_bytes=total,
        ram_available_bytes=available,
        llm_gpu_offload=gpu,
        llm_backend=backend,
        llm_reason=llm_reason,
        cuda_devices=cuda,
        asr_reason=asr_reason,
        nvidia_driver=nvidia,
        notes=notes,
        cpu_flags=cpu_flags(),
    )


# -- what the machine can afford ---------------------------------------------------------------------


def affordable_llm(info: HardwareInfo) -> ModelTier:
    """The largest LLM tier that fits in RAM next to the app and still answers at a usable speed.

    Memory: the GGUF is mapped whole, plus ~20 % for the KV cache and buffers, plus the app's own
    ~1.2 GB, within 75 % of RAM (the rest is the user's). Speed on CPU: decoding is memory-bound; on
    2–4 cores a 3–4 B Q4 model gives a few tokens per second, so CPU-only machines with ≤ 4 cores stop
    there; with a GPU the RAM rule alone applies.
    """
    ram = info.ram_total_bytes or 4 * GB
    budget = ram * 0.75 - APP_OVERHEAD_BYTES
    best = LLM_TIERS[0]
    for tier in LLM_TIERS:
        if tier.file_gb * GB * 1.2 <= budget:
            best = tier
    if not info.llm_gpu_offload:
        cap = 3.5 if info.cores <= 4 else (8.0 if info.cores <= 8 else 14.0)
        best = max((t for t in LLM_TIERS if t.params_b <= cap and t.params_b <= best.params_b),
                   key=lambda t: t.params_b)
    return best


def affordable_asr(info: HardwareInfo) -> str:
    ram_gb = (info.ram_total_bytes or 4 * GB) / GB
    usable = [name for name, need, want_cores in ASR_TIERS
              if need * 2 <= ram_gb and (want_cores <= info.cores or info.cuda_devices > 0)]
    return usable[-1] if usable else ASR_TIERS[0][0]


def suggestions(info: HardwareInfo) -> list[Suggestion]:
    """What to run on this machine, as sentences for the welcome flow and doctor."""
    llm = affordable_llm(info)
    ram = f"{info.ram_gb:g} GB RAM" if info.ram_gb else "unknown RAM"
    where = f"GPU ({info.llm_backend})" if info.llm_gpu_offload else "CPU"
    out = [
        Suggestion("llm", llm.label,
                   f"With {ram} and {info.cores} cores on {where}, a {llm.label} model is affordable "
                   f"(a Q4_K_M GGUF of about {llm.file_gb:g} GB, e.g. {llm.examples})."),
        Suggestion("asr", affordable_asr(info),
                   f"Speech recognition: faster-whisper {affordable_asr(info)} keeps up in real time here."),
    ]
    if llm.params_b > LLM_TIERS[0].params_b:
        out.append(Suggestion("how", "add a model",
                              "Pick one from the catalogue, which says what runs well here: `visage models "
                              "catalogue`, then `visage models install NAME --use` (Settings › Models › "
                              "Catalogue… does the same); or add a GGUF you have with `visage models add FILE "
                              "--use`."))
    return out


def summary_lines(info: HardwareInfo) -> list[str]:
    ram = f"{info.ram_gb:g} GB RAM" if info.ram_gb else "RAM unknown"
    lines = [f"{info.cores} cores ({info.machine}), {ram}, {info.os}", info.llm_reason, info.asr_reason]
    return lines + list(info.notes)
