"""Times nbformat read + validate on each notebook path given (argv), printing one JSON line per file.

Usage: nbformat_bench.py <repeats> <validator> <paths...>; validator is fastjsonschema (nbformat's
default since 5.3, where it became a required dependency) or jsonschema (the reference validator).
Run with an interpreter that has nbformat (Debian: /usr/bin/python3 with python3-nbformat).
"""
import json
import os
import sys
import time

os.environ["NBFORMAT_VALIDATOR"] = sys.argv[2]

t0 = time.perf_counter()
import nbformat  # noqa: E402

import_ms = (time.perf_counter() - t0) * 1000
print(json.dumps({"import_ms": import_ms, "nbformat": nbformat.__version__, "validator": sys.argv[2]}), flush=True)

repeats = int(sys.argv[1])
for path in sys.argv[3:]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        with open(path, encoding="utf-8") as f:
            nb = nbformat.read(f, as_version=4)
        nbformat.validate(nb)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    print(json.dumps({"path": path, "ms": times[len(times) // 2], "runs": repeats}), flush=True)
