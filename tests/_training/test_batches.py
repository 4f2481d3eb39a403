"""In-memory mini-batches for skorch (sklearn_cnn._training.batches)."""

import numpy as np
import torch
from skorch.dataset import Dataset
from torch.utils.data import DataLoader, Subset, TensorDataset

from sklearn_cnn._training.batches import TensorBatches

X = torch.arange(10.0).reshape(10, 1, 1, 1)
y = np.arange(10) % 3


def test_slices_in_order_without_shuffle():
    batches = list(TensorBatches(Dataset(X, y), batch_size=4))
    assert len(batches) == len(TensorBatches(Dataset(X, y), batch_size=4)) == 3
    assert [b[0].flatten().tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0][1].tolist() == [0, 1, 2, 0]


def test_shuffle_draws_a_new_permutation_from_torch():
    torch.manual_seed(0)
    first = torch.cat([b[0] for b in TensorBatches(Dataset(X, y), 3, shuffle=True)]).flatten()
    second = torch.cat([b[0] for b in TensorBatches(Dataset(X, y), 3, shuffle=True)]).flatten()
    assert sorted(first.tolist()) == list(range(10))
    assert first.tolist() != second.tolist()
    torch.manual_seed(0)
    again = torch.cat([b[0] for b in TensorBatches(Dataset(X, y), 3, shuffle=True)]).flatten()
    assert again.tolist() == first.tolist()


def test_shuffle_draws_from_the_generator_given():
    def order(generator, dataset=None):
        dataset = Dataset(X, y) if dataset is None else dataset
        batches = TensorBatches(dataset, 3, shuffle=True, generator=generator)
        return torch.cat([b[0].flatten() for b in batches]).tolist()

    first = order(torch.Generator().manual_seed(0))
    torch.manual_seed(1)  # the global generator plays no part
    assert order(torch.Generator().manual_seed(0)) == first
    assert order(torch.Generator().manual_seed(1)) != first
    files = TensorDataset(X, torch.as_tensor(y))  # not tensors skorch holds: a DataLoader
    assert order(torch.Generator().manual_seed(0), files) == order(
        torch.Generator().manual_seed(0), files)


def test_subset_of_a_holdout_split():
    subset = Subset(Dataset(X, y), [7, 2, 5])
    batches = list(TensorBatches(subset, batch_size=2))
    assert [b[0].flatten().tolist() for b in batches] == [[7, 2], [5]]
    assert [b[1].tolist() for b in batches] == [[1, 2], [2]]


def test_batches_are_slices_not_collated_samples():
    # Without shuffle, a batch is a view of the stored tensor: no copy at all.
    batch = next(iter(TensorBatches(Dataset(X, y), batch_size=4)))[0]
    assert batch.data_ptr() == X.data_ptr()


def test_other_datasets_use_a_dataloader():
    data = TensorDataset(X, torch.as_tensor(y))
    batches = TensorBatches(data, batch_size=4)
    assert batches.tensors is None and isinstance(batches._loader(), DataLoader)
    assert [len(b[0]) for b in batches] == [4, 4, 2]
