import json
import os
import signal
import subprocess
import sys
import threading
import time
import unittest

from .support import RUNTIME_DIR, LayoutTestCase, code, markdown, notebook, runtime_env, stream_text


class SuccessfulRun(LayoutTestCase):
    def test_executes_cells_in_one_namespace_and_records_outputs(self):
        self.write_notebook(
            notebook(
                markdown("# Title"),
                code("import sys\nx = 20\nprint('out')\nprint('err', file=sys.stderr)"),
                code("def double(v):\n    return v * 2\ndouble(x) + 2"),
                code("x;"),
                code("display(x)\nNone"),
            )
        )
        result = self.run_runner()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIsNone(self.failure())
        cells = self.output_notebook()["cells"]
        self.assertEqual(stream_text(cells[1]), "out\n")
        self.assertEqual(stream_text(cells[1], "stderr"), "err\n")
        self.assertEqual(
            cells[2]["outputs"],
            [{"output_type": "execute_result", "data": {"text/plain": "42"}, "metadata": {}, "execution_count": 2}],
        )
        self.assertEqual(cells[3]["outputs"], [])  # a trailing ';' hides the value, as in Jupyter
        self.assertEqual(cells[4]["outputs"][0]["output_type"], "display_data")
        self.assertEqual([c.get("execution_count") for c in cells], [None, 1, 2, 3, 4])
        for cell in cells[1:]:
            meta = cell["metadata"]["nbops"]
            self.assertEqual(meta["status"], "completed")
            self.assertRegex(meta["start_time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
            self.assertRegex(meta["end_time"], r"Z$")
            self.assertGreaterEqual(meta["duration"], 0)
        self.assertNotIn("nbops", cells[0]["metadata"])
        self.assertIn("out\n", result.stdout)  # echoed to the job log as well

    def test_outputs_follow_sagemaker_env_variables(self):
        channel = self.root / "elsewhere" / "nb"
        channel.mkdir(parents=True)
        (channel / "a.ipynb").write_text(
            json.dumps(notebook(code("from nbops_runtime import model_dir\n(model_dir() / 'm.txt').write_text('m')"))),
            encoding="utf-8",
        )
        result = self.run_runner(
            SM_CHANNEL_NOTEBOOK=channel,
            SM_MODEL_DIR=self.root / "custom-model",
            SM_OUTPUT_DATA_DIR=self.root / "custom-out",
            SM_OUTPUT_NOTEBOOK_NAME="executed.ipynb",
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual((self.root / "custom-model" / "m.txt").read_text(), "m")
        self.assertTrue((self.root / "custom-out" / "executed.ipynb").is_file())
        self.assertTrue((self.root / "custom-out" / "metrics.json").is_file())

    def test_skip_execution_and_raises_exception_tags(self):
        self.write_notebook(
            notebook(
                code("raise RuntimeError('must not run')", tags=["skip-execution"]),
                code("raise KeyError('expected')", tags=["raises-exception"]),
                code("print('after')"),
            )
        )
        result = self.run_runner()
        self.assertEqual(result.returncode, 0, result.stderr)
        cells = self.output_notebook()["cells"]
        self.assertEqual(cells[0]["outputs"], [])
        self.assertIsNone(cells[0]["execution_count"])
        self.assertEqual(cells[0]["metadata"]["nbops"]["status"], "skipped")
        self.assertEqual(cells[1]["outputs"][0]["output_type"], "error")
        self.assertEqual(cells[1]["outputs"][0]["ename"], "KeyError")
        self.assertEqual(cells[1]["metadata"]["nbops"]["status"], "completed")
        self.assertTrue(cells[1]["metadata"]["nbops"]["exception"])
        self.assertEqual(stream_text(cells[2]), "after\n")

    def test_sys_exit_zero_ends_the_notebook_successfully(self):
        self.write_notebook(notebook(code("import sys\nprint('a')\nsys.exit(0)"), code("raise ValueError('never')")))
        result = self.run_runner()
        self.assertEqual(result.returncode, 0, result.stderr)
        cells = self.output_notebook()["cells"]
        self.assertEqual(cells[0]["metadata"]["nbops"]["status"], "completed")
        self.assertEqual(cells[1]["metadata"]["nbops"]["status"], "pending")

    def test_shell_lines_run_and_matplotlib_magic_is_ignored(self):
        self.write_notebook(
            notebook(code("%matplotlib inline\n!echo from-shell\nlines = !printf 'a\\nb\\n'\nprint(lines)"))
        )
        result = self.run_runner()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(stream_text(self.output_notebook()["cells"][0]), "from-shell\n['a', 'b']\n")

    def test_picks_the_notebook_named_by_nbops_notebook(self):
        self.write_notebook(notebook(code("print('one')")), "one.ipynb")
        self.write_notebook(notebook(code("print('two')")), "two.ipynb")
        result = self.run_runner()
        self.assertEqual(result.returncode, 1)
        self.assertTrue(self.failure().startswith("input: several notebooks in channel 'notebook' (one.ipynb, two.ipynb)"))
        result = self.run_runner(NBOPS_NOTEBOOK="two.ipynb")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIsNone(self.failure())  # a stale failure file from the last run is removed
        self.assertEqual(stream_text(self.output_notebook("two.ipynb")["cells"][0]), "two\n")

    def test_missing_notebook_channel_names_the_fix(self):
        result = self.run_runner()
        self.assertEqual(result.returncode, 1)
        self.assertIn("input: channel 'notebook'", self.failure())
        self.assertIn("give the training job an input channel named 'notebook'", self.failure())


class FailedRun(LayoutTestCase):
    def test_failure_file_names_the_cell_and_error_first(self):
        self.write_notebook(
            notebook(
                markdown("intro"),
                code("threshold = 3", tags=["parameters"]),
                code("print('started')"),
                code("def check(v):\n    raise ValueError(f'bad value {v}')\ncheck(threshold)"),
                code("print('never')"),
            )
        )
        self.write_hyperparameters({"threshold": "7"})
        result = self.run_runner()
        self.assertEqual(result.returncode, 1)
        lines = self.failure().splitlines()
        # Cell 3 of the uploaded notebook (0-based, as validator findings count), despite the injected cell.
        self.assertEqual(lines[0], "cell 3: ValueError: bad value 7")
        self.assertEqual(lines[1], "(cell id c3; executed notebook: output/data/model.ipynb)")
        self.assertIn('  File "<nbops cell 3>", line 3, in <module>', lines)
        self.assertEqual(lines[-1], "ValueError: bad value 7")
        nb = self.output_notebook()
        failed = nb["cells"][4]
        self.assertEqual(failed["metadata"]["nbops"]["status"], "failed")
        error = failed["outputs"][-1]
        self.assertEqual((error["output_type"], error["ename"], error["evalue"]), ("error", "ValueError", "bad value 7"))
        self.assertEqual(nb["cells"][5]["metadata"]["nbops"]["status"], "pending")
        self.assertTrue(nb["metadata"]["papermill"]["exception"])

    def test_failure_reason_stays_one_line_and_short(self):
        self.write_notebook(notebook(code("raise RuntimeError('line one\\nline two ' + 'x' * 2000)")))
        self.assertEqual(self.run_runner().returncode, 1)
        first = self.failure().splitlines()[0]
        self.assertTrue(first.startswith("cell 0: RuntimeError: line one line two xxx"))
        self.assertLessEqual(len(first), 400)
        self.assertLessEqual(len(self.failure()), 4096)

    def test_unsupported_magic_is_rejected_naming_cell_and_line(self):
        self.write_notebook(notebook(code("x = 1"), code("y = 2\n%time y * 2")))
        self.assertEqual(self.run_runner().returncode, 1)
        self.assertTrue(
            self.failure().startswith(
                "cell 1: UnsupportedMagic: cell 1, line 2: IPython magic %time is not supported by the built-in executor"
            )
        )

    def test_notebook_that_is_not_json_is_reported_not_crashed_on(self):
        folder = self.root / "input" / "data" / "notebook"
        folder.mkdir(parents=True)
        (folder / "broken.ipynb").write_text('{"cells": [', encoding="utf-8")
        result = self.run_runner()
        self.assertEqual(result.returncode, 1)
        self.assertTrue(self.failure().startswith("broken.ipynb: not valid JSON"))
        self.assertNotIn("Traceback", result.stderr)

    def test_syntax_error_reports_cell(self):
        self.write_notebook(notebook(code("def broken(:\n    pass")))
        self.assertEqual(self.run_runner().returncode, 1)
        self.assertTrue(self.failure().startswith("cell 0: SyntaxError: "))

    def test_nonzero_sys_exit_fails(self):
        self.write_notebook(notebook(code("import sys\nsys.exit(3)")))
        self.assertEqual(self.run_runner().returncode, 1)
        self.assertEqual(self.failure().splitlines()[0], "cell 0: SystemExit: 3")


class CellTimeout(LayoutTestCase):
    def test_hyperparameter_timeout_interrupts_a_slow_cell(self):
        self.write_notebook(
            notebook(code("print('fast')"), code("import time\ntry:\n    time.sleep(30)\nexcept Exception:\n    pass"))
        )
        self.write_hyperparameters({"nbops_cell_timeout": "0.5"})
        started = time.monotonic()
        result = self.run_runner()
        self.assertLess(time.monotonic() - started, 10)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(
            self.failure().splitlines()[0],
            "cell 1: CellTimeout: cell 1 did not finish within 0.5 s; raise nbops_cell_timeout or make the cell faster",
        )
        cells = self.output_notebook()["cells"]
        self.assertEqual(stream_text(cells[0]), "fast\n")
        self.assertEqual(cells[1]["metadata"]["nbops"]["status"], "failed")

    def test_timeout_from_environment(self):
        self.write_notebook(notebook(code("while True:\n    pass")))
        result = self.run_runner(NBOPS_CELL_TIMEOUT="0.3")
        self.assertEqual(result.returncode, 1)
        self.assertIn("did not finish within 0.3 s", self.failure())

    def test_watchdog_also_interrupts_a_cell_running_outside_the_main_thread(self):
        from nbops_runtime.executor import CellTimeout as Timeout
        from nbops_runtime.executor import Watchdog

        outcome = {}

        def busy():
            started = time.monotonic()
            try:
                with Watchdog(0.2):
                    while time.monotonic() - started < 10:
                        pass
                outcome["result"] = "finished"
            except Timeout:
                outcome["result"] = time.monotonic() - started

        worker = threading.Thread(target=busy)
        worker.start()
        worker.join(15)
        self.assertIsInstance(outcome.get("result"), float)
        self.assertLess(outcome["result"], 5)

    def test_bad_timeout_value_is_reported(self):
        self.write_notebook(notebook(code("pass")))
        self.write_hyperparameters({"nbops_cell_timeout": '"soon"'})
        self.assertEqual(self.run_runner().returncode, 1)
        self.assertTrue(self.failure().startswith("option nbops_cell_timeout: 'soon' is not a number of seconds"))


class StopSignal(LayoutTestCase):
    def test_sigterm_saves_progress_and_writes_a_stop_reason(self):
        self.write_notebook(
            notebook(
                code("from nbops_runtime import log_metric\nlog_metric('early', 1)"),
                code("import time\nprint('cell 1 running', flush=True)\ntime.sleep(30)"),
                code("print('never')"),
            )
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "nbops_runtime.runner", "--root", str(self.root)],
            cwd=str(RUNTIME_DIR),
            env=runtime_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            seen = []
            for line in process.stdout:  # output is echoed while the cell runs, not when it ends
                seen.append(line)
                if line.startswith("cell 1 running"):
                    break
            self.assertEqual(seen, ["[nbops] metric early=1.0\n", "cell 1 running\n"])
            progress = self.output_notebook()
            self.assertEqual(progress["cells"][0]["metadata"]["nbops"]["status"], "completed")
            self.assertEqual(progress["cells"][1]["metadata"]["nbops"]["status"], "running")
            process.send_signal(signal.SIGTERM)
            code_ = process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
            process.stdout.close()
            process.stderr.close()
        self.assertNotEqual(code_, 0)
        self.assertEqual(
            self.failure().splitlines()[0],
            "stopped: SIGTERM received (max runtime reached or job stopped) during cell 1",
        )
        cells = self.output_notebook()["cells"]
        self.assertEqual(cells[1]["metadata"]["nbops"]["status"], "failed")
        self.assertEqual(stream_text(cells[1]), "cell 1 running\n")
        self.assertEqual(cells[2]["metadata"]["nbops"]["status"], "pending")
        self.assertEqual(self.metrics(), {"early": 1.0})


class Metrics(LayoutTestCase):
    def test_metrics_json_holds_the_last_value_of_each_metric(self):
        self.write_notebook(
            notebook(
                code(
                    "from nbops_runtime import log_metric\n"
                    "for step in range(3):\n    log_metric('train:loss', 1.0 / (step + 1), step=step)\n"
                    "log_metric('validation:auc', 0.81)\nlog_metric('odd', float('nan'))"
                )
            )
        )
        (self.root / "output" / "data").mkdir(parents=True)
        (self.root / "output" / "data" / "metrics.json").write_text('{"stale": 1}')
        result = self.run_runner()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.metrics(), {"train:loss": 1.0 / 3, "validation:auc": 0.81, "odd": "nan"})
        self.assertIn("[nbops] metric validation:auc=0.81\n", result.stdout)

    def test_metrics_json_is_written_on_failure_too(self):
        self.write_notebook(notebook(code("from nbops_runtime import log_metric\nlog_metric('a', 2)\n1/0")))
        self.assertEqual(self.run_runner().returncode, 1)
        self.assertEqual(self.metrics(), {"a": 2.0})


# papermill cannot be installed here (no PyPI access), so this stand-in follows its documented behaviour
# (nteract/papermill execute.py, exceptions.py): inject after the parameters cell, record per-cell
# metadata.papermill, on error put a tagged banner cell at the top, save, raise PapermillExecutionError.
FAKE_PAPERMILL = """
import json, os

class PapermillExecutionError(Exception):
    def __init__(self, cell_index, exec_count, source, ename, evalue, traceback):
        super().__init__(cell_index, exec_count, source, ename, evalue, traceback)
        self.cell_index, self.exec_count, self.source = cell_index, exec_count, source
        self.ename, self.evalue, self.traceback = ename, evalue, traceback

def execute_notebook(input_path, output_path, parameters=None, engine_name=None, kernel_name=None,
                     progress_bar=True, log_output=False, stdout_file=None, stderr_file=None,
                     start_timeout=60, report_mode=False, cwd=None, **engine_kwargs):
    with open(os.environ["FAKE_PAPERMILL_CALLS"], "w") as log:
        json.dump({"parameters": parameters, "log_output": log_output, "cwd": cwd,
                   "progress_bar": progress_bar, "engine_kwargs": engine_kwargs}, log)
    nb = json.load(open(input_path))
    source = "# Parameters\\n" + "".join(f"{k} = {v!r}\\n" for k, v in (parameters or {}).items())
    at = next(i for i, c in enumerate(nb["cells"]) if "parameters" in c["metadata"].get("tags", [])) + 1
    nb["cells"].insert(at, {"cell_type": "code", "id": "x1", "metadata": {"tags": ["injected-parameters"]},
                           "source": source, "outputs": [], "execution_count": None})
    nb["metadata"]["papermill"] = {"parameters": parameters}
    error = None
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        failed = error is None and "raise" in "".join(cell["source"])
        status = "failed" if failed else ("pending" if error else "completed")
        cell["metadata"]["papermill"] = {"status": status, "exception": failed, "start_time": "t0",
                                         "end_time": "t1", "duration": 0.5}
        if failed:
            cell["outputs"] = [{"output_type": "error", "ename": "ValueError", "evalue": "boom",
                                "traceback": ["\\x1b[0;31mValueError\\x1b[0m: boom"]}]
            error = PapermillExecutionError(index, 3, cell["source"], "ValueError", "boom", cell["outputs"][0]["traceback"])
        elif not error:
            stdout_file.write("ran\\n")
    if error:
        nb["cells"].insert(0, {"cell_type": "markdown", "id": "banner",
                               "metadata": {"tags": ["papermill-error-cell-tag"]}, "source": "An Exception was encountered"})
    json.dump(nb, open(output_path, "w"))
    if error:
        raise error
"""


class PapermillAdapter(LayoutTestCase):
    def test_papermill_runs_the_notebook_and_its_failure_maps_back_to_the_uploaded_cell(self):
        fake = self.root / "fake-papermill"
        fake.mkdir()
        (fake / "papermill.py").write_text(FAKE_PAPERMILL, encoding="utf-8")
        calls = self.root / "calls.json"
        self.write_notebook(
            notebook(markdown("m"), code("a = 1", tags=["parameters"]), code("print(a)"), code("raise ValueError('boom')"))
        )
        self.write_hyperparameters({"a": "2", "nbops_cell_timeout": "30"})
        result = self.run_runner(
            NBOPS_EXECUTOR="papermill",
            FAKE_PAPERMILL_CALLS=calls,
            PYTHONPATH=f"{fake}{os.pathsep}{RUNTIME_DIR}",
        )
        self.assertEqual(result.returncode, 1, result.stderr)
        call = json.loads(calls.read_text())
        self.assertEqual(call["parameters"], {"a": 2})
        self.assertEqual(call["engine_kwargs"], {"execution_timeout": 30.0})
        self.assertEqual((call["log_output"], call["progress_bar"]), (True, False))
        self.assertEqual(call["cwd"], str(self.root / "input" / "data" / "notebook"))
        self.assertIn("ran\n", result.stdout)
        self.assertEqual(self.failure().splitlines()[:2], ["cell 3: ValueError: boom", "(cell id c3; executed notebook: output/data/model.ipynb)"])
        self.assertEqual(self.failure().splitlines()[-1], "ValueError: boom")  # colour codes stripped
        nb = self.output_notebook()
        self.assertNotIn("nbops", nb["metadata"])
        self.assertEqual(nb["metadata"]["papermill"]["executor"], "papermill")
        self.assertEqual(nb["cells"][5]["metadata"]["nbops"]["status"], "failed")
        self.assertEqual(nb["cells"][3]["metadata"]["nbops"]["duration"], 0.5)


def kernel_python():
    """An interpreter that has nbclient and ipykernel (Debian's /usr/bin/python3 can), else None."""
    for candidate in ("/usr/bin/python3", sys.executable):
        if not os.path.exists(candidate):
            continue
        probe = subprocess.run([candidate, "-c", "import nbclient, nbformat, ipykernel"], capture_output=True)
        if probe.returncode == 0:
            return candidate
    return None


@unittest.skipUnless(kernel_python(), "no interpreter with nbclient + ipykernel (apt-get install python3-nbclient python3-ipykernel)")
class NbclientExecutor(LayoutTestCase):
    def test_same_layout_and_failure_reason_through_a_real_kernel(self):
        self.write_notebook(
            notebook(
                code("n = 1", tags=["parameters"]),
                code("from nbops_runtime import log_metric\nlog_metric('k', n)\n%time z = n"),
                code("raise RuntimeError('skipped')", tags=["skip-execution"]),
                code("raise ValueError(f'bad {n}')"),
            )
        )
        self.write_hyperparameters({"n": "5"})
        result = self.run_runner(python=kernel_python(), NBOPS_EXECUTOR="nbclient", timeout=120)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertEqual(self.failure().splitlines()[0], "cell 3: ValueError: bad 5")
        self.assertIn("[nbops] metric k=5.0", result.stdout)
        self.assertEqual(self.metrics(), {"k": 5.0})
        cells = self.output_notebook()["cells"]
        self.assertEqual(cells[1]["metadata"]["tags"], ["injected-parameters"])
        self.assertEqual([c["metadata"]["nbops"]["status"] for c in cells], ["completed", "completed", "completed", "skipped", "failed"])


if __name__ == "__main__":
    unittest.main()
