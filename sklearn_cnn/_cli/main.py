"""The ``sklearn-cnn`` command line (also ``python -m sklearn_cnn``).

``main`` parses; :mod:`sklearn_cnn._cli.commands` does the work. A user's
mistake (a missing folder, a file that is not a model, an unknown parameter,
a bad value, a missing extra) ends in one line on stderr and exit code 1;
a malformed command line in one line and exit code 2; never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import sys
import warnings
from collections.abc import Sequence

from .._process_group import launch_rank, launched
from . import commands as _commands
from .commands import demo
from .launch import launch
from .param_values import parse_params
from .target_table import TASKS

__all__ = ["demo", "main"]

PROG = "sklearn-cnn"

#: What a user's mistake raises, from the standard library, scikit-learn
#: (InvalidParameterError is a ValueError), PIL, torch and safetensors.
USER_ERRORS = (OSError, ValueError, TypeError, ImportError)

EPILOG = """examples:
  sklearn-cnn fit photos/train --out model.safetensors --param max_epochs=20
  sklearn-cnn evaluate model.safetensors photos/test --plot confusion.png
  sklearn-cnn fit train.csv --out ages.safetensors      # path,age: a CNNRegressor
  sklearn-cnn predict model.safetensors photos/new --out predictions.csv
  sklearn-cnn explain model.safetensors photos/new/a.jpg --out gradcam/
  sklearn-cnn audit photos/train --test photos/test --out issues.csv --plot issues.png
