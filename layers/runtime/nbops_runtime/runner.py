"""Run a model notebook headless inside a SageMaker training job (or locally in the same layout).

    python3 -m nbops_runtime.runner [--root DIR]

Reads the notebook from the `notebook` channel and the parameters from hyperparameters.json,
injects them papermill-style, executes, and leaves the executed notebook, metrics.json and (on
failure) the failure file where SageMaker collects them. Exit code 0 = success, 1 = failure,
128 + signal number when stopped.
"""

import argparse
import json
import math
import os
import signal
import sys
import threading
import time
from pathlib import Path

from . import layout
from .executor import BuiltinExecutor, JobStopped, utc_now
from .metrics import METRICS_FILE_ENV, json_metric_value, parse_metric_line, read_metrics_file, write_metrics_file
from .notebook import (
    NotebookError,
    inject_parameters,
    input_cell_labels,
    load_notebook,
    save_notebook,
)

NOTEBOOK_CHANNEL = "notebook"
EXECUTORS = ("auto", "builtin", "papermill", "nbclient")
# nbops_model / nbops_version identify the job (lineage); the runner only reads the other two.
KNOWN_OPTIONS = ("nbops_cell_timeout", "nbops_executor", "nbops_model", "nbops_version")
FAILURE_LIMIT = 4096
TRACEBACK_TAIL = 30
STOP_MESSAGE = "stopped: {signal} received (max runtime reached or job stopped) during {where}"


class RunnerError(Exception):
    """A setup problem (inputs, options); the message is the failure reason."""


def log(message):
    sys.stderr.write(f"[nbops] {message}\n")
    sys.stderr.flush()


# --- inputs -----------------------------------------------------------------------------------------


def find_notebook():
    channel = layout.channel_dir(NOTEBOOK_CHANNEL)
    wanted = os.environ.get("NBOPS_NOTEBOOK") or os.environ.get("SM_INPUT_NOTEBOOK_NAME")
    if wanted:
        path = channel / wanted
        if not path.is_file():
            raise RunnerError(
                f"input: notebook '{wanted}' not found in channel '{NOTEBOOK_CHANNEL}' ({channel}); "
                "upload it there or fix NBOPS_NOTEBOOK / SM_INPUT_NOTEBOOK_NAME"
            )
        return path
    if not channel.is_dir():
        raise RunnerError(
            f"input: channel '{NOTEBOOK_CHANNEL}' ({channel}) does not exist; "
            "give the training job an input channel named 'notebook' holding the .ipynb"
        )
    candidates = sorted(p for p in channel.iterdir() if p.suffix == ".ipynb" and p.is_file())
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise RunnerError(
            f"input: no .ipynb file in channel '{NOTEBOOK_CHANNEL}' ({channel}); upload the notebook to that channel"
        )
    names = ", ".join(p.name for p in candidates)
    raise RunnerError(
        f"input: several notebooks in channel '{NOTEBOOK_CHANNEL}' ({names}); set NBOPS_NOTEBOOK to the one to run"
    )


def read_options_and_parameters():
    try:
        raw = layout.read_hyperparameters()
    except (OSError, ValueError) as error:
        raise RunnerError(f"hyperparameters: cannot read {layout.hyperparameters_file()} ({error})") from None
    parameters = {}
    options = {}
    for key, value in raw.items():
        if key.startswith(layout.RESERVED_PREFIX):
            options[key] = layout.decode_hyperparameter(value)
        else:
            parameters[key] = layout.decode_hyperparameter(value)
    for key in options:
        if key not in KNOWN_OPTIONS:
            log(f"ignoring unknown runner option '{key}' (known: {', '.join(KNOWN_OPTIONS)})")
    return parameters, options


def cell_timeout_from(options):
    raw = options.get("nbops_cell_timeout", os.environ.get("NBOPS_CELL_TIMEOUT"))
    if raw in (None, ""):
        return None
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise RunnerError(
            f"option nbops_cell_timeout: {raw!r} is not a number of seconds; give a positive number (0 = no limit)"
        )
    return seconds or None


