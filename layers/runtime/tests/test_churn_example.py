"""examples/churn/churn.ipynb end to end: trained through the runner, then served."""

import json
import shutil
import time
import unittest

from .support import CHURN_NOTEBOOK, LayoutTestCase, Server, capture_records

FEATURE_ORDER = ["tenure_months", "monthly_charges", "total_charges", "contract", "support_calls", "has_fiber"]


class NotebookFile(unittest.TestCase):
    def test_is_a_clean_parameterised_nbformat_4_5_notebook(self):
        nb = json.loads(CHURN_NOTEBOOK.read_text(encoding="utf-8"))
        self.assertEqual((nb["nbformat"], nb["nbformat_minor"]), (4, 5))
        self.assertEqual(nb["metadata"]["kernelspec"]["name"], "python3")
        # The manifest (examples/churn/manifest.yaml) is embedded: the notebook is one submission.
        self.assertEqual(nb["metadata"]["nbops"]["model"]["name"], "churn")
        ids = [cell["id"] for cell in nb["cells"]]
        self.assertEqual(len(ids), len(set(ids)))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                self.assertEqual(cell["outputs"], [])
                self.assertIsNone(cell["execution_count"])
        [parameters] = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
        self.assertEqual(
            "".join(parameters["source"]), "epochs = 200\nlearning_rate = 0.1\nseed = 42\nn_rows = 5000"
        )
        self.assertTrue(any(c["cell_type"] == "markdown" for c in nb["cells"]))


class TrainAndServe(LayoutTestCase):
    def test_trains_through_the_runner_then_serves_predictions(self):
        folder = self.root / "input" / "data" / "notebook"
        folder.mkdir(parents=True)
        shutil.copy(CHURN_NOTEBOOK, folder / "churn.ipynb")
        # What nbops sends: each manifest parameter JSON-encoded as a string.
        self.write_hyperparameters({"epochs": "200", "learning_rate": "0.1", "seed": "42", "n_rows": "5000"})

        started = time.monotonic()
        result = self.run_runner(timeout=120)
        elapsed = time.monotonic() - started
        self.assertEqual(result.returncode, 0, (result.stderr, self.failure()))
        self.assertLess(elapsed, 60)

        metrics = self.metrics()
        self.assertGreater(metrics["validation:auc"], 0.75)
        self.assertGreater(metrics["validation:accuracy"], 0.6)
        self.assertLess(metrics["train:loss"], 0.69)  # better than a coin
        for name in ("train:loss", "validation:auc", "validation:accuracy"):
            self.assertRegex(result.stdout, rf"(?m)^\[nbops\] metric {name}=[0-9.e-]+$")

        model = self.root / "model"
        for name in ("model.json", "inference.py", "nbops-baseline.json"):
            self.assertTrue((model / name).is_file(), name)
        baseline = json.loads((model / "nbops-baseline.json").read_text(encoding="utf-8"))
        self.assertEqual(baseline["count"], 4000)
        self.assertEqual([f["name"] for f in baseline["features"]], FEATURE_ORDER)
        self.assertEqual(
            [f["type"] for f in baseline["features"]],
            ["numeric", "numeric", "numeric", "categorical", "numeric", "categorical"],
        )
        contract = baseline["features"][3]["frequencies"]
        self.assertEqual(set(contract), {"month-to-month", "one-year", "two-year"})

        executed = json.loads((self.root / "output" / "data" / "churn.ipynb").read_text(encoding="utf-8"))
        self.assertEqual(
            executed["metadata"]["papermill"]["parameters"],
            {"epochs": 200, "learning_rate": 0.1, "seed": 42, "n_rows": 5000},
        )

        capture = self.root / "capture"
        server = Server(model, "--capture-dir", str(capture), "--endpoint", "churn", "--variant", "AllTraffic")
        self.addCleanup(server.stop)
        rows = "2,95.5,191,month-to-month,5,yes\n70,25.0,1750,two-year,0,no\n"
        status, headers, body = server.invoke(rows, "text/csv")
        self.assertEqual(status, 200)
        risky, loyal = [float(line) for line in body.decode().splitlines()]
        self.assertTrue(0 <= loyal < risky <= 1, (risky, loyal))
        self.assertGreater(risky, 0.5)
        self.assertLess(loyal, 0.2)

        as_json = [dict(zip(FEATURE_ORDER, [2, 95.5, 191, "month-to-month", 5, "yes"]))]
        status, headers, body = server.invoke(json.dumps(as_json), "application/json")
        self.assertEqual((status, headers["Content-Type"]), (200, "application/json"))
        self.assertAlmostEqual(json.loads(body)[0], risky, places=12)

        status, _, body = server.invoke("1,2,3\n", "text/csv")
        self.assertEqual(status, 400)
        self.assertIn("each row needs 6 values", json.loads(body)["error"])

        records = capture_records(capture / "churn" / "AllTraffic")
        self.assertEqual(len(records), 2)
        self.assertEqual(records[0]["captureData"]["endpointInput"]["data"], rows)


if __name__ == "__main__":
    unittest.main()
