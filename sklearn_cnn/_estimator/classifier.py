"""``CNNClassifier``: a scikit-learn classifier that trains a CNN with skorch."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import ClassifierMixin

from .._data.sample_weights import check_sample_weight
from .._data.targets import check_targets
from .._model.inference import class_probabilities, label_probabilities
from .._model.losses import make_criterion
from .._names import stable_name
from .._persistence.state import check_classes
from .._training.net import sigmoid, softmax
from .base import BaseCNN
from .building import class_weights
from .params import PARAMETER_CONSTRAINTS

__all__ = ["CNNClassifier"]


@stable_name()
class CNNClassifier(ClassifierMixin, BaseCNN):
    """A convolutional neural network classifier for images.

    A scikit-learn classifier: ``fit(X, y)`` builds a CNN from the
    parameters below and trains it on images in any common layout (or on
    image files), PyTorch doing the math and skorch running the training
    loop; ``predict`` and ``predict_proba`` then work as for any
    scikit-learn classifier, in pipelines, searches and cross-validation.
    The defaults are a recipe measured on small image sets (see
    docs/benchmarks.md), not a toy.

    Parameters
    ----------
    conv_channels : tuple of int, default=(32, 64)
        Filters of each conv block (convolution, batch norm, activation,
        2x2 pooling); its length is the depth. An int is one block.
    kernel_size : int, default=3
        Side of the square convolution kernels.
    padding : {"same", "valid"}, default="same"
        Convolution padding. "same" keeps small images (8x8 digits) alive
        through any depth; "valid" is Keras' default.
    activation : {"relu", "leaky_relu", "elu", "gelu", "silu", "tanh", \
"sigmoid"}, default="relu"
        Activation after every convolution and hidden dense layer.
    pooling : {"max", "avg"}, default="max"
        Pooling of each conv block.
    batch_norm : bool, default=True
        Batch normalisation after each convolution.
    dense_units : tuple of int, default=(128,)
        Units of the hidden dense layers between the conv blocks and the
        output layer. An int is one layer; () is none.
    dropout : float, default=0.3
        Dropout rate after each hidden dense layer, in [0, 1).
    init : {"auto", "kaiming", "xavier", "orthogonal", "torch"}, default="auto"
        Weight initialisation; "auto" is Kaiming for ReLU-like activations
        and Xavier for tanh and sigmoid; "torch" keeps PyTorch's defaults.
    module : subclass of torch.nn.Module, default=None
        A network class to train instead of the built-in one. It is built
        with ``module_kwargs``, plus ``input_shape`` ``(C, H, W)`` and
        ``n_classes`` when its constructor takes them, and must return one
        logit per class.
    module_kwargs : dict, default=None
        Keyword arguments of ``module``.
    backbone : str, default=None
        A torchvision classification model name (e.g. "resnet18") to train
        instead of the built-in network, with its head replaced.
    weights : str or os.PathLike, default=None
        Weights of the backbone: a torchvision weights name or the path of a
        local state-dict file.
    freeze_backbone : bool, default=False
        Train only the backbone's new head.
    optimizer : {"adam", "adamw", "sgd", "rmsprop"} or optimizer class, \
