"""The sklearn-cnn command line."""

import subprocess
import sys

import pytest

from sklearn_cnn._cli import demo, main


def test_demo_beats_svc_on_digits(capsys):
    scores = demo(random_state=0)
    svc, cnn = scores["SVC()"], scores["CNNClassifier(random_state=0)"]
    assert cnn > svc
    out = capsys.readouterr().out
    assert "held-out accuracy" in out and f"{cnn:.4f}" in out


def test_main_requires_a_command(capsys):
    with pytest.raises(SystemExit):
        main([])
    assert "demo" in capsys.readouterr().err


@pytest.mark.slow
def test_python_dash_m_runs_the_demo():
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_cnn", "demo"], capture_output=True, text=True,
        check=True, timeout=600,
    )
    assert result.stdout.count("held-out accuracy") == 2
