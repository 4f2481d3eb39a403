"""One fit over several processes (``_training.data_parallel``), under torchrun, on the CPU.

A module fixture launches ``torchrun --standalone --nproc_per_node 2`` (gloo)
on tests/_training/data_parallel_worker.py once; each test checks one promise
of docs/distributed.md in what the two processes wrote. The functions of
the module that need no launch are tested on their own at the end.
"""

import os
import pickle
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from data_parallel_worker import decode, encode, write_images
from PIL import Image
from sklearn.datasets import load_digits
from skorch.dataset import Dataset

from sklearn_cnn import CNNClassifier, load
from sklearn_cnn._process_group import World
from sklearn_cnn._training.batches import TensorBatches
from sklearn_cnn._training.data_parallel import share

WORKER = Path(__file__).with_name("data_parallel_worker.py")
ROOT = Path(__file__).parents[2]
N_IMAGES, N_FILES = 300, 96


def run_launch(command: list, env: dict, timeout: int = 240) -> subprocess.CompletedProcess:
    """Run a command that launches processes; on a timeout, kill it and all it started."""
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env, start_new_session=True) as launch:
        try:
            out, err = launch.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(launch.pid, signal.SIGKILL)  # its processes too: none left waiting
            raise
    return subprocess.CompletedProcess(command, launch.returncode, out, err)


def torchrun(*args) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return run_launch([sys.executable, "-m", "torch.distributed.run", "--standalone",
                       "--nproc_per_node=2", *map(str, args)], env)


@pytest.fixture(scope="module")
def launched(tmp_path_factory):
    out = tmp_path_factory.mktemp("ranks")
    images = tmp_path_factory.mktemp("images")
    write_images(images, N_FILES)
    run = torchrun(WORKER, out, images)
    assert run.returncode == 0, run.stderr[-3000:]
    return out, [torch.load(out / f"rank-{k}.pt", weights_only=False) for k in (0, 1)]


def flat(batches: list) -> list:
    return [i for batch in batches for i in batch]


def test_each_process_trains_on_its_own_share_of_each_epoch(launched):
    _, (zero, one) = launched
    valid = set(flat(zero["full"]["valid"][0]) + flat(one["full"]["valid"][0]))
    train = set(range(N_IMAGES)) - valid
    assert len(valid) == 60  # validation_fraction=0.2, split alike on both
    for epoch_zero, epoch_one in zip(zero["full"]["train"], one["full"]["train"], strict=True):
        assert len(epoch_zero) == len(epoch_one)  # the same number of steps
        for batch_zero, batch_one in zip(epoch_zero, epoch_one, strict=True):
            # A step's 25 images (15 in the last of 240), dealt out: 13 and 12, 8 and 7.
            assert (len(batch_zero), len(batch_one)) in ((13, 12), (8, 7))
            assert not set(batch_zero) & set(batch_one)
        seen = flat(epoch_zero) + flat(epoch_one)
        assert set(seen) == train and len(seen) == len(train)  # each image once
    # The order is drawn anew every epoch.
    assert zero["full"]["train"][0][0] != zero["full"]["train"][1][0]


def test_each_process_evaluates_its_share_of_the_hold_out(launched):
    _, (zero, one) = launched
    for epoch_zero, epoch_one in zip(zero["full"]["valid"], one["full"]["valid"], strict=True):
        mine, theirs = flat(epoch_zero), flat(epoch_one)
        assert len(mine) == len(theirs) == 30 and not set(mine) & set(theirs)


def test_every_process_ends_with_bit_identical_weights_buffers_included(launched):
    _, (zero, one) = launched
    assert zero["full"]["digest"] == one["full"]["digest"]
    assert all(torch.equal(zero["plain"][k], one["plain"][k]) for k in zero["plain"])


def test_the_history_is_the_same_on_every_process_and_counts_every_image(launched):
    _, (zero, one) = launched
    assert zero["full"]["history"] == one["full"]["history"]
    for row in zero["full"]["history"]:
        batches = row["batches"]
        assert sum(b.get("train_batch_size", 0) for b in batches) == 240
        assert sum(b.get("valid_batch_size", 0) for b in batches) == 60
        assert {"train_loss", "valid_loss", "valid_acc", "train_acc"} <= set(row)


def test_early_stopping_stops_every_process_at_the_same_epoch(launched):
    _, (zero, one) = launched
    assert zero["full"]["n_iter"] == one["full"]["n_iter"]
    assert zero["full"]["best_epoch"] == one["full"]["best_epoch"]


def test_batch_size_is_global_so_the_recipe_is_one_process_s(launched):
    _, (zero, _) = launched
    X, y = load_digits(return_X_y=True)
    alone = CNNClassifier(device="cpu", random_state=0, conv_channels=(8, 16), dense_units=(32,),
                          batch_norm=False, dropout=0.0, augment=None, optimizer="sgd", lr=0.05,
                          lr_schedule="constant", batch_size=25, max_epochs=2)
    alone.fit(encode(X[:N_IMAGES]), y[:N_IMAGES])
    # Same images per step, same order, each process's loss scaled by its share:
    # the gradient of one process, up to the order of the sums.
    for key, tensor in alone.module_.state_dict().items():
        torch.testing.assert_close(zero["plain"][key], tensor, rtol=1e-4, atol=1e-5)
    full = zero["full"]
    assert (full["batch_size"], full["max_epochs"]) == (25, 6)