def executor_from(options):
    choice = str(options.get("nbops_executor") or os.environ.get("NBOPS_EXECUTOR") or "auto").lower()
    if choice not in EXECUTORS:
        raise RunnerError(f"option NBOPS_EXECUTOR: '{choice}' is not one of {', '.join(EXECUTORS)}; pick one of those")
    from .kernels import available

    if choice == "auto":
        has_kernel = available("ipykernel")
        if has_kernel and available("papermill"):
            return "papermill"
        if has_kernel and available("nbclient") and available("nbformat"):
            return "nbclient"
        return "builtin"
    missing = {"papermill": ["papermill"], "nbclient": ["nbclient", "nbformat"], "builtin": []}[choice]
    for module in missing:
        if not available(module):
            raise RunnerError(
                f"option NBOPS_EXECUTOR: '{choice}' requested but the module '{module}' is not installed; "
                "install it in the training image or use 'auto'"
            )
    return choice


# --- outputs ----------------------------------------------------------------------------------------


def failure_text(reason, details=()):
    """First line is the reason (SageMaker shows the first 1024 characters as FailureReason)."""
    reason = " ".join(str(reason).split())  # one line
    if len(reason) > 400:
        reason = reason[:397] + "..."
    text = reason + "\n"
    detail_lines = [line for line in details if line is not None]
    if detail_lines:
        text += "\n".join(detail_lines) + "\n"
    if len(text) > FAILURE_LIMIT:
        text = text[: FAILURE_LIMIT - 4] + "...\n"
    return text


def write_failure(reason, details=()):
    path = layout.failure_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = failure_text(reason, details)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    log(f"failed: {text.splitlines()[0]}")


def describe_failure(failure, output_name):
    evalue = " ".join(str(failure.evalue).split())
    reason = f"{failure.label}: {failure.ename}: {evalue}" if evalue else f"{failure.label}: {failure.ename}"
    where = f"cell id {failure.cell_id}; " if failure.cell_id else ""
    details = [f"({where}executed notebook: output/data/{output_name})"]
    details += [line.rstrip() for line in failure.traceback[-TRACEBACK_TAIL:]]
    return reason, details


def metrics_from_outputs(notebook):
    """Metric lines found in the executed notebook's stream outputs (last one wins)."""
    found = {}
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []) or []:
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                text = output.get("text", "")
                text = "".join(text) if isinstance(text, list) else text
                for line in text.splitlines():
                    parsed = parse_metric_line(line)
                    if parsed:
                        found[parsed[0]] = json_metric_value(parsed[1])
    return found


# --- the run ----------------------------------------------------------------------------------------


class Run:
    def __init__(self):
        self.notebook = None
        self.output_path = None
        self.labels = []
        self.executor = None
        self.started = time.monotonic()
        self.start_time = utc_now()

    def save(self, notebook=None):
        if notebook is not None:
            self.notebook = notebook
        if self.notebook is not None and self.output_path is not None:
            save_notebook(self.notebook, self.output_path)

    def current_cell_label(self):
        index = self.executor.current_index if isinstance(self.executor, BuiltinExecutor) else None
        if index is None and self.notebook is not None:
            for position, cell in enumerate(self.notebook["cells"]):
                if cell.get("metadata", {}).get("nbops", {}).get("status") == "running":
                    index = position
        if index is None or index >= len(self.labels):
            return "no cell (between cells or during setup)"
        original = self.labels[index]
        return "the injected-parameters cell" if original is None else f"cell {original}"

    def finish(self, failed):
        if self.notebook is None:
            return
        papermill = self.notebook["metadata"].setdefault("papermill", {})
        papermill.update(
            start_time=self.start_time,
            end_time=utc_now(),
            duration=round(time.monotonic() - self.started, 6),
            exception=failed,
        )
        self.save()


def _stop_handler(signum, frame):
    raise JobStopped(signal.Signals(signum).name)


def install_stop_handlers():
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _stop_handler)


