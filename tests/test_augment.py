import dataclasses

import pytest
import torch

from sslbench.data.augment import (
    AugmentSpec,
    BatchAugment,
    ViewAugment,
    evaluation_view,
    gaussian_blur,
    grayscale,
    rotate_hue,
    solarize,
)

IDENTITY = AugmentSpec(
    crop_scale=(1.0, 1.0), crop_ratio=(1.0, 1.0), flip_p=0.0, jitter_p=0.0, grayscale_p=0.0
)


def _images(n: int = 8, size: int = 16, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=g)


def test_output_shape_dtype_and_range():
    spec = AugmentSpec()
    out = BatchAugment(spec, 16)(_images(), torch.Generator().manual_seed(1))
    assert out.shape == (8, 3, 16, 16) and out.dtype == torch.float32
    low = (0 - max(spec.mean)) / min(spec.std)
    high = (1 - min(spec.mean)) / min(spec.std)
    assert out.min() >= low - 1e-5 and out.max() <= high + 1e-5


def test_identity_spec_reproduces_the_evaluation_view():
    images = _images()
    out = BatchAugment(IDENTITY, 16)(images, torch.Generator().manual_seed(0))
    torch.testing.assert_close(out, evaluation_view(images, IDENTITY), atol=1e-5, rtol=0)


def test_flip_mirrors_the_image():
    spec = dataclasses.replace(IDENTITY, flip_p=1.0)
    images = _images()
    out = BatchAugment(spec, 16)(images, torch.Generator().manual_seed(0))
    torch.testing.assert_close(out, evaluation_view(images, spec).flip(-1), atol=1e-5, rtol=0)


def test_same_seed_same_views_and_different_seed_differs():
    images, aug = _images(), BatchAugment(AugmentSpec(), 16)
    a = aug(images, torch.Generator().manual_seed(3))
    b = aug(images, torch.Generator().manual_seed(3))
    c = aug(images, torch.Generator().manual_seed(4))
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


def test_two_views_of_a_batch_differ_per_sample():
    images, aug, g = _images(), BatchAugment(AugmentSpec(), 16), torch.Generator().manual_seed(0)
    v1, v2 = aug(images, g), aug(images, g)
    assert all(not torch.allclose(v1[i], v2[i]) for i in range(len(images)))


def test_grayscale_p1_gives_equal_channels():
    spec = dataclasses.replace(IDENTITY, grayscale_p=1.0, mean=(0.5,) * 3, std=(0.25,) * 3)
    out = BatchAugment(spec, 16)(_images(), torch.Generator().manual_seed(0))
    torch.testing.assert_close(out[:, 0], out[:, 1], atol=1e-5, rtol=0)
    torch.testing.assert_close(out[:, 1], out[:, 2], atol=1e-5, rtol=0)


def test_crop_scale_bounds_change_the_view_scale():
    """Small crops zoom in: neighbouring pixels become more alike than in the full image."""
    images = _images(32, 32)
    small = dataclasses.replace(IDENTITY, crop_scale=(0.08, 0.1))
    zoomed = BatchAugment(small, 32)(images, torch.Generator().manual_seed(0))
    full = evaluation_view(images, IDENTITY)

    def roughness(x: torch.Tensor) -> float:
        return (x[..., 1:] - x[..., :-1]).abs().mean().item()

    assert roughness(zoomed) < 0.5 * roughness(full)


def test_hue_rotation_keeps_luma_and_full_turn_is_identity():
    x = torch.rand(4, 3, 8, 8)
    rotated = rotate_hue(x, torch.full((4,), 0.25))
    torch.testing.assert_close(grayscale(rotated), grayscale(x), atol=1e-4, rtol=0)
    torch.testing.assert_close(rotate_hue(x, torch.ones(4)), x, atol=1e-4, rtol=0)
    assert not torch.allclose(rotated, x, atol=1e-2)


def test_rejects_non_uint8_input():
    with pytest.raises(ValueError, match="uint8"):
        BatchAugment(AugmentSpec(), 16)(torch.rand(2, 3, 16, 16), torch.Generator())


def test_blur_keeps_mean_and_smooths_and_off_is_identity():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(8, 3, 16, 16)
    blurred = gaussian_blur(x, AugmentSpec(blur_p=1.0), g)
    assert blurred.shape == x.shape
    assert torch.allclose(blurred.mean(dim=(1, 2, 3)), x.mean(dim=(1, 2, 3)), atol=0.02)
    assert blurred.diff(dim=-1).abs().mean() < x.diff(dim=-1).abs().mean()
    unblurred = gaussian_blur(x, AugmentSpec(blur_p=0.0), g)
    assert torch.allclose(unblurred, x, atol=1e-6)


def test_solarize_inverts_bright_values_only():
    x = torch.tensor([0.1, 0.49, 0.5, 0.9]).view(1, 1, 1, 4).expand(2, 3, 1, 4).contiguous()
    out = solarize(x, 1.0, torch.Generator().manual_seed(0))
    assert torch.allclose(out[0, 0, 0], torch.tensor([0.1, 0.49, 0.5, 0.1]))
    assert torch.equal(solarize(x, 0.0, torch.Generator()), x)


def test_asymmetric_views_follow_their_own_spec():
    images = torch.randint(0, 256, (16, 3, 8, 8), dtype=torch.uint8)
    solar = dataclasses.replace(IDENTITY, solarize_p=1.0)
    augment = ViewAugment((IDENTITY, solar), 8)
    g = torch.Generator().manual_seed(0)
    first, second = augment(images, 0, g), augment(images, 1, g)
    assert torch.allclose(first, evaluation_view(images, IDENTITY), atol=1e-5)
    assert not torch.allclose(second, first)
    assert torch.allclose(augment(images, 2, g), first, atol=1e-5)  # views cycle over the specs
