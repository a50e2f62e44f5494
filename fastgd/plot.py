"""The pictures of the optimizer texts, drawn from fastgd's own runs (extra ``[plot]``).

* ``plot_trajectories``: each optimizer's path on a function of two variables (a
  ``fastgd.optimize.TEST_FUNCTIONS`` name, or a ``(fun, jac)`` pair) over its contours;
  the paths are ``fastgd.optimize.minimize(..., return_path=True).path``.
* ``plot_loss_curves``: the ``loss_curve_`` of fitted fastgd estimators, per epoch.
* ``plot_convergence``: suboptimality against seconds or epochs, one curve per solver
  (``benchmarks/compare.py`` draws its plots with it).

Each returns the matplotlib Figure (the one of ``ax`` when given). matplotlib is
imported when a function is called, not with this module: ``pip install fastgd[plot]``.
"""

import numpy as np

__all__ = ["plot_trajectories", "plot_loss_curves", "plot_convergence"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - the test environment has matplotlib
        raise ImportError("fastgd.plot needs matplotlib: pip install fastgd[plot] "
                          "(or pip install matplotlib)") from exc
    return plt


def _axes(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    fig, ax = _pyplot().subplots(figsize=figsize)
    return fig, ax


# -------------------------------------------------------------- trajectories
def _function(name_or_fun):
    """(title, fun, jac, x_min) of a TEST_FUNCTIONS name or a (fun, jac[, x_min]) tuple."""
    from fastgd.optimize import TEST_FUNCTIONS

    if isinstance(name_or_fun, str):
        if name_or_fun not in TEST_FUNCTIONS:
            raise ValueError(f"unknown test function {name_or_fun!r}; the names are "
                             f"{sorted(TEST_FUNCTIONS)}, or pass a (fun, jac) tuple")
        fun, jac, x_min = TEST_FUNCTIONS[name_or_fun]
        return name_or_fun, fun, jac, x_min
    if callable(name_or_fun):
        return getattr(name_or_fun, "__name__", "f"), name_or_fun, None, None
    parts = tuple(name_or_fun)
    if len(parts) not in (2, 3) or not callable(parts[0]) or \
            (parts[1] is not None and not callable(parts[1])):
        raise TypeError("name_or_fun: a TEST_FUNCTIONS name, a function of 2 variables, "
                        "or a tuple (fun, jac) or (fun, jac, x_min); jac may be None "
                        "(difference quotients)")
    x_min = None if len(parts) == 2 or parts[2] is None else \
        np.asarray(parts[2], dtype=np.float64)
    return getattr(parts[0], "__name__", "f"), parts[0], parts[1], x_min


def _per_optimizer(value, optimizers, what):
    """A dict optimizer -> value from None, a scalar or a dict."""
    if isinstance(value, dict):
        unknown = set(value) - set(optimizers)
        if unknown:
            raise ValueError(f"{what} names optimizers not drawn: {sorted(unknown)}")
        return {o: value.get(o) for o in optimizers}
    return {o: value for o in optimizers}


def _window(x0, x_min, paths, xlim, ylim):
    """Axis limits: around x0 and x_min, widened to the paths' points that stay within
    three times that box (a diverging path does not shrink the picture to a dot)."""
    anchors = np.array([x0] + ([] if x_min is None else [x_min]), dtype=np.float64)
    lo, hi = anchors.min(axis=0), anchors.max(axis=0)
    centre = (lo + hi) / 2
    half = np.maximum((hi - lo) / 2, 0.5 * max(1.0, np.abs(anchors).max()))
    pts = np.vstack(paths) if paths else anchors
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    near = pts[np.all(np.abs(pts - centre) <= 3 * half, axis=1)]
    if near.size:
        lo, hi = np.minimum(lo, near.min(axis=0)), np.maximum(hi, near.max(axis=0))
    pad = 0.1 * np.maximum(hi - lo, 1e-3)
    lims = [(lo[i] - pad[i], hi[i] + pad[i]) for i in range(2)]
    return tuple(xlim) if xlim is not None else lims[0], \
        tuple(ylim) if ylim is not None else lims[1]


def _contours(ax, fun, xlim, ylim, levels, resolution):
    xs = np.linspace(*xlim, resolution)
    ys = np.linspace(*ylim, resolution)
    X, Y = np.meshgrid(xs, ys)
    Z = np.vectorize(lambda a, b: float(fun(np.array([a, b]))))(X, Y)
    finite = Z[np.isfinite(Z)]
    if levels is None:
        lo, hi = finite.min(), finite.max()
        if lo >= 0 and hi > 0:  # a positive function: log-spaced levels show the valley
            lo = max(lo, hi * 1e-6, np.min(finite[finite > 0], initial=hi) / 2)
            levels = np.logspace(np.log10(lo), np.log10(hi), 25)
        else:
            levels = np.linspace(lo, hi, 25)
    levels = np.asarray(levels, dtype=np.float64)
    norm = None
    if np.all(levels > 0) and levels[-1] / levels[0] > 100:
        from matplotlib.colors import LogNorm

        norm = LogNorm(vmin=levels[0], vmax=levels[-1])
    return ax.contour(X, Y, Z, levels=levels, cmap="Greys", norm=norm, linewidths=0.6,
                      alpha=0.8)


def plot_trajectories(name_or_fun, x0, optimizers, max_iter=200, learning_rates=None,
                      ax=None, *, hyper=None, stop_below=None, xlim=None, ylim=None, levels=None,
                      resolution=200, figsize=(6.4, 5.2), title=None, legend_kw=None):
    """Contours of a function of two variables and each optimizer's path on them.

    ``name_or_fun``: a ``fastgd.optimize.TEST_FUNCTIONS`` name ('saddle', 'ellipse',
    'beale', 'rosenbrock'; their minimum is marked), or a tuple ``(fun, jac)`` or
    ``(fun, jac, x_min)`` (``jac=None``: difference quotients), or ``fun`` alone.
    ``optimizers``: rule names of SPEC section 2 ('sgd', 'momentum', 'adam', ...), one
    path each, ``fastgd.optimize.minimize(fun, x0, jac, optimizer=name,
    learning_rate=..., max_iter=max_iter, return_path=True).path``, drawn as
    ``ax.lines[k]`` for ``optimizers[k]`` (legend: the name, the learning rate and the
    steps taken).
    ``learning_rates``: None (each rule's default eta0 of ``fastgd._rules.RULES``: 0.01
    for sgd, momentum, nag, adagrad; 0.001 for rmsprop and the adam family; 1.0 for
    adadelta), one float or schedule for all, or a dict name -> value. ``hyper``: a dict
    name -> dict of the rule's hyper-parameters (momentum, rho, beta_1, ...).
    ``stop_below``: end each path at the first step with f(x) - f(x_min) <= stop_below
    (the minimum must be known; through ``minimize``'s callback), e.g. to draw the
    descent of each rule and not its later wandering round the minimum.

    Contour levels are log-spaced when the function is positive on the window (Beale,
    Rosenbrock, the ellipse), linear otherwise (the saddle); ``levels`` overrides.
    ``xlim``, ``ylim``: the window (default: around x0, the minimum and the paths).
    The start is a black dot, each path's last point a dot of its colour, the minimum (when known) a star. ``legend_kw``: keyword
    arguments of ``ax.legend`` (placement, font size). Returns the Figure; the
    results of ``minimize`` are in ``fig.fastgd_results`` (a dict name -> result).
    """
    from fastgd._rules import RULES
    from fastgd.optimize import minimize

    label, fun, jac, x_min = _function(name_or_fun)
    x0 = np.asarray(x0, dtype=np.float64).ravel()
    if x0.shape != (2,):
        raise ValueError(f"plot_trajectories draws functions of 2 variables; x0 has "
                         f"shape {x0.shape}")
    optimizers = [optimizers] if isinstance(optimizers, str) else list(optimizers)
    if not optimizers:
        raise ValueError("optimizers: give at least one rule name")
    rates = _per_optimizer(learning_rates, optimizers, "learning_rates")
    hypers = _per_optimizer(dict(hyper or {}), optimizers, "hyper")
    callback = None
    if stop_below is not None:
        if x_min is None:
            raise ValueError("stop_below needs the minimum: a TEST_FUNCTIONS name with "
                             "one, or (fun, jac, x_min)")
        f_min = float(fun(x_min))

        def callback(x):
            return float(fun(x)) - f_min <= stop_below

    results = {}
    for name in optimizers:
        if name not in RULES:
            raise ValueError(f"unknown optimizer {name!r}; the rules are {sorted(RULES)}")
        lr = RULES[name].eta0 if rates[name] is None else rates[name]
        rates[name] = lr
        results[name] = minimize(fun, x0, jac, optimizer=name, learning_rate=lr,
                                 max_iter=max_iter, return_path=True,
                                 callback=callback, **(hypers[name] or {}))
    xlim, ylim = _window(x0, x_min, [r.path for r in results.values()], xlim, ylim)
    fig, ax = _axes(ax, figsize)
    _contours(ax, fun, xlim, ylim, levels, resolution)
    colors = _pyplot().rcParams["axes.prop_cycle"].by_key()["color"]
    styles = ("-", "--", "-.", ":")
    for k, name in enumerate(optimizers):
        path = results[name].path
        lr = rates[name]
        rate = f"η={lr:g}" if isinstance(lr, (int, float)) else repr(lr)
        text = f"{name} ({rate}, {results[name].nit} steps)"
        ax.plot(path[:, 0], path[:, 1], ls=styles[k % len(styles)], lw=1.8,
                color=colors[k % len(colors)], label=text, zorder=3 + len(optimizers) - k,
                marker="o", ms=5, markevery=[len(path) - 1])  # a dot where it ends
    ax.scatter([x0[0]], [x0[1]], c="k", s=25, zorder=5)
    if x_min is not None:
        ax.scatter([x_min[0]], [x_min[1]], marker="*", s=160, c="gold", edgecolors="k",
                   zorder=6, label="minimum")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title if title is not None else
                 f"{label}: {max_iter} steps from ({x0[0]:g}, {x0[1]:g})", fontsize=10)
    ax.legend(**{"fontsize": 8, "loc": "best", "framealpha": 0.85, **(legend_kw or {})}
              ).set_zorder(10 + len(optimizers))
    fig.fastgd_results = results
    return fig


# -------------------------------------------------------------- loss curves
def plot_loss_curves(estimators, labels=None, ax=None, *, figsize=(6.4, 4.4),
                     title=None, logy=True):
    """The ``loss_curve_`` of fitted fastgd estimators against the epoch, log y.

    ``loss_curve_[k]`` is the objective of epoch k + 1 that the stopping rule compares
    (the mean loss over the epoch's steps plus the penalty, see ``SGDClassifier``).
    ``labels``: one per estimator (default: its ``optimizer``). One line per estimator,
    ``ax.lines[k]`` for ``estimators[k]``. Returns the Figure.
    """
    estimators = list(estimators)
    if labels is None:
        labels = [getattr(e, "optimizer", type(e).__name__) for e in estimators]
    labels = list(labels)
    if len(labels) != len(estimators):
        raise ValueError(f"{len(labels)} labels for {len(estimators)} estimators")
    curves = []
    for est, text in zip(estimators, labels):
        curve = np.asarray(getattr(est, "loss_curve_", []), dtype=np.float64)
        if curve.size == 0:
            raise ValueError(
                f"{text}: empty loss_curve_ (not fitted, or the plain optimizer='sgd' "
                "path with tol=None, which skips it as scikit-learn does: fit with a tol, "
                "e.g. tol=0 and n_iter_no_change=max_iter to run every epoch)")
        curves.append(curve)
    fig, ax = _axes(ax, figsize)
    for curve, text in zip(curves, labels):
        ax.plot(np.arange(1, curve.size + 1), curve, marker="o", ms=2.5, label=text)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("objective (loss_curve_)")
    if title is not None:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    return fig


# -------------------------------------------------------------- convergence
def plot_convergence(curves, x="seconds", ax=None, *, targets=(), floor=1e-16,
                     logx=None, title=None, xlabel=None, ylabel="(F - F*) / |F*|",
                     figsize=(8, 5.5), legend_kw=None):
    """Suboptimality against seconds or epochs, one curve per solver.

    ``curves``: a mapping label -> record, a record being a dict with ``'subopt'`` (the
    suboptimality, e.g. (F - F*) / |F*|), the x values under ``'seconds'`` and/or
    ``'epochs'``, and optionally ``'style'``, keyword arguments of ``ax.plot`` (e.g.
    ``{'ls': '--'}`` for peers). ``x``: 'seconds' or 'epochs'. Values below ``floor``
    are drawn at ``floor`` (log y); non-finite points are dropped. ``targets``: grey
    horizontal lines (drawn after the curves). ``logx``: log x axis (default: for
    seconds). ``ax.lines[k]`` is the k-th curve of ``curves``. Returns the Figure.
    """
    if x not in ("seconds", "epochs"):
        raise ValueError(f"x must be 'seconds' or 'epochs'; got {x!r}")
    fig, ax = _axes(ax, figsize)
    for text, rec in dict(curves).items():
        if x not in rec or "subopt" not in rec:
            raise ValueError(f"curve {text!r} needs {x!r} and 'subopt'")
        xs = np.asarray(rec[x], dtype=np.float64)
        ys = np.asarray(rec["subopt"], dtype=np.float64)
        if xs.shape != ys.shape:
            raise ValueError(f"curve {text!r}: {x} and subopt differ in length")
        keep = np.isfinite(xs) & np.isfinite(ys)
        style = {"marker": "o", "ms": 3, **rec.get("style", {})}
        ax.plot(xs[keep], np.maximum(ys[keep], floor), label=text, **style)
    for eps in targets:
        ax.axhline(eps, color="grey", lw=0.5)
    if logx if logx is not None else x == "seconds":
        ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel if xlabel is not None else
                  "seconds" if x == "seconds" else "epochs")
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title, fontsize=10)
    ax.legend(**({"fontsize": 7, "ncol": 2} if legend_kw is None else legend_kw))
    return fig
