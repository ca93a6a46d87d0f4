#!/usr/bin/env python3
"""Independent reference values for nbops drift statistics, computed with scipy and numpy.

    /usr/bin/python3 scripts/drift_reference.py [--out test/fixtures/drift/reference.json]

Prints (or writes) JSON: the deterministic datasets' specifications and, for each case, what
scipy.stats / scipy.spatial / numpy return. test/unit/drift regenerates the same datasets in
TypeScript from the specifications and compares nbops's results with these values to 1e-9
relative. The committed fixture lets machines without scipy check too; when scipy is present the
tests also run this script live and check the fixture is current.

Definitions (see docs/drift.md):
- ks: scipy.stats.ks_2samp(ref, cur) (two-sided, method='auto').
- wasserstein: scipy.stats.wasserstein_distance(ref, cur) / max(numpy.std(ref), 0.001) (Evidently).
- psi, js: Evidently's binning (numeric with > 20 distinct reference values: numpy 'sturges' edges
  over ref and cur together, else one bin per value); psi fills empty bins as Evidently does;
  js = scipy.spatial.distance.jensenshannon(ref_shares, cur_shares, base=2) (a distance).
- chi2: scipy.stats.chi2_contingency([ref_counts, cur_counts], correction=False) after merging sparse
  categories (Deequ's rule, stopping at two categories; regroup() below).
- z: Evidently's two-proportion z for the share not in the first sorted category; p = 2·norm.sf(|z|).
- linf: max |share_ref - share_cur| over categories (Deequ); numeric linf is the KS statistic.

Only the Python standard library plus numpy and scipy (Debian python3-scipy) are needed.
"""

import argparse
import json
import math
import sys

import numpy as np
import scipy
from scipy import special, stats
from scipy.spatial import distance


# ---------------------------------------------------------------------------------------------
# Deterministic data, reproduced bit for bit by test/unit/drift/datasets.ts


