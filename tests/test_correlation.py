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


def test_a_strided_cost_volume_reaches_as_far_with_fewer_offsets():
    torch.manual_seed(0)
    a = torch.rand(1, 32, 24, 32) - 0.5
    b = torch.roll(a, shifts=(-4, 8), dims=(2, 3))  # 8 right, 4 up: beyond a radius of 2
    far = local_correlation(a, b, 2, stride=4)
    near = local_correlation(a, b, 8)
    assert far.shape == (1, 25, 24, 32)
    every_4th = [(dy + 8) * 17 + dx + 8 for dy in range(-8, 9, 4) for dx in range(-8, 9, 4)]
    assert torch.equal(far, near[:, every_4th])
    assert torch.all(far[..., 9:-9, 9:-9].argmax(1) == (-1 + 2) * 5 + (2 + 2))
