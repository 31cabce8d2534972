"""Motion priors: where a pixel at time t came from, given the flows between the frames.

Written once with plain arithmetic so NumPy arrays (the `flow` baseline) and torch tensors
(the learned models) share them; the caller shapes `t` to broadcast against the flows.

Two paths meet at time t: frame 0's pixels moving forward (displacement d0(t), d0(0) = 0,
d0(1) = F01) and frame 1's pixels moving back (d1(t), d1(1) = 0, d1(0) = F10). The
backward flows at t blend what each path says, frame 0's weighted by 1 - t and frame 1's
by t, as Super SloMo's linear prior does; with straight, constant-speed paths the two
formulas below are the same.
"""


def intermediate_flows(f01, f10, t):
    """Backward flows from time t to frames 0 and 1 under linear motion (Super SloMo's approximation)."""
    ft0 = -(1 - t) * t * f01 + t * t * f10
    ft1 = (1 - t) * (1 - t) * f01 - t * (1 - t) * f10
    return ft0, ft1


def path_flows(d0, d1, f01, f10, t):
    """Backward flows from time t to frames 0 and 1 along the paths d0(t), d1(t) of the two frames' pixels."""
    ft0 = -(1 - t) * d0 + t * (f10 - d1)
    ft1 = (1 - t) * (f01 - d0) - t * d1
    return ft0, ft1


def quadratic_paths(f01, f10, a0, a1, t):
    """Paths with constant accelerations a0, a1 that still end on F01 and F10 (d0(1) = F01, d1(0) = F10).

    From four frames, a0 = F01 + F0,-1 and a1 = F10 + F12 (central differences); a = 0 is linear motion.
    """
    bend = (t * t - t) / 2
    return t * f01 + bend * a0, (1 - t) * f10 + bend * a1
