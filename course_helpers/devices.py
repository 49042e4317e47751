"""Choose where tensors live, and say why in words a learner can check.

The same notebook runs on a laptop CPU, a Colab GPU and an Apple-silicon Mac, so the
choice is made once, at start-up, and printed, never hard-coded in a cell.
"""
import os

import torch

ENV_VARIABLE = "COURSE_DEVICE"


def pick_device(prefer: str | None = None) -> tuple[torch.device, str]:
    """Return (device, reason): `prefer`, then $COURSE_DEVICE, then CUDA, MPS, CPU."""
    wanted = prefer or os.environ.get(ENV_VARIABLE)
    if wanted:
        device = torch.device(wanted)
        _check_available(device)
        source = "you asked for it" if prefer else f"${ENV_VARIABLE} asks for it"
        return device, f"{source}"
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        return torch.device("cuda"), f"a CUDA GPU is available ({name})"
    if _mps_available():
        return torch.device("mps"), "an Apple-silicon GPU (MPS) is available"
    return torch.device("cpu"), "no CUDA or Apple-silicon GPU was found; everything in this course runs fine on a CPU"


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def _check_available(device: torch.device) -> None:
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"Device {device} was asked for, but torch sees no CUDA GPU here. "
                           f"Unset ${ENV_VARIABLE} or ask for 'cpu'.")
    if device.type == "mps" and not _mps_available():
        raise RuntimeError(f"Device {device} was asked for, but this machine has no MPS backend. "
                           f"Unset ${ENV_VARIABLE} or ask for 'cpu'.")
