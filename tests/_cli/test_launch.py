"""``sklearn-cnn fit --nproc N`` (``_cli/launch.py``); the launch itself runs in
tests/_training/test_data_parallel.py."""

import sys

import pytest

from sklearn_cnn._cli import launch as launch_module
from sklearn_cnn._cli.launch import torchrun_command, without_launch_options
from sklearn_cnn._cli.main import main


def test_across_machines_torchrun_meets_at_the_endpoint():
    command = torchrun_command(["fit", "data", "--out", "m"], 8, "2", "node1:29500")
    assert command[:3] == [sys.executable, "-m", "torch.distributed.run"]
    assert command[3:] == ["--nproc_per_node=8", "--nnodes=2", "--rdzv-backend=c10d",
                           "--rdzv-endpoint=node1:29500", "-m", "sklearn_cnn", "fit", "data",
                           "--out", "m"]


def test_the_command_runs_again_without_its_launch_options(monkeypatch):
    calls = []
    monkeypatch.setattr(launch_module.subprocess, "call",
                        lambda command, env: calls.append((command, env)) or 7)
    for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "OMP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    argv = ["fit", "photos", "--nproc", "2", "--out", "m.safetensors", "--nnodes=1"]
    assert main(argv) == 7  # torchrun's exit code
    (command, env), = calls
    assert command[-5:] == ["sklearn_cnn", "fit", "photos", "--out", "m.safetensors"]
    assert "--nproc_per_node=2" in command and "--nnodes=1" in command
    assert int(env["OMP_NUM_THREADS"]) >= 1
    assert without_launch_options(argv) == ["fit", "photos", "--out", "m.safetensors"]


@pytest.mark.parametrize(("argv", "said"), [
    (["--nnodes", "2"], "--nnodes and --rdzv-endpoint go with --nproc N"),
    (["--nproc", "0"], "expected a whole number of processes, 1 or more, not '0'"),
])
def test_launch_options_are_checked(argv, said, capsys):
    try:
        code = main(["fit", "photos", "--out", "m", *argv])
    except SystemExit as exc:  # argparse's way out
        code = exc.code
    assert code == 2
    assert said in capsys.readouterr().err
