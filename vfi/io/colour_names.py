"""libav's names for the colour tags a stream carries (H.273 code points), as ffmpeg's options spell them.

PyAV reports a stream's range, matrix, primaries and transfer as libav's enum numbers; the encoder
is told them again by name (`-colorspace bt709`), so the numbers are named here, with the names
libavutil gives them. Unspecified and reserved values have no name: the tag is left unset.
"""

from __future__ import annotations

from typing import Optional

RANGES = {1: "tv", 2: "pc"}

PRIMARIES = {
    1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "film", 9: "bt2020",
    10: "smpte428", 11: "smpte431", 12: "smpte432", 22: "ebu3213",
}

TRANSFERS = {
    1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "linear", 9: "log100",
    10: "log316", 11: "iec61966-2-4", 12: "bt1361e", 13: "iec61966-2-1", 14: "bt2020-10", 15: "bt2020-12",
    16: "smpte2084", 17: "smpte428", 18: "arib-std-b67",
}

MATRICES = {
    0: "gbr", 1: "bt709", 4: "fcc", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "ycgco", 9: "bt2020nc",
    10: "bt2020c", 11: "smpte2085", 12: "chroma-derived-nc", 13: "chroma-derived-c", 14: "ictcp",
    15: "ipt-c2", 16: "ycgco-re", 17: "ycgco-ro",
}


def name(table: dict[int, str], value) -> Optional[str]:
    """The tag's name, or None where the stream leaves it unspecified (or gives a reserved number)."""
    try:
        return table.get(int(value))
    except (TypeError, ValueError):
        return None