def mulberry32(seed):
    """32-bit generator; values are integers / 2**32, so every derived value is exact in both languages."""
    state = seed & 0xFFFFFFFF

    def imul(a, b):
        return (a * b) & 0xFFFFFFFF

    def draw():
        nonlocal state
        state = (state + 0x6D2B79F5) & 0xFFFFFFFF
        t = state
        t = imul(t ^ (t >> 15), t | 1)
        t = t ^ ((t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF)
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296

    return draw


def generate(spec):
    """Numbers (or category labels) for a dataset specification."""
    draw = mulberry32(spec["seed"])
    kind = spec["kind"]
    n = spec["n"]
    out = []
    for _ in range(n):
        if kind in ("normal", "integer-normal"):
            z = 0.0
            for _ in range(12):
                z += draw()
            value = spec["mean"] + spec["sd"] * (z - 6)
            out.append(float(math.floor(value)) if kind == "integer-normal" else value)
        elif kind == "uniform-int":
            out.append(float(math.floor(draw() * spec["k"])))
        elif kind == "constant":
            out.append(spec["value"])
        elif kind == "category":
            u = draw()
            skew = spec.get("skew", 1)
            index = math.floor((u ** skew) * spec["k"])
            out.append(spec.get("prefix", "c") + str(index + spec.get("offset", 0)))
        else:
            raise ValueError(f"unknown dataset kind {kind}")
    return out


# ---------------------------------------------------------------------------------------------
# Evidently's binning and the statistics built on it


def binned_shares(ref, cur, numeric, fill_zeroes):
    ref_series = np.asarray(ref, dtype=float if numeric else object)
    cur_series = np.asarray(cur, dtype=float if numeric else object)
    if numeric and len(set(ref)) > 20:
        edges = np.histogram_bin_edges(np.concatenate([ref_series, cur_series]), bins="sturges")
        ref_shares = np.histogram(ref_series, edges)[0] / len(ref)
        cur_shares = np.histogram(cur_series, edges)[0] / len(cur)
    else:
        keys = sorted(set(ref) | set(cur))
        ref_counts = {k: 0 for k in keys}
        cur_counts = {k: 0 for k in keys}
        for v in ref:
            ref_counts[v] += 1
        for v in cur:
            cur_counts[v] += 1
        ref_shares = np.array([ref_counts[k] / len(ref) for k in keys])
        cur_shares = np.array([cur_counts[k] / len(cur) for k in keys])
    if fill_zeroes:
        for shares in (ref_shares, cur_shares):
            smallest = min(shares[shares != 0])
            np.place(shares, shares == 0, smallest / 10**6 if smallest <= 0.0001 else 0.0001)
    return ref_shares, cur_shares


def psi(ref, cur, numeric):
    r, c = binned_shares(ref, cur, numeric, True)
    return float(np.sum((r - c) * np.log(r / c)))


def js(ref, cur, numeric):
    r, c = binned_shares(ref, cur, numeric, False)
    return float(distance.jensenshannon(r, c, base=2))


def sort_key(value):
    return (0, value, "") if isinstance(value, float) else (1, 0.0, value)


def regroup(ref, cur):
    """Columns (reference count, current count) after merging sparse categories (Deequ's rule)."""
    keys = sorted(set(ref) | set(cur), key=sort_key)
    columns = [[k, ref.count(k), cur.count(k)] for k in keys]
    n_ref, n_cur = len(ref), len(cur)
    total = n_ref + n_cur
    smaller = min(n_ref, n_cur)
    while len(columns) > 2:
        sparse = [c for c in columns if smaller * (c[1] + c[2]) / total < 5]
        if len(sparse) <= int(0.2 * len(columns)):
            break
        order = sorted(columns, key=lambda c: (c[1] + c[2], sort_key(c[0])))
        smallest, following = order[0], order[1]
        following[1] += smallest[1]
        following[2] += smallest[2]
        columns.remove(smallest)
    return columns


def chi2(ref, cur):
    columns = regroup(ref, cur)
    if len(columns) < 2:
        return {"statistic": 0.0, "pValue": 1.0, "dof": 0, "groups": len(columns)}
    table = np.array([[c[1] for c in columns], [c[2] for c in columns]], dtype=float)
    statistic, p, dof, _ = stats.chi2_contingency(table, correction=False)
    return {"statistic": float(statistic), "pValue": float(p), "dof": int(dof), "groups": len(columns)}


def ztest(ref, cur):
    keys = sorted(set(ref) | set(cur), key=sort_key)
    if len(keys) < 2:
        return {"statistic": 0.0, "pValue": 1.0}
    first = keys[0]
    n1, n2 = len(ref), len(cur)
    p1 = sum(0 if x == first else 1 for x in ref) / n1
    p2 = sum(0 if x == first else 1 for x in cur) / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    return {"statistic": float(z), "pValue": float(2 * stats.norm.sf(abs(z)))}


def linf_categorical(ref, cur):
    keys = set(ref) | set(cur)
    return float(max(abs(ref.count(k) / len(ref) - cur.count(k) / len(cur)) for k in keys))


# ---------------------------------------------------------------------------------------------
# Cases

N = lambda seed, n, mean=0.0, sd=1.0: {"kind": "normal", "seed": seed, "n": n, "mean": mean, "sd": sd}  # noqa: E731
INT = lambda seed, n, mean, sd: {"kind": "integer-normal", "seed": seed, "n": n, "mean": mean, "sd": sd}  # noqa: E731
UNI = lambda seed, n, k: {"kind": "uniform-int", "seed": seed, "n": n, "k": k}  # noqa: E731
CAT = lambda seed, n, k, **kw: {"kind": "category", "seed": seed, "n": n, "k": k, **kw}  # noqa: E731
CONST = lambda n, value: {"kind": "constant", "seed": 0, "n": n, "value": value}  # noqa: E731

NUMERIC_PAIRS = [
    ("small exact, unequal sizes", N(1, 37), N(2, 53, 0.3)),
    ("equal sizes", N(3, 50), N(4, 50, 0.2)),
    ("ties (integers)", INT(5, 100, 10, 3), INT(6, 100, 10.5, 3)),
    ("n 1000 vs 1000", N(7, 1000), N(8, 1000, 0.05)),
    ("n 1000 vs 10000 (exact)", N(9, 1000), N(10, 10000, 0.05)),
    ("n 800 vs 10001 (asymptotic)", N(11, 800), N(12, 10001, 0.1)),
    ("n 9999 vs 10000 (exact, large)", N(13, 9999), N(14, 10000, 0.03)),
    ("n 2000 vs 30000 (asymptotic)", N(15, 2000), N(16, 30000, 0.02)),
    ("strong shift, tiny p", N(17, 200), N(18, 300, 5)),
    ("identical samples", N(19, 500), N(19, 500)),
    ("disjoint supports", N(20, 300), N(21, 400, 100)),
    ("few values (uniform ints 0-3)", UNI(22, 600, 4), UNI(23, 700, 5)),
    ("constant reference", CONST(200, 3.0), N(24, 150, 3.0, 0.5)),
    ("one value each", N(25, 1), N(26, 1, 1)),
    ("scaled wide", N(27, 2500, 1000, 250), N(28, 3000, 1040, 260)),
]

CATEGORICAL_PAIRS = [
    ("three categories", CAT(30, 800, 3), CAT(31, 900, 3, skew=1.3)),
    ("many categories with sparse tail", CAT(32, 700, 80, skew=4), CAT(33, 650, 80, skew=3.5)),
    ("new categories in current", CAT(34, 500, 5), CAT(35, 600, 7)),
    ("disjoint categories", CAT(36, 400, 4), CAT(37, 300, 4, prefix="d")),
    ("identical", CAT(38, 1000, 6), CAT(38, 1000, 6)),
    ("large", CAT(39, 5000, 12, skew=1.5), CAT(40, 20000, 12, skew=1.6)),
]

TWO_CATEGORY_PAIRS = [
    ("balanced", CAT(50, 900, 2), CAT(51, 1100, 2, skew=1.2)),
    ("one category only", CAT(52, 300, 1), CAT(53, 200, 1)),
    ("one shared, one new", CAT(54, 300, 1), CAT(55, 250, 2)),
]


def digest(values):
    """What the TypeScript side checks first: the data are the same (first values, exact sum or counts)."""
    if isinstance(values[0], str):
        counts = {}
        for v in values:
            counts[v] = counts.get(v, 0) + 1
        return {"first": values[:3], "counts": dict(sorted(counts.items()))}
    return {"first": values[:3], "sum": math.fsum(values)}


def numeric_case(name, ref_spec, cur_spec):
    ref = generate(ref_spec)
    cur = generate(cur_spec)
    ks = stats.ks_2samp(ref, cur)
    wd = stats.wasserstein_distance(ref, cur)
    std = float(np.std(ref))
    return {
        "name": name,
        "reference": ref_spec,
        "current": cur_spec,
        "check": [digest(ref), digest(cur)],
        "ks": {"statistic": float(ks.statistic), "pValue": float(ks.pvalue)},
        "wasserstein": {"distance": float(wd), "std": std, "normalised": float(wd / max(std, 0.001))},
        "psi": psi(ref, cur, True),
        "js": js(ref, cur, True),
    }


def categorical_case(name, ref_spec, cur_spec):
    ref = generate(ref_spec)
    cur = generate(cur_spec)
    return {
        "name": name,
        "reference": ref_spec,
        "current": cur_spec,
        "check": [digest(ref), digest(cur)],
        "chi2": chi2(ref, cur),
        "psi": psi(ref, cur, False),
        "js": js(ref, cur, False),
        "linf": linf_categorical(ref, cur),
        "z": ztest(ref, cur) if len(set(ref) | set(cur)) <= 2 else None,
    }


def special_values():
    kstwo = []
    for n in [1, 2, 3, 5, 10, 50, 100, 140, 141, 500, 741, 1000, 9901]:
        for x in [0.0005, 0.002, 0.01, 0.03, 0.08, 0.15, 0.3, 0.5, 0.7, 0.7 / n, 1.5 / n, 1 - 1.5 / n]:
            if 0 < x < 1:
                kstwo.append([n, x, float(stats.kstwo.sf(x, n))])
    # Large n: the Pelz-Good region (n·x² < 2.2) and, once, the Smirnov sum with ~100,000 terms.
    for n, x in [(100001, 0.0005), (100001, 0.002), (100001, 0.0045), (150000, 0.005)]:
        kstwo.append([n, x, float(stats.kstwo.sf(x, n))])
    smirnov = [[n, x, float(special.smirnov(n, x))] for n, x, _ in kstwo if n <= 10000]
    chi2sf = [
        [x, df, float(stats.chi2.sf(x, df))]
        for df in [1, 2, 3, 5, 10, 29, 100, 999]
        for x in [0.001, 0.5, 1, 3.5, 10, 50, 200, 1000, 3000]
    ]
    normal = [[z, float(2 * stats.norm.sf(z))] for z in [0, 0.25, 1, 1.96, 3, 6, 10, 20, 37]]
    return {"kstwo": kstwo, "smirnov": smirnov, "chi2": chi2sf, "normalTwoSided": normal}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write the JSON here instead of stdout")
    args = parser.parse_args()
    document = {
        "generator": "scripts/drift_reference.py",
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "numeric": [numeric_case(*case) for case in NUMERIC_PAIRS],
        "categorical": [categorical_case(*case) for case in CATEGORICAL_PAIRS + TWO_CATEGORY_PAIRS],
        "special": special_values(),
    }
    text = json.dumps(document, indent=1, allow_nan=False) + "\n"
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
