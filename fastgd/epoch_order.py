"""Epoch orders for data read from disk: a block-wise shuffle.

A full permutation visits rows in random order, so an epoch over a memory-mapped CSR
larger than the page cache reads the disk at random, a page per row. ``block_shuffle``
shuffles blocks of ``block_rows`` consecutive rows, then the rows inside each block:
the reads of one block stay within a contiguous stretch of the file (which the page
cache holds), and the blocks are read whole, one after another.

Statistical price: a sample's neighbours in an epoch come from the same block, so
consecutive steps are correlated whenever the file is ordered (by time, by label, by
source). With rows in random order on disk it costs nothing; with a file sorted by
label, a block holds a single class and SGD drifts towards it block by block. The
benchmark ``benchmarks/bench_ooc.py`` measures the objective after k epochs against a
full shuffle (README, "Out-of-core data").
"""

import numpy as np


def block_shuffle(rng, idx, block_rows):
    """``idx`` in block-wise shuffled order: the blocks of ``block_rows`` consecutive
    entries in a random order, each block's entries permuted; draws from ``rng``."""
    block_rows = int(block_rows)
    if block_rows < 1:
        raise ValueError(f"block_rows must be >= 1; got {block_rows}")
    idx = np.asarray(idx)
    starts = np.arange(0, idx.shape[0], block_rows)
    return np.concatenate([rng.permutation(idx[s:s + block_rows])
                           for s in rng.permutation(starts)] or [idx[:0]])
