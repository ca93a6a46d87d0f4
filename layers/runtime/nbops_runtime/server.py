"""Inference server implementing SageMaker's container contract, with data capture.

    python3 -m nbops_runtime.server --model-dir D --port P [--host 127.0.0.1]
        [--capture-dir C --endpoint E --variant V --sampling 100 [--sampling-seed N]]
        [--metrics-file F]

GET /ping answers 200 once the model is loaded (503 before, or with the error if loading failed).
POST /invocations runs the user's inference.py handlers (model_fn, input_fn, predict_fn,
output_fn; each optional) with CSV and JSON defaults.
"""

import argparse
import csv
import importlib.util
import io
import json
import os
import signal
import sys
import threading
import time
import traceback
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .capture import DEFAULT_CSV_TYPES, DEFAULT_JSON_TYPES, CaptureWriter, Sampler, base_media_type

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # SageMaker real-time InvokeEndpoint payload limit
INFERENCE_ID_HEADER = "X-Amzn-SageMaker-Inference-Id"
CSV = "text/csv"
JSON = "application/json"


class RequestError(Exception):
    """A problem with the request (4xx), not with the model."""

    def __init__(self, status, message):
        super().__init__(message)
        self.http_status = status


class UnsupportedContentType(RequestError):
    def __init__(self, content_type, supported=(CSV, JSON)):
        super().__init__(
            415,
            f"Content-Type '{content_type or '(none)'}' is not supported; send one of {', '.join(supported)}",
        )


class ModelError(Exception):
    """User code (inference.py) failed."""


def log(message):
    sys.stderr.write(f"[nbops] {message}\n")
    sys.stderr.flush()


# --- defaults for inference.py handlers ------------------------------------------------------------


def _csv_value(text):
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        return text


def default_input_fn(body, content_type):
    """text/csv -> list of rows (numbers as floats, other cells as strings); application/json -> decoded JSON."""
    kind = base_media_type(content_type)
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    if kind == CSV:
        return [[_csv_value(cell) for cell in row] for row in csv.reader(io.StringIO(text)) if row]
    if kind == JSON:
        try:
            return json.loads(text)
        except ValueError as error:
            raise RequestError(400, f"request body is not valid JSON ({error}); send a JSON document") from None
    raise UnsupportedContentType(content_type)


def default_predict_fn(data, model):
    if hasattr(model, "predict"):
        return model.predict(data)
    if callable(model):
        return model(data)
    raise TypeError("inference.py has no predict_fn and the model from model_fn has no predict() method")


