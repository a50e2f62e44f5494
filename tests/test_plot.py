"""fastgd.plot on its content (Agg backend): the axes, one line per optimizer or
estimator or curve, the data of each line (the paths are ``minimize(...).path``, the
loss curves ``loss_curve_``), the legend's texts and the log scales."""

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from fastgd import SGDClassifier  # noqa: E402
from fastgd.optimize import TEST_FUNCTIONS, minimize  # noqa: E402
from fastgd.plot import plot_convergence, plot_loss_curves, plot_trajectories  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _legend(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


# -------------------------------------------------------------- trajectories
def test_trajectories_one_path_per_optimizer_equal_to_minimize():
    opts = ["sgd", "momentum", "adam"]
    rates = {"sgd": 1e-3, "momentum": 1e-3, "adam": 0.05}
    fig = plot_trajectories("rosenbrock", (-1.5, 2.0), opts, max_iter=60,
                            learning_rates=rates)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert len(ax.lines) == len(opts)
    fun, jac, _ = TEST_FUNCTIONS["rosenbrock"]
    for line, opt in zip(ax.lines, opts):
        path = minimize(fun, (-1.5, 2.0), jac, optimizer=opt, learning_rate=rates[opt],
                        max_iter=60, return_path=True).path
        assert path.shape == (61, 2)
        np.testing.assert_array_equal(line.get_xydata(), path)
        np.testing.assert_array_equal(fig.fastgd_results[opt].path, path)
    assert _legend(ax) == ["sgd (η=0.001, 60 steps)", "momentum (η=0.001, 60 steps)",
                           "adam (η=0.05, 60 steps)", "minimum"]
    # the minimum (1, 1) is marked, and the start
    offsets = np.vstack([c.get_offsets() for c in ax.collections
                         if len(c.get_offsets()) == 1])
    assert any(np.allclose(o, (1.0, 1.0)) for o in offsets)
    assert any(np.allclose(o, (-1.5, 2.0)) for o in offsets)


def test_trajectories_default_rates_are_the_rules_eta0():
    from fastgd._rules import RULES

    fig = plot_trajectories("ellipse", (-4.0, 0.4), ["nag", "adadelta"], max_iter=5)
    ax = fig.axes[0]
    assert _legend(ax)[:2] == [f"nag (η={RULES['nag'].eta0:g}, 5 steps)",
                               f"adadelta (η={RULES['adadelta'].eta0:g}, 5 steps)"]
    assert [len(line.get_xdata()) for line in ax.lines] == [6, 6]


def test_trajectories_contour_levels_log_for_positive_linear_for_the_saddle():
    fig = plot_trajectories("beale", (1.0, 1.5), ["adam"], max_iter=10,
                            learning_rates=0.1)
    (cs,) = [c for c in fig.axes[0].collections if hasattr(c, "levels")]
    ratios = cs.levels[1:] / cs.levels[:-1]
    assert np.all(cs.levels > 0)
    np.testing.assert_allclose(ratios, ratios[0])  # geometric: log-spaced

    fig = plot_trajectories("saddle", (1.0, 1e-3), ["sgd", "adam"], max_iter=10,
                            learning_rates=0.01, xlim=(-1, 1), ylim=(-1, 1))
    ax = fig.axes[0]
    (cs,) = [c for c in ax.collections if hasattr(c, "levels")]
    assert cs.levels.min() < 0 < cs.levels.max()
    steps = np.diff(cs.levels)
    np.testing.assert_allclose(steps, steps[0])  # evenly spaced
    assert ax.get_xlim() == (-1, 1) and ax.get_ylim() == (-1, 1)
    assert "minimum" not in _legend(ax)  # the saddle has none


def test_trajectories_user_function_and_jac_none():
    def bowl(x):
        return (x[0] - 1.0) ** 2 + 2.0 * (x[1] + 0.5) ** 2

    fig = plot_trajectories((bowl, None, (1.0, -0.5)), (0.0, 0.0), ["sgd"], max_iter=30,
                            learning_rates=0.1)
    ax = fig.axes[0]
    expected = minimize(bowl, (0.0, 0.0), None, optimizer="sgd", learning_rate=0.1,
                        max_iter=30, return_path=True).path
    np.testing.assert_array_equal(ax.lines[0].get_xydata(), expected)
    assert np.allclose(expected[-1], (1.0, -0.5), atol=1e-2)
    assert _legend(ax) == ["sgd (η=0.1, 30 steps)", "minimum"]


def test_trajectories_stop_below_ends_each_path_at_the_level():
    fun, jac, x_min = TEST_FUNCTIONS["ellipse"]
    fig = plot_trajectories("ellipse", (-4.0, 0.4), ["nag", "adam"], max_iter=5000,
                            learning_rates={"nag": 0.01, "adam": 0.1}, stop_below=1e-2)
    ax = fig.axes[0]
    for line, opt in zip(ax.lines, ["nag", "adam"]):
        path = line.get_xydata()
        gaps = np.array([fun(p) for p in path]) - fun(x_min)
        assert gaps[-1] <= 1e-2 < gaps[:-1].min()  # ends at the first step below
        assert fig.fastgd_results[opt].nit == len(path) - 1 < 5000
    assert _legend(ax)[0] == f"nag (η=0.01, {len(ax.lines[0].get_xdata()) - 1} steps)"
    with pytest.raises(ValueError, match="needs the minimum"):
        plot_trajectories("saddle", (1.0, 0.1), ["sgd"], stop_below=1e-2)


def test_trajectories_draws_into_a_given_axes():
    fig, axes = plt.subplots(1, 2)
    out = plot_trajectories("ellipse", (-4.0, 0.4), ["sgd", "nag"], max_iter=20,
                            ax=axes[1])
    assert out is fig
    assert len(axes[0].lines) == 0 and len(axes[1].lines) == 2


def test_trajectories_bad_input():
    with pytest.raises(ValueError, match="unknown test function"):
        plot_trajectories("himmelblau", (0, 0), ["sgd"])
    with pytest.raises(ValueError, match="unknown optimizer"):
        plot_trajectories("ellipse", (0, 1), ["lbfgs"])
    with pytest.raises(ValueError, match="2 variables"):
        plot_trajectories("ellipse", (0, 1, 2), ["sgd"])
    with pytest.raises(ValueError, match="not drawn"):
        plot_trajectories("ellipse", (0, 1), ["sgd"], learning_rates={"adam": 0.1})


# -------------------------------------------------------------- loss curves
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_loss_curves_one_line_per_estimator_log_y(clf_data):
    X, y = clf_data[2]
    opts = ["sgd", "adagrad", "adam"]
    fits = [SGDClassifier(loss="log_loss", optimizer=o, max_iter=7, tol=0.0,
                          n_iter_no_change=7, random_state=0).fit(X, y) for o in opts]
    fig = plot_loss_curves(fits)
    ax = fig.axes[0]
    assert len(fig.axes) == 1 and len(ax.lines) == 3
    assert ax.get_yscale() == "log"
    assert _legend(ax) == opts
    for line, est in zip(ax.lines, fits):
        assert len(est.loss_curve_) == 7
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, 8))
        np.testing.assert_array_equal(line.get_ydata(), est.loss_curve_)
    fig = plot_loss_curves(fits[:2], labels=["a", "b"], logy=False)
    assert _legend(fig.axes[0]) == ["a", "b"]
    assert fig.axes[0].get_yscale() == "linear"


