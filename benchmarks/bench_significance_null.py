"""Benchmark: calibration of masking significance under the global null, at GO scale and below.

For m = 50, 700 and 7,647 sets, ``repetitions`` times: m observed masking AUCs drawn from the same law as
the random sets' (random scores on 9 + 9 test patients, so AUCs are discrete and tie), sequential p-values
with radplug's defaults, Benjamini-Hochberg at 0.05. Prints P(any q < 0.05) (BH promises <= 0.05 under the
global null), the fractions of p < 0.05 and p < 0.01, and the random sets drawn per repetition.

    python benchmarks/bench_significance_null.py [--repetitions 400] [--bins 1]
"""

from __future__ import annotations

import argparse
import math
import sys
import time


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repetitions", type=int, default=400)
    ap.add_argument("--bins", type=int, default=1, help="size bins the m sets are spread over")
    ap.add_argument("--sizes", default="50,700,7647")
    a = ap.parse_args(argv)

    from radplug.explain.sequential import global_null_error_rates

    for m in (int(x) for x in a.sizes.split(",")):
        t0 = time.perf_counter()
        r = global_null_error_rates(m, a.repetitions, seed=m, n_bins=a.bins)
        se = math.sqrt(0.05 * 0.95 / a.repetitions)
        print(f"m={m:5d} bins={a.bins} reps={a.repetitions}: P(any q<0.05)={r['any_q']:.4f} (+-{se:.4f}), "
              f"p<0.05 {r['below_05']:.4f}, p<0.01 {r['below_01']:.4f}, random sets drawn {r['drawn']:.0f} "
              f"per repetition; {time.perf_counter() - t0:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
