"""Built-in sequential notebook executor: no Jupyter kernel, stdlib only.

Runs code cells in one shared `__main__` namespace in this process, like a kernel would, and
records outputs in nbformat 4 shapes. Used when neither papermill nor nbclient is installed.
"""

import ast
import builtins
import ctypes
import io
import linecache
import re
import signal
import subprocess
import sys
import threading
import time
import traceback
import types
from datetime import datetime, timezone

from .notebook import cell_source, cell_tags

SKIP_TAG = "skip-execution"
RAISES_TAG = "raises-exception"


class JobStopped(BaseException):
    """SIGTERM/SIGINT arrived: SageMaker stopped the job or it hit MaxRuntimeInSeconds."""

    def __init__(self, signal_name):
        super().__init__(signal_name)
        self.signal_name = signal_name


class CellTimeout(BaseException):
    """Raised in the running cell by the watchdog. A BaseException so `except Exception` cannot swallow it."""


class UnsupportedMagic(Exception):
    pass


def cell_filename(label):
    return f"<nbops {label}>"


def is_cell_filename(filename):
    return filename.startswith("<nbops ")


def utc_now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


# --- output capture -------------------------------------------------------------------------------


class CellOutputStream(io.TextIOBase):
    """Records writes as stream outputs of the running cell and echoes them to the real stream at once."""

    def __init__(self, name, recorder, echo):
        super().__init__()
        self.name = name
        self._recorder = recorder
        self._echo = echo

    @property
    def encoding(self):
        return getattr(self._echo, "encoding", "utf-8")

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        return self._echo.fileno()

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if text:
            self._recorder.stream(self.name, text)
            try:
                self._echo.write(text)
                self._echo.flush()
            except (OSError, ValueError):
                pass
        return len(text)

    def flush(self):
        try:
            self._echo.flush()
        except (OSError, ValueError):
            pass


class OutputRecorder:
    def __init__(self, outputs):
        self.outputs = outputs
        self._lock = threading.Lock()

    def stream(self, name, text):
        with self._lock:
            last = self.outputs[-1] if self.outputs else None
            if last and last.get("output_type") == "stream" and last.get("name") == name:
                last["text"] += text  # consecutive writes form one output, as in Jupyter
            else:
                self.outputs.append({"output_type": "stream", "name": name, "text": text})

    def add(self, output):
        with self._lock:
            self.outputs.append(output)


def mime_bundle(value):
    data = {"text/plain": repr(value)}
    html = getattr(value, "_repr_html_", None)
    if callable(html):
        try:
            rendered = html()
            if isinstance(rendered, str):
                data["text/html"] = rendered
        except Exception:
            pass
    return data


# --- magics -----------------------------------------------------------------------------------------

_SHELL_ASSIGN = re.compile(r"^(\s*)([A-Za-z_][A-Za-z0-9_]*)\s*=\s*!(.*)$")


def translate_magics(source, cell_label):
    """Rewrite the IPython syntax the built-in executor supports; reject the rest, naming cell and line.

    `%matplotlib ...` is dropped (no display here), `!cmd` and `x = !cmd` run through a shell.
    Lines keep their numbers so tracebacks point at the right line.
    """
    lines = source.split("\n")
    result = []
    for number, line in enumerate(lines, start=1):
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        assign = _SHELL_ASSIGN.match(line)
        if stripped.startswith("%matplotlib"):
            result.append(indent + "pass")
        elif stripped.startswith("%"):
            name = stripped.split()[0]
            fix = (
                "install packages in the training image instead"
                if name in ("%pip", "%conda")
                else "rewrite it as plain Python, or install papermill (with ipykernel) in the training image "
                "so the notebook runs in a real kernel"
            )
            raise UnsupportedMagic(
                f"{cell_label}, line {number}: IPython magic {name} is not supported by the built-in executor; {fix}"
            )
        elif stripped.startswith("!") and not stripped.startswith("!="):
            result.append(f"{indent}_nbops_shell_({stripped[1:].strip()!r})")
        elif assign:
            indent_, name, command = assign.group(1), assign.group(2), assign.group(3).strip()
            result.append(f"{indent_}{name} = _nbops_shell_({command!r}, capture=True)")
        else:
            result.append(line)
    return "\n".join(result)


