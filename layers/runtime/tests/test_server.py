import base64
import json
import random
import re
import shutil
import tempfile
import textwrap
import time
import unittest
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from nbops_runtime.capture import CaptureWriter, Sampler

from .support import Server, capture_files, capture_records

# A model object with predict(); no input_fn/output_fn, so the server's CSV/JSON defaults apply.
SUM_MODEL = """
class Summer:
    def predict(self, rows):
        return [sum(v for v in row if isinstance(v, (int, float))) for row in rows]

def model_fn(model_dir):
    return Summer()
"""

RAISING_MODEL = """
def model_fn(model_dir):
    return None

def predict_fn(data, model):
    raise ArithmeticError("weights are corrupt")
"""

# Loads only once the test creates the file `release` next to it.
SLOW_LOADING_MODEL = """
import os, time

def model_fn(model_dir):
    deadline = time.monotonic() + 20
    while not os.path.exists(os.path.join(model_dir, "release")) and time.monotonic() < deadline:
        time.sleep(0.02)
    return lambda rows: [0 for _ in rows]
"""

BROKEN_LOADING_MODEL = """
def model_fn(model_dir):
    raise FileNotFoundError("model.bin is missing")
"""

# Handles any content type and answers with bytes of its own type.
BINARY_MODEL = """
def input_fn(body, content_type):
    return body

def predict_fn(data, model):
    return bytes(reversed(data))

def output_fn(prediction, accept):
    return prediction, "application/octet-stream"
"""


class ServerTestCase(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="nbops-srv-"))
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def model(self, source, name="model", nested=False):
        folder = self.tmp / name
        target = folder / "code" if nested else folder
        target.mkdir(parents=True)
        (target / "inference.py").write_text(textwrap.dedent(source), encoding="utf-8")
        return folder

    def serve(self, model_dir, *args, wait_ready=True):
        server = Server(model_dir, *args, wait_ready=wait_ready)
        self.addCleanup(server.stop)
        return server

    def metric_lines(self, path):
        return [json.loads(line) for line in Path(path).read_text().splitlines()]


class Contract(ServerTestCase):
    def test_ping_and_csv_and_json_invocations_with_defaults(self):
        server = self.serve(self.model(SUM_MODEL))
        self.assertRegex(server.first_line, r"^\[nbops\] serving on http://127\.0\.0\.1:\d+$")
        self.assertEqual(server.get("/ping")[0], 200)

        status, headers, body = server.invoke("1,2,3\n4,5,x\n", "text/csv")
        self.assertEqual((status, headers["Content-Type"], body), (200, "text/csv", b"6.0\n9.0\n"))

        status, headers, body = server.invoke(json.dumps([[1, 2], [3, 4]]), "application/json")
        self.assertEqual((status, headers["Content-Type"]), (200, "application/json"))
        self.assertEqual(json.loads(body), [3, 7])

        status, headers, body = server.invoke("1,2\n", "text/csv; charset=utf-8", accept="application/json")
        self.assertEqual((status, json.loads(body)), (200, [3.0]))

    def test_code_folder_is_found_too(self):
        server = self.serve(self.model(SUM_MODEL, nested=True))
        self.assertEqual(server.invoke("1,1", "text/csv")[2], b"2.0\n")

    def test_unsupported_content_type_is_415_and_bad_accept_406(self):
        server = self.serve(self.model(SUM_MODEL))
        status, headers, body = server.invoke(b"\x00\x01", "application/x-protobuf")
        self.assertEqual(status, 415)
        self.assertIn("Content-Type 'application/x-protobuf' is not supported", json.loads(body)["error"])
        self.assertEqual(server.invoke("1", "text/csv", accept="image/png")[0], 406)
        self.assertEqual(server.invoke("{bad json", "application/json")[0], 400)
        self.assertEqual(server.request("POST", "/other", b"")[0], 404)

    def test_error_in_predict_fn_is_a_500_model_error(self):
        metrics = self.tmp / "metrics.jsonl"
        server = self.serve(self.model(RAISING_MODEL), "--metrics-file", str(metrics))
        status, headers, body = server.invoke("1,2", "text/csv")
        self.assertEqual(status, 500)
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertEqual(
            json.loads(body), {"error": "predict_fn raised ArithmeticError: weights are corrupt", "type": "ModelError"}
        )
        [line] = self.metric_lines(metrics)
        self.assertEqual((line["status"], line["modelError"]), (500, True))

    def test_ping_is_503_until_the_model_has_loaded(self):
        model_dir = self.model(SLOW_LOADING_MODEL)
        server = self.serve(model_dir, wait_ready=False)
        status, _, body = server.get("/ping")
        self.assertEqual((status, json.loads(body)), (503, {"status": "loading"}))
        self.assertEqual(server.invoke("1", "text/csv")[0], 503)
        (model_dir / "release").write_text("")
        server.wait_ready()
        self.assertEqual(server.invoke("1\n2", "text/csv")[2], b"0\n0\n")

    def test_failed_load_keeps_answering_503_with_the_reason(self):
        server = self.serve(self.model(BROKEN_LOADING_MODEL), wait_ready=False)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status, _, body = server.get("/ping")
            if json.loads(body).get("status") == "failed":
                break
            time.sleep(0.02)
        self.assertEqual(status, 503)
        self.assertEqual(json.loads(body), {"status": "failed", "error": "FileNotFoundError: model.bin is missing"})

    def test_metrics_file_has_one_line_per_invocation(self):
        metrics = self.tmp / "out" / "metrics.jsonl"
        server = self.serve(self.model(SUM_MODEL), "--metrics-file", str(metrics))
        server.invoke("1,2", "text/csv")
        server.invoke("1,2", "application/x-unknown")
        lines = self.metric_lines(metrics)
        self.assertEqual([(m["status"], m["modelError"]) for m in lines], [(200, False), (415, False)])
        for line in lines:
            self.assertEqual(set(line), {"ts", "latencyUs", "status", "modelError"})
            self.assertIsInstance(line["latencyUs"], int)
            self.assertGreater(line["latencyUs"], 0)
            self.assertGreater(line["ts"], 1_600_000_000_000)


