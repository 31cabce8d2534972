"""Results remembered by the exact pictures they came from: a video's frames are met by two pairs
each (and by a pair's neighbours), so what is computed per frame or per pair is computed once."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any, Callable, Optional

import numpy as np


def picture_key(*pictures: np.ndarray) -> bytes:
    """A digest of the pictures' shapes and bytes: equal only for the same pictures."""
    digest = hashlib.blake2b(digest_size=16)
    for picture in pictures:
        digest.update(repr(picture.shape).encode())
        digest.update(np.ascontiguousarray(picture).data)
    return digest.digest()


class PictureMemory:
    """The latest `size` results, looked up by `picture_key`; the oldest is forgotten first."""

    def __init__(self, size: int):
        self.size = size
        self._kept: OrderedDict[bytes, Any] = OrderedDict()

    def get(self, key: bytes) -> Optional[Any]:
        return self._kept.get(key)

    def recall(self, key: bytes, make: Callable[[], Any]) -> Any:
        """The result kept for `key`, else `make()`'s, kept."""
        if key not in self._kept:
            self.put(key, make())
        return self._kept[key]

    def put(self, key: bytes, value: Any) -> None:
        self._kept[key] = value
        self._kept.move_to_end(key)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)

    def clear(self) -> None:
        self._kept.clear()