def run_shell(command, capture=False):
    """`!cmd`: run through the shell, stream its output into the cell; like IPython, a failure does not raise."""
    process = subprocess.Popen(
        command, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    )
    captured = []
    for line in process.stdout:
        if capture:
            captured.append(line.rstrip("\n"))
        else:
            sys.stdout.write(line)
    process.wait()
    return captured if capture else None


# --- timeout watchdog -------------------------------------------------------------------------------


class Watchdog:
    """Interrupts the executing thread after `seconds`: SIGALRM in the main thread on POSIX, else an async exception."""

    def __init__(self, seconds):
        self.seconds = seconds
        self._timer = None
        self._previous = None
        self._use_signal = (
            hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
        )

    def __enter__(self):
        if not self.seconds:
            return self
        if self._use_signal:
            self._previous = signal.signal(signal.SIGALRM, self._on_alarm)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        else:
            target = ctypes.c_ulong(threading.get_ident())
            raise_in_target = lambda: ctypes.pythonapi.PyThreadState_SetAsyncExc(target, ctypes.py_object(CellTimeout))
            self._timer = threading.Timer(self.seconds, raise_in_target)
            self._timer.daemon = True
            self._timer.start()
        return self

    def _on_alarm(self, signum, frame):
        raise CellTimeout()

    def __exit__(self, *exc):
        if not self.seconds:
            return False
        if self._use_signal:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous or signal.SIG_DFL)
        elif self._timer:
            self._timer.cancel()
        return False


# --- executor ---------------------------------------------------------------------------------------


class CellFailure:
    """The failing cell: where (indexes and label) and what (ename, evalue, traceback lines)."""

    def __init__(self, index, label, ename, evalue, traceback_lines, cell_id=None):
        self.index = index
        self.label = label
        self.ename = ename
        self.evalue = evalue
        self.traceback = traceback_lines
        self.cell_id = cell_id