def execute(run, notebook_path, parameters, options):
    cell_timeout = cell_timeout_from(options)
    choice = executor_from(options)
    workdir = notebook_path.parent
    log(
        f"executor: {choice}; notebook: {notebook_path.name}; parameters: {json.dumps(parameters, sort_keys=True)}"
        + (f"; cell timeout: {cell_timeout:g} s" if cell_timeout else "")
    )
    if choice == "papermill":
        from .kernels import copy_papermill_cell_metadata, run_with_papermill

        run.notebook, failure = run_with_papermill(notebook_path, run.output_path, parameters, cell_timeout, workdir)
        run.labels = input_cell_labels(run.notebook)
        copy_papermill_cell_metadata(run.notebook)
        run.notebook["metadata"].setdefault("papermill", {})["executor"] = choice
        return failure
    notebook = load_notebook(notebook_path)
    inject_parameters(notebook, parameters)
    notebook["metadata"]["papermill"].update(
        input_path=str(notebook_path), output_path=str(run.output_path), executor=choice
    )
    run.notebook = notebook
    run.labels = input_cell_labels(notebook)
    if choice == "nbclient":
        from .kernels import run_with_nbclient

        run.notebook, failure = run_with_nbclient(notebook, run.labels, run.save, cell_timeout, workdir)
        return failure
    run.executor = BuiltinExecutor(notebook, run.labels, run.save, cell_timeout)
    previous_cwd = os.getcwd()
    os.chdir(workdir)
    sys.path.insert(0, str(workdir))  # like a kernel: modules next to the notebook are importable
    try:
        return run.executor.run()
    finally:
        os.chdir(previous_cwd)
        if sys.path and sys.path[0] == str(workdir):
            sys.path.pop(0)


def run_notebook():
    """Execute the job; returns the process exit code."""
    run = Run()
    try:
        output_dir = layout.output_data_dir()
    except RuntimeError as error:  # nowhere to write a failure file either
        log(f"failed: {error}")
        return 1
    metrics_path = output_dir / "metrics.json"
    for stale in (layout.failure_file(), metrics_path):
        if stale.is_file():
            stale.unlink()
    os.environ[METRICS_FILE_ENV] = str(metrics_path)
    install_stop_handlers()
    failed = True
    try:
        parameters, options = read_options_and_parameters()
        notebook_path = find_notebook()
        output_name = os.environ.get("SM_OUTPUT_NOTEBOOK_NAME") or notebook_path.name
        run.output_path = output_dir / output_name
        failure = execute(run, notebook_path, parameters, options)
        if failure is not None:
            reason, details = describe_failure(failure, output_name)
            write_failure(reason, details)
            return 1
        failed = False
        return 0
    except JobStopped as stop:
        write_failure(STOP_MESSAGE.format(signal=stop.signal_name, where=run.current_cell_label()))
        return 128 + getattr(signal, stop.signal_name, signal.SIGTERM).value
    except (RunnerError, NotebookError) as error:
        write_failure(str(error))
        return 1
    except Exception as error:  # a runner bug must still leave a failure reason behind
        write_failure(f"runner: {type(error).__name__}: {error}")
        return 1
    finally:
        try:
            run.finish(failed)
            write_final_metrics(metrics_path, run.notebook)
        except JobStopped:
            pass


def write_final_metrics(path, notebook):
    metrics = metrics_from_outputs(notebook) if notebook is not None else {}
    metrics.update(read_metrics_file(path))
    write_metrics_file(path, metrics)
    if metrics:
        log("metrics: " + ", ".join(f"{name}={value}" for name, value in sorted(metrics.items())))


def make_runtime_importable():
    """Kernels started by papermill/nbclient must import nbops_runtime too."""
    package_parent = str(Path(__file__).resolve().parent.parent)
    current = os.environ.get("PYTHONPATH", "")
    if package_parent not in current.split(os.pathsep):
        os.environ["PYTHONPATH"] = package_parent + (os.pathsep + current if current else "")


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python3 -m nbops_runtime.runner", description="Run a model notebook headless in SageMaker's layout."
    )
    parser.add_argument("--root", help="layout root instead of /opt/ml (also NBOPS_ML_ROOT)")
    args = parser.parse_args(argv)
    if args.root:
        os.environ["NBOPS_ML_ROOT"] = str(Path(args.root).resolve())
    make_runtime_importable()
    return run_notebook()


if __name__ == "__main__":
    sys.exit(main())
