"""Notebook JSON helpers and papermill-style parameter injection (no nbformat needed)."""

import json
import keyword
import math
import os
from pathlib import Path

INJECTED_TAG = "injected-parameters"
PARAMETERS_TAG = "parameters"


class NotebookError(Exception):
    """A notebook the runner cannot use; the message names the problem and the fix."""


def load_notebook(path):
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as handle:
            notebook = json.load(handle)
    except ValueError as error:
        raise NotebookError(f"{path.name}: not valid JSON ({error}); upload a notebook saved by Jupyter") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise NotebookError(f"{path.name}: no 'cells' list; upload an nbformat 4 notebook")
    if notebook.get("nbformat") != 4:
        raise NotebookError(
            f"{path.name}: nbformat {notebook.get('nbformat')!r} is not supported; save it as nbformat 4"
        )
    notebook.setdefault("metadata", {})
    for index, cell in enumerate(notebook["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            raise NotebookError(f"cell {index}: not a code, markdown or raw cell; repair the notebook JSON")
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = {}
        cell["source"] = cell_source(cell)  # kernels' clients expect one string
    return notebook


def save_notebook(notebook, path):
    """Atomic write (temp file + rename) so a reader, or a kill mid-write, never sees half a notebook."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(notebook, handle, indent=1, sort_keys=True, ensure_ascii=False)
        handle.write("\n")
    os.replace(temporary, path)


def cell_source(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def cell_tags(cell):
    tags = cell.get("metadata", {}).get("tags", [])
    return [tag for tag in tags if isinstance(tag, str)] if isinstance(tags, list) else []


def first_tagged(notebook, tag):
    for index, cell in enumerate(notebook["cells"]):
        if tag in cell_tags(cell):
            return index
    return -1


def python_literal(value):
    """Python source for a JSON-decoded value (repr, with non-finite floats spelled as float('...'))."""
    if isinstance(value, float) and not math.isfinite(value):
        return "float('nan')" if math.isnan(value) else ("float('inf')" if value > 0 else "float('-inf')")
    if isinstance(value, dict):
        items = ", ".join(f"{python_literal(key)}: {python_literal(item)}" for key, item in value.items())
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ", ".join(python_literal(item) for item in value) + "]"
    return repr(value)


def check_parameter_name(name):
    if not name.isidentifier() or keyword.iskeyword(name):
        raise NotebookError(
            f"hyperparameter '{name}': not a valid Python variable name, so it cannot be injected; "
            "rename the parameter in the manifest and in the notebook's parameters cell"
        )


def parameters_source(parameters):
    lines = ["# Parameters\n"]
    for name, value in parameters.items():
        check_parameter_name(name)
        lines.append(f"{name} = {python_literal(value)}\n")
    return "".join(lines)


def _unique_cell_id(notebook, wanted):
    taken = {cell.get("id") for cell in notebook["cells"]}
    candidate, suffix = wanted, 1
    while candidate in taken:
        suffix += 1
        candidate = f"{wanted}-{suffix}"
    return candidate


def inject_parameters(notebook, parameters):
    """Insert (or replace) the `injected-parameters` cell the way papermill does.

    Placement: replaces an existing injected cell, else right after the first cell tagged
    `parameters`, else at the top. Returns the index of the injected cell, or -1 when there are
    no parameters (papermill injects nothing then either).
    """
    papermill = notebook["metadata"].setdefault("papermill", {})
    papermill["parameters"] = dict(parameters)
    if not parameters:
        return -1
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {"tags": [INJECTED_TAG]},
        "outputs": [],
        "source": parameters_source(parameters),
    }
    if notebook.get("nbformat_minor", 0) >= 5:  # cell ids exist from nbformat 4.5 on
        cell["id"] = _unique_cell_id(notebook, "nbops-injected-parameters")
    existing = first_tagged(notebook, INJECTED_TAG)
    if existing >= 0:
        if "id" in cell and notebook["cells"][existing].get("id"):
            cell["id"] = notebook["cells"][existing]["id"]
        notebook["cells"][existing] = cell
        index = existing
    else:
        anchor = first_tagged(notebook, PARAMETERS_TAG)
        index = anchor + 1 if anchor >= 0 else 0
        notebook["cells"].insert(index, cell)
    # The record lives in papermill's metadata only: metadata.nbops is the manifest, whose schema is
    # closed, so an executed notebook stays a valid submission.
    return index


def is_added_cell(cell):
    """Cells the runner or papermill added: the injected parameters and papermill's error banners."""
    tags = cell_tags(cell)
    if INJECTED_TAG in tags or "papermill-error-cell-tag" in tags:
        return True
    # Older papermill releases add an untagged banner with hidden input.
    return bool(cell.get("metadata", {}).get("hide_input")) and "An Exception was encountered" in cell_source(cell)


def input_cell_labels(notebook):
    """Map executed-notebook cell index -> index in the uploaded notebook (None for cells the runner added)."""
    labels = []
    position = 0
    for cell in notebook["cells"]:
        if is_added_cell(cell):
            labels.append(None)
        else:
            labels.append(position)
            position += 1
    return labels
