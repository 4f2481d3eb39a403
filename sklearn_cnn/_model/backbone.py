"""A torchvision classification model with its head replaced.

``CNNClassifier(backbone="resnet18")`` trains a torchvision architecture
instead of the built-in network: the model is built by name, optionally
loaded with weights (a torchvision weights name, or a local state-dict file,
read with ``weights_only=True`` so that no code in it runs), and its last
linear layer is replaced by one with an output per class.

torchvision is imported by the functions that use it, as everywhere in the
package (``_data.files`` says why).
"""

from __future__ import annotations

import os
import urllib.error
from collections.abc import Sequence

import torch
from torch import nn

from .._names import stable_name

__all__ = ["Backbone", "check_backbone"]


def check_backbone(name: str) -> None:
    """Raise a ValueError unless ``name`` is a torchvision classification model."""
    import torchvision

    available = torchvision.models.list_models(module=torchvision.models)
    if name not in available:
        raise ValueError(
            f"backbone={name!r} is not a torchvision classification model; "
            f"choose one of {', '.join(sorted(available))}."
        )


def resolve_weights(name: str, weights: str):
    """The torchvision weights enum a name designates, for the model ``name``.

    A full name ("ResNet18_Weights.IMAGENET1K_V1"), a member of the model's
    own weights ("IMAGENET1K_V1"), or "DEFAULT" (torchvision's alias for
    the best weights of the model).
    """
    import torchvision

    try:
        return torchvision.models.get_weight(weights)
    except (ValueError, AttributeError, KeyError):
        pass
    try:
        return torchvision.models.get_model_weights(name)[weights]
    except (ValueError, AttributeError, KeyError) as exc:
        raise ValueError(
            f"weights={weights!r} is neither a state-dict file nor a torchvision weights "
            f"name such as 'DEFAULT', 'IMAGENET1K_V1' or 'ResNet18_Weights.IMAGENET1K_V1'."
        ) from exc


def _load_weights(model: nn.Module, name: str, weights) -> None:
    if os.path.exists(weights):
        state = torch.load(weights, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
        return
    import torchvision

    enum = resolve_weights(name, weights)
    try:
        fresh = torchvision.models.get_model(name, weights=enum)
    except (OSError, urllib.error.URLError) as exc:  # URLError is an OSError; named for clarity
        reason = " ".join(str(getattr(exc, "reason", exc)).split())  # one line
        raise OSError(
            f"Could not download the weights {enum} from {enum.url} ({reason}). On a machine "
            f"with internet, torchvision.models.get_model({name!r}, weights={str(enum)!r}) "
            f"saves the file in {torch.hub.get_dir()}/checkpoints; copy it there on this "
            "machine, or pass its path: weights='/path/to/file.pth'."
        ) from exc
    model.load_state_dict(fresh.state_dict())


def _replace_head(model: nn.Module, n_classes: int) -> nn.Linear:
    """Swap the last ``nn.Linear`` of ``model`` for one with ``n_classes`` outputs."""
    linears = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(
            f"The backbone {type(model).__name__} has no linear classification "
            "head to replace; choose a backbone that ends in a linear layer."
        )
    path, old = linears[-1]
    parent = model.get_submodule(path.rpartition(".")[0]) if "." in path else model
    head = nn.Linear(old.in_features, n_classes)
    setattr(parent, path.rpartition(".")[2], head)
    return head


@stable_name()
class Backbone(nn.Module):
    """A torchvision model adapted to ``input_shape`` and ``n_classes``.

    Parameters
    ----------
    name : str
        A torchvision classification model name, e.g. "resnet18".
    input_shape : (int, int, int)
        ``(C, H, W)`` of the input; images with other than 3 channels go
        through a learned 1x1 convolution to 3 channels first.
    n_classes : int
        Number of output logits.
    weights : str or os.PathLike, default=None
        A torchvision weights name ("DEFAULT", "IMAGENET1K_V1" or the full
        "ResNet18_Weights.IMAGENET1K_V1", downloaded once into torch's hub
        cache) or a local state-dict path for the original model (head
        included); None trains from scratch.
    freeze : bool, default=False
        Train only the new head (and the channel adapter).
    """

    def __init__(
        self,
        name: str,
        input_shape: Sequence[int],
        n_classes: int,
        weights=None,
        freeze: bool = False,
    ) -> None:
        import torchvision

        super().__init__()
        model = torchvision.models.get_model(name, weights=None)
        if weights is not None:
            _load_weights(model, name, os.fspath(weights))
        if freeze:
            model.requires_grad_(False)
        _replace_head(model, n_classes)
        in_channels = input_shape[0]
        self.adapter = nn.Identity() if in_channels == 3 else nn.Conv2d(in_channels, 3, 1)
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(self.adapter(x))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Compute the pooled features of a batch: the input of the classification head.

        Parameters
        ----------
        x : Tensor of shape (N, C, H, W)

        Returns
        -------
        features : Tensor of shape (N, n_features)
            One row of features per image.
        """
        features = []
        # torchvision models have no common "features" method: the head's input
        # is read on its way in (the head still runs: one small matrix product).
        # The head is the last linear layer (the one _replace_head put there).
        head = [m for m in self.model.modules() if isinstance(m, nn.Linear)][-1]
        hook = head.register_forward_pre_hook(lambda _, args: features.append(args[0]))
        try:
            self.model(self.adapter(x))
        finally:
            hook.remove()
        return features[0].flatten(1)
