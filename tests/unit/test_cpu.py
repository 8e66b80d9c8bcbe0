"""numpy's AVX-512 sorts left out on AMD Zen 4 (bot/cpu.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import cpu


def _cpuinfo(vendor: str, family: int, flags: str) -> str:
    block = (
        f"processor\t: 0\nvendor_id\t: {vendor}\ncpu family\t: {family}\nmodel\t\t: 17\n"
        f"flags\t\t: {flags}\n"
    )
    return block + "\n" + block.replace("processor\t: 0", "processor\t: 1")


ZEN4 = _cpuinfo("AuthenticAMD", 25, "fpu sse2 avx avx2 avx512f avx512dq avx512bw avx512_vbmi2")
ZEN3 = _cpuinfo("AuthenticAMD", 25, "fpu sse2 avx avx2")
ZEN5 = _cpuinfo("AuthenticAMD", 26, "fpu sse2 avx avx2 avx512f avx512dq avx512bw")
INTEL = _cpuinfo("GenuineIntel", 6, "fpu sse2 avx avx2 avx512f avx512dq avx512bw")


@pytest.mark.parametrize(
    ("text", "expected"),
    [(ZEN4, True), (ZEN3, False), (ZEN5, False), (INTEL, False), ("", False), ("cpu family\t: x\n", False)],
)
def test_only_zen4_is_recognised(text: str, expected: bool) -> None:
    assert cpu.is_zen4(text) is expected


def test_on_zen4_numpy_is_told_to_leave_its_avx512_kernels_out(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text(ZEN4)
    env: dict[str, str] = {}
    version = cpu._numpy_version()
    if version is None or version < cpu.MIN_NUMPY:
        pytest.skip("numpy older than 2.4 names its features otherwise")
    assert cpu.prefer_fast_sorts(env, info) is True
    assert env == {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR"}


@pytest.mark.parametrize("text", [ZEN3, ZEN5, INTEL])
def test_elsewhere_nothing_is_set(tmp_path: Path, text: str) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text(text)
    env: dict[str, str] = {}
    assert cpu.prefer_fast_sorts(env, info) is False
    assert env == {}


@pytest.mark.parametrize("name", ["NPY_DISABLE_CPU_FEATURES", "NPY_ENABLE_CPU_FEATURES"])
def test_an_operators_own_setting_stands_even_empty(tmp_path: Path, name: str) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text(ZEN4)
    env = {name: ""}
    assert cpu.prefer_fast_sorts(env, info) is False
    assert env == {name: ""}


def test_without_cpuinfo_nothing_is_set(tmp_path: Path) -> None:
    env: dict[str, str] = {}
    assert cpu.prefer_fast_sorts(env, tmp_path / "missing") is False
    assert env == {}


def test_the_process_environment_is_left_alone_once_numpy_is_imported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import numpy  # noqa: F401  (the test process has it; the setting would come too late)

    monkeypatch.delenv("NPY_DISABLE_CPU_FEATURES", raising=False)
    monkeypatch.delenv("NPY_ENABLE_CPU_FEATURES", raising=False)
    assert cpu.prefer_fast_sorts() is False


def test_the_tests_run_numpy_as_the_bot_does() -> None:
    """On Zen 4 the suite's numpy runs without its AVX-512 kernels (tests/conftest.py), as the bot's."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        pytest.skip("no /proc/cpuinfo")
    if not cpu.is_zen4(text):
        pytest.skip("not an AMD Zen 4 machine")
    from numpy._core._multiarray_umath import __cpu_features__

    assert __cpu_features__["X86_V4"] is False


def test_the_setting_is_logged_at_start_up(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(cpu, "applied", True)
    with caplog.at_level("INFO", logger="bot.cpu"):
        cpu.log_setting()
    assert "AVX2" in caplog.text
    caplog.clear()
    monkeypatch.setattr(cpu, "applied", False)
    with caplog.at_level("INFO", logger="bot.cpu"):
        cpu.log_setting()
    assert caplog.text == ""
