"""The ``progress=True`` bar of a fit: a tqdm bar over epochs, fed by the engine's
per-epoch ``callback`` (``_engine.fit_binary``, ``_vr.fit_vr``), on stderr."""

import time


class EpochBar:
    """A tqdm bar of one binary (or regression) problem: epoch, objective, samples/s.

    Use as a context manager; call it as the engine's ``callback(epoch, w, b, objective)``.
    ``objective`` is what ``loss_curve_`` records for the epoch.
    """

    def __init__(self, max_iter, n_samples, desc="fit"):
        from tqdm import tqdm  # imported by the first bar only

        self.n_samples = n_samples
        self.bar = tqdm(total=max_iter, desc=desc, unit="epoch", dynamic_ncols=True)
        self.last = time.perf_counter()

    def __call__(self, epoch, w, b, objective):
        now = time.perf_counter()
        rate = self.n_samples / max(now - self.last, 1e-9)
        self.last = now
        self.bar.set_postfix_str(f"objective={objective:.6g}, {rate:,.0f} samples/s",
                                 refresh=False)
        self.bar.update(1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.bar.n < self.bar.total:  # stopped early (tol): the bar ends where it did
            self.bar.total = self.bar.n
            self.bar.refresh()
        self.bar.close()
