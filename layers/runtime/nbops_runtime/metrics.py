"""Metric lines for SageMaker MetricDefinitions, and metrics.json.

The printed line format is a contract with the TypeScript side, which builds the training job's
MetricDefinitions regexes from it: `[nbops] metric <name>=<value>`, value as Python's repr of a
float, or `nan` / `inf` / `-inf`.
"""

import json
import math
import os
import sys
import threading
from pathlib import Path

METRICS_FILE_ENV = "NBOPS_METRICS_FILE"
LINE_PREFIX = "[nbops] metric "

_lock = threading.Lock()
_latest = {}
_history = []


def format_metric_value(value):
    number = float(value)
    if math.isnan(number):
        return "nan"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    return repr(number)


def json_metric_value(number):
    """JSON cannot hold nan/inf: keep them as the same strings the metric line uses."""
    return number if math.isfinite(number) else format_metric_value(number)


def _check_name(name):
    if not isinstance(name, str) or not name:
        raise ValueError(f"log_metric: metric name {name!r} must be a non-empty string")
    if len(name) > 255:
        raise ValueError(f"log_metric: metric name '{name[:40]}...' is longer than SageMaker's 255 characters")
    if "=" in name or any(ch in name for ch in "\r\n\t") or name != name.strip():
        raise ValueError(
            f"log_metric: metric name {name!r} may not contain '=', tabs, line breaks or surrounding "
            "spaces (the metric line would not parse); rename it, e.g. 'validation:auc'"
        )


def log_metric(name, value, step=None):
    """Print `[nbops] metric <name>=<value>` and record the value (the last one wins) for metrics.json."""
    _check_name(name)
    if isinstance(value, (str, bytes)):
        raise TypeError(f"log_metric('{name}'): value {value!r} is a string; pass an int or float")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"log_metric('{name}'): value {value!r} is not a number; pass an int or float") from None
    line = f"{LINE_PREFIX}{name}={format_metric_value(number)}"
    with _lock:
        _latest[name] = number
        _history.append({"name": name, "value": number, "step": step})
        _record_in_file(name, number)
    # Own line, flushed: SageMaker scans the log stream as the job runs.
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    return number


def logged_metrics():
    """The latest value of each metric logged in this process."""
    with _lock:
        return dict(_latest)


def _record_in_file(name, number):
    """Read-modify-write so several processes (a kernel, a subprocess) share one metrics.json."""
    target = os.environ.get(METRICS_FILE_ENV)
    if not target:
        return
    path = Path(target)
    current = read_metrics_file(path)
    current[name] = json_metric_value(number)
    write_metrics_file(path, current)


def read_metrics_file(path):
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def write_metrics_file(path, metrics):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(metrics, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.replace(temporary, path)


def parse_metric_line(line):
    """(name, float value) for a metric line, else None. Inverse of the printed format."""
    line = line.rstrip("\r\n")
    if not line.startswith(LINE_PREFIX):
        return None
    name, sep, text = line[len(LINE_PREFIX) :].rpartition("=")
    if not sep or not name:
        return None
    try:
        return name, float(text)
    except ValueError:
        return None