"""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (argparse prints the usage first)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _one_line(exc: BaseException) -> str:
    """An exception or warning as one line: multi-line messages joined by "; "."""
    text = str(exc.args[0]) if len(exc.args) == 1 else str(exc)
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        text = f"{exc.strerror}: '{exc.filename}'"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # A line that introduces a list ("...file(s):") runs on into it.
    joined = "".join(line + (" " if line.endswith(":") else "; ") for line in lines)
    return joined[:-2] if joined.endswith("; ") else joined.rstrip() or type(exc).__name__


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of processes, 1 or more, "
                                         f"not {text!r}")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1); got {text}")
    return value


def estimator_parameters() -> list[str]:
    """The parameters ``fit --param`` takes: CNNClassifier's, then CNNRegressor's others."""
    from .._estimator.classifier import CNNClassifier
    from .._estimator.regressor import CNNRegressor

    names = list(CNNClassifier().get_params(deep=False))
    return names + [name for name in CNNRegressor().get_params(deep=False) if name not in names]


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command."""
    from .._estimator.classifier import CNNClassifier

    parser = _Parser(
        prog=PROG, description="Convolutional networks as scikit-learn estimators.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=_Parser)

    demo_parser = commands.add_parser(
        "demo", help="train the default CNNClassifier and an SVC on digits and compare")
    demo_parser.add_argument("--random-state", type=int, default=0)
    demo_parser.add_argument("--verbose", type=int, default=0, choices=(0, 1))

    names = ", ".join(CNNClassifier().get_params(deep=False))
    fit = commands.add_parser(
        "fit", help="train on a folder of class subfolders or a CSV of paths and targets",
        description="Train a CNNClassifier on FOLDER (one subfolder of images per class, "
                    "as torchvision's ImageFolder reads), or a CNNClassifier or "
                    "CNNRegressor on CSV (a header row, then path,target[,target...] per "
                    "image, paths relative to the CSV's folder allowed: numbers are "
                    "regressed, labels classified; --task decides), and save it "
                    "(safetensors, no pickle). Images of different sizes are resized to the "
                    "most common size (--param image_shape=H,W sets it); gray and RGB "
                    "images mix.",
        epilog="parameters (help(sklearn_cnn.CNNClassifier) and help(sklearn_cnn."
               f"CNNRegressor) document them): {', '.join(estimator_parameters())}",
    )
    fit.add_argument("folder", metavar="FOLDER_OR_CSV")
    fit.add_argument("--task", choices=TASKS, default="auto",
                     help="classify (CNNClassifier) or regress (CNNRegressor); auto "
                          "(default) regresses a CSV whose targets are all numbers and "
                          "classifies anything else")
    fit.add_argument("--out", required=True, metavar="MODEL",
                     help="the model file to write, such as model.safetensors")
    fit.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                     help="an estimator parameter, as a Python literal when it is one "
                          "(max_epochs=20, conv_channels=32,64, optimizer=sgd); repeatable")
    fit.add_argument("--validation-fraction", type=_fraction, metavar="F",
                     help="hold out this share (stratified for classes) to report valid_acc "
                          "(valid_r2 for numbers) per epoch")
    fit.add_argument("--lazy", action="store_true",
                     help="decode the images batch by batch every epoch instead of once "
                          "(for folders larger than memory)")
    fit.add_argument("--checkpoint", metavar="DIR",
                     help="keep the fit's state here after every epoch; run the same "
                          "command again after a crash or Ctrl-C to resume where it stopped")
    fit.add_argument("--quiet", action="store_true", help="no per-epoch output")
    fit.add_argument("--nproc", type=_positive, metavar="N",
                     help="train one model over N processes on this machine (one per GPU "
                          "where there are GPUs), started by torchrun; only the first prints "
                          "and saves")
    fit.add_argument("--nnodes", metavar="N",
                     help="with --nproc: machines in all (torchrun's --nnodes, such as 2 or "
                          "1:4); run the same command on each")
    fit.add_argument("--rdzv-endpoint", metavar="HOST:PORT",
                     help="with --nproc over several machines: where they meet (torchrun's "
                          "--rdzv-endpoint, on one of them)")

    evaluate = commands.add_parser(
        "evaluate", help="classification report and confusion matrix, or R², MAE and RMSE, "
                         "on a labelled folder or CSV")
    evaluate.add_argument("model", metavar="MODEL")
    evaluate.add_argument("folder", metavar="FOLDER_OR_CSV",
                          help="one subfolder of images per class, or a CSV of path,target "
                               "as fit reads (a CNNRegressor's)")
    evaluate.add_argument("--plot", metavar="FILE.png",
                          help="also draw the confusion matrix, or a regressor's actual "
                               "against predicted values (needs the plot extra)")

    predict = commands.add_parser(
        "predict", help="label and class probabilities (or predicted numbers) of each "
                        "image, as CSV")
    predict.add_argument("model", metavar="MODEL",
                         help="a model file, or an ONNX file of sklearn-cnn export (read "
                              "with ONNX Runtime, without PyTorch)")
    predict.add_argument("inputs", nargs="+", metavar="FOLDER_OR_FILES",
                         help="image files, or folders searched for them")
    predict.add_argument("--out", metavar="CSV", help="write here instead of stdout")

    export = commands.add_parser(
        "export", help="an ONNX file of a model, with its classes and preprocessing, "
                       "float32 or int8",
        description="Write the model's network to an ONNX file that carries its classes, "
                    "input shape, pixel scaling and resizing (sklearn-cnn predict and "
                    "sklearn_cnn.export.OnnxPredictor read it without PyTorch). --int8 "
                    "quantises it (ONNX Runtime's static quantisation), calibrated on "
                    "the images of --calibration, and checks it against the float model. "
                    "Needs the export extra.")
    export.add_argument("model", metavar="MODEL")
    export.add_argument("out", metavar="OUT.onnx")
    export.add_argument("--int8", action="store_true",
                        help="int8 weights and activations: smaller, and faster on batches "
                             "of larger images (needs --calibration)")
    export.add_argument("--calibration", metavar="FOLDER",
                        help="a few hundred images like those the model will see: a folder "
                             "of images, or of class subfolders (their names then check the "
                             "accuracy too)")

    explain = commands.add_parser(
        "explain", help="Grad-CAM heat maps over images, as PNG files",
        description="Write IMAGE_gradcam_LABEL.png per image into DIR: the image with the "
                    "Grad-CAM map of its predicted class over it (needs the explain and "
                    "plot extras).")
    explain.add_argument("model", metavar="MODEL")
    explain.add_argument("images", nargs="+", metavar="IMAGE",
                         help="image files, or folders searched for them")
    explain.add_argument("--out", required=True, metavar="DIR")

    audit = commands.add_parser(
        "audit", help="find label errors, near-duplicates, outliers and train/test leaks",
        description="Cross-validate a CNNClassifier on FOLDER (one subfolder of images per "
                    "class) and write, as CSV, the images whose label is likely wrong, the "
                    "near-duplicates, the outliers and, with --test, the test images that "
                    "are near-duplicates of training images (needs the audit extra: "
                    "cleanlab). docs/audit.md says what each finding means.",
        epilog=f"parameters (help(sklearn_cnn.CNNClassifier) documents them): {names}")
    audit.add_argument("folder", metavar="FOLDER")
    audit.add_argument("--test", metavar="FOLDER", help="a test folder to check for leaks")
    audit.add_argument("--out", required=True, metavar="CSV", help="the table to write")
    audit.add_argument("--plot", metavar="FILE.png",
                       help="also draw the suspects with their labels (needs the plot extra)")
    audit.add_argument("--cv", type=int, default=5, metavar="K",
                       help="folds of the out-of-fold probabilities (default 5)")
    audit.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                       help="a CNNClassifier parameter, as for fit; repeatable")
    return parser


