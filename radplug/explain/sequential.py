"""Sequential Monte Carlo p-values for competitive gene-set tests.

Each observed score is compared with the scores of random gene sets drawn one after another. A *hit* is a
random set whose score reaches the observation (ties count as hits). An observation stops drawing as soon
as its hits reach a boundary that is fixed in advance: ``hits`` random sets within the first ``n_initial``
draws (Besag & Clifford, Biometrika 78:301, 1991), then fewer as the draws go on (``stop_hits``), down to
one hit; or when ``n_max`` random sets have been drawn. A score that is clearly unremarkable therefore stops
after a few dozen draws, one that is rare but not extreme after a few hundred or thousand, and a strong set
draws up to ``n_max``, which is what the resolution of its p-value needs.

The p-value is exact for this design: under the null, the observation and the random sets are exchangeable,
so the hit indicators form a Polya urn (P(next draw hits | g hits in n) = (g + 1) / (n + 2)); the
probability of every stopping time and every censored outcome follows by dynamic programming
(``SequentialDesign``). Outcomes are ordered from least to most extreme: stopping early, stopping late,
reaching ``n_max`` with fewer hits. p = P(an outcome at least as extreme) under that law. It is valid,
P(p <= t) <= t for every t, for any null distribution; ties and discrete scores only make it conservative.
Observations of one bin share the same random sets (one stream per bin), and each stops on its own hits.

We write this ourselves: no maintained library offers sequential Monte Carlo p-values over a
caller-supplied sampler (scipy.stats.monte_carlo_test draws a fixed number of resamples).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

#: Hits that stop an observation within the first ``n_initial`` random sets (Besag-Clifford's h).
DEFAULT_HITS = 10


def stop_hits(n: np.ndarray | int, hits: int, n_initial: int) -> np.ndarray:
    """Hits needed to stop after ``n`` random sets: ``hits`` up to ``n_initial``, then
    ``ceil(hits * (n_initial / n) ** 2)``, never below one."""
    n = np.maximum(np.asarray(n, dtype=float), 1.0)
    shrink = np.ceil(hits * np.minimum(1.0, n_initial / n) ** 2 - 1e-9)
    return np.maximum(shrink, 1).astype(np.int64)


@dataclass(frozen=True)
class SequentialDesign:
    """The stopping boundary and the exact null law of its outcomes."""

    hits: int
    n_initial: int
    n_max: int
    p_stop_at: np.ndarray          # index N (1..n_max): p-value of an observation that stopped at draw N
    p_censored: np.ndarray         # index g: p-value of one that reached n_max with g hits

    def p_value(self, stopped_at: np.ndarray, hits_seen: np.ndarray) -> np.ndarray:
        """p-values for outcomes: ``stopped_at`` N > 0 for a stop at draw N, 0 for reaching ``n_max``."""
        stopped_at, hits_seen = np.asarray(stopped_at), np.asarray(hits_seen)
        g = np.clip(hits_seen, 0, len(self.p_censored) - 1)
        return np.where(stopped_at > 0, self.p_stop_at[np.clip(stopped_at, 0, self.n_max)], self.p_censored[g])


@lru_cache(maxsize=16)
def sequential_design(hits: int = DEFAULT_HITS, n_initial: int = 200, n_max: int = 10_000) -> SequentialDesign:
    """Exact outcome probabilities of the stopping rule under the null (Polya urn), by dynamic programming."""
    if n_max < 1 or n_initial < 1 or hits < 1:
        raise ValueError(f"n_initial ({n_initial}), n_max ({n_max}) and hits ({hits}) must be >= 1")
    mass = np.zeros(hits + 1)                   # P(still drawing after n draws, with g hits)
    mass[0] = 1.0
    stop = np.zeros(n_max + 1)                  # P(stop exactly at draw N)
    g = np.arange(hits + 1, dtype=float)
    bound = stop_hits(np.arange(n_max + 1), hits, n_initial)
    for n in range(n_max):                      # draw n + 1
        p_hit = (g + 1) / (n + 2)
        new = mass * (1 - p_hit)
        new[1:] += (mass * p_hit)[:-1]
        b = bound[n + 1]
        stop[n + 1] = new[b:].sum()
        new[b:] = 0.0
        mass = new
    tail = np.cumsum(stop[::-1])[::-1]          # P(stop at >= N)
    censored = mass.sum()
    p_stop_at = np.minimum(tail + censored, 1.0)
    p_censored = np.minimum(np.cumsum(mass), 1.0)
    p_censored = np.maximum(p_censored, p_censored[0])   # more hits than the boundary allows: not reachable
    return SequentialDesign(hits, n_initial, n_max, p_stop_at, p_censored)


@dataclass
class SequentialResult:
    """Per observation (rows) and score column: p-value, random sets drawn, hits and how it stopped; plus
    every null draw per bin."""

    p_value: np.ndarray                 # (m, C)
    n_random: np.ndarray                # (m, C) random sets this observation was compared with
    hits: np.ndarray                    # (m, C) random sets that reached it among those
    stop: np.ndarray                    # (m, C) "hits", "max" (n_max reached), "futile", "decided" or ""
    drawn_per_bin: np.ndarray           # (n_bins,) random sets drawn in each bin
    null: list[np.ndarray] = field(default_factory=list)   # per bin: (drawn, C) null scores in draw order


def _best_reachable(design: SequentialDesign, n_done: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Smallest p-value a still-drawing observation can end with: no further hit until it stops (or n_max)."""
    n_grid = np.arange(design.n_max + 1)
    need = stop_hits(n_grid, design.hits, design.n_initial)
    # first draw N > n_done whose boundary is <= g; need is non-increasing, so search on -need
    first = np.searchsorted(-need, -np.maximum(g, 0), side="left")
    first = np.maximum(first, n_done + 1)
    return np.where((g >= 1) & (first <= design.n_max), design.p_stop_at[np.minimum(first, design.n_max)],
                    design.p_censored[np.clip(g, 0, len(design.p_censored) - 1)])


