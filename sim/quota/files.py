"""Writing a quota folder: quota.json, quota_report.md and quota_curve.png, atomically."""
from __future__ import annotations

import json
from pathlib import Path


def write_quota(result: QuotaResult, out_dir) -> Path:
    """quota.json, quota_report.md and quota_curve.png, written to a temporary folder and moved into place."""
    from ..plots import quota_curve_figure, save
    from ..results import atomic_folder
    from .report import report_markdown
    with atomic_folder(out_dir) as tmp:
        (tmp / "quota.json").write_text(json.dumps(result.to_json(), indent=2) + "\n")
        (tmp / "quota_report.md").write_text(report_markdown(result.to_json()))
        save(quota_curve_figure(tmp), tmp / "quota_curve.png")
    return Path(out_dir).resolve()
