"""Old module paths stay loadable for pickles that name them (sklearn_cnn._persistence.compat)."""

import pickle

import pytest

from sklearn_cnn._model.convnet import ConvNet
from sklearn_cnn._training.callbacks.lr_scheduler import OneCycleLR
from sklearn_cnn._training.holdout import HoldoutSplit
from sklearn_cnn._training.net import CNNNet


@pytest.mark.parametrize(("old", "name", "cls"), [
    ("sklearn_cnn._net", "CNNNet", CNNNet),
    ("sklearn_cnn._network", "ConvNet", ConvNet),
    ("sklearn_cnn._training", "OneCycleLR", OneCycleLR),
    ("sklearn_cnn._training", "HoldoutSplit", HoldoutSplit),
])
def test_a_pickle_naming_an_old_module_path_loads(old, name, cls):
    # Protocol 0's GLOBAL opcode: "c<module>\n<name>\n", as an old pickle holds it.
    assert pickle.loads(f"c{old}\n{name}\n.".encode()) is cls
