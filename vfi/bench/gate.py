"""The quality gate: fail when a method's PSNR drops below the committed reference."""

from __future__ import annotations

ORDER = ("dup", "blend", "flow")


def check_against(results: dict, reference: dict, margin: float = 0.3) -> list[str]:
    """Problems found: a method's PSNR dropped more than `margin` dB, or dup < blend < flow broke."""
    problems = []
    for ds_name, ds in reference["datasets"].items():
        for factor, methods in ds.items():
            if factor == "kind":
                continue
            for method, ref in methods.items():
                got = results["datasets"].get(ds_name, {}).get(factor, {}).get(method)
                if got is None or ref.get("psnr") is None:
                    continue
                if got["psnr"] < ref["psnr"] - margin:
                    problems.append(f"{ds_name} {factor} {method}: PSNR {got['psnr']:.2f} dB is more than "
                                    f"{margin} dB below the reference {ref['psnr']:.2f} dB")
    for factor, methods in results["mean"].items():
        present = [m for m in ORDER if m in methods]
        for lo, hi in zip(present, present[1:]):
            if not methods[lo]["psnr"] < methods[hi]["psnr"]:
                problems.append(f"mean {factor}: expected {lo} < {hi}, got {methods[lo]['psnr']:.2f} >= "
                                f"{methods[hi]['psnr']:.2f} dB")
    return problems


def strip_for_reference(results: dict) -> dict:
    """Only the quality numbers go into the committed reference (timings are machine noise)."""
    keep = ("psnr", "ssim", "ie")
    ref = {"protocol": results["protocol"], "datasets": {}, "mean": results["mean"]}
    for name, ds in results["datasets"].items():
        ref["datasets"][name] = {"kind": ds["kind"]}
        for factor, methods in ds.items():
            if factor != "kind":
                ref["datasets"][name][factor] = {m: {k: s[k] for k in keep if k in s} for m, s in methods.items()}
    return ref
