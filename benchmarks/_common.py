"""Helpers shared by the benchmark scripts (run as ``python benchmarks/<script>.py``: this
directory is then on ``sys.path``)."""

from __future__ import annotations

import json
from pathlib import Path


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM, Linux) in MiB; NaN elsewhere."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def emit(out: dict, path: str | None) -> None:
    """Print the result as indented JSON, and write it to ``path`` when given."""
    text = json.dumps(out, indent=2)
    print(text)
    if path:
        Path(path).write_text(text + "\n")
