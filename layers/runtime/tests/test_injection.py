import json
import math
import unittest

from nbops_runtime.layout import decode_hyperparameter
from nbops_runtime.notebook import NotebookError, inject_parameters, python_literal

from .support import LayoutTestCase, code, markdown, notebook, stream_text


def sources(nb):
    return ["".join(cell["source"]) for cell in nb["cells"]]


class DecodeHyperparameters(unittest.TestCase):
    def test_json_encoded_values_decode_and_plain_strings_stay_strings(self):
        self.assertEqual(decode_hyperparameter("200"), 200)
        self.assertEqual(decode_hyperparameter("0.1"), 0.1)
        self.assertEqual(decode_hyperparameter('"text"'), "text")
        self.assertIs(decode_hyperparameter("true"), True)
        self.assertEqual(decode_hyperparameter('["a", 1]'), ["a", 1])
        self.assertEqual(decode_hyperparameter("plain words"), "plain words")
        self.assertEqual(decode_hyperparameter("s3://bucket/key"), "s3://bucket/key")


class PythonLiterals(unittest.TestCase):
    def test_literals_evaluate_back_to_the_value(self):
        for value in [200, 0.1, "it's \"quoted\"\n", True, None, [1, "a", {"k": [False]}], {"x": 1.5}]:
            self.assertEqual(eval(python_literal(value)), value)

    def test_non_finite_floats_are_valid_python(self):
        self.assertTrue(math.isnan(eval(python_literal(float("nan")))))
        self.assertEqual(eval(python_literal([float("inf"), float("-inf")])), [float("inf"), float("-inf")])


class InjectParameters(unittest.TestCase):
    def test_inserts_tagged_cell_right_after_the_first_parameters_cell(self):
        nb = notebook(
            markdown("# Title"),
            code("import os"),
            code("epochs = 10\nlr = 0.5", tags=["parameters"]),
            code("print(epochs)"),
            code("x = 1", tags=["parameters"]),
        )
        index = inject_parameters(nb, {"epochs": 200, "lr": 0.1, "name": "churn"})
        self.assertEqual(index, 3)
        cell = nb["cells"][3]
        self.assertEqual(cell["metadata"]["tags"], ["injected-parameters"])
        self.assertEqual(cell["cell_type"], "code")
        self.assertEqual(cell["outputs"], [])
        self.assertIsNone(cell["execution_count"])
        self.assertEqual(cell["source"], "# Parameters\nepochs = 200\nlr = 0.1\nname = 'churn'\n")
        self.assertEqual(sources(nb)[4], "print(epochs)")
        self.assertEqual(nb["metadata"]["papermill"]["parameters"], {"epochs": 200, "lr": 0.1, "name": "churn"})
        self.assertRegex(cell["id"], r"^[a-zA-Z0-9-_]{1,64}$")
        self.assertEqual(len({c["id"] for c in nb["cells"]}), len(nb["cells"]))

    def test_without_parameters_cell_inserts_at_the_top(self):
        nb = notebook(code("print(1)"))
        self.assertEqual(inject_parameters(nb, {"a": 1}), 0)
        self.assertEqual(sources(nb), ["# Parameters\na = 1\n", "print(1)"])

    def test_replaces_a_stale_injected_cell_instead_of_adding_another(self):
        nb = notebook(code("a = 0", tags=["parameters"]), code("# Parameters\na = 5\n", tags=["injected-parameters"]))
        inject_parameters(nb, {"a": 7})
        self.assertEqual(sources(nb), ["a = 0", "# Parameters\na = 7\n"])

    def test_keeps_existing_manifest_metadata(self):
        nb = notebook(code("a = 0", tags=["parameters"]))
        nb["metadata"]["nbops"] = {"name": "churn"}
        inject_parameters(nb, {"a": 1})
        self.assertEqual(nb["metadata"]["nbops"], {"name": "churn"})

    def test_no_parameters_injects_nothing(self):
        nb = notebook(code("a = 0", tags=["parameters"]))
        self.assertEqual(inject_parameters(nb, {}), -1)
        self.assertEqual(len(nb["cells"]), 1)
        self.assertEqual(nb["metadata"]["papermill"]["parameters"], {})

    def test_no_cell_id_before_nbformat_4_5(self):
        nb = notebook(code("a = 0", tags=["parameters"]), minor=4)
        inject_parameters(nb, {"a": 1})
        self.assertNotIn("id", nb["cells"][1])

    def test_rejects_names_that_are_not_python_variables(self):
        for name in ("learning-rate", "class", "1x"):
            with self.assertRaises(NotebookError) as raised:
                inject_parameters(notebook(code("")), {name: 1})
            self.assertIn(f"hyperparameter '{name}'", str(raised.exception))
            self.assertIn("rename", str(raised.exception))


class RunnerInjection(LayoutTestCase):
    def test_sagemaker_string_hyperparameters_reach_the_notebook_decoded(self):
        self.write_notebook(
            notebook(
                code("epochs = 1\nrate = 0.5\nlabel = 'x'\nflag = False", tags=["parameters"]),
                code("print(repr(epochs), repr(rate), repr(label), repr(flag), repr(note))"),
            )
        )
        self.write_hyperparameters(
            {
                "epochs": "200",
                "rate": "0.1",
                "label": '"text"',
                "flag": "true",
                "note": "raw string",
                "nbops_cell_timeout": "30",
            }
        )
        result = self.run_runner()
        self.assertEqual(result.returncode, 0, result.stderr)
        nb = self.output_notebook()
        injected = nb["cells"][1]
        self.assertEqual(injected["metadata"]["tags"], ["injected-parameters"])
        self.assertNotIn("nbops_cell_timeout", "".join(injected["source"]))
        self.assertEqual(stream_text(nb["cells"][2]), "200 0.1 'text' True 'raw string'\n")
        self.assertEqual(
            nb["metadata"]["papermill"]["parameters"],
            {"epochs": 200, "rate": 0.1, "label": "text", "flag": True, "note": "raw string"},
        )
        self.assertNotIn("nbops", nb["metadata"])

    def test_invalid_parameter_name_fails_with_a_reason(self):
        self.write_notebook(notebook(code("x = 1", tags=["parameters"])))
        self.write_hyperparameters({"learning-rate": "0.1"})
        result = self.run_runner()
        self.assertEqual(result.returncode, 1)
        self.assertTrue(self.failure().startswith("hyperparameter 'learning-rate': not a valid Python variable name"))

    def test_input_notebook_is_left_untouched(self):
        path = self.write_notebook(notebook(code("x = 1", tags=["parameters"])))
        before = path.read_text(encoding="utf-8")
        self.write_hyperparameters({"x": "2"})
        self.assertEqual(self.run_runner().returncode, 0)
        self.assertEqual(path.read_text(encoding="utf-8"), before)
        self.assertEqual(json.loads(before)["cells"][0]["source"], "x = 1")


if __name__ == "__main__":
    unittest.main()
