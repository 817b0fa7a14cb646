"""Discriminative-feature compression (001 Fig. 2, A.7), spectra and effective rank (003 Fig. 1),
GradCAM mIoU (001 Fig. 7) and class-wise views (001 Fig. 3) on hand-built data."""

import numpy as np
import pytest
import torch

from sslbench.analysis.classwise import class_mean_representations, classwise_accuracy
from sslbench.analysis.compression import (
    CompressionSpec,
    activation_order,
    compression_curves,
    n_kept,
    tail_subset,
    window_subset,
)
from sslbench.analysis.interpretability import (
    feature_heatmaps,
    gallery_samples,
    heatmap_iou,
    mean_iou,
    miou_table,
    per_sample_iou,
)
from sslbench.analysis.qscore import discriminative_features
from sslbench.analysis.spectrum import covariance_spectrum, effective_rank, spectrum_summary
from sslbench.evaluation.linear_probe import LinearProbeSpec
from sslbench.models.resnet import BackboneSpec, build_backbone


def test_activation_order_breaks_ties_by_mean_activation_then_index():
    a = np.array([5.0, 0.0, 0.0, 0.0, 2.0])
    mean = np.array([0.0, 0.3, 0.1, 0.1, 0.0])
    assert activation_order(a, mean).tolist() == [2, 3, 1, 4, 0]


def test_window_keeping_the_percentile_width_is_001s_discriminative_set():
    a = np.arange(20, dtype=float)
    order = activation_order(a, np.zeros(20))
    window = window_subset(order, n_kept(20, 0.45), 50.0, 95.0)
    assert window.tolist() == discriminative_features(a, 50.0, 95.0).tolist() == list(range(10, 19))


def test_window_shrinks_towards_the_middle_and_tails_take_the_ends():
    order = np.arange(10)
    assert window_subset(order, 10, 50.0, 95.0).tolist() == list(range(10))
    assert window_subset(order, 2, 25.0, 75.0).tolist() == [4, 5]
    assert tail_subset(order, 3, "lower").tolist() == [0, 1, 2]
    assert tail_subset(order, 3, "upper").tolist() == [7, 8, 9]


@pytest.mark.parametrize("fraction", [0.0, 1.5])
def test_keep_fraction_outside_unit_interval_is_refused(fraction):
    with pytest.raises(ValueError, match="keep fraction"):
        n_kept(10, fraction)


def test_middle_of_a_beats_both_tails_when_only_the_middle_carries_the_label():
    rng = np.random.default_rng(0)
    n, r = 600, 10
    y = rng.integers(0, 2, n)
    h = rng.normal(size=(n, r))
    h[:, 4] += 3.0 * y
    h[:, 5] -= 3.0 * y
    split = n // 2
    spec = CompressionSpec(
        keep_fractions=(1.0, 0.2), random_draws=3, lower_percentile=25.0, upper_percentile=75.0
    )
    curves = compression_curves(
        h[:split],
        torch.from_numpy(y[:split]),
        h[split:],
        torch.from_numpy(y[split:]),
        np.arange(r, dtype=float),
        spec,
        LinearProbeSpec(epochs=20, lr=1e-2),
    )
    assert curves["n_features"] == [10, 2] and curves["keep_percent"] == [100.0, 20.0]
    assert all(len(curves[k]) == 2 for k in ("discriminative", "random", "pca", "lower_tail"))
    assert curves["discriminative"][1] > 0.9
    assert curves["lower_tail"][1] < 0.7 and curves["upper_tail"][1] < 0.7


def test_effective_rank_of_matrices_of_known_rank():
    assert effective_rank(np.ones(5)) == pytest.approx(5.0)
    assert effective_rank([3.0, 0.0, 0.0]) == pytest.approx(1.0)
    assert effective_rank(np.zeros(4)) == 0.0
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5000, 2)) @ rng.normal(size=(2, 6))
    spectrum = covariance_spectrum(x)
    assert spectrum.shape == (6,) and np.all(np.diff(spectrum) <= 1e-12)
    assert np.all(spectrum[2:] < 1e-9 * spectrum[0])
    summary = spectrum_summary(rng.normal(size=(5000, 4)))
    assert 3.9 < summary["effective_rank"] <= 4.0 and summary["dimension"] == 4


def test_heatmap_iou_is_the_share_of_heatmap_mass_in_the_region():
    heatmap = np.array([[3.0, 1.0], [0.0, 0.0]])
    region = np.array([[True, False], [True, False]])
    assert heatmap_iou(heatmap, region) == pytest.approx(0.75)
    assert heatmap_iou(heatmap, ~region) == pytest.approx(0.25)
    assert np.isnan(heatmap_iou(np.zeros((2, 2)), region))
    both = np.stack([heatmap, np.zeros((2, 2))])
    assert mean_iou(both, np.stack([region, region])) == pytest.approx(0.75)


