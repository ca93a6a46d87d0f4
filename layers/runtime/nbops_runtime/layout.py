"""Where things live in SageMaker's container layout (/opt/ml), with local overrides.

SageMaker fixes the paths; the SM_* variables are honoured when present so the same code works
with toolkits that set them. NBOPS_ML_ROOT (or the runner's --root) moves the whole tree for
local runs and tests.
"""

import json
import os
import re
from pathlib import Path

DEFAULT_ROOT = "/opt/ml"
RESERVED_PREFIX = "nbops_"


def ml_root():
    """The layout root: NBOPS_ML_ROOT when set, else /opt/ml."""
    return Path(os.environ.get("NBOPS_ML_ROOT") or DEFAULT_ROOT)


def _ensure_dir(path, what):
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RuntimeError(
            f"{what}: cannot create {path} ({error.strerror or error}); set NBOPS_ML_ROOT to a writable "
            "folder or run the notebook through `python3 -m nbops_runtime.runner --root DIR`"
        ) from None
    return path


def model_dir():
    """Folder whose contents become model.tar.gz (SM_MODEL_DIR or <root>/model), created."""
    return _ensure_dir(Path(os.environ.get("SM_MODEL_DIR") or ml_root() / "model"), "model_dir")


def output_data_dir():
    """Folder SageMaker uploads as output.tar.gz (SM_OUTPUT_DATA_DIR or <root>/output/data), created."""
    path = os.environ.get("SM_OUTPUT_DATA_DIR") or ml_root() / "output" / "data"
    return _ensure_dir(Path(path), "output_data_dir")


def failure_file():
    """SageMaker reads the first 1024 characters of this file as the job's FailureReason."""
    return Path(os.environ.get("SM_OUTPUT_DIR") or ml_root() / "output") / "failure"


def checkpoint_dir():
    """Local checkpoint folder synced to S3 by SageMaker (CheckpointConfig.LocalPath default), created."""
    path = os.environ.get("SM_CHECKPOINT_DIR") or ml_root() / "checkpoints"
    return _ensure_dir(Path(path), "checkpoint_dir")


def _channel_env_name(name):
    return "SM_CHANNEL_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def channel_dir(name):
    """Input channel folder (SM_CHANNEL_<NAME> or <root>/input/data/<name>). Not created: inputs are read-only."""
    return Path(os.environ.get(_channel_env_name(name)) or ml_root() / "input" / "data" / name)


def input_config_dir():
    return Path(os.environ.get("SM_INPUT_CONFIG_DIR") or ml_root() / "input" / "config")


def hyperparameters_file():
    return input_config_dir() / "hyperparameters.json"


def decode_hyperparameter(raw):
    """SageMaker passes strings; nbops JSON-encodes each value, so decode it and keep plain strings as they are."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def read_hyperparameters():
    """All hyperparameters as SageMaker wrote them (string values); {} when the file is absent."""
    path = hyperparameters_file()
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object of hyperparameters, got {type(data).__name__}")
    return data


def parameters():
    """Notebook parameters: decoded hyperparameters without the reserved nbops_* runner options."""
    return {
        key: decode_hyperparameter(value)
        for key, value in read_hyperparameters().items()
        if not key.startswith(RESERVED_PREFIX)
    }
