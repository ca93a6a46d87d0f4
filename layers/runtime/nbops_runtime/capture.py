"""Data capture in SageMaker's JSONL format, laid out as SageMaker writes it to S3.

<capture-dir>/<endpoint>/<variant>/yyyy/mm/dd/hh/<mm-ss-mmm>-<uuid>.jsonl, one record per line,
one file per UTC hour of invocation, flushed per record so readers see records promptly.
"""

import base64
import json
import random
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path

DEFAULT_CSV_TYPES = ("text/csv",)
DEFAULT_JSON_TYPES = ("application/json",)


def base_media_type(content_type):
    return (content_type or "").split(";", 1)[0].strip().lower()


def inference_time(moment):
    """ISO-8601 UTC with seconds, as SageMaker writes eventMetadata.inferenceTime."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Sampler:
    """Decides which invocations are captured: `percent` of them, reproducibly when seeded."""

    def __init__(self, percent, seed=None):
        if not 0 <= percent <= 100:
            raise ValueError(f"sampling percentage {percent} must be between 0 and 100")
        self.percent = percent
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def sample(self):
        if self.percent >= 100:
            return True
        if self.percent <= 0:
            return False
        with self._lock:
            return self._random.random() * 100 < self.percent


class CaptureWriter:
    def __init__(
        self,
        capture_dir,
        endpoint,
        variant,
        sampler,
        csv_types=DEFAULT_CSV_TYPES,
        json_types=DEFAULT_JSON_TYPES,
    ):
        self.folder = Path(capture_dir) / endpoint / variant
        self.sampler = sampler
        self.csv_types = {base_media_type(t) for t in csv_types}
        self.json_types = {base_media_type(t) for t in json_types}
        self._lock = threading.Lock()
        self._hour = None
        self._handle = None
        self.current_file = None

    def encode(self, body, content_type):
        """(data, encoding): text for the configured CSV/JSON types when it is UTF-8, else base64."""
        kind = base_media_type(content_type)
        encoding = "CSV" if kind in self.csv_types else "JSON" if kind in self.json_types else None
        if encoding:
            try:
                return body.decode("utf-8"), encoding
            except UnicodeDecodeError:
                pass
        return base64.b64encode(body).decode("ascii"), "BASE64"

    def record(self, request_body, request_type, response_body, response_type, moment, inference_id=None):
        input_data, input_encoding = self.encode(request_body, request_type)
        output_data, output_encoding = self.encode(response_body, response_type)
        metadata = {"eventId": str(uuid.uuid4()), "inferenceTime": inference_time(moment)}
        if inference_id:
            metadata["inferenceId"] = inference_id
        return {
            "captureData": {
                "endpointInput": {
                    "observedContentType": request_type or "",
                    "mode": "INPUT",
                    "data": input_data,
                    "encoding": input_encoding,
                },
                "endpointOutput": {
                    "observedContentType": response_type or "",
                    "mode": "OUTPUT",
                    "data": output_data,
                    "encoding": output_encoding,
                },
            },
            "eventMetadata": metadata,
            "eventVersion": "0",
        }

    def capture(self, request_body, request_type, response_body, response_type, moment=None, inference_id=None):
        """Write one record when sampled; returns True when written."""
        if not self.sampler.sample():
            return False
        moment = moment or datetime.now(timezone.utc)
        record = self.record(request_body, request_type, response_body, response_type, moment, inference_id)
        line = json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n"
        with self._lock:
            handle = self._file_for(moment.astimezone(timezone.utc))
            handle.write(line)
            handle.flush()
        return True

    def _file_for(self, moment):
        hour = moment.strftime("%Y/%m/%d/%H")
        if hour != self._hour or self._handle is None:
            self.close_file()
            folder = self.folder / hour
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{moment.strftime('%M-%S')}-{moment.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
            self.current_file = folder / name
            self._handle = open(self.current_file, "a", encoding="utf-8")
            self._hour = hour
        return self._handle

    def close_file(self):
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def close(self):
        with self._lock:
            self.close_file()
