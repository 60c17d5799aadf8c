"""The machine that computes: its device, its processor, and the arithmetic that a pin records.

PyTorch and oneDNN choose their CPU kernels by the processor's instruction set (PyTorch's
"CPU capability": `default`, `avx2`, `avx512`), and split a sum between threads: the same
weights on another processor, or with another thread count, give a test loss that differs
in its last bits. A pin records what decides its arithmetic (`arithmetic()`); where a reader's
is the same, its metrics must come out bit for bit, elsewhere within the tolerances below.
"""

from __future__ import annotations

import platform
from datetime import date
from pathlib import Path

import torch


def default_device() -> torch.device:
    """CUDA if present, then Apple's MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def bf16_is_fast(device: torch.device) -> bool:
    """Whether bfloat16 arithmetic runs natively here: a recent GPU, or a CPU with AMX or
    AVX-512 BF16 units (elsewhere it is emulated, and slower than float32)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and torch.ops.mkldnn._is_mkldnn_bf16_supported()


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields of /proc/cpuinfo (Linux), else {}."""
    path = Path("/proc/cpuinfo")
    if not path.exists():
        return {}
    fields = {}
    for line in path.read_text().splitlines():
        if not line.strip():
            break
        name, _, value = line.partition(":")
        fields[name.strip()] = value.strip()
    return fields


def cpu_name() -> str:
    """The CPU's model name (`/proc/cpuinfo`), else what the platform says."""
    return _cpuinfo().get("model name") or platform.processor() or platform.machine()


def cpu_id() -> str:
    """The processor's vendor, family and model ("AuthenticAMD family 25 model 17"): two
    processors sold under one name ("AMD EPYC") may be of different generations."""
    info = _cpuinfo()
    if "vendor_id" in info:
        return f"{info['vendor_id']} family {info.get('cpu family')} model {info.get('model')}"
    return f"{platform.system()} {platform.machine()} {platform.processor()}".strip()


def processor_name() -> str:
    """The processor that computes here: the GPU's name, or the CPU's model name."""
    device = default_device()
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return cpu_name()


def arithmetic(device: torch.device | str | None = None) -> dict:
    """What decides the floating-point results here: the torch version, the device, PyTorch's
    CPU capability (after `ATEN_CPU_CAPABILITY`), the processor and the thread count."""
    device = torch.device(device) if device is not None else default_device()
    return {
        "torch": torch.__version__,
        "device": str(device),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "processor": (torch.cuda.get_device_name(device) if device.type == "cuda"
                      else cpu_id()),
        "threads": torch.get_num_threads(),
    }


def same_arithmetic(recorded: dict | None, now: dict) -> bool:
    """Whether a pin's recorded arithmetic is `now`'s, every part known and equal."""
    return (isinstance(recorded, dict) and None not in recorded.values()
            and recorded == now)


LOSS_RTOL = 1e-6
"""How far a test loss may move, relatively, under another arithmetic. The loss is a float32
mean over thousands of examples, summed in another order by each kernel and thread count:
across the simulated processors (`benchmarks/pin_arithmetic.md`: three CPU capabilities, one
thread and two, all 22 pinned fits) it moved by at most 1.5e-7, about one float32 rounding
(1.2e-7). The tolerance allows some seven times that; a 1 % change of one weight of a small
network moves the loss by more (a test checks it)."""

ACCURACY_FLIPS = 2
"""How many test predictions may flip under another arithmetic. None flipped in the same
measurement; a prediction flips only where an example's two classes score within rounding of
each other, which a test set of tens of thousands may hold once or twice."""


def metrics_reproduced(recorded: dict, now: dict, n_examples: int, same: bool) -> bool:
    """Whether test metrics computed `now` reproduce those `recorded` at training: bit for bit
    under the same arithmetic (`same`), else within `LOSS_RTOL` and `ACCURACY_FLIPS`."""
    if same or recorded.keys() != now.keys():
        return recorded == now
    for name, value in now.items():
        then = recorded[name]
        if name.endswith("accuracy"):
            if abs(value - then) * n_examples > ACCURACY_FLIPS + 1e-6:
                return False
        elif abs(value - then) > LOSS_RTOL * abs(then):
            return False
    return True


SIMULATED = tuple(capability for capability in ("default", "avx2", "avx512")
                  if capability != "avx512" or "avx512f" in _cpuinfo().get("flags", "").split())
"""The CPU capabilities that this processor can simulate (AVX-512 only where it has it)."""

_ONEDNN_ISA = {"default": "SSE41", "avx2": "AVX2", "avx512": "AVX512_CORE"}


def simulated_env(capability: str, threads: int) -> dict[str, str]:
    """The environment in which PyTorch and oneDNN compute as a processor of `capability`
    (one of `SIMULATED`) would, with `threads` threads."""
    if capability not in _ONEDNN_ISA:
        raise ValueError(f"capability must be one of {sorted(_ONEDNN_ISA)}, got {capability!r}")
    return {"ATEN_CPU_CAPABILITY": capability, "ONEDNN_MAX_CPU_ISA": _ONEDNN_ISA[capability],
            "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}


def run_facts(seconds: float, device: str = "cpu") -> dict:
    """How long a pinned computation took, on which device and processor, in which
    arithmetic, and when: for its pin.json."""
    return {"train_seconds": round(seconds, 1), "device": device,
            "processor": processor_name(), "torch": torch.__version__,
            "date": date.today().isoformat(), "arithmetic": arithmetic(device)}
