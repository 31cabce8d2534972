"""Decoding and encoding in their own threads, so the slowest of the three stages sets the pace
and only a few batches of frames are ever in memory."""

from __future__ import annotations

import queue
import threading
from typing import Iterable, Iterator, Optional

import numpy as np

from vfi.io.encode import FrameWriter

_END = object()


def prefetch(items: Iterable, depth: int) -> Iterator:
    """Iterate `items` in a background thread, keeping up to `depth` ready (decode overlaps compute)."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work():
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(_END)
        except BaseException as exc:  # handed to the consumer
            q.put(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


class BackgroundWriter:
    """Feeds a FrameWriter from a queue in its own thread so encoding overlaps compute."""

    def __init__(self, writer: FrameWriter, depth: int):
        self.writer = writer
        self.q: queue.Queue = queue.Queue(maxsize=depth)
        self.error: Optional[BaseException] = None
        self.thread = threading.Thread(target=self._work, daemon=True)
        self.thread.start()

    def _work(self):
        while True:
            frame = self.q.get()
            if frame is _END:
                return
            if self.error is None:
                try:
                    self.writer.write(frame)
                except BaseException as exc:
                    self.error = exc

    def write(self, frame: np.ndarray) -> None:
        if self.error is not None:
            raise self.error
        self.q.put(frame)

    def close(self) -> None:
        self.q.put(_END)
        self.thread.join()
        if self.error is not None:
            raise self.error
