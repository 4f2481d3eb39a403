"""A fit killed in another process, at any moment, resumes when run again; Ctrl-C is said."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

#: A fit with a checkpoint folder, in a process of its own. argv: the folder,
#: and where the process stalls (to be killed there) or "none". It prints the
#: epochs trained, then "done", n_iter_ and a digest of its probabilities.
FIT = """
    import hashlib, io, os, sys, time, warnings
    import torch
    from sklearn.datasets import load_digits
    from skorch.callbacks import Callback
    from sklearn_cnn import CNNClassifier

    folder, stall = sys.argv[1], sys.argv[2]

    def stop():
        print("stalled", flush=True)
        time.sleep(600)

    class Stall(Callback):
        def on_epoch_begin(self, net, **kwargs):
            print("epoch", len(net.history), flush=True)
            if stall == "between-epochs" and len(net.history) == 4:
                stop()  # epoch 3 and its checkpoint are done

        def on_batch_end(self, net, training=False, **kwargs):
            if training and len(net.history) == 3 and len(net.history[-1]["batches"]) == 3:
                if stall == "mid-epoch":
                    stop()
                if stall == "ctrl-c":
                    print("press", flush=True)
                    time.sleep(600)  # SIGINT comes here

    if stall == "mid-checkpoint":  # the third checkpoint: half written, then stalled
        save, calls = torch.save, []
        def stalling_save(obj, file, *args, **kwargs):
            calls.append(1)
            if len(calls) == 3:
                buffer = io.BytesIO()
                save(obj, buffer, *args, **kwargs)
                file.write(buffer.getvalue()[:len(buffer.getvalue()) // 2])
                file.flush()
                stop()
            return save(obj, file, *args, **kwargs)
        torch.save = stalling_save

    X, y = load_digits(return_X_y=True)
    clf = CNNClassifier(conv_channels=(8,), dense_units=(16,), max_epochs=6, batch_size=32,
                        validation_fraction=0.2, ema=0.99, random_state=0, device="cpu",
                        n_jobs=1, checkpoint=folder if folder != "-" else None,
                        callbacks=[("stall", Stall())])
    clf.fit(X[:500], y[:500])
    digest = hashlib.sha1(clf.predict_proba(X[500:700]).tobytes()).hexdigest()
    print("done", clf.n_iter_, len(clf.history_), digest, flush=True)
"""


def _start(folder, stall) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(FIT), str(folder), stall],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(process, word: str) -> list[str]:
    lines = []
    for line in process.stdout:
        lines.append(line.strip())
        if line.strip() == word:
            return lines
    raise AssertionError(f"the fit ended before {word!r}: {lines}\n{process.stderr.read()}")


def _run(folder, stall="none") -> tuple[list[str], str]:
    process = _start(folder, stall)
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    return out.split("\n"), err


def _done(lines) -> list[str]:
    return next(line.split()[1:] for line in lines if line.startswith("done"))


@pytest.fixture(scope="module")
def uninterrupted():
    """What the fit gives in one go, without a checkpoint."""
    return _done(_run("-")[0])


@pytest.mark.slow
@pytest.mark.parametrize("stall", ["mid-epoch", "between-epochs", "mid-checkpoint"])
def test_a_fit_killed_at_any_moment_resumes_to_the_uninterrupted_model(tmp_path, stall,
                                                                       uninterrupted):
    process = _start(tmp_path, stall)
    _wait_for(process, "stalled")
    process.kill()  # SIGKILL: nothing of the process runs after it
    process.wait()
    lines, _ = _run(tmp_path)
    epochs = [int(line.split()[1]) for line in lines if line.startswith("epoch")]
    # Resumed after the last complete checkpoint: epoch 3 was saved before the
    # stall between epochs; the third checkpoint (epoch 3's) was half written.
    assert epochs == ([4, 5, 6] if stall == "between-epochs" else [3, 4, 5, 6])
    assert _done(lines) == uninterrupted  # n_iter_, history, probabilities
    assert [p.name for p in tmp_path.iterdir()] == [next(tmp_path.glob("fit-*.pt")).name]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
def test_ctrl_c_in_a_fit_is_said_and_the_model_kept(tmp_path):
    process = _start(tmp_path, "ctrl-c")
    _wait_for(process, "press")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert "FitInterruptedWarning: Training was interrupted (KeyboardInterrupt) during " \
           "epoch 3 of 6" in err and "Run the same fit again to resume" in err
    assert _done(out.splitlines())[:2] == ["2", "2"]  # n_iter_, history_: complete epochs
    lines, _ = _run(tmp_path)
    assert [line for line in lines if line.startswith("epoch")] == [
        "epoch 3", "epoch 4", "epoch 5", "epoch 6"]
    assert _done(lines)[:2] == ["6", "6"]
    assert os.listdir(tmp_path) == [next(tmp_path.glob("fit-*.pt")).name]