class BuiltinExecutor:
    """Executes code cells in order; `save` is called whenever the notebook changed (after each cell)."""

    def __init__(self, notebook, labels, save, cell_timeout=None):
        self.notebook = notebook
        self.labels = labels
        self.save = save
        self.cell_timeout = cell_timeout
        self.current_index = None
        self.execution_count = 0
        self.module = types.ModuleType("__main__", "notebook namespace")
        self.namespace = self.module.__dict__
        self.namespace.update(
            __builtins__=builtins,
            _nbops_shell_=run_shell,
            display=self._display,
            get_ipython=lambda: None,
        )
        self._recorder = None

    def label(self, index):
        original = self.labels[index]
        return "injected-parameters cell" if original is None else f"cell {original}"

    def _display(self, *values, **_kwargs):
        for value in values:
            if self._recorder is not None:
                self._recorder.add({"output_type": "display_data", "data": mime_bundle(value), "metadata": {}})

    def run(self):
        """Run every code cell; returns None on success or the CellFailure that stopped the run."""
        for cell in self.notebook["cells"]:
            if cell["cell_type"] == "code":
                cell["outputs"] = []
                cell["execution_count"] = None
                cell["metadata"]["nbops"] = {"status": "pending"}
        self.save()
        previous_main = sys.modules.get("__main__")
        # Classes defined in cells live in __main__; pickling them (joblib, pickle) needs this module there.
        sys.modules["__main__"] = self.module
        try:
            for index, cell in enumerate(self.notebook["cells"]):
                if cell["cell_type"] != "code":
                    continue
                outcome = self._run_cell(index, cell)
                self.save()
                if outcome == "stop":
                    break
                if isinstance(outcome, CellFailure):
                    return outcome
            return None
        finally:
            if previous_main is not None:
                sys.modules["__main__"] = previous_main

    def _run_cell(self, index, cell):
        meta = cell["metadata"]["nbops"]
        tags = cell_tags(cell)
        if SKIP_TAG in tags:
            meta.update(status="skipped")
            return None
        self.current_index = index
        self.execution_count += 1
        cell["execution_count"] = self.execution_count
        label = self.label(index)
        started = time.monotonic()
        meta.update(status="running", start_time=utc_now())
        self.save()
        recorder = OutputRecorder(cell["outputs"])
        self._recorder = recorder
        outcome = None
        real_out, real_err = sys.stdout, sys.stderr
        sys.stdout = CellOutputStream("stdout", recorder, real_out)
        sys.stderr = CellOutputStream("stderr", recorder, real_err)
        try:
            with Watchdog(self.cell_timeout):
                value = self._execute(cell_source(cell), label, index)
            if value is not None:
                self.namespace["_"] = value
                recorder.add(
                    {
                        "output_type": "execute_result",
                        "data": mime_bundle(value),
                        "metadata": {},
                        "execution_count": self.execution_count,
                    }
                )
        except (JobStopped, KeyboardInterrupt) as stop:
            signal_name = stop.signal_name if isinstance(stop, JobStopped) else "SIGINT"
            recorder.add(self._error_output("JobStopped", f"{signal_name} received during {label}", []))
            meta.update(status="failed", exception=True)
            self._finish(meta, started)
            if isinstance(stop, JobStopped):
                raise
            raise JobStopped(signal_name) from None
        except CellTimeout:
            evalue = (
                f"{label} did not finish within {self.cell_timeout:g} s; raise nbops_cell_timeout "
                "or make the cell faster"
            )
            outcome = self._failure(index, cell, recorder, "CellTimeout", evalue, [f"CellTimeout: {evalue}"])
        except SystemExit as exit_request:
            if exit_request.code in (None, 0):
                outcome = "stop"  # sys.exit(0) ends the notebook early, successfully
            else:
                outcome = self._failure(
                    index, cell, recorder, "SystemExit", str(exit_request.code), self._traceback_lines(exit_request)
                )
        except BaseException as error:
            lines = self._traceback_lines(error)
            if RAISES_TAG in tags:
                recorder.add(self._error_output(type(error).__name__, str(error), lines))
                meta.update(exception=True)
            else:
                outcome = self._failure(index, cell, recorder, type(error).__name__, str(error), lines)
        finally:
            sys.stdout, sys.stderr = real_out, real_err
            self._recorder = None
        if not isinstance(outcome, CellFailure):
            meta["status"] = "completed"
        self._finish(meta, started)
        self.current_index = None  # still set when a stop signal escapes, so the reason can name the cell
        return outcome

    def _finish(self, meta, started):
        meta.update(end_time=utc_now(), duration=round(time.monotonic() - started, 6))
        meta.setdefault("exception", False)

    def _failure(self, index, cell, recorder, ename, evalue, lines):
        recorder.add(self._error_output(ename, evalue, lines))
        cell["metadata"]["nbops"].update(status="failed", exception=True)
        return CellFailure(index, self.label(index), ename, evalue, lines, cell.get("id"))

    @staticmethod
    def _error_output(ename, evalue, lines):
        return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": lines}

    def _execute(self, source, label, index):
        filename = cell_filename(label)
        try:
            tree = ast.parse(source, filename)
        except SyntaxError:
            source = translate_magics(source, label)  # only when plain Python fails to parse
            tree = ast.parse(source, filename)
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr) and not source.rstrip().endswith(";"):
            last = ast.Expression(tree.body.pop().value)
        exec(compile(tree, filename, "exec"), self.namespace)
        if last is not None:
            return eval(compile(last, filename, "eval"), self.namespace)
        return None

    @staticmethod
    def _traceback_lines(error):
        # Drop the runner's own frames: the traceback starts in the cell.
        tb = error.__traceback__
        while tb is not None and not is_cell_filename(tb.tb_frame.f_code.co_filename):
            tb = tb.tb_next
        if isinstance(error, SyntaxError) or tb is None:
            text = traceback.format_exception_only(type(error), error)
        else:
            text = traceback.format_exception(type(error), error, tb)
        return "".join(text).rstrip("\n").split("\n")


__all__ = [
    "BuiltinExecutor",
    "CellFailure",
    "CellTimeout",
    "JobStopped",
    "UnsupportedMagic",
    "translate_magics",
]
