"""Shared helpers: build a SageMaker-style layout, run the runner and the server as real processes."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path

RUNTIME_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = RUNTIME_DIR.parent.parent
CHURN_NOTEBOOK = REPO_ROOT / "examples" / "churn" / "churn.ipynb"


def code(source, tags=None, cell_id=None):
    cell = {"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None}
    if tags:
        cell["metadata"]["tags"] = list(tags)
    if cell_id:
        cell["id"] = cell_id
    return cell


def markdown(source, cell_id=None):
    cell = {"cell_type": "markdown", "metadata": {}, "source": source}
    if cell_id:
        cell["id"] = cell_id
    return cell


def notebook(*cells, minor=5):
    cells = [dict(cell) for cell in cells]
    if minor >= 5:
        for index, cell in enumerate(cells):
            cell.setdefault("id", f"c{index}")
    return {
        "nbformat": 4,
        "nbformat_minor": minor,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "cells": cells,
    }


def runtime_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SM_", "NBOPS_"))}
    env["PYTHONPATH"] = str(RUNTIME_DIR)
    env["PYTHONUNBUFFERED"] = "1"
    env.update({k: str(v) for k, v in extra.items()})
    return env


class LayoutTestCase(unittest.TestCase):
    """Each test gets a fresh /opt/ml-like root in a temp folder."""

    def setUp(self):
        self.root = Path(tempfile.mkdtemp(prefix="nbops-rt-"))
        self.addCleanup(shutil.rmtree, self.root, True)

    def write_notebook(self, nb, name="model.ipynb"):
        folder = self.root / "input" / "data" / "notebook"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_text(json.dumps(nb), encoding="utf-8")
        return path

    def write_hyperparameters(self, values):
        folder = self.root / "input" / "config"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "hyperparameters.json").write_text(json.dumps(values), encoding="utf-8")

    def run_runner(self, timeout=60, python=None, **env):
        return subprocess.run(
            [python or sys.executable, "-m", "nbops_runtime.runner", "--root", str(self.root)],
            cwd=str(RUNTIME_DIR),
            env=runtime_env(**env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def output_notebook(self, name="model.ipynb"):
        return json.loads((self.root / "output" / "data" / name).read_text(encoding="utf-8"))

    def failure(self):
        path = self.root / "output" / "failure"
        return path.read_text(encoding="utf-8") if path.exists() else None

    def metrics(self):
        return json.loads((self.root / "output" / "data" / "metrics.json").read_text(encoding="utf-8"))


def stream_text(cell, name="stdout"):
    return "".join(
        "".join(o["text"]) if isinstance(o["text"], list) else o["text"]
        for o in cell.get("outputs", [])
        if o.get("output_type") == "stream" and o.get("name") == name
    )


class Server:
    """`python3 -m nbops_runtime.server` on a free port; stop() terminates it."""

    def __init__(self, model_dir, *args, wait_ready=True):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nbops_runtime.server", "--model-dir", str(model_dir), "--port", "0", *args],
            cwd=str(RUNTIME_DIR),
            env=runtime_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.first_line = self.process.stdout.readline().strip()
        if not self.first_line.startswith("[nbops] serving on http://"):
            self.stop()
            raise RuntimeError(f"server did not start: {self.first_line!r} {self.process.stderr.read()}")
        self.url = self.first_line.rsplit(" ", 1)[-1]
        if wait_ready:
            self.wait_ready()

    def wait_ready(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, _, _ = self.get("/ping")
            if status == 200:
                return
            time.sleep(0.05)
        raise RuntimeError("server never answered /ping with 200")

    def request(self, method, path, body=None, headers=None):
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def get(self, path):
        return self.request("GET", path)

    def invoke(self, body, content_type="text/csv", accept=None, headers=None):
        all_headers = {"Content-Type": content_type, **(headers or {})}
        if accept:
            all_headers["Accept"] = accept
        data = body.encode("utf-8") if isinstance(body, str) else body
        return self.request("POST", "/invocations", data, all_headers)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream:
                stream.close()


def capture_files(capture_dir):
    return sorted(Path(capture_dir).rglob("*.jsonl"))


def capture_records(capture_dir):
    records = []
    for path in capture_files(capture_dir):
        records += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return records
