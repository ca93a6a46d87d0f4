"""nbops runtime: run a model notebook headless in SageMaker's layout, and serve the model it writes.

Notebook helpers:
    from nbops_runtime import log_metric, save_baseline, model_dir
"""

from .baseline import compute_baseline, save_baseline
from .layout import channel_dir, checkpoint_dir, ml_root, model_dir, output_data_dir, parameters
from .metrics import log_metric, logged_metrics

__all__ = [
    "channel_dir",
    "checkpoint_dir",
    "compute_baseline",
    "log_metric",
    "logged_metrics",
    "ml_root",
    "model_dir",
    "output_data_dir",
    "parameters",
    "save_baseline",
]
