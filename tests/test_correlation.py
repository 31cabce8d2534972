"""The cost volume peaks at the displacement that matches, in the documented channel order."""

import torch

from vfi.models.correlation import local_correlation


def test_the_cost_volume_peaks_at_the_true_displacement():
    torch.manual_seed(0)
    a = torch.rand(1, 64, 24, 32) - 0.5
    dx, dy, r = 2, -1, 3
    b = torch.roll(a, shifts=(dy, dx), dims=(2, 3))  # b(x + d) = a(x)
    cost = local_correlation(a, b, r)
    assert cost.shape == (1, (2 * r + 1) ** 2, 24, 32)
    inner = cost[..., r + 1:-r - 1, r + 1:-r - 1]
    best = inner.argmax(1)
    assert torch.all(best == (dy + r) * (2 * r + 1) + (dx + r))