def test_loss_curves_refuse_an_empty_curve(clf_data):
    X, y = clf_data[2]
    plain = SGDClassifier(loss="log_loss", max_iter=3, tol=None, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="empty loss_curve_"):
        plot_loss_curves([plain])
    with pytest.raises(ValueError, match="labels"):
        plot_loss_curves([plain], labels=["a", "b"])


# -------------------------------------------------------------- convergence
def test_convergence_seconds_and_epochs():
    curves = {
        "fastgd": dict(seconds=[0.1, 0.2, 0.4], epochs=[1, 2, 3],
                       subopt=[1e-2, 1e-4, 0.0]),
        "peer": dict(seconds=[0.3, 0.6, np.nan], epochs=[1, 2, 3],
                     subopt=[1e-1, 1e-3, 1e-5], style={"ls": "--"}),
    }
    fig = plot_convergence(curves, x="seconds", targets=(1e-2, 1e-4), floor=1e-12,
                           title="t")
    ax = fig.axes[0]
    assert len(ax.lines) == 2 + 2  # two curves, then the two target lines
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert _legend(ax) == ["fastgd", "peer"]
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [0.1, 0.2, 0.4])
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [1e-2, 1e-4, 1e-12])  # floor
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), [0.3, 0.6])  # NaN dropped
    assert ax.lines[1].get_linestyle() == "--"
    assert [line.get_ydata()[0] for line in ax.lines[2:]] == [1e-2, 1e-4]
    assert ax.get_title() == "t"

    fig = plot_convergence(curves, x="epochs")
    ax = fig.axes[0]
    assert ax.get_xscale() == "linear" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "epochs"
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), [1, 2, 3])


def test_convergence_bad_input():
    with pytest.raises(ValueError, match="'seconds' or 'epochs'"):
        plot_convergence({}, x="iterations")
    with pytest.raises(ValueError, match="needs 'epochs'"):
        plot_convergence({"a": dict(seconds=[1.0], subopt=[1.0])}, x="epochs")
    with pytest.raises(ValueError, match="differ in length"):
        plot_convergence({"a": dict(seconds=[1.0, 2.0], subopt=[1.0])})
