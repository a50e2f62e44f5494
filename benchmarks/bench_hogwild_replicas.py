"""Hogwild! replicas: plain SGD seconds per epoch at n_jobs=1, and at n_jobs=2 with every
column shared (no replicas) and with what the engine picks (``_engine.hogwild_replicas``:
per-thread replicas of every column on dense X and CSR with few columns, else none),
interleaved in one run.

    python benchmarks/bench_hogwild_replicas.py [--sets a9a covtype covtype-dense synth-1e7]
        [--solver sgd|saga|svrg] [--repeat 3] [--out benchmarks/results/hogwild-replicas.md]

``--solver saga`` / ``svrg``: ASAGA / AsySVRG (their default step) instead of plain SGD;
the replicas then hold w and the mean gradient D.

Seconds per epoch: the marginal cost of 5 epochs, (fit of 6 epochs - fit of 1) / 5, the
minimum over ``--repeat`` rounds (each round runs the three variants one after the other,
so that they see the same machine). F: the objective (alpha = 1e-4, log_loss) after the
6-epoch fit of the last round. ``-dense`` sets are the CSR set as a dense array.
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_target  # noqa: E402
import compare  # noqa: E402
import peers  # noqa: E402
import synthetic  # noqa: E402

DATA = os.path.join(HERE, "..", "..", "shared", "data")


def load(name, cache_dir):
    if name.startswith("synth-"):
        return synthetic.make_powerlaw(int(float(name.split("-", 1)[1])), seed=0)
    X, y = bench_target.load(name.replace("-dense", ""), DATA, cache_dir)
    return (X.toarray(), y) if name.endswith("-dense") else (X, y)


def measure(X, y, repeat, solver="sgd"):
    from fastgd import SGDClassifier, _engine

    replicated = _engine.hogwild_replicas

    def shared(rows, n_threads):
        return np.zeros((0, 2, 0))

    def fit(n_jobs, epochs):
        est = SGDClassifier(loss="log_loss", alpha=1e-4, max_iter=epochs, tol=None,
                            n_jobs=n_jobs, random_state=0, solver=solver)
        t = time.perf_counter()
        est.fit(X, y)
        return time.perf_counter() - t, est

    variants = (("n_jobs=1", replicated, 1), ("2, shared", shared, 2),
                ("2, engine's choice", replicated, 2))
    out = {label: [] for label, _, _ in variants}
    try:
        for _ in range(repeat):
            for label, choose, n_jobs in variants:
                _engine.hogwild_replicas = choose
                fit(n_jobs, 1)  # compiled and warm
                t1, _ = fit(n_jobs, 1)
                t6, est = fit(n_jobs, 6)
                F = peers.objective(X, y, est.coef_.ravel(), float(est.intercept_[0]),
                                    "clf", 1e-4)
                out[label].append(((t6 - t1) / 5, F))
    finally:
        _engine.hogwild_replicas = replicated
    rows = _engine.Rows.of(X)
    if solver == "sgd":
        n_rep = replicated(rows, 2).shape[2]
    else:  # ASAGA / AsySVRG: where the rows are even too (fastgd._vr.async_replicas)
        from fastgd._vr import async_replicas
        cfg = SGDClassifier(loss="log_loss", alpha=1e-4, solver=solver)._config("log_loss", 6)
        n_rep = async_replicas(rows, np.ones(rows.n_samples),
                               np.arange(rows.n_samples), cfg, 2).shape[2]
    return n_rep, {k: (min(s for s, _ in v), v[-1][1]) for k, v in out.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="*",
                        default=["a9a", "w8a", "covtype", "covtype-dense", "ijcnn1-dense",
                                 "synth-1e7", "debian-size"])
    parser.add_argument("--solver", default="sgd", choices=["sgd", "saga", "svrg"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    cache = os.path.join(HERE, "results", "cache")
    lines = [f"# Hogwild! replicas, solver={args.solver!r}, {time.strftime('%Y-%m-%d')}, "
             f"{compare.machine_info().get('cpu', '')}, {os.cpu_count()} cores", "",
             "Command: `python benchmarks/bench_hogwild_replicas.py " +
             " ".join(argv if argv is not None else sys.argv[1:]) + "`", "",
             "| set | replicated columns | n_jobs=1 ms/epoch | 2 threads, shared | "
             "2 threads, engine's choice | F (1 / shared / engine's choice) |",
             "|---|---:|---:|---:|---:|---|"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in args.sets:
            X, y = load(name, cache)
            n_rep, r = measure(X, y, args.repeat, args.solver)
            base = r["n_jobs=1"][0]
            cells = [f"{r[k][0] * 1e3:.2f} ({base / r[k][0]:.2f}×)"
                     for k in ("2, shared", "2, engine's choice")]
            lines.append(f"| {name} | {n_rep} | {base * 1e3:.2f} | {cells[0]} | "
                         f"{cells[1]} | " + " / ".join(f"{v[1]:.5f}" for v in r.values())
                         + " |")
            print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    print(text)


if __name__ == "__main__":
    main()