def test_gradcam_heatmaps_have_the_image_size_are_non_negative_and_not_all_zero():
    torch.manual_seed(0)
    backbone = build_backbone(BackboneSpec("resnet18", 4, "cifar")).eval()
    images = torch.randn(3, 3, 16, 16)
    maps = feature_heatmaps(backbone, backbone.stages[-1], images, [[0, 5], [3], []])
    assert maps.shape == (3, 16, 16)
    assert (maps >= 0).all()
    assert maps[0].max() > 0 and maps[1].max() > 0
    assert (maps[2] == 0).all()


def test_class_means_separate_correct_from_misclassified_and_mark_empty_classes():
    h = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [3.0, 4.0]])
    labels = np.array([0, 0, 1, 1])
    correct = np.array([True, False, True, True])
    means = class_mean_representations(h, labels, correct, np.array([0, 1]), n_classes=3)
    assert means["correct"][0].tolist() == [1.0, 0.0]
    assert means["misclassified"][0].tolist() == [0.0, 1.0]
    assert means["correct"][1] == pytest.approx([0.8, 0.4])
    assert np.isnan(means["misclassified"][1]).all() and np.isnan(means["correct"][2]).all()
    accuracy = classwise_accuracy(labels, correct, 3)
    assert accuracy[:2].tolist() == [0.5, 1.0] and np.isnan(accuracy[2])


def test_miou_table_and_gallery_samples_split_correct_from_misclassified():
    heatmaps = np.zeros((4, 2, 2), dtype=np.float32)
    heatmaps[:, 0, 0] = 1.0  # all mass on the top-left pixel
    core = np.zeros((4, 2, 2), dtype=bool)
    core[:2, 0, 0] = True  # the first two samples' core holds the heatmap, the others' not
    correct = np.array([True, False, True, False])
    table = miou_table(heatmaps, core, correct)
    assert table["correct"] == {"miou_core": 0.5, "miou_spurious": 0.5, "core_area": 0.125, "n": 2}
    assert per_sample_iou(heatmaps, core)["iou_core"] == [1.0, 1.0, 0.0, 0.0]
    np.testing.assert_array_equal(gallery_samples(correct, 1), [0, 1])
    np.testing.assert_array_equal(gallery_samples(correct, 5), [0, 2, 1, 3])


def test_class_activation_share_finds_the_class_a_feature_belongs_to():
    """Feature 0 is in L_i of 90 % of class 1 and 10 % of class 0; feature 2 of nobody."""
    from sslbench.analysis.classwise import class_activation_share

    labels = np.repeat([0, 1], 10)
    active = np.zeros((20, 3), dtype=bool)
    active[10:19, 0] = True
    active[0, 0] = True
    active[:, 1] = True
    shares = class_activation_share(active, labels, np.array([0, 2]), 2)
    assert shares == {"max_share": [0.9, 0.0], "class": [1, 0]}
    assert class_activation_share(active, labels, np.array([], dtype=int), 2)["max_share"] == []


def test_median_share_claim_needs_every_seed_above_the_threshold():
    from types import SimpleNamespace

    from sslbench.report.representation import evaluate_representation_claim

    def run(seed, shares):
        return SimpleNamespace(
            group=f"d/simclr/seed{seed}",
            variant="pretrain-none",
            representation={"discriminative_classes": {"max_share": shares}},
        )

    claim = {
        "representation": {
            "kind": "median_above",
            "path": "discriminative_classes.max_share",
            "threshold": 0.8,
        }
    }

    def verdict(*per_seed):
        rows = evaluate_representation_claim(claim, [run(s, v) for s, v in enumerate(per_seed)])
        return rows[0][1]["verdict"]

    assert verdict([0.9, 0.85, 0.1], [0.95, 0.9, 0.5]) == "replicated"
    assert verdict([0.3, 0.5, 0.9], [0.2, 0.4, 0.6]) == "contradicted"
    assert verdict([0.9, 0.85, 0.1], [0.2, 0.4, 0.6]) == "inconclusive"
    assert verdict([0.9, 0.95], []) == "inconclusive"  # a seed with D empty decides nothing
    older = run(0, [0.9])
    older.representation = {}  # written before the class shares were stored
    ((_, result),) = evaluate_representation_claim(claim, [older])
    assert result["verdict"] == "inconclusive" and "older version" in result["detail"]


def test_discriminative_features_are_marked_where_they_sit_on_the_sorted_curve():
    from sslbench.analysis.qscore import ranks_on_sorted

    a = np.array([0.5, 0.1, 0.9, 0.3])
    sorted_a, ranks = ranks_on_sorted(a, np.array([0, 3]))
    assert sorted_a.tolist() == [0.1, 0.3, 0.5, 0.9]
    assert ranks.tolist() == [1, 2]  # features 3 (A 0.3) and 0 (A 0.5)
