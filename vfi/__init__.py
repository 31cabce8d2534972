"""vfi: video frame interpolation from the command line and from Python.

    import vfi
    model = vfi.load()                       # the default model; vfi.load("flow") for the fastest
    middle = model.interpolate(frame0, frame1, [0.5])[0]
    vfi.upsample("in.mp4", "out.mp4", factor=2)
    scores = vfi.benchmark(["clip.mp4"], methods=["flow", "select"])

docs/api.md describes each function; they load what they need on first use.
"""

__version__ = "0.1.0"

__all__ = ["Model", "VfiError", "__version__", "benchmark", "load", "upsample"]


def __getattr__(name: str):
    """The API loads torch and the models only when a function is first asked for, so that
    `vfi --help` and `import vfi` stay fast."""
    if name in ("Model", "benchmark", "load", "upsample"):
        from vfi import api

        return getattr(api, name)
    if name == "VfiError":
        from vfi.core.errors import VfiError

        return VfiError
    raise AttributeError(f"module 'vfi' has no attribute {name!r}")
