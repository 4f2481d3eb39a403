"""sklearn_cnn._cpu: the usable cores, and the load of other processes."""

import subprocess
import sys
import time

import pytest

from sklearn_cnn import _cpu
from sklearn_cnn._cpu import CpuLoad, affinity, idle_seconds, usable_cores

STAT = """cpu  100 0 50 900 10 0 0 5 0 0
cpu0 50 0 25 400 5 0 0 2 0 0
cpu1 50 0 25 500 5 0 0 3 0 0
intr 12345
"""


def test_idle_seconds_sums_idle_and_iowait_of_the_cpus_asked(tmp_path, monkeypatch):
    stat = tmp_path / "stat"
    stat.write_text(STAT)
    monkeypatch.setattr(_cpu.os, "sysconf", lambda name: 100)  # ticks per second
    assert idle_seconds([0], str(stat)) == pytest.approx(4.05)
    assert idle_seconds([0, 1], str(stat)) == pytest.approx(9.1)
    assert idle_seconds([7], str(stat)) is None  # not listed
    assert idle_seconds([0], str(tmp_path / "missing")) is None  # not Linux


def test_usable_cores_follow_joblib_and_the_affinity_mask(monkeypatch):
    assert 1 <= usable_cores() <= usable_cores(physical=False) <= len(affinity())
    monkeypatch.setenv("LOKY_MAX_CPU_COUNT", "1")  # joblib's own cap, as a quota would
    assert usable_cores() >= 1  # kept for a second...
    monkeypatch.setattr(_cpu, "_cores", {})  # ...unless asked anew
    assert usable_cores() == usable_cores(physical=False) == 1


class Clocks:
    """Wall time, idle time of two CPUs and this process's CPU time, set by the test."""

    def __init__(self):
        self.wall, self.idle, self.own = 0.0, 0.0, 0.0

    def load(self, **kwargs):
        return CpuLoad([0, 1], idle_clock=lambda: self.idle, wall_clock=lambda: self.wall,
                       cpu_clock=lambda: self.own, **kwargs)

    def run(self, seconds, idle, own=0.0):
        self.wall += seconds
        self.idle += idle
        self.own += own


def test_busy_is_what_was_neither_idle_nor_this_process():
    clocks = Clocks()
    load = clocks.load()
    assert load.others(within=10, wait=False) is None  # a first snapshot
    clocks.run(1.0, idle=0.5, own=1.0)  # of 2 CPU-seconds: 0.5 idle, 1 ours
    assert load.others(within=10, wait=False) == pytest.approx(0.5)
    clocks.run(1.0, idle=0.0, own=2.0)  # all ours: no one else's
    assert load.others(within=10, wait=False) == pytest.approx(0.0)
    clocks.run(1.0, idle=2.0)
    assert load.free(2, within=10, wait=False) == pytest.approx(2.0)
    clocks.run(1.0, idle=0.0, own=0.5)
    assert load.free(2, within=10, wait=False) == pytest.approx(0.5)
    clocks.run(1.0, idle=2.0)
    assert load.free(1, within=10, wait=False) == pytest.approx(1.0)  # at most the usable


def test_the_window_starts_at_the_newest_snapshot_old_enough_and_recent_enough():
    clocks = Clocks()
    load = clocks.load(min_window=0.05)
    load.sample()  # t=0
    clocks.run(0.02, idle=0.04)
    assert load.others(within=1, wait=False) is None  # 0.02 s: too short
    clocks.run(0.04, idle=0.0)  # t=0.06: from t=0 (0.02 s ago is too recent)
    assert load.others(within=1, wait=False) == pytest.approx(2 - 0.04 / 0.06)
    clocks.run(2.0, idle=0.0)  # all busy, but the last snapshot is 2 s old
    assert load.others(within=1, wait=False) is None  # not about now
    clocks.run(0.5, idle=1.0)  # the newest is 0.5 s old: the window of this half second
    assert load.others(within=1, wait=False) == pytest.approx(0.0)


def test_an_old_idle_past_does_not_hide_a_busy_present():
    clocks = Clocks()
    load = clocks.load()
    load.sample()
    clocks.run(5.0, idle=10.0)  # five idle seconds...
    load.sample()
    clocks.run(0.5, idle=0.0)  # ...then half a second of two busy CPUs
    assert load.others(within=1, wait=False) == pytest.approx(2.0)
    assert load.others(within=10, wait=False) == pytest.approx(2.0)  # newest first


def test_waiting_measures_a_window_of_its_own(monkeypatch):
    clocks = Clocks()
    load = clocks.load(min_window=0.05)
    monkeypatch.setattr(_cpu.time, "sleep", lambda s: clocks.run(s, idle=2 * s))  # both idle
    assert load.others(within=1, wait=True) == pytest.approx(0.0)


def test_no_idle_time_no_load():
    load = CpuLoad([0], idle_clock=lambda: None)
    assert not load.measurable
    assert load.others(within=1, wait=True) is None
    assert load.free(4, within=1, wait=True) is None


def test_busy_processes_on_every_cpu_are_measured():
    cpus = affinity()
    load = CpuLoad(cpus)
    if not load.measurable:
        pytest.skip("the kernel's idle time is read from /proc/stat, on Linux only")
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in cpus]
    try:
        time.sleep(0.3)  # started and spinning
        load.sample()
        time.sleep(0.2)
        assert load.others(within=1, wait=False) >= len(cpus) - 0.5
        assert load.free(len(cpus), within=1, wait=True) <= 0.5
    finally:
        for spinner in spinners:
            spinner.kill()