def sequential_p_values(observed: np.ndarray, bin_of_row: np.ndarray,
                        draw: Callable[[int, int, np.ndarray], np.ndarray], n_initial: int = 200,
                        n_max: int = 10_000, hits: int = DEFAULT_HITS, fdr: float | None = 0.05,
                        progress: Callable[[str], None] | None = None) -> SequentialResult:
    """Sequential p-values for ``observed`` (m, C) scores, one stream of random sets per bin.

    ``draw(bin, n, active_rows)`` returns the (n, C) scores of ``n`` fresh random sets for the bin (it may
    use ``active_rows``, the rows still drawing, e.g. to match their sizes). Each bin draws ``n_initial``
    random sets, then more (growing by half each round, ``n_max`` in all at most) while any of its rows is
    still drawing.

    With ``fdr`` set, each column is one Benjamini-Hochberg family: once its bin has drawn enough random sets
    that a single hit stops an observation, an observation stops early ("futile") when even its smallest
    reachable p-value could not pass BH at level ``fdr`` (BH applied to every row's
    smallest reachable p-value, which bounds the final rejections since BH is monotone). It then gets
    P(not stopped within the draws it saw), which is at least the p-value it would have reached by drawing
    on, so it stays valid. Symmetrically, an observation stops as "decided" when BH already rejects it with
    every still-drawing observation at that same bound (its largest possible p-value): drawing on could only
    lower the p-values, and BH being monotone, it stays rejected. Pass ``fdr=None`` when BH runs over a
    larger family than these rows.
    NaN observations get NaN p-values.
    """
    from radplug.metrics import benjamini_hochberg

    design = sequential_design(hits, min(n_initial, n_max), n_max)
    bin_of_row = np.asarray(bin_of_row)
    observed = np.asarray(observed, dtype=float).reshape(len(bin_of_row), -1)
    m, n_cols = observed.shape
    n_bins = int(bin_of_row.max()) + 1 if m else 0
    g = np.zeros((m, n_cols), dtype=np.int64)
    seen = np.zeros((m, n_cols), dtype=np.int64)
    stop = np.full((m, n_cols), "", dtype=object)
    p = np.full((m, n_cols), np.nan)
    active = ~np.isnan(observed)
    drawn = np.zeros(n_bins, dtype=np.int64)
    chunks: list[list[np.ndarray]] = [[] for _ in range(n_bins)]
    bins = np.unique(bin_of_row)
    # futility stops start where one hit stops an observation: the rows still drawing then have no hit, and
    # P(not stopped yet) is as fine as the draws allow (earlier, it would round their p-values up to ~hits/n)
    one_hit_from = int(np.argmax(stop_hits(np.arange(n_max + 1), hits, design.n_initial) <= 1))
    while True:
        todo = [b for b in bins if drawn[b] < n_max and (drawn[b] < design.n_initial
                                                         or active[bin_of_row == b].any())]
        if not todo:
            break
        for b in todo:
            rows = np.flatnonzero(bin_of_row == b)
            n_done = int(drawn[b])
            n_new = min(max(design.n_initial, n_done // 2), n_max - n_done)      # grow by half
            vals = np.asarray(draw(int(b), n_new, rows[active[rows].any(axis=1)]), dtype=float)
            vals = vals.reshape(n_new, n_cols)
            chunks[b].append(vals)
            need = stop_hits(np.arange(n_done + 1, n_done + n_new + 1), hits, design.n_initial)[:, None]
            for c in range(n_cols):
                act = rows[active[rows, c]]
                if act.size == 0:
                    continue
                reach = vals[:, c][:, None] >= observed[act, c][None, :]        # NaN null scores never reach
                cum = g[act, c][None, :] + np.cumsum(reach, axis=0)
                crossed = cum >= need
                done = crossed.any(axis=0)
                first = np.argmax(crossed, axis=0)
                seen[act, c] = np.where(done, n_done + first + 1, n_done + n_new)
                g[act, c] = np.where(done, cum[first, np.arange(act.size)], cum[-1])
                p[act[done], c] = design.p_stop_at[seen[act[done], c]]
                stop[act[done], c] = "hits"
                active[act[done], c] = False
            drawn[b] = n_done + n_new
            at_max = active[rows] & (drawn[b] >= n_max)
            if at_max.any():
                r, c = np.nonzero(at_max)
                p[rows[r], c] = design.p_censored[np.clip(g[rows[r], c], 0, len(design.p_censored) - 1)]
                stop[rows[r], c] = "max"
                active[rows[r], c] = False
        if fdr is not None:
            for c in range(n_cols):
                act = np.flatnonzero(active[:, c])
                if act.size == 0:
                    continue
                best, upper = p[:, c].copy(), p[:, c].copy()
                best[act] = _best_reachable(design, seen[act, c], g[act, c])
                upper[act] = design.p_stop_at[np.minimum(seen[act, c] + 1, n_max)]
                late = act[drawn[bin_of_row[act]] >= one_hit_from]
                hopeless = late[~(benjamini_hochberg(best)[late] <= fdr)]
                decided = late[benjamini_hochberg(upper)[late] <= fdr]
                for done_rows, why in ((hopeless, "futile"), (decided, "decided")):
                    p[done_rows, c] = upper[done_rows]
                    stop[done_rows, c] = why
                    active[done_rows, c] = False
        if progress is not None:
            progress(f"{int(drawn.sum())} random sets drawn in {len(todo)} size bins; "
                     f"{int(active.any(axis=1).sum())} of {m} sets still drawing")
    null = [np.concatenate(ch) if ch else np.empty((0, n_cols)) for ch in chunks]
    ok = ~np.isnan(observed)
    return SequentialResult(np.where(ok, p, np.nan), np.where(ok, seen, 0), np.where(ok, g, 0),
                            np.where(ok, stop, ""), drawn, null)


def mann_whitney_aucs(n_pos: int, n_neg: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` AUCs of random scores against fixed labels (ties included): the null law of a masking AUC
    on a cohort of ``n_pos`` + ``n_neg`` patients."""
    n = n_pos + n_neg
    ranks = np.argsort(rng.random((size, n)), axis=1)[:, :n_pos].sum(axis=1) + n_pos
    return (ranks - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def global_null_error_rates(m: int, repetitions: int, seed: int = 0, n_bins: int = 1, n_pos: int = 9,
                            n_neg: int = 9, fdr: float = 0.05, **options) -> dict[str, float]:
    """Error rates of radplug's masking significance under the global null: ``m`` observed AUCs drawn from
    the same law as the random sets' (``mann_whitney_aucs``), sequential p-values with the defaults (or
    ``options``), BH at ``fdr`` over the ``m`` sets. Returns P(any q < fdr), the mean fraction of p < 0.05
    and of p < 0.01, and the mean number of random sets drawn."""
    from radplug.metrics import benjamini_hochberg

    rng = np.random.default_rng(seed)
    any_q, below_05, below_01, drawn = [], [], [], []
    for _ in range(repetitions):
        obs = mann_whitney_aucs(n_pos, n_neg, m, rng)[:, None]
        res = sequential_p_values(obs, np.arange(m) % n_bins,
                                  lambda b, n, a: mann_whitney_aucs(n_pos, n_neg, n, rng)[:, None], fdr=fdr,
                                  **options)
        p = res.p_value[:, 0]
        any_q.append(bool((benjamini_hochberg(p) < fdr).any()))
        below_05.append(float((p < 0.05).mean()))
        below_01.append(float((p < 0.01).mean()))
        drawn.append(int(res.drawn_per_bin.sum()))
    return {"any_q": float(np.mean(any_q)), "below_05": float(np.mean(below_05)),
            "below_01": float(np.mean(below_01)), "drawn": float(np.mean(drawn))}
