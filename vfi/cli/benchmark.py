"""`vfi benchmark`: scores beside the baselines, reports, and the quality gate."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from vfi.cli.app import CliError, Command, app, err, flag, out, user_errors

BENCHMARK_HELP = """Score interpolators with PSNR/SSIM on frames they never saw; gate CI on regressions.

PATHS are videos, or folders of triplets in the UCF101 layout (<id>/frame_00.png, frame_01_gt.png,
frame_02.png) or the Middlebury layout (input/<Seq>/frame10.png, frame11.png; gt/<Seq>/frame10i11.png).

Protocol: for videos keep every k-th frame, interpolate back to the full rate with upsample's own code
path (same batching, padding, scene-cut logic) and score only the dropped frames at t = j/k; windows
across a scene cut are skipped and counted. Triplets: the middle frame at t = 0.5. PSNR on RGB, data
range 1, prediction rounded to 8 bits, mean of per-frame values. SSIM: torchmetrics, 11x11 Gaussian
window, sigma 1.5. Middlebury also IE: mean absolute 0-255 difference (as published tables compute it).
Speed: model-only time per interpolated frame after a warm-up call.
"""


@app.command(cls=Command, help=BENCHMARK_HELP)
def benchmark(
    paths: Optional[List[Path]] = typer.Argument(None, help="Videos or triplet folders to score."),
    suite: Optional[str] = typer.Option(None, "--suite", help="'ci': synthetic clips generated in code with exact ground truth."),
    methods: str = typer.Option("dup,blend,flow,select", "--methods", help="Comma-separated interpolator names or checkpoint paths (`vfi models --all` lists every name)."),
    factor: List[int] = typer.Option([2, 4], "--factor", "-f", help="Keep every k-th frame (repeat the option for several)."),
    max_frames: Optional[int] = typer.Option(None, "--max-frames", min=2, help="Read at most this many frames of each video."),
    max_items: Optional[int] = typer.Option(None, "--max-items", min=1, help="Score at most this many triplets per set."),
    batch_size: int = typer.Option(4, "--batch-size", "-b", min=1, max=64, help="Frame pairs per batch (as in upsample)."),
    device: str = typer.Option("auto", "--device", help="auto (CUDA when present), cpu or cuda."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write all results as JSON to this file."),
    markdown: bool = flag("--markdown", help="Print Markdown tables (for the README) instead of a rich table."),
    save_examples: Optional[Path] = typer.Option(None, "--save-examples", help="Write PNG strips of the worst frames (truth | methods | error) here."),
    check: Optional[Path] = typer.Option(None, "--check", help="Fail (exit 1) if PSNR drops > --margin below this reference JSON, or dup < blend < flow breaks."),
    write_reference: Optional[Path] = typer.Option(None, "--write-reference", help="Write the quality numbers as a reference JSON for --check."),
    margin: float = typer.Option(0.3, "--margin", min=0.0, help="Allowed PSNR drop in dB for --check."),
    quiet: bool = flag("--quiet", "-q", help="No progress output."),
):
    import json

    from vfi.api import benchmark as run, progress_bar
    from vfi.bench import gate, report

    with user_errors():
        reference = read_reference(check) if check else None
        for target in (json_out, write_reference):
            if target is not None and not target.parent.is_dir():
                raise CliError(f"{target.parent}: no such folder to write {target.name} into")
        names = [m.strip() for m in methods.split(",") if m.strip()]
        with progress_bar(not quiet) as bar:
            task = bar.add_task("benchmark", total=None, rate="")
            results = run(paths or [], names, factor, suite=suite, max_frames=max_frames, max_items=max_items,
                          batch_size=batch_size, device=device, keep_worst=3 if save_examples else 0,
                          on_progress=lambda label: bar.update(task, rate=label))
        raw = results.pop("raw", {})
        if json_out:
            json_out.write_text(report.to_json(results))
        if write_reference:
            write_reference.write_text(json.dumps(gate.strip_for_reference(results), indent=2))
        if markdown:
            out.print(report.markdown_report(results, names), markup=False, highlight=False)
        else:
            print_results(results, names)
        if save_examples:
            for path in report.save_examples(raw, save_examples, names):
                err.print(f"wrote {path}", highlight=False)
        if check:
            problems = gate.check_against(results, reference, margin)
            for problem in problems:
                err.print(f"[red]regression[/red]: {problem}", highlight=False)
            if problems:
                raise typer.Exit(1)
            err.print(f"quality gate passed against {check} (margin {margin} dB)", highlight=False)


def read_reference(path: Path) -> dict:
    """The --check reference, read before any scoring so that a bad file fails at once."""
    import json

    if not path.is_file():
        raise CliError(f"{path}: no such reference file (make one with --write-reference)")
    try:
        reference = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CliError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(reference, dict) or not isinstance(reference.get("datasets"), dict):
        raise CliError(f"{path}: not a benchmark reference (make one with --write-reference)")
    return reference


def print_results(results: dict, names: List[str]) -> None:
    """The terminal table: the same rows as the Markdown one, with the model time per frame."""
    from vfi.bench.report import quality_rows, skipped_notes

    table = Table(title="PSNR dB / SSIM (Middlebury: IE, lower is better); model ms per frame")
    table.add_column("dataset")
    table.add_column("k")
    for name in names:
        table.add_column(name, justify="right")
    for dataset, factor, cells in quality_rows(results, names, with_speed=True):
        table.add_row(dataset, factor, *(f"[bold]{text}[/bold]" if best else text for text, best in cells))
    out.print(table)
    for note in skipped_notes(results):
        out.print(note)
