"""Every script in examples/ runs and prints what it promises."""

import pathlib
import runpy

import pytest

EXAMPLES = pathlib.Path(__file__).parent.parent / "examples"


@pytest.mark.slow
def test_seed_keras_model_example(capsys):
    pytest.importorskip("mlxtend")
    runpy.run_path(str(EXAMPLES / "seed_keras_model.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "parameters: 121,930 (Keras: 121,930)" in out
    accuracy = float(out.rsplit("accuracy:", 1)[1])
    assert accuracy > 0.95
