"""The notebook helper API: log_metric line format, metrics file, layout helpers."""

import contextlib
import io
import json
import os
import shutil
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from nbops_runtime import channel_dir, checkpoint_dir, log_metric, logged_metrics, model_dir, parameters
from nbops_runtime.metrics import parse_metric_line


def printed(name, value, **kwargs):
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        log_metric(name, value, **kwargs)
    return buffer.getvalue()


class MetricLineFormat(unittest.TestCase):
    def setUp(self):
        patcher = mock.patch.dict(os.environ, {}, clear=False)
        patcher.start()
        self.addCleanup(patcher.stop)
        os.environ.pop("NBOPS_METRICS_FILE", None)

    def test_exact_line_for_floats_ints_and_non_finite_values(self):
        self.assertEqual(printed("train:loss", 0.1), "[nbops] metric train:loss=0.1\n")
        self.assertEqual(printed("validation:auc", 0.8123456789012345), "[nbops] metric validation:auc=0.8123456789012345\n")
        self.assertEqual(printed("epochs", 3), "[nbops] metric epochs=3.0\n")
        self.assertEqual(printed("delta", -2.5e-07), "[nbops] metric delta=-2.5e-07\n")
        self.assertEqual(printed("x", float("nan")), "[nbops] metric x=nan\n")
        self.assertEqual(printed("x", float("inf")), "[nbops] metric x=inf\n")
        self.assertEqual(printed("x", float("-inf")), "[nbops] metric x=-inf\n")
        self.assertEqual(printed("flag", True), "[nbops] metric flag=1.0\n")

    def test_step_does_not_change_the_line(self):
        self.assertEqual(printed("train:loss", 0.5, step=7), "[nbops] metric train:loss=0.5\n")

    def test_line_parses_back(self):
        for value in (0.1, -3.0, 1e300, 123456789.125):
            line = printed("a:b", value)
            self.assertEqual(parse_metric_line(line), ("a:b", value))
        self.assertIsNone(parse_metric_line("[nbops] metric broken"))
        self.assertIsNone(parse_metric_line("other output"))

    def test_last_value_wins(self):
        printed("repeat", 1)
        printed("repeat", 2)
        self.assertEqual(logged_metrics()["repeat"], 2.0)

    def test_rejects_names_that_would_break_the_line_and_non_numbers(self):
        for name in ("", "a=b", "two\nlines", " padded", "x" * 256):
            with self.assertRaises(ValueError):
                printed(name, 1)
        with self.assertRaises(TypeError) as raised:
            printed("acc", "0.9")
        self.assertIn("log_metric('acc')", str(raised.exception))
        with self.assertRaises(TypeError):
            printed("acc", None)

    def test_writes_metrics_file_when_the_runner_asks(self):
        folder = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, folder, True)
        target = folder / "metrics.json"
        target.write_text(json.dumps({"from_other_process": 3}))
        os.environ["NBOPS_METRICS_FILE"] = str(target)
        printed("auc", 0.9)
        printed("auc", 0.91)
        printed("weird", float("-inf"))
        self.assertEqual(json.loads(target.read_text()), {"from_other_process": 3, "auc": 0.91, "weird": "-inf"})


class LayoutHelpers(unittest.TestCase):
    def setUp(self):
        self.root = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.root, True)
        patcher = mock.patch.dict(os.environ, {"NBOPS_ML_ROOT": str(self.root)})
        patcher.start()
        self.addCleanup(patcher.stop)
        for key in [k for k in os.environ if k.startswith("SM_")]:
            del os.environ[key]

    def test_paths_under_the_root_and_created(self):
        self.assertEqual(model_dir(), self.root / "model")
        self.assertTrue((self.root / "model").is_dir())
        self.assertEqual(checkpoint_dir(), self.root / "checkpoints")
        self.assertEqual(channel_dir("train"), self.root / "input" / "data" / "train")

    def test_sagemaker_variables_win(self):
        os.environ["SM_MODEL_DIR"] = str(self.root / "sm-model")
        os.environ["SM_CHANNEL_TRAINING_DATA"] = str(self.root / "t")
        self.assertEqual(model_dir(), self.root / "sm-model")
        self.assertEqual(channel_dir("training-data"), self.root / "t")

    def test_parameters_are_decoded_without_runner_options(self):
        config = self.root / "input" / "config"
        config.mkdir(parents=True)
        (config / "hyperparameters.json").write_text(
            json.dumps({"epochs": "200", "name": '"churn"', "raw": "abc", "nbops_cell_timeout": "60"})
        )
        self.assertEqual(parameters(), {"epochs": 200, "name": "churn", "raw": "abc"})

    def test_unwritable_root_gives_an_actionable_error(self):
        blocker = self.root / "file"
        blocker.write_text("not a folder")
        os.environ["NBOPS_ML_ROOT"] = str(blocker)
        with self.assertRaises(RuntimeError) as raised:
            model_dir()
        self.assertIn("set NBOPS_ML_ROOT to a writable folder", str(raised.exception))


if __name__ == "__main__":
    unittest.main()
