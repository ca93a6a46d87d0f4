"""Kernel-based executors: papermill, else nbclient, when the training image has them.

Both run the notebook in a real Jupyter kernel (so IPython magics work). Their results are mapped
onto the same CellFailure / per-cell `nbops` metadata the built-in executor produces.
"""

import importlib.util
import inspect
import math
import os
import re
import sys
import time

from .executor import CellFailure, utc_now
from .notebook import cell_tags, input_cell_labels, is_added_cell, load_notebook

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def strip_ansi(text):
    return _ANSI.sub("", text)


def available(module):
    return importlib.util.find_spec(module) is not None


def _label(labels, index):
    if index is None or index >= len(labels):
        return "a cell"
    return "injected-parameters cell" if labels[index] is None else f"cell {labels[index]}"


def _traceback_lines(traceback_value):
    if isinstance(traceback_value, list):
        text = "\n".join(traceback_value)
    else:
        text = str(traceback_value or "")
    return strip_ansi(text).rstrip("\n").split("\n")


def _cell_traceback(node, index):
    """The kernel's traceback from the cell's error output (nbclient's exception text repeats the source)."""
    if index is None:
        return None
    for output in node.cells[index].get("outputs", []):
        if output.get("output_type") == "error":
            return _traceback_lines(output.get("traceback", []))
    return None


def _echo(name, text):
    stream = sys.stderr if name == "stderr" else sys.stdout
    stream.write(text)
    stream.flush()


def run_with_papermill(input_path, output_path, parameters, cell_timeout, workdir):
    """Let papermill inject (its own layout is the reference) and execute; returns CellFailure or None."""
    import papermill

    kwargs = {
        "parameters": parameters or None,
        "progress_bar": False,
        "log_output": True,
        "stdout_file": sys.stdout,
        "stderr_file": sys.stderr,
        "cwd": str(workdir),
    }
    if cell_timeout:
        kwargs["execution_timeout"] = cell_timeout
    accepted = inspect.signature(papermill.execute_notebook).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        kwargs = {key: value for key, value in kwargs.items() if key in accepted}  # older papermill releases
    failure = None
    try:
        papermill.execute_notebook(str(input_path), str(output_path), **kwargs)
    except papermill.PapermillExecutionError as error:
        failure = error
    notebook = load_notebook(output_path)
    labels = input_cell_labels(notebook)
    if failure is None:
        return notebook, None
    index = _failed_cell_index(notebook)
    if index is None:
        index = getattr(failure, "cell_index", None)
    cell = notebook["cells"][index] if index is not None and index < len(notebook["cells"]) else {}
    result = CellFailure(
        index,
        _label(labels, index),
        getattr(failure, "ename", type(failure).__name__),
        strip_ansi(str(getattr(failure, "evalue", failure))),
        _traceback_lines(getattr(failure, "traceback", [])),
        cell.get("id"),
    )
    return notebook, result


def _failed_cell_index(notebook):
    for index, cell in enumerate(notebook["cells"]):
        if is_added_cell(cell):
            continue
        meta = cell.get("metadata", {}).get("papermill", {})
        if meta.get("status") == "failed" or (meta.get("exception") and "raises-exception" not in cell_tags(cell)):
            return index
    return None


def copy_papermill_cell_metadata(notebook):
    """Mirror papermill's per-cell timing under `nbops` so every executor leaves the same fields."""
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("papermill")
        if cell.get("cell_type") == "code" and isinstance(meta, dict):
            cell["metadata"]["nbops"] = {
                key: meta.get(key) for key in ("status", "start_time", "end_time", "duration", "exception")
            }


def run_with_nbclient(notebook, labels, save, cell_timeout, workdir):
    """Execute the already-injected notebook with nbclient; returns (executed notebook, CellFailure or None)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    class EchoingClient(NotebookClient):
        def output(self, outs, msg, display_id, cell_index):
            # Echo streams as they arrive so SageMaker sees metric lines in real time.
            if msg.get("msg_type") == "stream":
                content = msg.get("content", {})
                _echo(content.get("name"), content.get("text", ""))
            return super().output(outs, msg, display_id, cell_index)

    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiets ipykernel's debugger warnings
    node = nbformat.from_dict(notebook)
    for cell in node.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata["nbops"] = {"status": "pending"}
    state = {"index": None, "started": 0.0}

    def on_start(cell, cell_index, **_):
        if "skip-execution" in cell_tags(cell):  # nbclient announces skipped cells too
            cell.metadata["nbops"] = {"status": "skipped"}
            return
        state.update(index=cell_index, started=time.monotonic())
        cell.metadata["nbops"] = {"status": "running", "start_time": utc_now()}
        save(node)

    def on_executed(cell, cell_index, execute_reply=None, **_):
        failed = bool(execute_reply) and execute_reply.get("content", {}).get("status") == "error"
        allowed = "raises-exception" in cell_tags(cell)
        cell.metadata["nbops"].update(
            status="failed" if failed and not allowed else "completed",
            end_time=utc_now(),
            duration=round(time.monotonic() - state["started"], 6),
            exception=failed,
        )
        save(node)

    client = EchoingClient(
        node,
        timeout=math.ceil(cell_timeout) if cell_timeout else None,  # nbclient wants whole seconds
        resources={"metadata": {"path": str(workdir)}},
        on_cell_start=on_start,
        on_cell_executed=on_executed,
    )
    failure = None
    try:
        client.execute()
    except CellTimeoutError:
        index = state["index"]
        evalue = (
            f"{_label(labels, index)} did not finish within {cell_timeout:g} s; raise nbops_cell_timeout "
            "or make the cell faster"
        )
        failure = CellFailure(index, _label(labels, index), "CellTimeout", evalue, [f"CellTimeout: {evalue}"])
    except CellExecutionError as error:
        index = state["index"]
        failure = CellFailure(
            index,
            _label(labels, index),
            error.ename,
            strip_ansi(str(error.evalue)),
            _cell_traceback(node, index) or _traceback_lines(error.traceback),
        )
    except DeadKernelError as error:
        index = state["index"]
        failure = CellFailure(index, _label(labels, index), "DeadKernelError", str(error), [str(error)])
    if failure is not None and failure.index is not None:
        cell = node.cells[failure.index]
        failure.cell_id = cell.get("id")
        meta = cell.metadata.setdefault("nbops", {})
        meta.update(status="failed", exception=True)
        meta.setdefault("end_time", utc_now())
    save(node)
    return node, failure


__all__ = ["available", "copy_papermill_cell_metadata", "run_with_nbclient", "run_with_papermill"]
