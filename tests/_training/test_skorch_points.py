"""What CNNNet relies on in skorch beyond its public extension points.

One test per reliance (sklearn_cnn._training.net, .step and .epoch say why
each is kept). Each
fails, naming what changed, when a skorch release changes the code that
sklearn-cnn copies or the private name it uses: then compare that release's
code with the copy, adapt, and widen the skorch range in pyproject.toml.

docs/architecture.md lists the reliances: each test here quotes its subject
first in its docstring (a parametrized one: its ids), and
tests/test_architecture.py checks that the page's list names it.
"""

import ast
import inspect
import textwrap

import pytest
import skorch
from skorch.callbacks import EpochScoring, LRScheduler, PrintLog
from skorch.net import NeuralNet

from sklearn_cnn import CNNClassifier
from sklearn_cnn._training import epoch, step
from sklearn_cnn._training.callbacks.logging import EpochLog
from sklearn_cnn._training.net import CNNNet


def code(function) -> str:
    """``function``'s code, without its docstring, comments or layout."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function))).body[0]
    first = tree.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        tree.body = tree.body[1:]
    return ast.dump(tree)


def reference(source: str) -> str:
    return ast.dump(ast.parse(textwrap.dedent(source)).body[0])


#: skorch's epoch loop, which _training.epoch.run_single_epoch copies (deferring .item()).
SKORCH_EPOCH_LOOP = """
def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
    if iterator is None:
        return
    batch_count = 0
    for batch in iterator:
        self.notify('on_batch_begin', batch=batch, training=training)
        step = step_fn(batch, **fit_params)
        self.history.record_batch(prefix + '_loss', step['loss'].item())
        batch_size = get_len(batch[0]) if isinstance(batch, (tuple, list)) else get_len(batch)
        self.history.record_batch(prefix + '_batch_size', batch_size)
        self.notify('on_batch_end', batch=batch, training=training, **step)
        batch_count += 1
    self.history.record(prefix + '_batch_count', batch_count)
"""

#: skorch's training step, which _training.step.eager_step does without the closure.
SKORCH_TRAIN_STEP = """
def train_step(self, batch, **fit_params):
    step_accumulator = self.get_train_step_accumulator()

    def step_fn():
        self._zero_grad_optimizer()
        step = self.train_step_single(batch, **fit_params)
        step_accumulator.store_step(step)
        self.notify('on_grad_computed', named_parameters=TeeGenerator(self.get_all_learnable_params()), batch=batch, training=True)
        return step['loss']
    self._step_optimizer(step_fn)
    return step_accumulator.get_step()
"""  # noqa: E501

#: The batch hooks ``reads_batch_losses`` says read no batch loss.
SKORCH_SCORING_BATCH_END = """
def on_batch_end(self, net, batch, y_pred, training, **kwargs):
    use_caching = self.use_caching
    if net.use_caching != 'auto':
        use_caching = net.use_caching
    if not use_caching or training != self.on_train:
        return
    _X, y = unpack_data(batch)
    if y is not None:
        self.y_trues_.append(y)
    self.y_preds_.append(y_pred)
"""

SKORCH_SCHEDULER_BATCH_END = """
def on_batch_end(self, net, training, **kwargs):
    if not training or self.step_every != 'batch':
        return
    self._record_last_lr(net, kind='batch')
    if isinstance(self.lr_scheduler_, ReduceLROnPlateau):
        if callable(self.monitor):
            score = self.monitor(net)
        else:
            try:
                score = net.history[-1, 'batches', -1, self.monitor]
            except KeyError as e:
                raise ValueError(f"'{self.monitor}' was not found in history. A Scoring callback with name='{self.monitor}' should be placed before the LRScheduler callback") from e
        self._step(net, self.lr_scheduler_, score=score)
    else:
        self._step(net, self.lr_scheduler_)
    self.batch_idx_ += 1