#: The module that tells whether each optional extra is installed.
EXTRA_MODULES = {"plot": "matplotlib", "explain": "captum", "audit": "cleanlab",
                 "export": "onnxruntime"}


def needed_extras(args: argparse.Namespace) -> list[str]:
    """The optional extras a command line needs, to check before any work."""
    if args.command == "explain":
        return ["explain", "plot"]
    if args.command == "evaluate" and args.plot:
        return ["plot"]
    if args.command == "audit":
        return ["audit", "plot"] if args.plot else ["audit"]
    if args.command == "export" or (args.command == "predict"
                                    and args.model.lower().endswith(".onnx")):
        return ["export"]
    return []


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def check_extras(extras: Sequence[str], what: str) -> None:
    """Raise one ImportError naming every extra of ``extras`` that is not installed."""
    missing = [extra for extra in extras if not _installed(EXTRA_MODULES[extra])]
    if missing:
        raise ImportError(
            f"{what} needs the {' and '.join(missing)} extra{'s' * (len(missing) > 1)}, "
            f"not installed: pip install 'sklearn-cnn[{','.join(missing)}]'"
        )


def _run(args: argparse.Namespace) -> None:
    check_extras(needed_extras(args),
                 f"{args.command} --plot" if args.command == "evaluate" else args.command)
    if args.command == "demo":
        _commands.demo(random_state=args.random_state, verbose=args.verbose)
    elif args.command == "fit":
        params = parse_params(args.param, estimator_parameters(),
                                        owner="CNNClassifier or CNNRegressor")
        if args.validation_fraction is not None:
            params["validation_fraction"] = args.validation_fraction
        if args.checkpoint is not None:
            params["checkpoint"] = args.checkpoint
        _commands.fit(args.folder, args.out, params, task=args.task, lazy=args.lazy,
                      verbose=0 if args.quiet else 1)
    elif args.command == "evaluate":
        _commands.evaluate(args.model, args.folder, plot=args.plot)
    elif args.command == "predict":
        _commands.predict(args.model, args.inputs, out=args.out)
    elif args.command == "export":
        if args.int8 != (args.calibration is not None):
            raise ValueError("--int8 and --calibration FOLDER go together: the int8 file is "
                             "calibrated on the folder's images.")
        _commands.export(args.model, args.out, calibration=args.calibration)
    elif args.command == "explain":
        _commands.explain(args.model, args.images, args.out)
    elif args.command == "audit":
        from .._estimator.classifier import CNNClassifier

        params = parse_params(args.param, CNNClassifier().get_params(deep=False))
        _commands.audit(args.folder, args.out, params, test=args.test, cv=args.cv,
                        plot=args.plot)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sklearn-cnn`` command; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    if args.command == "fit" and (args.nnodes or args.rdzv_endpoint) and not args.nproc:
        print(f"{PROG} fit: error: --nnodes and --rdzv-endpoint go with --nproc N",
              file=sys.stderr)
        return 2
    if args.command == "fit" and args.nproc and not launched():
        return launch(argv, args.nproc, args.nnodes, args.rdzv_endpoint)
    if launch_rank() != 0:  # a process of a launch, not the first: it prints nothing
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _main(args)
    return _main(args)


def _main(args: argparse.Namespace) -> int:
    """Run the parsed command; its exit code."""

    def show_warning(message, category, filename, lineno, file=None, line=None):
        print(f"{PROG} {args.command}: warning: {_one_line(message)}", file=sys.stderr)

    try:
        with warnings.catch_warnings():
            warnings.showwarning = show_warning
            _run(args)
    except BrokenPipeError:
        # The reader left (`| head`): exit quietly, as the Python docs advise
        # (https://docs.python.org/3/library/signal.html#note-on-sigpipe).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except USER_ERRORS as exc:
        print(f"{PROG} {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        said = f" {exc}" if str(exc) else ""
        print(f"{PROG} {args.command}: interrupted{said}", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
