"""The processes torchrun launched, as each sees them (``sklearn_cnn._process_group``).

The launch itself (a group of two processes, gloo) is tests/_training/test_data_parallel.py's;
these read the launcher's variables without one.
"""

import pytest
import torch

from sklearn_cnn import _cpu
from sklearn_cnn._persistence.atomic import atomic_write
from sklearn_cnn._process_group import (
    World,
    launch_rank,
    launched,
    local_processes,
    process_device,
    writes_files,
)


@pytest.fixture
def second_of_two(monkeypatch):
    """The variables torchrun sets for the second of two processes on this machine."""
    for name, value in {"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1",
                        "LOCAL_WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1",
                        "MASTER_PORT": "29500"}.items():
        monkeypatch.setenv(name, value)


def test_the_launchers_variables_say_who_this_process_is(second_of_two):
    assert launched() and launch_rank() == 1 and local_processes() == 2


def test_without_them_there_is_no_launch(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "LOCAL_WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert not launched() and launch_rank() == 0 and local_processes() == 1
    assert writes_files()


def test_a_process_other_than_the_first_writes_no_file(second_of_two, tmp_path):
    assert not writes_files()
    with atomic_write(tmp_path / "model.safetensors") as file:
        file.write(b"weights")
    assert list(tmp_path.iterdir()) == []


def test_the_processes_of_a_machine_share_its_cores(second_of_two, monkeypatch):
    monkeypatch.setattr(_cpu, "cpu_count", lambda only_physical_cores: 8)
    monkeypatch.setattr(_cpu, "_cores", {})
    assert _cpu.usable_cores() == 4


def test_each_process_takes_the_gpu_of_its_local_rank(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert process_device(torch.device("cuda"), World(3, 4, 1)) == torch.device("cuda", 1)
    assert process_device(torch.device("cpu"), World(3, 4, 1)) == torch.device("cpu")
    assert process_device(torch.device("cuda"), None) == torch.device("cuda")
    with pytest.raises(ValueError, match=r"process 2 of this machine, which has 2 GPUs.*"
                                         r"--nproc_per_node 2"):
        process_device(torch.device("cuda"), World(2, 4, 2))
