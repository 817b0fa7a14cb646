"""002 §4.1 synthetic experiments: DGP, metrics, loss decomposition, collapse, the stage."""

from __future__ import annotations

import mlflow
import numpy as np
import pytest
import torch
from scipy.special import iv

from sslbench.io import read_json
from sslbench.losses.infonce import block_temperature, info_nce, lp_info_nce
from sslbench.stages import collapse
from sslbench.synthetic.dgp import LatentSpec, build_mixing, sample_pairs, sample_vmf
from sslbench.synthetic.experiment import run_experiment
from sslbench.synthetic.losses import Similarity
from sslbench.synthetic.metrics import (
    adjusted_r2,
    effective_rank,
    loss_terms,
    normalised_singular_values,
)
from sslbench.synthetic.settings import resolve_params
from sslbench.tracking import init_store

#: The smallest job that still trains and measures everything (seconds on one thread).
TINY = {"steps": 30, "batch_size": 32, "eval_samples": 200, "readout_samples": 300}


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("space", ["box", "sphere"])
@pytest.mark.parametrize("content_dims", [1, 3])
def test_positive_pairs_share_content_only(space, content_dims):
    spec = LatentSpec(space, 10, content_dims, box_sigma=0.05, sphere_kappa=1.0)
    z, z_tilde = sample_pairs(spec, 2000, np.random.default_rng(0))
    np.testing.assert_array_equal(z_tilde[:, :content_dims], z[:, :content_dims])
    assert np.all(z_tilde[:, content_dims:] != z[:, content_dims:])
    if space == "box":
        assert z_tilde.min() >= 0.0 and z_tilde.max() <= 1.0
        interior = (z[:, content_dims:] > 0.3) & (z[:, content_dims:] < 0.7)
        step = (z_tilde - z)[:, content_dims:][interior]
        assert step.std() == pytest.approx(0.05, rel=0.05)
    else:
        np.testing.assert_allclose(np.linalg.norm(z_tilde, axis=1), 1.0, atol=1e-12)
        np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, atol=1e-12)


@pytest.mark.parametrize(("m", "kappa"), [(2, 5.0), (3, 2.0), (9, 1.0), (9, 20.0)])
def test_vmf_mean_cosine_is_the_bessel_ratio(m, kappa):
    """E⟨v, μ⟩ of vMF(μ, κ) on S^{m−1} is A_m(κ) = I_{m/2}(κ) / I_{m/2−1}(κ)."""
    rng = np.random.default_rng(1)
    mu = rng.standard_normal((20_000, m))
    mu /= np.linalg.norm(mu, axis=1, keepdims=True)
    v = sample_vmf(mu, kappa, rng)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-12)
    expected = iv(m / 2, kappa) / iv(m / 2 - 1, kappa)
    assert np.sum(v * mu, axis=1).mean() == pytest.approx(expected, abs=0.01)


def test_vmf_on_the_two_point_sphere():
    mu = np.ones((20_000, 1))
    v = sample_vmf(mu, 1.0, np.random.default_rng(2))
    assert set(np.unique(v)) == {-1.0, 1.0}
    assert v.mean() == pytest.approx(np.tanh(1.0), abs=0.02)


@pytest.mark.parametrize("layers", [1, 3])
def test_mixing_is_invertible_and_nonlinear(layers):
    rng = np.random.default_rng(3)
    g = build_mixing(10, layers, rng, candidates=50)
    z = rng.uniform(size=(500, 10))
    x = g.forward(z)
    np.testing.assert_allclose(g.inverse(x), z, atol=1e-10)
    for w in g.weights:
        np.testing.assert_allclose(np.linalg.norm(w, axis=0), 1.0)
    midpoint = g.forward((z[:250] + z[250:]) / 2)
    is_linear = np.allclose(midpoint, (x[:250] + x[250:]) / 2)
    assert is_linear == (layers == 1)


def test_best_conditioned_of_more_candidates_is_better_conditioned():
    few = build_mixing(10, 1, np.random.default_rng(4), candidates=1).matrix()
    many = build_mixing(10, 1, np.random.default_rng(4), candidates=500).matrix()
    assert np.linalg.cond(many) < np.linalg.cond(few)


