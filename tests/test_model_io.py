"""Model files (fastgd.save_model / load_model): round trips of every exported
estimator, and refusal of truncated, modified, newer-format and pickled files."""

import io
import json
import pickle
import zipfile

import numpy as np
import pytest

import fastgd
from fastgd.datasets import load
from fastgd.schedules import CosineAnnealing, LinearWarmup

X, Y = load("a9a")
Y3 = np.array(["low", "mid", "high"])[np.arange(Y.shape[0]) % 3]
KW = dict(max_iter=2, tol=None, random_state=0)

CASES = {
    "binary": (lambda: fastgd.SGDClassifier(loss="log_loss", **KW), Y),
    "multiclass": (lambda: fastgd.SGDClassifier(class_weight={"low": 2.0}, **KW), Y3),
    "averaged": (lambda: fastgd.SGDClassifier(average=10, **KW), Y),
    "adam": (lambda: fastgd.SGDClassifier(optimizer="adam", batch_size=16, **KW), Y),
    "regressor": (lambda: fastgd.SGDRegressor(solver="saga", **KW), Y),
    "scheduled": (lambda: fastgd.SGDClassifier(
        optimizer="adam", batch_size=32, learning_rate=LinearWarmup(
            100, after=CosineAnnealing(0.01, T_max=1000)), **KW), Y),
}


@pytest.fixture(scope="module")
def fitted():
    return {name: make().fit(X, y) for name, (make, y) in CASES.items()}


@pytest.mark.parametrize("name", list(CASES))
def test_round_trip(tmp_path, fitted, name):
    est = fitted[name]
    path = tmp_path / "model.npz"
    fastgd.save_model(est, path)
    with np.load(path, allow_pickle=False) as npz:  # plain arrays only
        meta = json.loads(str(npz["__meta__"]))
    assert meta["estimator"] == type(est).__name__ and meta["format_version"] == 1
    back = fastgd.load_model(path)
    assert type(back) is type(est) and back.get_params() == est.get_params()
    assert np.array_equal(back.predict(X), est.predict(X))
    if hasattr(est, "classes_"):
        assert np.array_equal(back.decision_function(X), est.decision_function(X))
        assert np.array_equal(back.classes_, est.classes_)
    assert back.n_iter_ == est.n_iter_ and back.t_ == est.t_
    back.partial_fit(X[:100], CASES[name][1][:100])  # a loaded model keeps learning
    assert pickle.loads(pickle.dumps(est)).score(X, CASES[name][1]) == \
        est.score(X, CASES[name][1])  # pickling still works


# the exact estimators (no partial_fit, no t_): fitted to tol, then saved and loaded
EXACT = {
    "logistic": (lambda: fastgd.LogisticRegression(C=0.5, tol=1e-3, random_state=0), Y),
    "multinomial": (lambda: fastgd.LogisticRegression(tol=1e-3, random_state=0), Y3),
    "ridge": (lambda: fastgd.Ridge(alpha=[1.0, 3.0], tol=1e-3, random_state=0),
              np.c_[Y, 1.0 - Y]),
    "linear": (lambda: fastgd.LinearRegression(tol=1e-3, random_state=0), Y),
    "lasso": (lambda: fastgd.Lasso(alpha=0.01, tol=1e-3, random_state=0), Y),
    "elasticnet": (lambda: fastgd.ElasticNet(alpha=0.01, l1_ratio=0.3, random_state=0), Y),
}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", list(EXACT))
def test_round_trip_exact(tmp_path, name):
    make, y = EXACT[name]
    est = make().fit(X, y)
    fastgd.save_model(est, tmp_path / "m.npz")
    back = fastgd.load_model(tmp_path / "m.npz")
    assert type(back) is type(est)
    assert back.get_params().keys() == est.get_params().keys()
    assert np.array_equal(back.predict(X), est.predict(X))
    assert np.array_equal(back.n_iter_, est.n_iter_)
    if hasattr(est, "classes_"):
        assert np.array_equal(back.predict_proba(X), est.predict_proba(X))
    assert back.fit(X, y).score(X, y) == est.score(X, y)  # refits to the same model


def test_random_state_instance_is_stored_as_none(tmp_path):
    est = fastgd.SGDRegressor(max_iter=1, tol=None,
                              random_state=np.random.RandomState(0)).fit(X, Y)
    fastgd.save_model(est, tmp_path / "m.npz")
    assert fastgd.load_model(tmp_path / "m.npz").random_state is None


def test_save_refuses_unfitted_and_foreign(tmp_path):
    with pytest.raises(ValueError, match="not fitted"):
        fastgd.save_model(fastgd.SGDClassifier(), tmp_path / "m.npz")
    from sklearn.linear_model import SGDClassifier

    with pytest.raises(TypeError, match="fastgd's estimators"):
        fastgd.save_model(SGDClassifier().fit(X, Y), tmp_path / "m.npz")


def _rewrite(src, dst, change):
    """Copy the archive ``src`` to ``dst`` with ``change(name, bytes) -> bytes``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            zout.writestr(item, change(item.filename, zin.read(item.filename)))


def test_bad_model_files_are_refused(tmp_path, fitted):
    good = tmp_path / "good.npz"
    fastgd.save_model(fitted["binary"], good)
    blob = good.read_bytes()
    for label, payload in [("truncated", blob[:len(blob) // 2]), ("empty", b""),
                           ("text", b"1 1:1\n")]:
        (tmp_path / label).write_bytes(payload)

    def flip_coef(name, data):  # one byte of coef_'s data
        if name == "coef_.npy":
            data = data[:-1] + bytes([data[-1] ^ 1])
        return data

    def edit_meta(old, new):
        def change(name, data):
            if name != "__meta__.npy":
                return data
            text = str(np.load(io.BytesIO(data), allow_pickle=False))
            assert old in text
            out = io.BytesIO()
            np.save(out, np.array(text.replace(old, new)))
            return out.getvalue()
        return change

    for label, change in [("tampered", flip_coef),
                          ("newer", edit_meta('"format_version": 1', '"format_version": 9')),
                          ("params", edit_meta('"alpha": 0.0001', '"alpha": 0.0002'))]:
        _rewrite(good, tmp_path / label, change)
    np.savez(tmp_path / "pickled.npz", __meta__=np.array([{"a": 1}], dtype=object))
    expected = {"truncated": "not a fastgd model file, or truncated",
                "empty": "not a fastgd model file", "text": "not a fastgd model file",
                "tampered": "checksum mismatch", "params": "checksum mismatch",
                "newer": "model format 9 is newer", "pickled.npz": "not a fastgd model"}
    for label, message in expected.items():
        with pytest.raises(ValueError, match=message):
            fastgd.load_model(tmp_path / label)
