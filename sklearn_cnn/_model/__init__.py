"""The network and what runs on its tensors: pure PyTorch and torchvision, no skorch.

The built-in ``ConvNet``, torchvision backbones, batch augmentation, losses,
batch-norm folding and the forward passes of prediction. Nothing here knows
of skorch, the estimator or where images come from (``pyproject.toml``'s
import contracts check it).
"""
