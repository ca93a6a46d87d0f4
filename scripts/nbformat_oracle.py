#!/usr/bin/env python3
"""Reference verdicts from Python nbformat, for nbops' differential tests.

Reads a JSON list of notebooks (any JSON values) on stdin and prints a JSON list with, per
notebook: {"valid": bool, "error": str | null, "path": list | null}.

- valid: whether nbformat.validate(nb, repair_duplicate_cell_ids=False) accepts a deep copy of the
  notebook (validate may repair or mutate its argument, so it never sees the original). Any
  exception counts as "rejected": nbformat raises assertion, key and attribute errors, not only
  ValidationError, for some malformed top levels.
- path: where the first schema error is, as a list of keys and indices, computed with the
  jsonschema backend (the default fastjsonschema backend reports no usable path). null when the
  error has no path (no schema for the version, duplicate cell ids, ...).

The duplicate cell id check is nbformat's own (validate raises "Non-unique cell id" when repair is
off); it is repeated here explicitly in case a future nbformat changes that default.
"""
import copy
import inspect
import json
import os
import sys
import warnings

import nbformat
from nbformat import validator as nbvalidator


def _validate(nb):
    kwargs = {}
    if "repair_duplicate_cell_ids" in inspect.signature(nbformat.validate).parameters:
        kwargs["repair_duplicate_cell_ids"] = False
    nbformat.validate(copy.deepcopy(nb), **kwargs)


def _duplicate_id(nb):
    try:
        major, minor = nb.get("nbformat"), nb.get("nbformat_minor")
        if major != 4 or not isinstance(minor, int) or minor < 5:
            return None
        seen = set()
        for cell in nb["cells"]:
            if isinstance(cell, dict) and "id" in cell:
                if cell["id"] in seen:
                    return "Non-unique cell id %r detected." % (cell["id"],)
                seen.add(cell["id"])
    except Exception:  # malformed notebooks are judged by validate itself
        return None
    return None


def _error_path(nb):
    """Path of the first error according to the jsonschema backend (None when unavailable)."""
    previous = os.environ.get("NBFORMAT_VALIDATOR")
    os.environ["NBFORMAT_VALIDATOR"] = "jsonschema"
    try:
        _validate(nb)
    except nbvalidator.ValidationError as err:
        return [p for p in getattr(err, "relative_path", []) or []]
    except Exception:
        return None
    finally:
        if previous is None:
            del os.environ["NBFORMAT_VALIDATOR"]
        else:
            os.environ["NBFORMAT_VALIDATOR"] = previous
    return None


def verdict(nb):
    try:
        _validate(nb)
    except Exception as err:  # noqa: BLE001 - any failure is a rejection
        message = str(err).split("\n", 1)[0] or type(err).__name__
        return {"valid": False, "error": message, "path": _error_path(nb)}
    duplicate = _duplicate_id(nb) if isinstance(nb, dict) else None
    if duplicate:
        return {"valid": False, "error": duplicate, "path": None}
    return {"valid": True, "error": None, "path": None}


def main():
    notebooks = json.load(sys.stdin)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = [verdict(nb) for nb in notebooks]
    json.dump(results, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
