import json
import math
import os
import shutil
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from nbops_runtime import compute_baseline, save_baseline

NUMERIC = {"name": "x", "type": "numeric"}
CATEGORY = {"name": "c", "type": "categorical"}


def feature(document, name):
    return next(f for f in document["features"] if f["name"] == name)


class NumericFeature(unittest.TestCase):
    def test_summary_of_one_to_one_hundred(self):
        document = compute_baseline(([v] for v in range(1, 101)), [NUMERIC])
        stats = feature(document, "x")
        self.assertEqual(document["format"], "nbops-baseline/v1")
        self.assertEqual(document["count"], 100)
        self.assertEqual((stats["count"], stats["missing"], stats["min"], stats["max"]), (100, 0, 1.0, 100.0))
        self.assertEqual(stats["mean"], 50.5)
        self.assertAlmostEqual(stats["std"], math.sqrt((100**2 - 1) / 12), places=12)  # population std
        edges = stats["quantiles"]["edges"]
        self.assertEqual(len(edges), 21)  # 20 quantile bins
        for i, edge in enumerate(edges):
            self.assertAlmostEqual(edge, 1 + 99 * i / 20, places=9)
        self.assertEqual(stats["quantiles"]["counts"], [5] * 20)
        self.assertEqual(sorted(stats["sample"]), [float(v) for v in range(1, 101)])

    def test_missing_values_are_counted_not_summarised(self):
        rows = [[1], [None], [""], [float("nan")], ["  "], [3], ["5"]]
        stats = feature(compute_baseline(rows, [NUMERIC]), "x")
        self.assertEqual((stats["count"], stats["missing"]), (3, 4))
        self.assertEqual((stats["min"], stats["max"], stats["mean"]), (1.0, 5.0, 3.0))

    def test_repeated_values_give_increasing_edges_and_complete_counts(self):
        values = [0] * 50 + [1] * 30 + [2] * 15 + [7] * 5
        stats = feature(compute_baseline(([v] for v in values), [NUMERIC]), "x")
        edges, counts = stats["quantiles"]["edges"], stats["quantiles"]["counts"]
        self.assertTrue(all(a < b for a, b in zip(edges, edges[1:])), edges)
        self.assertEqual(len(counts), len(edges) - 1)
        self.assertEqual(sum(counts), 100)
        self.assertEqual((edges[0], edges[-1]), (0.0, 7.0))

    def test_constant_feature_has_one_closed_bin(self):
        stats = feature(compute_baseline([[4], [4], [4]], [NUMERIC]), "x")
        self.assertEqual(stats["quantiles"], {"edges": [4.0, 4.0], "counts": [3]})
        self.assertEqual(stats["std"], 0.0)

    def test_sample_is_a_deterministic_reservoir_of_at_most_ten_thousand_values(self):
        rows = [[float(v)] for v in range(25_000)]
        first = feature(compute_baseline(iter(rows), [NUMERIC]), "x")["sample"]
        again = feature(compute_baseline(iter(rows), [NUMERIC]), "x")["sample"]
        other_seed = feature(compute_baseline(iter(rows), [NUMERIC], seed=1), "x")["sample"]
        self.assertEqual(len(first), 10_000)
        self.assertEqual(first, again)
        self.assertNotEqual(first, other_seed)
        self.assertEqual(len(set(first)), 10_000)
        # Uniform over the stream: the sample's mean is close to the data's (12499.5, sd of mean ~ 72).
        self.assertLess(abs(sum(first) / len(first) - 12_499.5), 400)

    def test_non_number_names_row_and_feature(self):
        with self.assertRaises(ValueError) as raised:
            compute_baseline([[1], ["abc"]], [NUMERIC])
        self.assertIn("row 2, feature 'x': 'abc' is not a number", str(raised.exception))


class CategoricalFeature(unittest.TestCase):
    def test_frequencies_and_missing(self):
        rows = [["a"], ["b"], ["a"], [None], [""], ["c"], [1], [True]]
        stats = feature(compute_baseline(rows, [CATEGORY]), "c")
        self.assertEqual(
            stats,
            {
                "name": "c",
                "type": "categorical",
                "count": 6,
                "missing": 2,
                "frequencies": {"a": 2, "b": 1, "c": 1, "1": 1, "true": 1},
            },
        )

    def test_keeps_the_thousand_most_frequent_categories(self):
        rows = [[f"v{i:04d}"] for i in range(1500)] + [[f"v{i:04d}"] for i in range(1000, 1500)]
        stats = feature(compute_baseline(rows, [CATEGORY]), "c")
        frequencies = stats["frequencies"]
        self.assertEqual(len(frequencies), 1001)
        self.assertEqual(frequencies["__other__"], 500)
        self.assertEqual(frequencies["v1000"], 2)
        self.assertNotIn("v0999", frequencies)  # one of the 500 rarer ties beyond the cap
        self.assertEqual(sum(frequencies.values()), stats["count"])


class RowsAndFeatures(unittest.TestCase):
    def test_dict_rows_and_sequence_rows_agree(self):
        features = [NUMERIC, CATEGORY]
        as_lists = compute_baseline([[1, "a"], [2, "b"], [None, "a"]], features)
        as_dicts = compute_baseline([{"x": 1, "c": "a"}, {"x": 2, "c": "b"}, {"c": "a"}], features)
        as_lists.pop("createdAt")
        as_dicts.pop("createdAt")
        self.assertEqual(as_lists, as_dicts)

    def test_short_rows_count_as_missing(self):
        document = compute_baseline([[1]], [NUMERIC, CATEGORY])
        self.assertEqual(feature(document, "c")["missing"], 1)

    def test_invalid_feature_lists_explain_the_fix(self):
        cases = [
            ([{"name": "x", "type": "text"}], "use 'numeric' or 'categorical'"),
            ([NUMERIC, NUMERIC], "listed twice"),
            ([], "list at least one feature"),
            ([{"type": "numeric"}], "needs a non-empty string 'name'"),
        ]
        for features, message in cases:
            with self.assertRaises(ValueError) as raised:
                compute_baseline([], features)
            self.assertIn(message, str(raised.exception))


class SaveBaseline(unittest.TestCase):
    def test_writes_nbops_baseline_json_into_the_model_dir_in_one_pass(self):
        root = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, root, True)
        with mock.patch.dict(os.environ, {"NBOPS_ML_ROOT": str(root)}):
            os.environ.pop("SM_MODEL_DIR", None)
            rows = ({"x": float(i), "c": "ab"[i % 2]} for i in range(10))  # a generator: can only be read once
            path = save_baseline(rows, [NUMERIC, CATEGORY])
        self.assertEqual(path, root / "model" / "nbops-baseline.json")
        document = json.loads(path.read_text(encoding="utf-8"))
        self.assertEqual(list(document), ["format", "createdAt", "count", "features"])
        self.assertRegex(document["createdAt"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(document["count"], 10)
        self.assertEqual([f["name"] for f in document["features"]], ["x", "c"])
        self.assertEqual(
            list(document["features"][0]),
            ["name", "type", "count", "missing", "min", "max", "mean", "std", "quantiles", "sample"],
        )
        self.assertEqual(document["features"][1]["frequencies"], {"a": 5, "b": 5})


if __name__ == "__main__":
    unittest.main()