def test_predictions_return_every_row_on_every_process(launched):
    _, (zero, one) = launched
    assert zero["full"]["proba"].shape == (N_IMAGES, 10)
    np.testing.assert_array_equal(zero["full"]["proba"], one["full"]["proba"])
    assert zero["full"]["score"] == one["full"]["score"] > 0.5


def test_only_rank_0_prints_and_writes(launched):
    out, (zero, one) = launched
    assert "epoch" in zero["stdout"] and "valid_acc" in zero["stdout"]
    assert one["stdout"] == ""
    assert (out / "model-0.safetensors").is_file()
    assert not (out / "model-1.safetensors").exists()
    assert [p.name for p in (out / "checkpoints").iterdir()] == [
        next((out / "checkpoints").iterdir()).name]  # one file, no temporary ones


def test_the_fitted_model_is_a_plain_one_that_saves_pickles_and_loads(launched):
    out, (zero, _) = launched
    X = encode(load_digits().data[:N_IMAGES])
    for model in (load(out / "model-0.safetensors"), pickle.loads(zero["full"]["pickle"])):
        assert getattr(model.net_, "ddp_", None) is None
        assert getattr(model.net_, "world_", None) is None
        np.testing.assert_allclose(model.predict_proba(X), zero["full"]["proba"], atol=1e-6)


def test_each_process_draws_its_own_augmentation_and_reruns_repeat(launched):
    _, (zero, one) = launched
    own_zero, shuffle_zero = zero["full"]["seeds"]
    own_one, shuffle_one = one["full"]["seeds"]
    assert shuffle_zero == shuffle_one  # one order for all
    assert own_zero != own_one  # augmentation and dropout: each its own
    assert zero["full"]["digest"] == zero["full"]["again"]  # same random_state, same N


def test_a_checkpointed_fit_resumes_over_the_processes(launched):
    _, (zero, one) = launched
    for result in (zero, one):
        assert result["checkpoint_first"][0] == result["checkpoint_again"][0]
        assert result["checkpoint_first"][1] == result["checkpoint_again"][1]
    assert zero["checkpoint_again"] == one["checkpoint_again"]


@pytest.mark.parametrize("kind", ["paths", "lazy"])
def test_image_files_are_read_by_one_process_each(launched, kind):
    _, (zero, one) = launched
    mine, theirs = zero[f"files_{kind}"], one[f"files_{kind}"]
    # 2 epochs of 72 training and 24 validation files, shared out; at most one
    # repeat per epoch completes the last step.
    assert set(mine) | set(theirs) == set(range(N_FILES))
    assert len(mine) + len(theirs) <= 2 * (N_FILES + 1)
    assert abs(len(mine) - len(theirs)) <= 4


def test_cli_nproc_trains_one_model_in_a_fresh_process(tmp_path):
    X, y = load_digits(return_X_y=True)
    for i in range(80):
        folder = tmp_path / "train" / str(y[i] % 2)
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray((X[i].reshape(8, 8) * 15).astype(np.uint8)).save(folder / f"{i}.png")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "sklearn_cnn", "fit", str(tmp_path / "train"), "--out",
               str(tmp_path / "m.safetensors"), "--nproc", "2", "--param", "max_epochs=2",
               "--param", "device=cpu"]
    run = run_launch(command, env)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.count("saved to") == 1 and run.stdout.count("1/2") == 1
    assert "2 processes" in run.stdout
    model = load(tmp_path / "m.safetensors")
    images = (X[:5].reshape(5, 8, 8) * 15).astype(np.uint8)
    assert model.n_iter_ == 2 and model.predict(images).shape == (5,)


# ------------------------------------------------------------ without a launch


def test_share_scales_unequal_shares_to_the_mean_over_the_step():
    world = World(0, 2, 0)
    losses = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    mine, theirs = losses[:3].mean(), losses[3:].mean()
    averaged = (mine * share(world, 3, 5) + theirs * share(world, 2, 5)) / 2
    assert torch.isclose(averaged, losses.mean())


@pytest.mark.parametrize(("n", "batch_size", "size"), [(10, 4, 2), (13, 5, 4), (9, 3, 3)])
def test_shards_give_every_process_the_same_steps_and_every_image(n, batch_size, size):
    data = Dataset(torch.arange(n, dtype=torch.float32)[:, None], torch.arange(n))
    shards = [list(TensorBatches(data, batch_size, shuffle=True,
                                 generator=torch.Generator().manual_seed(0))
                   .shard(rank, size, training=True)) for rank in range(size)]
    assert len({len(s) for s in shards}) == 1
    steps = [[int(v) for shard in shards for v in shard[k][1]] for k in range(len(shards[0]))]
    assert sorted(set(flat(steps))) == list(range(n))
    assert all(batch_size >= len(step) >= size for step in steps)
    evaluation = [TensorBatches(data, batch_size).shard(rank, size, training=False)
                  for rank in range(size)]
    rows = sorted(int(v) for batches in evaluation for _, y in batches for v in y)
    assert rows == list(range(n)) and len(evaluation[0]) == len(list(evaluation[0]))


def test_outside_a_launch_nothing_changes(monkeypatch):
    from sklearn_cnn._process_group import current_world, join, launched, writes_files

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert not launched() and join(torch.device("cpu")) is None
    assert current_world() is None and writes_files()


def test_decode_reads_what_encode_wrote():
    X = load_digits().data[:N_IMAGES]
    assert decode(encode(X)) == list(range(N_IMAGES))
