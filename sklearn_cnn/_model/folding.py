"""Batch norm folded into the layer before it, for prediction.

In evaluation mode a ``BatchNorm`` is an affine map per channel, which the
convolution (or linear layer) feeding it can absorb: one layer computes what
two did, with one pass over the feature map fewer. ``fold_batch_norm`` does
it for any network ``torch.fx`` can trace, wherever the pair sits (neighbours
in an ``nn.Sequential``, or attributes such as a torchvision ResNet's
``conv1`` and ``bn1``), with torch's own ``fuse`` pass.
"""

from __future__ import annotations

import copy
import threading

from torch import fx, nn
from torch.fx.experimental.optimization import fuse

__all__ = ["fold_batch_norm"]

#: The batch norms that ``fuse`` folds (after a conv of the same dimension,
#: BatchNorm1d also after a Linear).
BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)

#: Modules that return their input unchanged in evaluation mode.
EVAL_IDENTITIES = (nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d,
                   nn.AlphaDropout, nn.FeatureAlphaDropout)


#: One trace at a time in this process: each replaces, then restores,
#: ``nn.Module.__call__``, and two interleaved could restore the wrong one.
_TRACING = threading.Lock()


class _ThreadTracer(fx.Tracer):
    """``torch.fx``'s tracer, leaving the modules of other threads alone.

    While it traces, ``fx.Tracer`` replaces ``nn.Module.__call__`` and
    ``__getattr__`` process-wide: a forward pass another thread runs
    meanwhile (another estimator's fit) would be recorded into this trace,
    and fail. Calls from other threads go to their modules unchanged.
    """

    def trace(self, root, concrete_args=None):
        self._thread = threading.get_ident()
        with _TRACING:
            return super().trace(root, concrete_args)

    def call_module(self, m, forward, args, kwargs):
        if threading.get_ident() != self._thread:
            return forward(*args, **kwargs)
        return super().call_module(m, forward, args, kwargs)

    def getattr(self, attr, attr_val, parameter_proxy_cache):
        if threading.get_ident() != self._thread:
            return attr_val
        return super().getattr(attr, attr_val, parameter_proxy_cache)


def fold_batch_norm(module: nn.Module) -> nn.Module:
    """An evaluation copy of ``module`` with its batch norms folded in.

    ``module`` is traced by ``torch.fx`` in evaluation mode; every
    ``Conv1d/2d/3d`` or ``Linear`` whose output goes only to a
    ``BatchNorm`` (with running statistics) becomes one layer
    (``torch.fx.experimental.optimization.fuse``, built on
    ``torch.nn.utils.fusion.fuse_conv_bn_eval``), and the identities and
    dropouts, which do nothing in evaluation mode, are left out (each module
    call costs microseconds that one-image predictions feel). The result is
    an ``fx.GraphModule`` computing the same function as ``module.eval()``,
    up to float rounding, with no parameter requiring gradients.

    ``module`` itself is returned, neither copied nor traced, when it has no
    batch norm, or when ``torch.fx`` cannot trace it (control flow that
    depends on the data, for example): it then predicts unfolded.

    Parameters
    ----------
    module : torch.nn.Module
        A network; left unchanged.

    Returns
    -------
    folded : torch.nn.Module
        The folded copy in evaluation mode, or ``module``.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from sklearn_cnn._model.folding import fold_batch_norm
    >>> net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU()).eval()
    >>> folded = fold_batch_norm(net)
    >>> any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    False
    >>> x = torch.randn(2, 1, 5, 5)
    >>> torch.allclose(folded(x), net(x), atol=1e-6)
    True
    """
    if not any(isinstance(m, BATCH_NORMS) for m in module.modules()):
        return module
    copied = copy.deepcopy(module).eval()  # traced in the mode it will predict in
    try:
        tracer = _ThreadTracer()
        traced = fx.GraphModule(copied, tracer.trace(copied), type(copied).__name__)
    except Exception:
        # Symbolic tracing refuses much ordinary Python (a branch on a tensor
        # raises TraceError, other constructs TypeError, RuntimeError,
        # AssertionError...): such a network predicts as it is, unfolded.
        return module
    folded = fuse(traced, inplace=True, no_trace=True)
    _skip_eval_identities(folded)
    return folded.requires_grad_(False)


def _skip_eval_identities(graph_module: fx.GraphModule) -> None:
    """Take the calls of ``EVAL_IDENTITIES`` out of ``graph_module``, in place."""
    # Hand-written: torch's remove_dropout pass knows nn.Dropout alone and
    # traces the network a second time.
    modules = dict(graph_module.named_modules())
    for node in list(graph_module.graph.nodes):
        if (node.op == "call_module" and isinstance(modules[node.target], EVAL_IDENTITIES)
                and len(node.args) == 1 and not node.kwargs):
            node.replace_all_uses_with(node.args[0])
            graph_module.graph.erase_node(node)
    graph_module.delete_all_unused_submodules()
    graph_module.recompile()