def _plain(value):
    """numpy arrays and scalars to lists and Python numbers."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    return value


def _csv_field(value):
    return "" if value is None else str(value)


def default_output_fn(prediction, accept):
    prediction = _plain(prediction)
    kind = base_media_type(accept)
    if kind == JSON:
        return json.dumps(prediction, default=_plain), JSON
    if kind == CSV:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        rows = prediction if isinstance(prediction, list) else [prediction]
        for row in rows:
            row = _plain(row)
            writer.writerow([_csv_field(v) for v in row] if isinstance(row, list) else [_csv_field(row)])
        return buffer.getvalue(), CSV
    raise RequestError(406, f"Accept '{accept}' is not supported; ask for {CSV} or {JSON}")


# --- user code --------------------------------------------------------------------------------------


def find_inference_script(model_dir):
    for candidate in (Path(model_dir) / "inference.py", Path(model_dir) / "code" / "inference.py"):
        if candidate.is_file():
            return candidate
    return None


class Model:
    """The user's handlers and the loaded model object."""

    def __init__(self, model_dir):
        self.model_dir = Path(model_dir)
        self.model = None
        self.input_fn = default_input_fn
        self.predict_fn = default_predict_fn
        self.output_fn = default_output_fn
        self.user_functions = set()

    def load(self):
        script = find_inference_script(self.model_dir)
        if script is None:
            raise ModelError(
                f"no inference.py in {self.model_dir} (or its code/ folder); write one from the notebook into "
                "model_dir() with model_fn/input_fn/predict_fn/output_fn"
            )
        sys.path.insert(0, str(script.parent))  # lets inference.py import modules next to it
        spec = importlib.util.spec_from_file_location("nbops_user_inference", script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name in ("input_fn", "predict_fn", "output_fn"):
            function = getattr(module, name, None)
            if callable(function):
                setattr(self, name, function)
                self.user_functions.add(name)
        model_fn = getattr(module, "model_fn", None)
        self.model = model_fn(str(self.model_dir)) if callable(model_fn) else None
        return self

    def _call(self, name, *args):
        """User handlers: any exception is a model error (500), unless it carries a 4xx http_status."""
        try:
            return getattr(self, name)(*args)
        except RequestError:
            raise
        except Exception as error:
            status = getattr(error, "http_status", None)
            if isinstance(status, int) and 400 <= status < 500:
                raise RequestError(status, str(error)) from None
            if name not in self.user_functions:
                raise
            raise ModelError(f"{name} raised {type(error).__name__}: {error}") from error

    def invoke(self, body, content_type, accept):
        kind = base_media_type(content_type)
        payload = body
        if kind in (CSV, JSON) or kind.startswith("text/"):
            try:
                payload = body.decode("utf-8")
            except UnicodeDecodeError:
                raise RequestError(400, f"request body is not UTF-8 text as {content_type} implies") from None
        data = self._call("input_fn", payload, content_type)
        prediction = self._call("predict_fn", data, self.model)
        result = self._call("output_fn", prediction, accept)
        if isinstance(result, tuple) and len(result) == 2:
            response, response_type = result
        else:
            response, response_type = result, accept
        if isinstance(response, str):
            response = response.encode("utf-8")
        elif not isinstance(response, (bytes, bytearray)):
            raise ModelError(f"output_fn returned {type(response).__name__}; return str or bytes")
        return bytes(response), response_type


def resolve_accept(accept, content_type):
    """First media type of Accept; */* or missing means: answer in the request's type when CSV/JSON, else JSON."""
    first = base_media_type((accept or "").split(",")[0])
    if first in ("", "*/*"):
        requested = base_media_type(content_type)
        return requested if requested in (CSV, JSON) else JSON
    return first


# --- HTTP -------------------------------------------------------------------------------------------


class InferenceState:
    def __init__(self, model, capture=None, metrics_file=None):
        self.model = model
        self.loaded = False
        self.load_error = None
        self.capture = capture
        self.metrics_file = metrics_file
        self._metrics_lock = threading.Lock()

    def load(self):
        try:
            self.model.load()
            self.loaded = True
            log(f"model loaded from {self.model.model_dir}")
        except Exception as error:
            self.load_error = f"{type(error).__name__}: {error}"
            log(f"model load failed: {self.load_error}")
            traceback.print_exc(file=sys.stderr)

    def record_metrics(self, latency_seconds, status, model_error):
        if not self.metrics_file:
            return
        line = json.dumps(
            {
                "ts": int(time.time() * 1000),
                "latencyUs": max(1, int(latency_seconds * 1_000_000)),
                "status": status,
                "modelError": model_error,
            }
        )
        with self._metrics_lock, open(self.metrics_file, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


class InferenceHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nbops-inference"
    state = None  # set on the subclass built by make_server

    def log_message(self, format, *args):  # quiet access log; errors are logged where they happen
        pass

    def _send(self, status, body=b"", content_type=JSON):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, status, document):
        self._send(status, json.dumps(document).encode("utf-8"))

    def do_GET(self):
        if self.path.split("?")[0] != "/ping":
            return self._send_json(404, {"error": f"no route GET {self.path}; use GET /ping", "type": "ClientError"})
        if self.state.loaded:
            return self._send(200, b"", "text/plain")
        if self.state.load_error:
            return self._send_json(503, {"status": "failed", "error": self.state.load_error})
        return self._send_json(503, {"status": "loading"})

    def do_POST(self):
        if self.path.split("?")[0] != "/invocations":
            self._discard_body()
            return self._send_json(
                404, {"error": f"no route POST {self.path}; use POST /invocations", "type": "ClientError"}
            )
        started = time.perf_counter()
        moment = datetime.now(timezone.utc)
        status, content_type, body, model_error = 500, JSON, b"", True
        latency = None
        try:
            status, content_type, body, model_error, capture = self._invoke()
            latency = time.perf_counter() - started  # the model's time, without capture and sending
            # Record before answering, so whoever got the answer can already read both files.
            if capture is not None and self.state.capture is not None:
                self._capture(capture, body, content_type, moment)
        finally:
            if latency is None:
                latency = time.perf_counter() - started
            self.state.record_metrics(latency, status, model_error)
        self._send(status, body, content_type)

    def _discard_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if 0 < length <= MAX_PAYLOAD_BYTES:
            self.rfile.read(length)

    @staticmethod
    def _json_body(document):
        return json.dumps(document).encode("utf-8")

    def _invoke(self):
        """(status, content type, body, model error?, request body to capture or None)."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_PAYLOAD_BYTES:
            self.close_connection = True
            error = {"error": f"payload must be 0..{MAX_PAYLOAD_BYTES} bytes (Content-Length)", "type": "ClientError"}
            return 413, JSON, self._json_body(error), False, None
        body = self.rfile.read(length)
        if not self.state.loaded:
            error = self.state.load_error or "model is still loading; retry after GET /ping returns 200"
            return 503, JSON, self._json_body({"error": error, "type": "ModelNotReady"}), False, None
        content_type = self.headers.get("Content-Type", "")
        accept = resolve_accept(self.headers.get("Accept"), content_type)
        try:
            response, response_type = self.state.model.invoke(body, content_type, accept)
        except RequestError as error:
            return error.http_status, JSON, self._json_body({"error": str(error), "type": "ClientError"}), False, None
        except Exception as error:
            message = str(error) if isinstance(error, ModelError) else f"{type(error).__name__}: {error}"
            log(f"invocation failed: {message}")
            traceback.print_exc(file=sys.stderr)
            return 500, JSON, self._json_body({"error": message, "type": "ModelError"}), True, None
        return 200, response_type, response, False, (body, content_type)

    def _capture(self, request, response, response_type, moment):
        body, content_type = request
        try:
            self.state.capture.capture(
                body, content_type, response, response_type, moment, self.headers.get(INFERENCE_ID_HEADER)
            )
        except OSError as error:  # capture must never fail the invocation
            log(f"data capture write failed: {error}")


def make_server(host, port, state):
    handler = type("BoundInferenceHandler", (InferenceHandler,), {"state": state})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python3 -m nbops_runtime.server",
        description="Serve a model behind SageMaker's inference contract (GET /ping, POST /invocations).",
    )
    parser.add_argument("mode", nargs="?", choices=["serve"], help="ignored; SageMaker starts containers with 'serve'")
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR") or "/opt/ml/model")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SAGEMAKER_BIND_TO_PORT") or 8080))
    parser.add_argument("--host", default=os.environ.get("NBOPS_HOST") or "127.0.0.1")
    parser.add_argument("--capture-dir", help="data capture root (the local stand-in for DestinationS3Uri)")
    parser.add_argument("--endpoint", help="endpoint name (capture path)")
    parser.add_argument("--variant", default="AllTraffic", help="variant name (capture path)")
    parser.add_argument("--sampling", type=float, default=100, help="capture sampling percentage 0-100")
    parser.add_argument("--sampling-seed", type=int, help="seed for reproducible sampling (tests)")
    parser.add_argument("--csv-content-types", default=",".join(DEFAULT_CSV_TYPES))
    parser.add_argument("--json-content-types", default=",".join(DEFAULT_JSON_TYPES))
    parser.add_argument("--metrics-file", help="append one JSON line per invocation (latency, status)")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    capture = None
    if args.capture_dir:
        if not args.endpoint:
            parser.error("--capture-dir needs --endpoint (the capture path is <capture-dir>/<endpoint>/<variant>/...)")
        if not 0 <= args.sampling <= 100:
            parser.error(f"--sampling {args.sampling:g} must be a percentage between 0 and 100")
        capture = CaptureWriter(
            args.capture_dir,
            args.endpoint,
            args.variant,
            Sampler(args.sampling, args.sampling_seed),
            [t for t in args.csv_content_types.split(",") if t.strip()],
            [t for t in args.json_content_types.split(",") if t.strip()],
        )
    if args.metrics_file:
        Path(args.metrics_file).parent.mkdir(parents=True, exist_ok=True)
    state = InferenceState(Model(args.model_dir), capture, args.metrics_file)
    try:
        server = make_server(args.host, args.port, state)
    except OSError as error:
        log(f"cannot listen on {args.host}:{args.port} ({error.strerror or error}); pick another --port")
        return 1
    host, port = server.server_address[:2]
    sys.stdout.write(f"[nbops] serving on http://{host}:{port}\n")
    sys.stdout.flush()

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=state.load, name="model-loader", daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        if capture is not None:
            capture.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
