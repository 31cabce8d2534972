"""Results as people read them: Markdown and terminal tables, PNG strips of the worst frames, JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

def quality_rows(results: dict, methods: Sequence[str], mean_label: str = "mean",
                 with_speed: bool = False) -> list[tuple[str, str, list[tuple[str, bool]]]]:
    """(dataset, factor, [(cell text, is best)]) per dataset and factor, then the means.

    A cell is PSNR / SSIM (IE for Middlebury, where lower is better), "—" where missing;
    `with_speed` adds the model time per frame. The one table logic every renderer uses.
    """
    def cells(ms: dict, kind: str) -> list[tuple[str, bool]]:
        key = "ie" if kind == "middlebury" else "psnr"
        found = [ms.get(m, {}) for m in methods]
        vals = [c.get(key) for c in found]
        valid = [v for v in vals if v is not None]
        best = (min(valid) if key == "ie" else max(valid)) if valid else None
        out = []
        for c, v in zip(found, vals):
            if v is None:
                out.append(("—", False))
                continue
            text = f"IE {v:.2f}" if key == "ie" else f"{v:.2f} / {c['ssim']:.3f}" if c.get("ssim") is not None else f"{v:.2f}"
            if with_speed and c.get("model_s_per_frame"):
                text += f" ({1000 * c['model_s_per_frame']:.0f} ms)"
            out.append((text, v == best))
        return out

    rows = [(name, factor, cells(ms, ds["kind"])) for name, ds in results["datasets"].items()
            for factor, ms in ds.items() if factor != "kind"]
    return rows + [(mean_label, factor, cells(ms, "video")) for factor, ms in results["mean"].items()]


def skipped_notes(results: dict) -> list[str]:
    """One line per dataset and factor where frames across scene cuts were not scored."""
    notes = []
    for name, ds in results["datasets"].items():
        for factor, ms in ds.items():
            if factor != "kind" and any(s.get("skipped") for s in ms.values()):
                notes.append(f"{name} {factor}: {max(s.get('skipped', 0) for s in ms.values())} frame(s) "
                             "across scene cuts skipped")
    for name, items in results.get("incomplete", {}).items():
        notes.append(f"{name}: {len(items)} incomplete item(s) not scored: {'; '.join(items)}")
    return notes


def markdown_table(results: dict, methods: Sequence[str]) -> str:
    """One row per dataset and factor, one column per method: PSNR / SSIM (IE for Middlebury); best in bold."""
    lines = ["| dataset | factor | " + " | ".join(methods) + " |", "|---|---|" + "---|" * len(methods)]
    for name, factor, cells in quality_rows(results, methods, mean_label="**mean**"):
        lines.append(f"| {name} | {factor} | " + " | ".join(f"**{t}**" if best else t for t, best in cells) + " |")
    return "\n".join(lines)


def methods_in(results: dict) -> list[str]:
    """The methods a results dict scores, in the order they were run."""
    for ds in results["datasets"].values():
        for factor, ms in ds.items():
            if factor != "kind":
                return list(ms)
    return []


def markdown_report(results: dict, methods: Sequence[str]) -> str:
    """What `--markdown` prints and reports/*.md hold: quality, then model time per frame."""
    notes = skipped_notes(results)
    return "\n".join([markdown_table(results, methods), "", "Model time per interpolated frame:",
                      speed_table(results, methods), *([""] + notes if notes else [])])


def speed_table(results: dict, methods: Sequence[str]) -> str:
    lines = ["| dataset | factor | " + " | ".join(methods) + " |", "|---|---|" + "---|" * len(methods)]
    for name, ds in results["datasets"].items():
        for factor, ms in ds.items():
            if factor == "kind":
                continue
            cells = []
            for m in methods:
                s = ms.get(m, {})
                cells.append(f"{1000 * s['model_s_per_frame']:.1f} ms" if s.get("model_s_per_frame") else "—")
            lines.append(f"| {name} | {factor} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def save_examples(raw: dict, folder: Path, methods: Sequence[str], per_dataset: int = 2) -> list[Path]:
    """For the worst frames of the first method: ground truth | each method | error map of the first, as PNG."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    lead = methods[0]
    for (ds_name, k, method), score in raw.items():
        if method != lead:
            continue
        for rank, (p, label, pred, target) in enumerate(score.worst[:per_dataset]):
            panels = [target, pred]
            for other in methods[1:]:
                panels.append(raw[(ds_name, k, other)].watched.get(label, np.zeros_like(target)))
            err = np.abs(pred.astype(np.int16) - target.astype(np.int16)).max(axis=2).astype(np.uint8)
            panels.append(cv2.applyColorMap(np.clip(err * 4, 0, 255).astype(np.uint8), cv2.COLORMAP_INFERNO)[..., ::-1])
            strip = np.concatenate(panels, axis=1)
            safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in f"{ds_name}_x{k}_{rank}")
            path = folder / f"{safe}.png"
            cv2.imwrite(str(path), cv2.cvtColor(strip, cv2.COLOR_RGB2BGR))
            written.append(path)
    return written


def to_json(results: dict) -> str:
    return json.dumps(results, indent=2, sort_keys=False, default=lambda o: None if isinstance(o, float) and math.isnan(o) else o)