default="adam"
        The optimizer, by name or as a ``torch.optim.Optimizer`` subclass.
    lr : float or "auto", default="auto"
        Learning rate (the peak rate of a one-cycle schedule). "auto" is
        0.005 for Adam and AdamW, 0.001 for RMSprop and other classes, 0.05
        for SGD.
    momentum : float, default=0.9
        Momentum of optimizers that take one (SGD uses Nesterov momentum).
    weight_decay : float, default=0.0
        Weight decay of the optimizer.
    loss : {"cross_entropy", "mse"}, default="cross_entropy"
        Cross-entropy, or the mean squared error between the softmax
        probabilities and one-hot targets. For multilabel targets: binary
        cross-entropy of each label, or the mean squared error between the
        sigmoid probabilities and the 0/1 targets.
    label_smoothing : float, default=0.1
        Share of the target mass spread over all classes, in [0, 1). For
        multilabel targets, over the two outcomes of each label: a 0/1
        target becomes ``label_smoothing / 2`` or ``1 - label_smoothing / 2``
        (Keras' ``BinaryCrossentropy(label_smoothing=...)``).
    lr_schedule : {"onecycle", "cosine", "constant"}, default="onecycle"
        How the learning rate moves over the ``max_epochs`` of one ``fit``.
    batch_size : int or "auto", default="auto"
        Samples per training step. "auto": the power of two nearest below a
        sixteenth of the training images, from 16 to 128 (16 for 50 images,
        32 for 600, 128 from 2,048), so that small sets take enough steps
        and large ones batch for speed.
    max_epochs : int or "auto", default="auto"
        Passes over the training data in one ``fit``. "auto": enough for
        about 480 optimizer steps, from 5 to 30 epochs (30 up to 16 steps an
        epoch, 15 for 4,000 images in batches of 128).
    validation_fraction : float, default=0.0
        Share of the training data held out (stratified, except for
        multilabel targets) to measure
        ``valid_loss`` and ``valid_acc`` every epoch, in [0, 1); 0 trains on
        all of it.
    early_stopping : bool, default=False
        Stop when the validation loss (the training loss without a hold-out)
        has not improved for ``patience`` epochs, and restore the best
        weights.
    patience : int, default=5
        Epochs without improvement before early stopping.
    augment : {"auto", "shift", "flip", "sharp", "light", "standard"}, BatchAugment, \
callable or None, default="auto"
        Random augmentation of the training images, drawn per image and
        fresh every epoch, on the training device; never at prediction.
        "auto": "sharp" for images at least 8 pixels high and wide, none
        for narrower input (such as one-row tabular data). "shift":
        whole-pixel shifts up to 1/8 of a side, the edge reflected; "flip":
        "shift" and a left-right mirror of half the images (textures,
        photos, faces; not digits or text); "sharp": rotation, shift and
        zoom up to 10 degrees / 10 %, nearest pixel (no blur); "light": the
        same, bilinear; "standard": stronger moves, brightness and
        contrast. A ``BatchAugment`` sets its own amounts; any other
        callable on one ``(C, H, W)`` tensor, such as a torchvision v2
        transform, is applied image by image. docs/augmentation.md says
        which preset suits which images.
    tta : bool, default=False
        Test-time augmentation: ``predict``, ``predict_proba`` and
        ``score`` average the logits over each image and its label-safe
        variants (one-pixel shifts, and their mirror images when
        ``augment`` flips), at 5 or 10 times the cost of a prediction.
        Not part of ``to_onnx``'s graph. Training is unchanged.
    ema : float or None, default=None
        Weight averaging: the decay of an exponential moving average of the
        weights, updated after every training step (spanning about
        ``1 / (1 - ema)`` steps, after a short warm-up), e.g. 0.99.
        Validation, early stopping, checkpoints, prediction, saving and
        export use the average; training goes on from the weights the
        steps reached. None: no averaging.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, as in scikit-learn; None for
        multilabel targets (``MLPClassifier`` takes none either).
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks (or ``(name, callback)`` pairs).
    warm_start : bool, default=False
        When True, ``fit`` continues from the weights of the previous fit
        (same classes and image shape) with a fresh optimizer and schedule.
    checkpoint : str or path-like, default=None
        A folder where ``fit`` keeps its state after every epoch (one file
        per fit, replaced atomically), and from which the same fit, run
        again after a crash or Ctrl-C, resumes: only the epochs left train,
        drawing the numbers the uninterrupted fit would have; a fit that
        had ended returns its model at once (docs/user_guide.md, "Long
        fits: checkpoints and resuming"). Not used by ``partial_fit`` or a
        ``warm_start`` continuation.
    image_shape : tuple of int, default=None
        ``(H, W)`` or ``(C, H, W)`` of flat ``(N, F)`` input; for image
        files, the size (and channels: 1 gray, 3 RGB) they are read in.
    data_format : {"auto", "channels_first", "channels_last"}, default="auto"
        Where the channel axis of 4-D input is; "auto" finds it unless
        both axes 1 and 3 could hold channels.
    device : str or torch.device, default="auto"
        Where to train: "auto" (CUDA when available, else CPU), "cpu",
        "cuda", "cuda:N" (docs/user_guide.md, "CUDA and precision").
    precision : {"float32", "bfloat16", "auto"}, default="float32"
        Precision of the training steps. "bfloat16": forward passes under
        bfloat16 autocast (weights, gradients, optimizer state and loss stay
        float32); refused on GPUs below compute capability 8.0. "auto":
        "bfloat16" on GPUs of compute capability 8.0 or newer and on CPUs
        with AMX tiles. Validation and prediction always run in float32.
    cuda_graphs : bool, default=True
        On CUDA, replay the training step from a CUDA graph where it can be
        recorded (docs/user_guide.md, "CUDA and precision"); False trains
        every step eagerly. No effect on the CPU.
    num_workers : int or "auto", default="auto"
        Worker processes that decode and resize image files while the
        network runs; 0 decodes in the main process. "auto": none for fewer
        than 512 files or on fewer than 4 cores (docs/benchmarks.md, "Image
        files"), else half the cores, at most 4. The model does not depend on it.
    n_jobs : int or None, default=None
        Threads torch computes on in ``fit`` and prediction, the caller's
        count restored afterwards. None: for each fit (every epoch) and
        prediction, one per 50 million operations of a step at most, on the
        cores this process may use (affinity, CPU quota) that other
        processes leave free, shared by the fits in its threads; a count the
        caller set (``OMP_NUM_THREADS``, ``torch.set_num_threads``) is kept.
        An int pins it; -1: every usable core, -2: all but one
        (docs/user_guide.md, "Speed on a shared CPU").
    random_state : int, RandomState instance or None, default=None
        Seed of weight initialisation, shuffling, augmentation, dropout and
        the hold-out split. An int gives identical models on the same device
        at the same torch thread counts (``history_[:, "threads"]``), also
        when other fits run in other threads of the process; on the CPU
        another thread count gives another model: pin ``n_jobs`` to repeat
        a fit on a busy machine (docs/reproducibility.md). None draws from
        torch's (and numpy's) global random state.
    verbose : int, default=0
        0 prints nothing; 1 prints a progress bar and a table per epoch.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels; for multilabel targets, the column indices of ``y``,
        ``np.arange(n_labels)``, as ``MLPClassifier`` sets them.
    multilabel_ : bool
        Whether the model was fitted on multilabel targets (a 0/1 indicator
        matrix ``y``), as ``OneVsRestClassifier.multilabel_``.
    n_features_in_ : int
        Values per input image (``C * H * W``). Not defined for a model
        fitted on image files, as for scikit-learn's text vectorizers: their
        input has no columns (MAPIE and others then skip their column check).
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of the pixel columns of the DataFrame (of flat images) seen in
        ``fit``; defined only when those are all strings.
    input_shape_ : tuple of int
        ``(C, H, W)`` of the images the model takes.
    net_ : skorch.NeuralNetClassifier
        The trained skorch net.
    module_ : torch.nn.Module
        The trained network.
    history_ : skorch.History
        Per-epoch losses, accuracies and timings.
    n_iter_ : int
        Epochs trained, over all calls to ``fit`` and ``partial_fit``.
    best_epoch_ : int or None
        The epoch whose weights early stopping restored; None without it.
    pixel_range_ : (float, float) or None
        1st and 99th percentiles of the training pixels as the network got
        them (uint8 scaled to [0, 1]); over all calls to ``fit`` and
        ``partial_fit``.
        Prediction warns (``PixelRangeWarning``) when its images are far
        outside it or squeezed into a sliver of it: another pixel scale.
        None where unknown (``LazyImages``, models saved before it existed).
    device_ : str
        The device the model is on.
    precision_ : {"float32", "bfloat16"}
        The precision the last ``fit`` or ``partial_fit`` trained in
        (``precision``, "auto" settled).
    cuda_graphs_ : bool
        Whether the last ``fit`` or ``partial_fit`` replayed training steps
        from a CUDA graph.
    n_threads_ : int or None
        torch's thread count in the last epoch of the last ``fit`` or
        ``partial_fit`` (every epoch's: ``history_[:, "threads"]``).

    See Also
    --------
    sklearn_cnn.ConvNet : The built-in network that the parameters shape.
    sklearn_cnn.preprocessing.ImageFileLoader : Read image files in a pipeline.
    sklearn.neural_network.MLPClassifier : The dense network classifier of scikit-learn.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_cnn import CNNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(max_epochs=2, random_state=0).fit(X[:200], y[:200])
    >>> clf.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = PARAMETER_CONSTRAINTS

    def __init__(
        self,
        conv_channels=(32, 64),
        kernel_size=3,
        padding="same",
        activation="relu",
        pooling="max",
        batch_norm=True,
        dense_units=(128,),
        dropout=0.3,
        init="auto",
        module=None,
        module_kwargs=None,
        backbone=None,
        weights=None,
        freeze_backbone=False,
        optimizer="adam",
        lr="auto",
        momentum=0.9,
        weight_decay=0.0,
        loss="cross_entropy",
        label_smoothing=0.1,
        lr_schedule="onecycle",
        batch_size="auto",
        max_epochs="auto",
        validation_fraction=0.0,
        early_stopping=False,
        patience=5,
        augment="auto",
        tta=False,
        ema=None,
        class_weight=None,
        callbacks=None,
        warm_start=False,
        checkpoint=None,
        image_shape=None,
        data_format="auto",
        device="auto",
        precision="float32",
        cuda_graphs=True,
        num_workers="auto",
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        for name, value in locals().items():  # stored as given, as scikit-learn requires
            if name not in ("self", "__class__"):
                setattr(self, name, value)

    # ------------------------------------------------------------------ fit

    def fit(self, X, y, sample_weight=None) -> CNNClassifier:
        """Train the network on images ``X`` with labels ``y``.

        Parameters
        ----------
        X : array-like
            Images as ``(N, H, W)``, ``(N, H, W, C)``, ``(N, C, H, W)`` or
            flat ``(N, F)`` (see ``image_shape``); uint8 is scaled to [0, 1].
            Or a 1-D array of image file paths, decoded lazily batch by
            batch (a folder larger than memory trains in flat memory) and
            resized to ``image_shape`` (default: their most common size, with
            an ``ImageSizeWarning`` if they differ); PIL images likewise; a
            ``LazyImages`` from ``ImageFileLoader(lazy=True)`` and the
            transformers after it, decoded item by item.
        y : array-like of shape (N,) or (N, n_labels)
            Class labels; or, for multilabel targets, a 0/1 indicator matrix
            (a list of lists or a sparse matrix too), as ``MLPClassifier``
            takes it: one sigmoid output per label, binary cross-entropy.
        sample_weight : array-like of shape (N,), default=None
            Weight of each image in the training and hold-out losses: a
            batch's loss is the weighted mean of its samples' (times
            ``class_weight``), as in ``MLPClassifier``; all-equal weights give
            the same model as none. Routed by metadata routing.

        Returns
        -------
        self : CNNClassifier
            The fitted classifier.
        """
        return self._fit(X, y, classes=None, incremental=False, sample_weight=sample_weight)

    def partial_fit(self, X, y, classes=None, sample_weight=None) -> CNNClassifier:
        """Train one epoch on ``X``, ``y``, continuing from the current weights.

        There is no hold-out, early stopping or schedule: each call is one
        pass, with augmentation, at the learning rate ``lr`` has when it is
        called (``set_params(lr=...)`` between calls changes it), as in
        scikit-learn's ``partial_fit``. Streaming over chunks of data larger
        than memory, and schedules over a stream: docs/streaming.md.

        Parameters
        ----------
        X : array-like
            Images, as for ``fit``.
        y : array-like of shape (N,) or (N, n_labels)
            Class labels, or a 0/1 indicator matrix of multilabel targets
            (the kind of targets, and their number of labels, of the first
            call).
        classes : array-like, default=None
            All labels the model will see; on the first call, defaults to
            the labels of ``y``. For multilabel targets it can only be the
            column indices, ``np.arange(n_labels)``.
        sample_weight : array-like of shape (N,), default=None
            Weight of each image in the loss, as for ``fit``.

        Returns
        -------
        self : CNNClassifier
            The classifier, trained one more epoch.
        """
        return self._fit(X, y, classes=classes, incremental=True, sample_weight=sample_weight)

    # ------------------------------------------------------ what is about classes

    def _build_criterion(self, classes: np.ndarray, y: np.ndarray | None) -> tuple[type, dict]:
        """The loss class and its keyword arguments (class weights computed on ``y``).

        A 2-D ``y`` is a multilabel indicator matrix: one sigmoid loss per label.
        ``y=None`` builds the loss of a fitted model being loaded: its class
        weights are placeholders until its saved state is loaded.
        """
        if (self.multilabel_ if y is None else np.ndim(y) == 2):
            return make_criterion(self.loss, None, self.label_smoothing, multilabel=True)
        if y is None:
            weights = None if self.class_weight is None else np.ones(len(classes))
        else:
            weights = class_weights(self.class_weight, classes, y)
        return make_criterion(self.loss, weights, self.label_smoothing)

    def _net_kwargs(self, classes: np.ndarray, y: np.ndarray | None) -> dict:
        """The net sees class indices; a softmax, or a sigmoid per label if multilabel."""
        multilabel = self.multilabel_ if y is None else np.ndim(y) == 2
        return {"classes": list(range(len(classes))), "multilabel": multilabel,
                "predict_nonlinearity": sigmoid if multilabel else softmax}

    def _check_targets(self, y, images, classes, resume: bool) -> tuple[np.ndarray, np.ndarray]:
        """Validated targets and the sorted classes the model knows (``_data.targets``)."""
        return check_targets(
            y, images, classes=classes,
            fitted_classes=self.classes_ if resume else None,
            fitted_multilabel=resume and self.multilabel_,
            class_weight=self.class_weight, estimator_name=type(self).__name__)

    def _encode_targets(self, y: np.ndarray, classes: np.ndarray) -> np.ndarray:
        """Class indices, or the 0/1 indicator matrix of multilabel targets as it is."""
        return y if y.ndim == 2 else np.searchsorted(classes, y).astype(np.int64)

    def _record_targets(self, y: np.ndarray, classes: np.ndarray) -> None:
        self.classes_ = classes
        self.multilabel_ = y.ndim == 2

    def _check_sample_weight(self, sample_weight, y: np.ndarray, incremental: bool):
        """Weights that leave two classes to tell apart (one is enough for one pass)."""
        return check_sample_weight(sample_weight, y, estimator_name=type(self).__name__,
                                   needs_two_classes=not incremental)

    def _check_fitted_targets(self) -> None:
        check_classes(self)

    _outputs_attribute = "classes_"

    def _output_labels(self) -> np.ndarray:
        return self.classes_

    # ------------------------------------------------------------- prediction

    def _log_probabilities(self, logits: np.ndarray) -> np.ndarray:
        """Log-softmax of ``logits``, or their log-sigmoid for multilabel targets."""
        probabilities = label_probabilities if self.multilabel_ else class_probabilities
        return probabilities(torch.from_numpy(logits), log=True).numpy()

    def predict_log_proba(self, X) -> np.ndarray:
        """Log of the class (or label) probabilities of each image.

        Parameters
        ----------
        X : array-like
            Images, in the layout used for ``fit``.

        Returns
        -------
        log_proba : ndarray of shape (N, n_classes)
            Log-probabilities, columns ordered as ``classes_``.
        """
        return self._log_probabilities(self._logits(X))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities of each image, columns ordered as ``classes_``.

        For multilabel targets, the probability of each label on its own
        (a sigmoid per label: a row need not sum to 1), as ``MLPClassifier``.

        Parameters
        ----------
        X : array-like
            Images, in the layout used for ``fit``.

        Returns
        -------
        proba : ndarray of shape (N, n_classes)
            Probabilities, columns ordered as ``classes_``; each row sums to
            1, except for multilabel targets.
        """
        return np.exp(self.predict_log_proba(X))

    def predict(self, X) -> np.ndarray:
        """Most probable class of each image, or its labels for multilabel targets.

        Parameters
        ----------
        X : array-like
            Images, in the layout used for ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (N,) or (N, n_labels)
            Labels from ``classes_``; for multilabel targets, as
            ``MLPClassifier``, an int64 0/1 indicator matrix: 1 where
            ``predict_proba`` is above 0.5.
        """
        logits = self._logits(X)  # first: it checks that the model is fitted
        if self.multilabel_:
            return (np.exp(self._log_probabilities(logits)) > 0.5).astype(np.int64)
        # The largest logit: the softmax keeps the order, so it needs none.
        return self.classes_[np.argmax(logits, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