def test_adjusted_r2_of_identity_is_one_and_of_noise_near_zero():
    rng = np.random.default_rng(5)
    z = rng.uniform(size=(2000, 4))
    np.testing.assert_allclose(adjusted_r2(z, z), 1.0, atol=1e-12)
    np.testing.assert_allclose(adjusted_r2(z @ rng.standard_normal((4, 4)), z), 1.0, atol=1e-9)
    noise = adjusted_r2(rng.standard_normal((2000, 20)), z)
    assert np.all(np.abs(noise) < 0.01)
    raw_bias = 20 / 2000  # E[R²] of 20 useless regressors; the adjustment removes it
    assert noise.mean() < raw_bias / 2


def test_spectrum_metrics():
    d = np.diag([4.0, 2.0, 1.0, 0.0])
    np.testing.assert_allclose(normalised_singular_values(d), [1.0, 0.5, 0.25, 0.0])
    assert effective_rank(np.eye(5)) == pytest.approx(5.0)
    assert effective_rank(np.diag([1.0, 0, 0])) == pytest.approx(1.0)


def _inverse_pairs(space: str, n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """f = g⁻¹ applied to observations of n positive pairs."""
    rng = np.random.default_rng(6)
    g = build_mixing(6, 3, rng, candidates=20)
    pairs = sample_pairs(LatentSpec(space, 6, 2), n, rng)
    return tuple(torch.from_numpy(g.inverse(g.forward(v))).float() for v in pairs)


@pytest.mark.parametrize(
    ("space", "kind"), [("sphere", "cosine"), ("sphere", "dot"), ("box", "lp")]
)
def test_align_plus_uniform_is_the_infonce_loss_of_the_inverse(space, kind):
    z0, z1 = _inverse_pairs(space)
    tau = block_temperature(6, 2, 0.3, 1.0)
    sim = Similarity(kind, tau)
    if kind == "lp":
        direct = lp_info_nce(z0, z1, tau)
    else:
        direct = info_nce(z0, z1, tau, normalise=kind == "cosine")
    terms = loss_terms(z0, z1, sim)
    assert terms.total == pytest.approx(direct.item(), abs=1e-5)
    assert loss_terms(z0, z1, sim, chunk=7).as_dict() == pytest.approx(terms.as_dict())
    if kind == "lp":
        expected_align = ((z0 - z1) ** 2 / tau).sum(1).mean().item()
    else:
        a, b = (z0, z1) if kind == "dot" else (nn_normalise(z0), nn_normalise(z1))
        expected_align = -(a * b / tau).sum(1).mean().item()
    assert terms.align == pytest.approx(expected_align, abs=1e-5)


def nn_normalise(z: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.normalize(z, dim=1)


def test_l2_infonce_on_the_sphere_is_cosine_infonce_at_half_temperature():
    """−‖a − b‖² = 2 cos(a, b) − 2 for unit vectors; the constant cancels in the softmax."""
    z0, z1 = (nn_normalise(v) for v in _inverse_pairs("sphere"))
    assert lp_info_nce(z0, z1, 0.5, p=2.0).item() == pytest.approx(
        info_nce(z0, z1, 0.25, normalise=True).item(), abs=1e-5
    )


def test_lp_infonce_gradients_are_finite():
    z0 = torch.randn(16, 4, requires_grad=True)
    loss = lp_info_nce(z0, z0.detach().clone(), torch.ones(4))
    loss.backward()
    assert torch.isfinite(z0.grad).all()


def _linear_spectrum(content_dims: int, seed: int) -> float:
    cfg = resolve_params(
        {
            "experiment": "linear",
            "space": "sphere",
            "content_dims": content_dims,
            "seed": seed,
            "steps": 400,
            "batch_size": 128,
            "lr": 0.03,
            "eval_samples": 100,
            "readout_samples": 100,
        }
    )
    return run_experiment(cfg)["spectrum"]["composition_effective_rank"]


def test_content_dims_collapse_the_linear_spectrum():
    """002 Fig. 1 left: with d_c > 0 (τ_c = τ_s) the trained W A has far fewer effective
    dimensions than with d_c = 0 (on the sphere, where the cosine InfoNCE collapses within a few
    hundred steps; seeds 0–4 gave 7.83–7.94 vs. 1.82–2.10)."""
    uncollapsed, collapsed = _linear_spectrum(0, seed=0), _linear_spectrum(1, seed=0)
    assert uncollapsed > 6.0
    assert collapsed < 3.0


def test_resolve_params_fills_defaults():
    # bad settings are the config schema's to refuse (test_malformed_config.py)
    cfg = resolve_params({"experiment": "nonlinear", "space": "sphere"})
    assert cfg["dim"] == 10 and cfg["normalise"] is True and cfg["eval_samples"] == 10_000
    box = resolve_params({"experiment": "linear", "space": "box", "p": 1, "seed": 3})
    assert box["dim"] == 8 and box["normalise"] is False and box["seed"] == 3
    assert box["p"] == 1.0 and isinstance(box["p"], float)


def test_experiment_is_deterministic_for_a_seed():
    params = {"experiment": "nonlinear", "space": "box", "seed": 3, **TINY}
    first = run_experiment(resolve_params(params))
    second = run_experiment(resolve_params(params))
    assert first == second
    other = run_experiment(resolve_params({**params, "seed": 4}))
    assert other["loss"] != first["loss"]


def test_stage_writes_json_and_logs_mlflow(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    experiment_id = init_store(uri, "collapse-test", tmp_path / "artifacts")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "collapse-test")
    params = {"experiment": "nonlinear", "space": "sphere", "content_dims": 2, **TINY}
    out = tmp_path / "out" / "collapse.json"
    collapse.run(params, out)

    result = read_json(out)
    assert result["params"] == resolve_params(params)
    layers = result["readout"]["layers"]
    assert layers == ["input"] + [f"layer_{i}" for i in range(1, 8)]
    assert len(result["readout"]["content"]) == len(layers)
    assert len(result["readout"]["content_per_dim"][0]) == 2
    assert len(result["readout"]["style_per_dim"][0]) == 8
    normalised = result["readout"]["output_normalised"]
    assert set(normalised) == {"content", "style"} and -1 < normalised["style"] <= 1
    for which in ("trained", "inverse"):
        terms = result["loss"][which]
        assert terms["total"] == pytest.approx(terms["align"] + terms["uniform"])
    assert result["train_history"][-1][0] == TINY["steps"]
    assert "spectrum" not in result

    client = mlflow.MlflowClient(uri)
    (run,) = client.search_runs([experiment_id])
    assert run.info.run_name == collapse.run_name(result["params"])
    assert run.data.tags["stage"] == "collapse"
    assert run.data.tags["space"] == "sphere"
    assert run.data.params["content_dims"] == "2"
    metrics = run.data.metrics
    assert metrics["trained_total"] == pytest.approx(result["loss"]["trained"]["total"])
    assert metrics["r2_style_layer_7"] == pytest.approx(result["readout"]["style"][7])
    assert metrics["r2_style_output_normalised"] == pytest.approx(normalised["style"])
    assert metrics["seconds"] > 0


def test_linear_stage_reports_the_spectrum(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    init_store(uri, "collapse-test", tmp_path / "artifacts")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "collapse-test")
    out = tmp_path / "linear.json"
    collapse.run({"experiment": "linear", "space": "box", "content_dims": 0, **TINY}, out)
    result = read_json(out)
    spectrum = result["spectrum"]
    assert len(spectrum["weight"]) == 8 and spectrum["weight"][0] == 1.0
    assert spectrum["weight"] == sorted(spectrum["weight"], reverse=True)
    assert result["readout"]["content"] is None and result["readout"]["content_per_dim"] is None
    assert result["readout"]["layers"] == ["input", "layer_1"]
    assert "output_normalised" not in result["readout"]