"""  # noqa: E501


@pytest.mark.parametrize(("function", "source", "follower"), [
    (NeuralNet.run_single_epoch, SKORCH_EPOCH_LOOP, epoch.run_single_epoch),
    (NeuralNet.train_step, SKORCH_TRAIN_STEP, step.eager_step),
    (EpochScoring.on_batch_end, SKORCH_SCORING_BATCH_END, epoch.reads_batch_losses),
    (LRScheduler.on_batch_end, SKORCH_SCHEDULER_BATCH_END, epoch.reads_batch_losses),
], ids=["run_single_epoch", "train_step", "EpochScoring.on_batch_end",
        "LRScheduler.on_batch_end"])
def test_the_skorch_code_sklearn_cnn_follows_is_unchanged(function, source, follower):
    assert code(function) == reference(source), (
        f"skorch {skorch.__version__} changed {function.__qualname__}: compare it with "
        f"{follower.__module__}.{follower.__qualname__}, which follows it")


def test_the_optimizer_calls_of_skorchs_step_zero_and_step_every_optimizer():
    """``_optimizers``: one name per optimizer, zeroed and stepped by skorch's calls.

    step.eager_step and step.finish_step call skorch's _zero_grad_optimizer
    and _step_optimizer(None), as skorch's train_step does (with a closure),
    and step.closure_free reads _optimizers.
    """
    import torch

    class TwoOptimizers(NeuralNet):
        def initialize_optimizer(self, *args, **kwargs):
            super().initialize_optimizer(*args, **kwargs)
            self.second_ = torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=1.0)
            return self

    net = TwoOptimizers(torch.nn.Linear(1, 1), criterion=torch.nn.MSELoss).initialize()
    assert net._optimizers == ["optimizer", "second"]
    optimizers = [net.optimizer_, net.second_]
    for optimizer in optimizers:
        for group in optimizer.param_groups:
            for param in group["params"]:
                param.grad = torch.ones_like(param)
    before = [p.detach().clone() for o in optimizers for g in o.param_groups for p in g["params"]]
    net._step_optimizer(None)
    after = [p.detach() for o in optimizers for g in o.param_groups for p in g["params"]]
    assert all(not torch.equal(b, a) for b, a in zip(before, after, strict=True))
    net._zero_grad_optimizer()
    assert all(p.grad is None for o in optimizers for g in o.param_groups for p in g["params"])


def test_set_training_is_what_skorch_steps_call():
    """``_set_training``: CNNNet calls it where skorch's train_step_single would."""
    assert list(inspect.signature(NeuralNet._set_training).parameters) == ["self", "training"]
    assert "self._set_training(True)" in inspect.getsource(NeuralNet.train_step_single)
    assert "self._set_training(False)" in inspect.getsource(NeuralNet.validation_step)


def test_print_log_yields_its_keys_formatted():
    """``_yield_keys_formatted``: EpochLog.table tabulates PrintLog's cells, not re-parsed."""
    row = {"epoch": 1, "train_loss": 0.5, "event_lr": 2e-07, "dur": 0.1, "batches": []}
    pairs = list(PrintLog().initialize()._yield_keys_formatted(row))
    assert [key for key, _ in pairs] == ["epoch", "train_loss", "lr", "dur"]
    assert all(isinstance(cell, str) for _, cell in pairs)
    assert EpochLog.table.__qualname__ == "EpochLog.table"  # the override that uses it
    log = EpochLog().initialize()
    log.epochs_ = None
    assert "2.00e-07" in log.table(row)


def test_callbacks_are_pickled_with_the_device_dependent_attributes(digits):
    """``cuda_dependent_attributes_``: CNNNet names its callbacks among them.

    skorch's ``__getstate__`` pickles them through torch (mapping CUDA to the CPU).
    """
    X, y = digits
    clf = CNNClassifier(conv_channels=(4,), dense_units=(), max_epochs=1, device="cpu")
    net = clf.fit(X[:100], y[:100]).net_
    assert isinstance(net, CNNNet) and "callbacks" in net.cuda_dependent_attributes_
    assert "cuda_dependent_attributes_" in inspect.getsource(NeuralNet.__getstate__)


def test_the_nets_hooks_run_before_the_callbacks_and_keyboard_interrupt_ends_a_fit():
    """``on_*``: the net's own hooks run before the callbacks'.

    And ``partial_fit`` ends a fit on ``KeyboardInterrupt``, still calling
    ``on_train_end``.
    """
    import numpy as np
    import torch
    from skorch import NeuralNetClassifier
    from skorch.callbacks import Callback

    calls = []

    class Stop(Callback):
        def on_epoch_begin(self, net, **kwargs):
            calls.append("callback epoch begin")

        def on_epoch_end(self, net, **kwargs):
            raise KeyboardInterrupt

    class Net(NeuralNetClassifier):
        def on_epoch_begin(self, net, **kwargs):
            calls.append("net epoch begin")
            super().on_epoch_begin(net, **kwargs)

        def on_train_end(self, net, **kwargs):
            calls.append("net train end")

    net = Net(torch.nn.Sequential(torch.nn.Linear(2, 2)), criterion=torch.nn.CrossEntropyLoss,
              max_epochs=3, train_split=None, callbacks=[Stop()], verbose=0)
    net.fit(np.zeros((4, 2), np.float32), np.array([0, 1, 0, 1]))
    assert calls == ["net epoch begin", "callback epoch begin", "net train end"]
    assert len(net.history) == 1


def test_on_batch_begin_opens_the_row_of_a_batch_and_modules_need_initialize():
    """``NeuralNet.on_batch_begin`` calls ``History.new_batch``.

    And skorch refuses a module set as an attribute outside ``initialize_*``,
    which ``CNNNet.on_train_begin`` goes past for ``DistributedDataParallel``.
    """
    import torch
    from skorch import NeuralNetClassifier
    from skorch.exceptions import SkorchAttributeError

    net = NeuralNetClassifier(torch.nn.Linear(2, 2), criterion=torch.nn.CrossEntropyLoss)
    net.initialize()
    net.history.new_epoch()
    net.notify("on_batch_begin", batch=None, training=False)
    net.notify("on_batch_begin", batch=None, training=False)
    assert len(net.history[-1]["batches"]) == 2
    with pytest.raises(SkorchAttributeError):
        net.wrapper_ = torch.nn.Linear(2, 2)
