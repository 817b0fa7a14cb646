"""Q-Score v2 (001 eq. 1) and Q-Score v1 (000 eq. 2) on hand-computed examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sslbench.analysis.qscore import (
    DiscriminativeSpec,
    activation_percentage,
    discriminative_features,
    discriminative_from_config,
    empty_intersection,
    highly_activating,
    l2_normalise,
    q_score,
    q_score_v1,
)

# Hand-worked population: N = 4 samples, r = 5 features, epsilon = 1.
#
# row 0 = [0, 2, 2, 0, 1]: sum 5 -> mu = 1; sum of squares 9 -> E[h^2] = 1.8,
#         var = 1.8 - 1 = 0.8, sigma = 0.894; threshold mu + sigma = 1.894
#         -> L_0 = {1, 2}; ||h_0||_2 = sqrt(9) = 3.
# row 1 = [0, 0, 3, 4, 0]: sum 7 -> mu = 1.4; squares 25 -> E[h^2] = 5,
#         var = 5 - 1.96 = 3.04, sigma = 1.744; threshold 3.144 -> L_1 = {3}; norm 5.
# row 2 = [5, 0, 0, 0, 0]: mu = 1; E[h^2] = 5, var = 4, sigma = 2; threshold 3
#         -> L_2 = {0}; norm 5.
# row 3 = [0, 4, 0, 0, 3]: same statistics as row 1 -> L_3 = {1}; norm 5.
#
# L2 normalisation divides h_ij, mu_i and sigma_i by ||h_i|| alike, so L_i is the same on
# the normalised rows and (h_ij - mu_i) becomes (h_ij - mu_i) / ||h_i||.
H = np.array(
    [
        [0.0, 2.0, 2.0, 0.0, 1.0],
        [0.0, 0.0, 3.0, 4.0, 0.0],
        [5.0, 0.0, 0.0, 0.0, 0.0],
        [0.0, 4.0, 0.0, 0.0, 3.0],
    ]
)
EPS = 1.0
EXPECTED_L = np.array(
    [
        [False, True, True, False, False],
        [False, False, False, True, False],
        [True, False, False, False, False],
        [False, True, False, False, False],
    ]
)
# A_j = 100/4 * (number of rows with j in L_i): f0 {row 2}, f1 {rows 0, 3}, f2 {row 0},
# f3 {row 1}, f4 {} -> [25, 50, 25, 25, 0].
EXPECTED_A = np.array([25.0, 50.0, 25.0, 25.0, 0.0])
# sorted A = [0, 25, 25, 25, 50]; np.percentile (linear) at position q/100 * (5 - 1):
#   50th -> position 2.0 -> 25;  95th -> position 3.8 -> 25 + 0.8 * (50 - 25) = 45.
# D = {j : 25 <= A_j <= 45} = {0, 2, 3}  (feature 1 is upper tail, feature 4 lower tail).
EXPECTED_D = np.array([0, 2, 3])
# Q_i over L_i ∩ D on the normalised rows:
#   row 0: L ∩ D = {2}: (2 - 1) / 3 = 1/3
#   row 1: {3}: (4 - 1.4) / 5 = 0.52
#   row 2: {0}: (5 - 1) / 5 = 0.8
#   row 3: L_3 = {1} but 1 not in D -> empty intersection -> Q = 0 (documented choice)
EXPECTED_Q = np.array([1.0 / 3.0, 0.52, 0.8, 0.0])


def test_l2_normalise_unit_rows_and_zero_row_stays_zero() -> None:
    out = l2_normalise(np.vstack([H, np.zeros(5)]))
    np.testing.assert_allclose(np.linalg.norm(out[:4], axis=1), 1.0)
    np.testing.assert_allclose(out[0], [0, 2 / 3, 2 / 3, 0, 1 / 3])
    np.testing.assert_array_equal(out[4], np.zeros(5))
    assert np.all(np.isfinite(out))


def test_highly_activating_sets_by_hand() -> None:
    np.testing.assert_array_equal(highly_activating(H, epsilon=EPS), EXPECTED_L)


def test_highly_activating_uses_epsilon() -> None:
    # For r = 5 the largest possible z-score of one feature is sqrt(r - 1) = 2, so with the
    # paper's epsilon = 4 nothing is highly activating; with epsilon = 0 row 0 gets
    # {j : h_0j > mu_0 = 1} = {1, 2} and row 2 gets {0}.
    assert not highly_activating(H, epsilon=4.0).any()
    zero = highly_activating(H, epsilon=0.0)
    np.testing.assert_array_equal(np.flatnonzero(zero[0]), [1, 2])
    np.testing.assert_array_equal(np.flatnonzero(zero[2]), [0])


def test_highly_activating_is_strict_and_empty_for_constant_rows() -> None:
    # [0, 2] -> normalised [0, 1]: mu = 0.5, sigma = 0.5, threshold (eps=1) = 1.0 exactly;
    # 1 > 1 is False, so L is empty.  Constant and zero rows have sigma = 0, nothing > mu.
    h = np.array([[0.0, 2.0], [3.0, 3.0], [0.0, 0.0]])
    assert not highly_activating(h, epsilon=1.0).any()


def test_activation_percentage_by_hand() -> None:
    np.testing.assert_allclose(activation_percentage(H, epsilon=EPS), EXPECTED_A)


def test_discriminative_features_by_hand() -> None:
    d = discriminative_features(EXPECTED_A, 50.0, 95.0)
    np.testing.assert_array_equal(d, EXPECTED_D)
    assert np.issubdtype(d.dtype, np.integer)


@pytest.mark.parametrize("block", ["analysis", "regularisers"])
def test_config_holds_the_papers_discriminative_spec(default_config, block):
    """ε and the window have no defaults in code: config is their one source (001: ε = 4,
    the 50th to 95th percentile of A)."""
    spec = DiscriminativeSpec.from_config(default_config[block]["qscore"])
    assert (spec.epsilon, spec.lower_percentile, spec.upper_percentile) == (4.0, 50, 95)


def test_discriminative_features_bounds_are_inclusive() -> None:
    a = np.array([40.0, 0.0, 20.0, 10.0, 30.0])
    # sorted [0, 10, 20, 30, 40]: 25th -> position 1 -> 10; 75th -> position 3 -> 30.
    # Inclusive: A in [10, 30] -> indices 2 (20), 3 (10), 4 (30).
    np.testing.assert_array_equal(discriminative_features(a, 25.0, 75.0), [2, 3, 4])
    np.testing.assert_array_equal(discriminative_features(a, 0.0, 100.0), [0, 1, 2, 3, 4])
    # a narrow band strictly between attained values selects nothing
    # (30th -> 12, 40th -> 16; no A_j in [12, 16])
    assert discriminative_features(a, 30.0, 40.0).size == 0


@pytest.mark.parametrize("lo, hi", [(60.0, 50.0), (-1.0, 50.0), (50.0, 101.0)])
def test_discriminative_features_rejects_bad_percentiles(lo: float, hi: float) -> None:
    with pytest.raises(ValueError, match="percentile"):
        discriminative_features(EXPECTED_A, lo, hi)


def test_q_score_by_hand() -> None:
    np.testing.assert_allclose(q_score(H, EXPECTED_D, epsilon=EPS), EXPECTED_Q)


def test_q_score_pipeline_end_to_end() -> None:
    a = activation_percentage(H, epsilon=EPS)
    d = discriminative_features(a, 50.0, 95.0)
    np.testing.assert_allclose(q_score(H, d, epsilon=EPS), EXPECTED_Q)


def test_q_score_accepts_boolean_mask() -> None:
    mask = np.array([True, False, True, True, False])
    np.testing.assert_allclose(q_score(H, mask, epsilon=EPS), EXPECTED_Q)


def test_q_score_all_features_discriminative() -> None:
    # D = all features: row 0 averages over L_0 = {1, 2}: ((2-1) + (2-1)) / 2 / 3 = 1/3;
    # row 3 now counts feature 1: (4 - 1.4) / 5 = 0.52.
    q = q_score(H, np.arange(5), epsilon=EPS)
    np.testing.assert_allclose(q, [1.0 / 3.0, 0.52, 0.8, 0.52])


def test_q_score_empty_intersection_is_zero() -> None:
    # D = {4}: no row has feature 4 in L_i -> every intersection empty -> all zeros
    np.testing.assert_array_equal(q_score(H, np.array([4]), epsilon=EPS), np.zeros(4))
    # empty D
    np.testing.assert_array_equal(q_score(H, np.array([], dtype=int), epsilon=EPS), np.zeros(4))
    # zero / constant rows have empty L_i
    z = np.array([[0.0, 0.0, 0.0], [2.0, 2.0, 2.0]])
    np.testing.assert_array_equal(q_score(z, np.arange(3), epsilon=0.5), np.zeros(2))


def test_q_score_is_invariant_to_row_scaling() -> None:
    scaled = H.copy()
    scaled[2] *= 10.0  # without normalisation row 2 would score (50 - 10) = 40, not 0.8
    q_scaled = q_score(scaled, EXPECTED_D, epsilon=EPS)
    np.testing.assert_allclose(q_scaled, EXPECTED_Q)
    np.testing.assert_allclose(activation_percentage(scaled, epsilon=EPS), EXPECTED_A)


def test_q_score_rejects_out_of_range_indices() -> None:
    with pytest.raises(ValueError):
        q_score(H, np.array([5]), epsilon=EPS)
    with pytest.raises(ValueError):
        q_score(H, np.array([True, False]), epsilon=EPS)


def test_q_score_v1_by_hand() -> None:
    h = np.array(
        [
            # mu = 1, sigma = sqrt(((0-1)^2 + (0-1)^2 + (3-1)^2 + (1-1)^2) / 4) = sqrt(1.5),
            # max = 3, Z = (3 - 1) / sqrt(1.5), ||h||_1 = 4  -> Q = (2 / sqrt(1.5)) / 4
            [0.0, 0.0, 3.0, 1.0],
            # negative entries: mu = 0, sigma = sqrt((1 + 0 + 9 + 4) / 4) = sqrt(3.5),
            # Z = 3 / sqrt(3.5), ||h||_1 = 1 + 0 + 3 + 2 = 6 -> Q = 0.5 / sqrt(3.5)
            [-1.0, 0.0, 3.0, -2.0],
            [0.0, 0.0, 0.0, 0.0],  # zero vector -> 0 (guard)
            [2.0, 2.0, 2.0, 2.0],  # sigma = 0 -> Z := 0 -> Q = 0
        ]
    )
    expected = [(2.0 / math.sqrt(1.5)) / 4.0, 0.5 / math.sqrt(3.5), 0.0, 0.0]
    q = q_score_v1(h)
    np.testing.assert_allclose(q, expected)
    assert np.all(np.isfinite(q))


def test_q_score_v1_uses_raw_h() -> None:
    # Z-score is scale invariant but ||h||_1 is not: scaling by 10 divides Q by 10
    h = np.array([[0.0, 0.0, 3.0, 1.0]])
    np.testing.assert_allclose(q_score_v1(10.0 * h), q_score_v1(h) / 10.0)


def test_rejects_non_2d_and_non_finite() -> None:
    with pytest.raises(ValueError):
        q_score_v1(np.array([1.0, 2.0]))
    with pytest.raises(ValueError):
        highly_activating(np.array([[1.0, np.nan]]), epsilon=EPS)


def test_discriminative_from_config_uses_the_blocks_epsilon_and_window():
    rng = np.random.default_rng(0)
    h = np.abs(rng.standard_normal((200, 32)))
    h[:, :4] += 3.0 * (rng.random((200, 4)) < 0.3)
    cfg = {"epsilon": 1.0, "lower_percentile": 40, "upper_percentile": 90, "bootstrap": 5}
    a, d = discriminative_from_config(h, cfg)
    np.testing.assert_array_equal(a, activation_percentage(h, 1.0))
    np.testing.assert_array_equal(d, discriminative_features(a, 40, 90))
    assert not np.array_equal(d, discriminative_features(activation_percentage(h, 4.0), 40, 90))


# --- 001's "empirically selected" ε and window (issue 18) -----------------------------------


def planted(n: int, seed: int, spike: float = 2.6, r: int = 64, classes: int = 10):
    """Uniform h (a feature's z-score in its row never exceeds √3 ≈ 1.73) where 60 % of the
    samples, the "correct" ones, carry their class's feature at z-score ``spike``: only an
    ε between 1.73 and ``spike`` isolates the class features, and every one of them must be
    in D (window 0–100 of the active features)."""
    rng = np.random.default_rng(seed)
    h = rng.random((n, r))
    labels = rng.integers(0, classes, n)
    has = rng.random(n) < 0.6
    for i in np.flatnonzero(has):
        value = 0.5
        for _ in range(50):  # the spike enters its own row's mean and std: iterate
            h[i, labels[i]] = value
            value = h[i].mean() + spike * h[i].std()
        h[i, labels[i]] = value
    return h, labels, has


EPSILONS = [1.0, 2.0, 3.0, 4.0]
WINDOWS = [(50.0, 95.0), (0.0, 100.0)]


def test_epsilon_grid_finds_the_planted_epsilon_and_counts_ties() -> None:
    from sslbench.analysis.epsilon_selection import epsilon_window_grid, select_epsilon_window

    h, _, has = planted(2000, 0)
    rows = epsilon_window_grid(h[:1500], h[1500:], has[1500:], EPSILONS, WINDOWS, True)
    by_key = {(r["epsilon"], r["lower_percentile"], r["upper_percentile"]): r for r in rows}
    # ε = 4 (and 3): nothing is highly activating, every sample ties at Q = 0, AUROC 0.5
    assert by_key[4.0, 50.0, 95.0]["empty_share"] == 1.0
    assert (
        by_key[4.0, 50.0, 95.0]["auroc"] == 0.5 and by_key[4.0, 50.0, 95.0]["n_discriminative"] == 0
    )
    # ε = 1: noise features enter every L_i, no ties, a poor ranking
    assert by_key[1.0, 0.0, 100.0]["empty_share"] == 0.0 and by_key[1.0, 0.0, 100.0]["auroc"] < 0.7
    # ε = 2 with every active feature: the samples without a spike (40 %) tie, the rest rank
    best = select_epsilon_window(rows)
    assert (best["epsilon"], best["lower_percentile"], best["upper_percentile"]) == (
        2.0,
        0.0,
        100.0,
    )
    assert best["auroc"] > 0.95 and abs(best["empty_share"] - (1 - has[1500:].mean())) < 0.05


def test_never_active_features_are_not_discriminative() -> None:
    # 6 of 10 features never activate: P50(A) = 0, so the paper's window takes them all
    a = np.array([0.0] * 6 + [10.0, 20.0, 30.0, 40.0])
    np.testing.assert_array_equal(discriminative_features(a, 50.0, 95.0), range(9))
    # over the active features [10, 20, 30, 40]: P50 = 25, P95 = 38.5 -> D = {feature 8 (30)}
    np.testing.assert_array_equal(
        discriminative_features(a, 50.0, 95.0, exclude_inactive=True), [8]
    )
    assert discriminative_features(np.zeros(4), 0.0, 100.0, exclude_inactive=True).size == 0


def test_selection_uses_the_train_split_only(monkeypatch) -> None:
    """ε and the window are chosen on a validation part of the train set (probe trained on the
    rest): every array the grid sees is made of train rows, and the choice follows the train
    set even when the test split would prefer another ε."""
    import torch

    from sslbench.analysis import qscore_summary
    from sslbench.analysis.epsilon_selection import select_epsilon_window

    h_train, y_train, _ = planted(1500, 1)
    seen = []
    real = qscore_summary.epsilon_window_grid

    def spy(population, evaluated, correct, *args):
        seen.extend([population, evaluated])
        return real(population, evaluated, correct, *args)

    monkeypatch.setattr(qscore_summary, "epsilon_window_grid", spy)
    params = {
        "seed": 0,
        "qscore": {
            "exclude_inactive": True,
            "grid": {"epsilons": EPSILONS, "windows": WINDOWS, "validation_fraction": 0.25},
        },
        "linear_probe": {"epochs": 30, "batch_size": 128, "lr": 1e-2, "weight_decay": 0.0},
    }
    choice = select_epsilon_window(
        qscore_summary.validation_grid(h_train, torch.from_numpy(y_train), params)
    )
    assert (choice["epsilon"], choice["upper_percentile"]) == (2.0, 100.0)
    train_rows = {row.tobytes() for row in h_train}
    assert seen and all(row.tobytes() in train_rows for array in seen for row in array)
    fit, val = seen[0], seen[1]
    assert len(fit) + len(val) == len(h_train) and len(val) == 375


# --- one equation, two implementations: the analysis (numpy) and the regulariser (torch) -----


def _spiky(seed: int) -> np.ndarray:
    """Signed representations where a few features of some samples stand far out, so that at
    ε = 4 some L_i ∩ D are empty and others are not."""
    rng = np.random.default_rng(seed)
    h = rng.normal(size=(256, 48))
    h[rng.random(h.shape) < 0.02] += 12.0
    return h


@pytest.mark.parametrize("block", ["analysis", "regularisers"])
@pytest.mark.parametrize("epsilon", [None, 1.5])
def test_torch_and_numpy_q_score_v2_agree(default_config, block, epsilon):
    """The regulariser's differentiable eq. (1) equals the analysis' on the same h, D and ε
    (config's block, its ε or a smaller one), empty intersections (Q = 0) included."""
    import torch

    from sslbench.regularisers.qscore import q_score_v2

    cfg = default_config[block]["qscore"]
    cfg = cfg if epsilon is None else cfg | {"epsilon": epsilon}
    h = _spiky(0)
    _, d = discriminative_from_config(h[:192], cfg)
    h_eval = h[192:]
    expected = q_score(h_eval, d, cfg["epsilon"])
    empty = empty_intersection(h_eval, d, cfg["epsilon"])
    assert d.size and empty.any() and not empty.all()
    got = q_score_v2(torch.from_numpy(h_eval), torch.from_numpy(d), cfg["epsilon"])
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=1e-15)


def test_torch_and_numpy_q_score_v1_agree():
    """000 eq. (2) on raw, signed h: the regulariser's and the analysis' values are equal."""
    import torch

    from sslbench.regularisers.qscore import q_score_v1 as torch_q_score_v1

    h = _spiky(1)
    got = torch_q_score_v1(torch.from_numpy(h)).numpy()
    np.testing.assert_allclose(got, q_score_v1(h), rtol=1e-12)
