"""The ``fastgd`` command line (fastgd.cli): fit, predict, eval, convert and bench on the
bundled a9a, run as real subprocesses of the installed package and compared with the
Python API; bad files and flags; ``--help`` of every command."""

import gzip
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import pytest
from sklearn.metrics import log_loss

import fastgd
from fastgd.__main__ import main
from fastgd.datasets import load
from fastgd.objective import objective

# an empty cwd, from which `python -m` imports the installed package (in
# /tmp itself, a stray file such as nt.py would shadow the standard library)
OUTSIDE = tempfile.mkdtemp(prefix="fastgd-cwd-")
DATA = pathlib.Path(fastgd.__file__).parent / "data"
A9A, A9A_T = str(DATA / "a9a.xz"), str(DATA / "a9a.t.xz")
FLAGS = ["--loss", "log_loss", "--optimizer", "adam", "--batch-size", "8", "--eta0",
         "0.01", "--epochs", "3", "--alpha", "1e-5", "--random-state", "3"]


def run(*args, command=(sys.executable, "-m", "fastgd")):
    proc = subprocess.run([*command, *map(str, args)], cwd=OUTSIDE, capture_output=True,
                          text=True, timeout=600)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def same_fit():
    return fastgd.SGDClassifier(loss="log_loss", optimizer="adam", batch_size=8, eta0=0.01,
                                max_iter=3, tol=None, alpha=1e-5, random_state=3)


def test_fit_predict_eval_agree_with_the_python_api(tmp_path):
    model, pred = tmp_path / "m.npz", tmp_path / "pred.txt"
    proc = run("fit", A9A, "--model", model, "--test", A9A_T, *FLAGS)
    assert proc.returncode == 0, proc.stderr
    assert "3/3" in proc.stderr and "objective=" in proc.stderr  # the progress bar
    X, y = load("a9a")
    Xt, yt = load("a9a.t")
    ref = same_fit().fit(X, y)
    est = fastgd.load_model(model)
    assert np.array_equal(est.coef_, ref.coef_)
    out = dict(line.split(": ") for line in proc.stdout.splitlines() if ": " in line)
    expect = objective(X, y, ref.coef_.ravel(), ref.intercept_[0], "log_loss", 1e-5)
    assert float(out["objective"]) == pytest.approx(expect, rel=1e-7)
    assert float(out["test accuracy"]) == pytest.approx(ref.score(Xt, yt), abs=1e-6)

    proc = run("predict", "--model", model, A9A_T, "-o", pred)
    assert proc.returncode == 0, proc.stderr
    assert np.array_equal(np.loadtxt(pred), ref.predict(Xt))

    proc = run("eval", "--model", model, A9A_T)
    assert proc.returncode == 0, proc.stderr
    out = dict(line.split(": ") for line in proc.stdout.splitlines())
    assert float(out["accuracy"]) == pytest.approx(ref.score(Xt, yt), abs=1e-6)
    assert float(out["log_loss"]) == pytest.approx(
        log_loss(yt, ref.predict_proba(Xt)), abs=1e-6)


def test_console_script_converts_and_fits_a_directory(tmp_path):
    script = pathlib.Path(sys.executable).parent / "fastgd"
    if not script.exists():
        pytest.skip("the fastgd console script is not installed next to this Python")
    proc = run("convert", A9A, "-o", tmp_path / "a9a.d", command=[script])
    assert proc.returncode == 0 and "451,592 non-zeros" in proc.stdout, proc.stderr
    proc = run("fit", tmp_path / "a9a.d", "--model", tmp_path / "m.npz", "--quiet", *FLAGS,
               command=[script])
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    X, y = load("a9a")
    assert np.array_equal(fastgd.load_model(tmp_path / "m.npz").coef_,
                          same_fit().fit(X, y).coef_)
    proc = run("bench", tmp_path / "a9a.d", "--epochs", "2", command=[script])
    assert proc.returncode == 0, proc.stderr
    assert "fastgd / scikit-learn: time" in proc.stdout


