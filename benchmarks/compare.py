"""fastgd against scikit-learn, per epoch, on the real datasets in ../shared/data.

    python benchmarks/compare.py [--epochs 5] [--repeat 3] [--data ../shared/data]
                                 [--json out.json] [--markdown out.md]

Every method runs the same number of epochs (tol=None) on the same data in the same
process; the table reports the median seconds per epoch over ``--repeat`` fits and the
ratio fastgd / scikit-learn measured side by side. All objectives are SPEC section 1,
computed by ``fastgd.objective.objective``. Kernels are compiled before timing; the cold
start (``fastgd.kernels.warmup()`` in a fresh process) is reported on its own.
"""

import argparse
import bz2
import json
import lzma
import os
import platform
import subprocess
import sys
import time
import warnings

import numpy as np
from sklearn import linear_model as sk
from sklearn.datasets import load_svmlight_file

import fastgd
from fastgd.objective import objective

DATASETS = {  # name: (file, task)
    "a9a": ("a9a.xz", "clf"),
    "w8a": ("w8a.xz", "clf"),
    "mushrooms": ("mushrooms.xz", "clf"),
    "reuters": ("reuters.trn.bz2", "clf"),
    "ijcnn1": ("ijcnn1.trn.bz2", "clf"),
    "covtype": ("covtype.libsvm.binary.xz", "clf"),
    "debian-size": ("debian-size.svm.xz", "reg"),
}


def load(path):
    opener = lzma.open if path.endswith(".xz") else bz2.open
    with opener(path, "rb") as f:
        X, y = load_svmlight_file(f)
    X.indices = X.indices.astype(np.int32)
    X.indptr = X.indptr.astype(np.int32)
    return X, y


def timed_fit(est, X, y, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        est.fit(X, y)
        times.append(time.perf_counter() - start)
    return float(np.median(times)), est


def methods(task, alpha, epochs):
    common = dict(alpha=alpha, max_iter=epochs, tol=None, random_state=0)
    if task == "clf":
        common["loss"] = "log_loss"
        return [("sklearn SGDClassifier", sk.SGDClassifier(**common)),
                ("fastgd sgd", fastgd.SGDClassifier(**common)),
                ("fastgd adam", fastgd.SGDClassifier(optimizer="adam", **common)),
                ("fastgd adam batch 64", fastgd.SGDClassifier(optimizer="adam", batch_size=64,
                                                              **common))]
    common["eta0"] = 0.001
    return [("sklearn SGDRegressor", sk.SGDRegressor(**common)),
            ("fastgd sgd", fastgd.SGDRegressor(**common)),
            ("fastgd adam", fastgd.SGDRegressor(optimizer="adam", **common)),
            ("fastgd adam batch 64", fastgd.SGDRegressor(optimizer="adam", batch_size=64,
                                                         **common))]


def cold_start():
    code = "import time; t=time.perf_counter(); import fastgd, fastgd.kernels; " \
           "i=time.perf_counter()-t; w=fastgd.kernels.warmup(); print(i, w)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=os.path.expanduser("~")).stdout.split()
    return float(out[0]), float(out[1])


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.path.join(here, "..", "..", "shared", "data"))
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--alpha", type=float, default=1e-4)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--json", default=None)
    parser.add_argument("--markdown", default=None)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")

    import_s, warm_s = cold_start()
    results = []
    for name, (fname, task) in DATASETS.items():
        path = os.path.join(args.data, fname)
        if (args.only and name not in args.only) or not os.path.exists(path):
            continue
        X64, y = load(path)
        if task == "clf":
            y = np.where(y == y.max(), 1.0, -1.0)
        for dtype in ("float64", "float32"):
            X = X64.astype(dtype)
            base = None
            for label, est in methods(task, args.alpha, args.epochs):
                if dtype == "float32" and label.startswith("sklearn") is False and \
                        "sgd" not in label:
                    continue
                est.set_params(max_iter=1).fit(X[:200], y[:200])  # compile / load cache
                est.set_params(max_iter=args.epochs)
                sec, est = timed_fit(est, X, y, args.repeat)
                per_epoch = sec / est.n_iter_
                loss = "log_loss" if task == "clf" else "squared_error"
                obj = objective(X64, y, est.coef_.ravel(), float(np.ravel(est.intercept_)[0]),
                                loss, args.alpha)
                base = per_epoch if label.startswith("sklearn") else base
                results.append(dict(dataset=name, dtype=dtype, method=label,
                                    n_samples=X.shape[0], nnz=int(X.nnz),
                                    s_per_epoch=per_epoch, ratio_to_sklearn=per_epoch / base,
                                    objective=obj, epochs=int(est.n_iter_)))
                r = results[-1]
                print(f"{name:12s} {dtype:8s} {label:24s} {per_epoch * 1e3:9.2f} ms/epoch "
                      f"x{r['ratio_to_sklearn']:.2f}  F={obj:.6f}", flush=True)
    meta = dict(date=time.strftime("%Y-%m-%d"), machine=platform.platform(),
                cpus=os.cpu_count(), python=platform.python_version(),
                fastgd=fastgd.__version__, import_s=import_s, warmup_s=warm_s,
                epochs=args.epochs, repeat=args.repeat, alpha=args.alpha)
    md = [f"Measured {meta['date']} on {meta['machine']} ({meta['cpus']} CPUs), "
          f"{args.epochs} epochs, median of {args.repeat}, alpha={args.alpha:g}. "
          f"`import fastgd` {import_s:.2f} s; `fastgd.kernels.warmup()` in a fresh process "
          f"{warm_s:.1f} s.", "",
          "| dataset | dtype | method | ms / epoch | × sklearn | objective |",
          "|---|---|---|---:|---:|---:|"]
    md += [f"| {r['dataset']} | {r['dtype']} | {r['method']} | {r['s_per_epoch'] * 1e3:.2f} | "
           f"{r['ratio_to_sklearn']:.2f} | {r['objective']:.6f} |" for r in results]
    print("\n".join(md))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(meta=meta, results=results), f, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
