"""numpy's sorts on AMD Zen 4: its AVX2 kernels instead of its AVX-512 ones.

numpy sorts integers and floats with x86-simd-sort, whose AVX-512 kernels store each partitioned
vector with a compress instruction (`vpcompressq` to memory). Zen 4 runs that form in microcode
(AMD's optimization guide for the microarchitecture says to avoid it), so on Zen 4 the AVX-512 sort
is far slower than numpy's AVX2 one: 50 against 10 ns per element sorting a million int64 on the
AMD EPYC machines this project runs on, and argsort 78 against 31 (numpy 2.4). Zen 5 (family 0x1A)
runs it at full speed, and Intel's AVX-512 is the fast path there.

The ranking sorts millions of keys at every recompute (pair keys, the engagers' days, the crowd
cells), so on Zen 4 the bot asks numpy, before it is imported, to leave out its AVX-512 kernels
(`NPY_DISABLE_CPU_FEATURES`): at 50,000 members a recompute from the graph in memory took 6.9 s of
CPU on average instead of 7.6 (six rebuilds each, alternated). Other AVX-512 kernels go too (an
exponential of a large array is slower), which the ranking uses little. An operator's own
`NPY_DISABLE_CPU_FEATURES` or `NPY_ENABLE_CPU_FEATURES`, even empty, is left as it is; so is a
process that imported numpy already (the setting is read at numpy's import), and a numpy older than
2.4, whose names for the features differ.
"""

from __future__ import annotations

import logging
import os
import platform
import sys
from collections.abc import MutableMapping
from importlib import metadata
from pathlib import Path

log = logging.getLogger(__name__)

#: numpy 2.4's names for its AVX-512 dispatch targets on x86-64.
AVX512_TARGETS = "X86_V4 AVX512_ICL AVX512_SPR"
ZEN4_FAMILY = 0x19  # Zen 3 and Zen 4; only Zen 4 has AVX-512
MIN_NUMPY = (2, 4)
#: Whether this process set the variable (`prefer_fast_sorts`), for the start-up log.
applied = False


def is_zen4(cpuinfo: str) -> bool:
    """Whether /proc/cpuinfo's text describes an AMD CPU of family 0x19 with AVX-512 (Zen 4)."""
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        if not line.strip():
            break  # the first processor's block is enough
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    try:
        family = int(fields.get("cpu family", ""))
    except ValueError:
        return False
    return (
        fields.get("vendor_id") == "AuthenticAMD"
        and family == ZEN4_FAMILY
        and "avx512f" in fields.get("flags", "").split()
    )


def _numpy_version() -> tuple[int, ...] | None:
    try:
        text = metadata.version("numpy")
    except metadata.PackageNotFoundError:
        return None
    parts = []
    for piece in text.split(".")[:2]:
        digits = "".join(c for c in piece if c.isdigit())
        if not digits:
            return None
        parts.append(int(digits))
    return tuple(parts)


def prefer_fast_sorts(
    environ: MutableMapping[str, str] | None = None, cpuinfo: Path = Path("/proc/cpuinfo")
) -> bool:
    """On Zen 4, before numpy's import, have numpy leave out its AVX-512 kernels (see the module).
    True when it set `NPY_DISABLE_CPU_FEATURES` in `environ` (the process's environment by default,
    which numpy reads at its import; a mapping given is checked for the setting alone)."""
    global applied
    env = os.environ if environ is None else environ
    if "NPY_DISABLE_CPU_FEATURES" in env or "NPY_ENABLE_CPU_FEATURES" in env:
        return False
    if environ is None and "numpy" in sys.modules:
        return False  # too late: numpy read the setting at its import
    if sys.platform != "linux" or platform.machine() not in ("x86_64", "AMD64"):
        return False
    version = _numpy_version()
    if version is None or version < MIN_NUMPY:
        return False
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return False
    if not is_zen4(text):
        return False
    env["NPY_DISABLE_CPU_FEATURES"] = AVX512_TARGETS
    applied = applied or environ is None
    return True


def log_setting() -> None:
    """Say at start-up (once logging is set up) that numpy's AVX-512 kernels are left out."""
    if applied:
        log.info("AMD Zen 4: numpy's AVX2 sorts used, its AVX-512 ones are slow here (see bot/cpu.py)")