def test_regression_eval_prints_rmse_and_r2(tmp_path, capsys):
    abalone = str(DATA / "abalone.trn.bz2")
    assert main(["fit", abalone, "--model", str(tmp_path / "r.npz"), "--loss",
                 "squared_error", "--quiet"]) == 0
    assert main(["eval", "--model", str(tmp_path / "r.npz"), abalone]) == 0
    out = dict(line.split(": ") for line in capsys.readouterr().out.splitlines()
               if ": " in line)
    est = fastgd.load_model(tmp_path / "r.npz")
    X, y = load("abalone")
    assert float(out["r2"]) == pytest.approx(est.score(X, y), abs=1e-6)
    assert float(out["rmse"]) == pytest.approx(
        np.sqrt(np.mean((est.predict(X) - y) ** 2)), abs=1e-6)


def test_a_malformed_file_is_one_line_on_stderr(tmp_path):
    bad = tmp_path / "bad.svm"
    bad.write_bytes(b"1 1:1\n-1 2:1 3:oops\n")
    proc = run("fit", bad, "--model", tmp_path / "m.npz")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == f"fastgd fit: error: {bad}:2: bad token '3:oops' (expected " \
                          "index:value)\n"
    assert not (tmp_path / "m.npz").exists()


def _bad_inputs(tmp_path):
    model = tmp_path / "m.npz"
    assert main(["fit", A9A, "--model", str(model), "--epochs", "1", "--quiet"]) == 0
    empty = tmp_path / "empty.svm"
    empty.write_bytes(b"")
    cut = tmp_path / "cut.svm.gz"
    cut.write_bytes(gzip.compress(b"1 1:1 2:0.5\n" * 100_000)[:500])
    wide = tmp_path / "wide.svm"
    wide.write_bytes(b"1 1:1 200:1\n")
    zero = tmp_path / "zero.svm"
    zero.write_bytes(b"1 1:1\n-1 0:1\n")
    not_model = tmp_path / "model.txt"
    not_model.write_text("hello")
    return [
        (["fit", str(empty), "--model", str(model)], 1, "no data (empty file)"),
        (["convert", str(cut), "-o", str(tmp_path / "d")], 1, "truncated or corrupt"),
        (["eval", "--model", str(model), str(wide)], 1, "beyond n_features=123"),
        (["convert", str(zero), "-o", str(tmp_path / "d"), "--zero-based", "no"], 1,
         "feature index 0 in a one-based file"),
        (["eval", "--model", str(not_model), A9A], 1, "not a fastgd model file"),
        (["eval", "--model", str(tmp_path / "missing.npz"), A9A], 1, "No such file"),
        (["predict", "--model", str(model), str(tmp_path / "nope.svm"), "-o", "-"], 1,
         "no such file or directory"),
        (["fit", A9A, "--model", str(model), "--alpha", "lots"], 2,
         "argument --alpha: invalid float value: 'lots'"),
        (["fit", A9A], 2, "the following arguments are required: --model"),
        (["fit", A9A, "--model", str(model), "--optimizer", "adam", "--solver", "saga"],
         1, "optimizer must be 'sgd'"),
        (["fitt", A9A], 2, "invalid choice: 'fitt'"),
        (["fit", A9A, "--model", str(model), "--sampling", "lipschitz"], 1,
         "sampling='lipschitz'"),
    ]


def test_bad_files_and_flags_exit_nonzero_with_one_line(tmp_path, capsys):
    for argv, status, message in _bad_inputs(tmp_path):
        capsys.readouterr()
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code
        err = capsys.readouterr().err
        assert code == status, (argv, err)
        assert err.count("\n") == 1 and message in err, (argv, err)
        assert err.startswith("fastgd"), err


@pytest.mark.parametrize("command", ["fit", "predict", "eval", "convert", "bench", None])
def test_help_of_every_command(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"] if command else ["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ")
    if command is None:  # the demo's help names the commands
        assert "fastgd fit | predict | eval | convert | bench" in out
    else:
        assert "Example: fastgd " + command in " ".join(out.split())
    if command in ("fit", "predict", "eval"):
        assert "--model PATH" in out


def test_help_lists_the_commands(capsys):
    from fastgd.cli import main as cli_main

    with pytest.raises(SystemExit):
        cli_main(["--help"])
    out = capsys.readouterr().out
    for command in ("fit", "predict", "eval", "convert", "bench"):
        assert f"    {command} " in out
