"""The linear-motion prior: where a pixel at time t came from, given the two endpoint flows.

Written once with plain arithmetic so NumPy arrays (the `flow` baseline) and torch tensors
(the learned models) share it; the caller shapes `t` to broadcast against the flows.
"""


def intermediate_flows(f01, f10, t):
    """Backward flows from time t to frames 0 and 1 under linear motion (Super SloMo's approximation)."""
    ft0 = -(1 - t) * t * f01 + t * t * f10
    ft1 = (1 - t) * (1 - t) * f01 - t * (1 - t) * f10
    return ft0, ft1
