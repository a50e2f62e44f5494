"""The quick start's main job: ``python -m fastgd`` on the bundled datasets."""

from fastgd.__main__ import main
from fastgd.datasets import load


def test_bundled_datasets_load():
    X, y = load("a9a")
    assert X.shape == (32561, 123) and set(y) == {-1.0, 1.0}
    Xt, _ = load("a9a.t")
    assert Xt.shape == (16281, 123)
    Xr, yr = load("abalone")
    assert Xr.shape == (4177, 8) and yr.min() >= 1


def test_main_prints_the_side_by_side_table(capsys):
    main(["--epochs", "2"])
    out = capsys.readouterr().out
    for needle in ("scikit-learn sgd (optimal)", "fastgd       adam", "abalone",
                   "test score"):
        assert needle in out
    rows = [line for line in out.splitlines() if line.startswith(("fastgd ", "scikit"))]
    assert len(rows) == 12
    for line in rows:  # epochs, seconds, objective, score are numbers
        fields = line.split()
        assert int(fields[-4]) == 2
        float(fields[-3]), float(fields[-2]), float(fields[-1])


def test_python_m_fastgd_in_the_checkout():
    """The README's first command runs ``python -m fastgd`` in the repository root, where
    the checkout's ``fastgd/`` comes first on sys.path whatever way fastgd was installed."""
    import pathlib
    import subprocess
    import sys

    root = pathlib.Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-m", "fastgd", "--epochs", "1"], cwd=root,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "abalone" in proc.stdout and "scikit-learn sgd (optimal)" in proc.stdout