CAPTURE_FILE = re.compile(r"^\d{2}-\d{2}-\d{3}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.jsonl$")


class DataCapture(ServerTestCase):
    def test_records_for_csv_json_and_base64_in_sagemaker_layout(self):
        capture = self.tmp / "capture"
        before = datetime.now(timezone.utc).replace(microsecond=0)
        server = self.serve(
            self.model(SUM_MODEL), "--capture-dir", str(capture), "--endpoint", "churn-prod", "--variant", "AllTraffic"
        )
        server.invoke("1,2\n3,4", "text/csv", headers={"X-Amzn-SageMaker-Inference-Id": "req-1"})
        server.invoke("[[1,2]]", "application/json")
        binary = self.serve(
            self.model(BINARY_MODEL, name="binary"), "--capture-dir", str(capture), "--endpoint", "raw"
        )
        binary.invoke(b"\x00\xffabc", "application/x-npy")
        after = datetime.now(timezone.utc)

        [csv_file] = capture_files(capture / "churn-prod")
        relative = csv_file.relative_to(capture).parts
        self.assertEqual(relative[:2], ("churn-prod", "AllTraffic"))
        hour = datetime(int(relative[2]), int(relative[3]), int(relative[4]), int(relative[5]), tzinfo=timezone.utc)
        self.assertTrue(before.replace(minute=0, second=0) <= hour <= after, relative)
        self.assertRegex(relative[6], CAPTURE_FILE)

        csv_record, json_record = capture_records(capture / "churn-prod")
        self.assertEqual(
            csv_record["captureData"],
            {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": "1,2\n3,4", "encoding": "CSV"},
                "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "data": "3.0\n7.0\n", "encoding": "CSV"},
            },
        )
        self.assertEqual(csv_record["eventVersion"], "0")
        meta = csv_record["eventMetadata"]
        self.assertEqual(str(uuid.UUID(meta["eventId"])), meta["eventId"])
        self.assertRegex(meta["inferenceTime"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        moment = datetime.strptime(meta["inferenceTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        self.assertTrue(before <= moment <= after)
        self.assertEqual(meta["inferenceId"], "req-1")

        self.assertEqual(json_record["captureData"]["endpointInput"]["encoding"], "JSON")
        self.assertEqual(json_record["captureData"]["endpointInput"]["data"], "[[1,2]]")
        self.assertEqual(json_record["captureData"]["endpointOutput"]["data"], "[3]")
        self.assertNotIn("inferenceId", json_record["eventMetadata"])

        [raw_record] = capture_records(capture / "raw" / "AllTraffic")
        data = raw_record["captureData"]
        self.assertEqual(data["endpointInput"]["encoding"], "BASE64")
        self.assertEqual(base64.b64decode(data["endpointInput"]["data"]), b"\x00\xffabc")
        self.assertEqual(data["endpointInput"]["observedContentType"], "application/x-npy")
        self.assertEqual(base64.b64decode(data["endpointOutput"]["data"]), b"cba\xff\x00")
        self.assertEqual(data["endpointOutput"]["observedContentType"], "application/octet-stream")

    def test_failed_invocations_are_not_captured(self):
        capture = self.tmp / "capture"
        server = self.serve(self.model(RAISING_MODEL), "--capture-dir", str(capture), "--endpoint", "e")
        server.invoke("1", "text/csv")
        self.assertEqual(capture_files(capture), [])

    def test_sampling_percentage_with_a_seed(self):
        capture = self.tmp / "capture"
        server = self.serve(
            self.model(SUM_MODEL), "--capture-dir", str(capture), "--endpoint", "e", "--sampling", "30", "--sampling-seed", "7"
        )
        for i in range(40):
            server.invoke(f"{i}", "text/csv")
        chooser = random.Random(7)
        expected = [str(i) for i in range(40) if chooser.random() * 100 < 30]
        captured = [r["captureData"]["endpointInput"]["data"] for r in capture_records(capture)]
        self.assertEqual(captured, expected)
        self.assertTrue(5 <= len(captured) <= 20, len(captured))

    def test_zero_sampling_captures_nothing(self):
        capture = self.tmp / "capture"
        server = self.serve(self.model(SUM_MODEL), "--capture-dir", str(capture), "--endpoint", "e", "--sampling", "0")
        server.invoke("1", "text/csv")
        self.assertEqual(capture_files(capture), [])


class CaptureFiles(unittest.TestCase):
    def test_one_file_per_utc_hour_flushed_per_record(self):
        folder = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, folder, True)
        writer = CaptureWriter(folder, "ep", "v1", Sampler(100))
        self.addCleanup(writer.close)
        first = datetime(2024, 2, 29, 23, 59, 58, 123000, tzinfo=timezone.utc)
        writer.capture(b"1", "text/csv", b"0.5", "text/csv", first)
        # Readers see the record before the file is closed.
        [only] = capture_files(folder)
        self.assertEqual(only.relative_to(folder).parts[:6], ("ep", "v1", "2024", "02", "29", "23"))
        self.assertTrue(only.name.startswith("59-58-123-"))
        self.assertEqual(len(only.read_text().splitlines()), 1)
        writer.capture(b"2", "text/csv", b"0.6", "text/csv", first + timedelta(seconds=1))
        writer.capture(b"3", "text/csv", b"0.7", "text/csv", first + timedelta(seconds=2))
        files = capture_files(folder)
        self.assertEqual(len(files), 2)
        self.assertEqual(files[1].relative_to(folder).parts[:6], ("ep", "v1", "2024", "03", "01", "00"))
        self.assertTrue(files[1].name.startswith("00-00-123-"))
        self.assertEqual(len(files[0].read_text().splitlines()), 2)
        self.assertEqual(json.loads(files[1].read_text())["eventMetadata"]["inferenceTime"], "2024-03-01T00:00:00Z")

    def test_non_utf8_csv_falls_back_to_base64(self):
        writer = CaptureWriter("/nonexistent", "ep", "v", Sampler(100))
        self.assertEqual(writer.encode(b"\xff", "text/csv"), ("/w==", "BASE64"))
        self.assertEqual(writer.encode(b"a,b", "text/csv; charset=utf-8"), ("a,b", "CSV"))


if __name__ == "__main__":
    unittest.main()
