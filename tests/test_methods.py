"""The eight SSL methods of the registry: losses against their written-out formulas, target
networks, queues and centres, checkpoint/resume, and a short training run on tiny Trifeature.

Losses are compared on the methods' own embeddings of fixed random views (models in training
mode, so BatchNorm uses batch statistics and a recomputation gives the same tensors).
"""

import dataclasses
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import yaml

from sslbench.data.augment import AugmentSpec, evaluation_view
from sslbench.data.trifeature import generate_trifeature
from sslbench.methods import METHODS, build_method
from sslbench.methods.schedules import cosine_increase, linear_warmup
from sslbench.models.resnet import BackboneSpec, build_backbone
from sslbench.recipes import method_params
from sslbench.training.loop import TrainSpec, train
from sslbench.training.optim import OptimSpec, build_optimizer

ROOT = Path(__file__).resolve().parents[1]
NON_CONTRASTIVE = ["byol", "simsiam", "vicreg", "barlowtwins", "dino", "swav"]
TARGET_NETWORKS = {"mocov2": "key_encoder", "byol": "target", "dino": "teacher"}

# Tiny heads for every method (hidden 32, output 16), other values as in config/config.yaml.
TINY: dict[str, dict] = {
    "simclr": {"temperature": 0.5, "projection_hidden_dim": 32, "projection_dim": 16},
    "mocov2": {
        "temperature": 0.2,
        "projection_hidden_dim": 32,
        "projection_dim": 16,
        "queue_size": 32,
        "base_momentum": 0.99,
        "final_momentum": 0.999,
        "recipe_steps_per_epoch": 195.3125,
    },
    "byol": {
        "projection_hidden_dim": 32,
        "projection_dim": 16,
        "prediction_hidden_dim": 32,
        "base_momentum": 0.99,
        "final_momentum": 1.0,
        "recipe_steps_per_epoch": 195.3125,
    },
    "swav": {
        "temperature": 0.1,
        "projection_hidden_dim": 32,
        "projection_dim": 16,
        "num_prototypes": 24,
        "sinkhorn_iterations": 3,
        "sinkhorn_epsilon": 0.05,
        "freeze_prototypes_fraction": 0.05,
        "queue_length": 0,
        "queue_start_fraction": 0.0,
    },
    "dino": {
        "projection_hidden_dim": 32,
        "projection_dim": 16,
        "num_prototypes": 24,
        "batch_norm": True,
        "student_temp": 0.1,
        "teacher_temp": 0.07,
        "warmup_teacher_temp": 0.04,
        "warmup_teacher_temp_fraction": 0.1,
        "center_momentum": 0.9,
        "base_momentum": 0.996,
        "final_momentum": 1.0,
        "recipe_steps_per_epoch": 195.3125,
    },
    "simsiam": {"projection_hidden_dim": 32, "projection_dim": 16, "prediction_hidden_dim": 8},
    "vicreg": {
        "projection_hidden_dim": 32,
        "projection_dim": 16,
        "invariance_weight": 25.0,
        "variance_weight": 25.0,
        "covariance_weight": 1.0,
    },
    "barlowtwins": {
        "projection_hidden_dim": 32,
        "projection_dim": 16,
        "lambda_offdiagonal": 0.0051,
        "scale_loss": 0.1,
    },
}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread: these tiny models gain nothing from two, and two OpenMP threads stall
    for tens of milliseconds per op when another job shares the 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _model(name: str, seed: int = 0, **overrides):
    torch.manual_seed(seed)
    backbone = build_backbone(BackboneSpec("resnet18", 4, "cifar"))
    return build_method(name, backbone, TINY[name] | overrides).train()


def _views(n: int = 8, seed: int = 1) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, 3, 16, 16, generator=g) for _ in range(2)]


def _close(a, b):
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------- registry / config


def test_registry_schema_and_configs_agree():
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    enum = schema["properties"]["pretrain"]["properties"]["methods"]["items"]["enum"]
    blocks = schema["properties"]["methods"]["properties"]
    assert set(enum) == set(METHODS) == set(blocks) == set(TINY)
    default = yaml.safe_load((ROOT / "config/config.yaml").read_text())["methods"]
    tiny = yaml.safe_load((ROOT / "config/test.yaml").read_text())["methods"]
    for name, (spec_cls, _) in METHODS.items():
        fields = {f.name for f in dataclasses.fields(spec_cls)}
        assert set(blocks[name]["required"]) == fields, name
        assert set(method_params({"methods": default}, name)) == fields, name
        assert fields == set(tiny[name]) == set(TINY[name]), name


def test_cosine_momentum_schedule_and_linear_warmup():
    for p in (0.0, 0.25, 0.5, 0.9, 1.0):
        expected = 1.0 - (1.0 - 0.99) * (math.cos(math.pi * p) + 1) / 2  # BYOL §3.2
        assert cosine_increase(p, 0.99, 1.0) == pytest.approx(expected)
    with pytest.raises(ValueError):
        cosine_increase(1.5, 0.99, 1.0)
    assert linear_warmup(0.0, 0.04, 0.07, 0.1) == pytest.approx(0.04)
    assert linear_warmup(0.05, 0.04, 0.07, 0.1) == pytest.approx(0.055)
    assert linear_warmup(0.5, 0.04, 0.07, 0.1) == pytest.approx(0.07)


# --------------------------------------------------------------------------- losses = formulas


def _info_nce(q, k, negatives, tau):
    """MoCo eq. 1: −log exp(q·k₊/τ) / (exp(q·k₊/τ) + Σ_queue exp(q·k/τ)), mean over queries."""
    q, k = F.normalize(q, dim=1), F.normalize(k, dim=1)
    pos = (q * k).sum(1, keepdim=True) / tau
    neg = q @ negatives.T / tau
    return -(pos.squeeze(1) - torch.logsumexp(torch.cat([pos, neg], dim=1), dim=1)).mean()


def test_mocov2_loss_is_infonce_against_the_queue_and_the_queue_shifts_by_one_batch():
    model = _model("mocov2", queue_size=24)
    views = _views(8)
    queue, ptr = model.queue.clone(), int(model.criterion.memory_bank.bank_ptr)
    loss = model.loss(views)
    query = model.embedding(model.representation(views[0]))
    key = model.key_encoder(views[1])
    _close(loss, _info_nce(query, key, queue, 0.2))
    # the batch of keys replaced the oldest 8 entries; the rest is untouched
    assert int(model.criterion.memory_bank.bank_ptr) == ptr + 8
    _close(model.queue[ptr : ptr + 8], F.normalize(key, dim=1))
    assert torch.equal(model.queue[ptr + 8 :], queue[ptr + 8 :])
    # the queue is saved with the model (lightly registers it as non-persistent)
    assert torch.equal(model.state_dict()["criterion.memory_bank.bank"], model.queue)


def test_byol_loss_is_symmetrised_normalised_mse_to_the_target():
    model = _model("byol")
    views = _views()
    loss = model.loss(views)
    p = [model.predictor(model.embedding(model.representation(x))) for x in views]
    t = [model.target(x) for x in views]

    def mse(a, b):  # BYOL eq. 2: ‖ā − b̄‖² = 2 − 2 cos
        return ((F.normalize(a, dim=1) - F.normalize(b, dim=1)) ** 2).sum(1).mean()

    _close(loss, mse(p[0], t[1]) + mse(p[1], t[0]))


def test_simsiam_loss_is_negative_cosine_with_stop_gradient():
    model = _model("simsiam")
    views = _views()

    def formula(stop_gradient: bool):
        z = [model.embedding(model.representation(x)) for x in views]
        p = [model.predictor(zi) for zi in z]
        t = [zi.detach() for zi in z] if stop_gradient else z
        d = [-F.cosine_similarity(p[0], t[1]).mean(), -F.cosine_similarity(p[1], t[0]).mean()]
        return 0.5 * d[0] + 0.5 * d[1]

    params = list(model.projector.parameters())
    loss = model.loss(views)
    _close(loss, formula(True))
    grads = torch.autograd.grad(loss, params)
    with_stop = torch.autograd.grad(formula(True), params)
    without_stop = torch.autograd.grad(formula(False), params)
    for g, g_stop in zip(grads, with_stop, strict=True):
        _close(g, g_stop)
    assert any(not torch.allclose(g, g2) for g, g2 in zip(grads, without_stop, strict=True))


def test_vicreg_loss_is_invariance_variance_covariance():
    model = _model("vicreg")
    views = _views(16)
    loss = model.loss(views)
    za, zb = (model.embedding(model.representation(x)) for x in views)
    n, d = za.shape

    def variance(z):  # eq. 1 with γ = 1, ε = 1e-4 (halved per branch, as the authors' code)
        return F.relu(1 - torch.sqrt(z.var(dim=0) + 1e-4)).mean()

    def covariance(z):  # eqs. 3–4
        zc = z - z.mean(0)
        cov = zc.T @ zc / (n - 1)
        return (cov**2).sum().sub((cov.diagonal() ** 2).sum()) / d

    invariance = ((za - zb) ** 2).mean()
    expected = (
        25 * invariance
        + 25 * (variance(za) + variance(zb)) / 2
        + 1 * (covariance(za) + covariance(zb))
    )
    _close(loss, expected)


def test_barlow_twins_loss_is_cross_correlation_to_identity():
    model = _model("barlowtwins")
    views = _views(16)
    loss = model.loss(views)
    za, zb = (model.embedding(model.representation(x)) for x in views)

    def standardise(z):  # along the batch (biased variance, BatchNorm's ε)
        return (z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + 1e-5)

    c = standardise(za).T @ standardise(zb) / za.shape[0]
    on = ((1 - c.diagonal()) ** 2).sum()
    off = (c**2).sum() - (c.diagonal() ** 2).sum()
    _close(loss, 0.1 * (on + 0.0051 * off))


def _sinkhorn(scores, iterations=3, epsilon=0.05):
    """SwAV's Sinkhorn–Knopp (§3.1, App. A.1): equal prototype mass, unit mass per sample."""
    q = torch.exp(scores / epsilon).T  # K × B
    q /= q.sum()
    k, b = q.shape
    for _ in range(iterations):
        q /= q.sum(dim=1, keepdim=True)
        q /= k
        q /= q.sum(dim=0, keepdim=True)
        q /= b
    return (q * b).T


def _swapped(scores, codes, tau):
    """SwAV eq. 1–2: ½[ℓ(z₂, q₁) + ℓ(z₁, q₂)], ℓ = cross-entropy with softmax(zᵀC/τ)."""
    ce = [-(codes[i] * F.log_softmax(scores[1 - i] / tau, dim=1)).sum(1).mean() for i in (0, 1)]
    return (ce[0] + ce[1]) / 2


def test_swav_loss_is_swapped_prediction_of_sinkhorn_codes():
    model = _model("swav")
    with torch.no_grad():
        model.prototypes.heads[0].weight.mul_(3.0)  # not unit norm: the loss must normalise
    views = _views()
    loss = model.loss(views)
    weight = model.prototypes.heads[0].weight
    _close(weight.norm(dim=1), torch.ones(weight.shape[0]))
    assert torch.equal(model.prototypes.heads[0].bias, torch.zeros(weight.shape[0]))
    z = [model.embedding(model.representation(x)) for x in views]
    _close(torch.stack(z).norm(dim=2), torch.ones(2, 8))
    scores = [zi @ weight.T for zi in z]
    codes = [_sinkhorn(s.detach()) for s in scores]
    _close(loss, _swapped(scores, codes, 0.1))


def test_swav_queue_shifts_and_joins_sinkhorn_once_full():
    model = _model("swav", queue_length=16)
    views = _views(8)
    model.loss(views)
    first = torch.stack([model.embedding(model.representation(x)) for x in views]).detach()
    assert int(model.queue_filled) == 8 and not model.queue_active()
    _close(model.queue[:, :8], first)
    model.loss(views)
    _close(model.queue[:, 8:], first)  # shifted back by one batch
    assert model.queue_active()
    # the host copies of the fill count and of progress follow a loaded checkpoint
    restored = _model("swav", queue_length=16)
    assert not restored.queue_active()
    model.progress.set(0.7)
    restored.load_state_dict(model.state_dict())
    assert restored.queue_active() and float(restored.progress) == 0.7
    queue = model.queue.clone()
    loss = model.loss(views)
    weight = model.prototypes.heads[0].weight
    scores = [model.embedding(model.representation(x)) @ weight.T for x in views]
    codes = [
        _sinkhorn(torch.cat([s, q @ weight.T]).detach())[:8]
        for s, q in zip(scores, queue, strict=True)
    ]
    _close(loss, _swapped(scores, codes, 0.1))


def test_swav_prototypes_get_no_update_during_the_frozen_fraction():
    model = _model("swav")  # freeze_prototypes_fraction 0.05
    model.loss(_views()).backward()
    model.before_optimizer_step(0.04)
    assert all(p.grad is None for p in model.prototypes.parameters())
    assert all(p.grad is not None for p in model.projector.parameters())
    model.loss(_views()).backward()
    model.before_optimizer_step(0.05)
    assert model.prototypes.heads[0].weight.grad is not None


def test_dino_loss_is_cross_entropy_to_the_centred_sharpened_teacher():
    model = _model("dino")
    views = _views()
    centre = model.criterion.center.clone() + 0.01 * torch.arange(24.0)  # non-zero centre
    model.criterion.center.copy_(centre)
    loss = model.loss(views)
    student = [model.projector(model.representation(x)) for x in views]
    teacher = [model.teacher(x) for x in views]
    tau_t = 0.04  # progress 0: start of the teacher-temperature warmup
    p_t = [F.softmax((t - centre[0]) / tau_t, dim=1) for t in teacher]
    log_p_s = [F.log_softmax(s / 0.1, dim=1) for s in student]
    expected = -((p_t[0] * log_p_s[1]).sum(1).mean() + (p_t[1] * log_p_s[0]).sum(1).mean()) / 2
    _close(loss, expected)
    # DINO eq. 4: c ← m·c + (1 − m)·mean of the teacher outputs of both views
    _close(model.criterion.center[0, 0], 0.9 * centre[0, 0] + 0.1 * torch.cat(teacher).mean(0))


def test_dino_teacher_temperature_warms_up_with_progress():
    model = _model("dino")  # 0.04 → 0.07 over the first 10 %
    assert model.teacher_temperature() == pytest.approx(0.04)
    model.on_step_end(0.05)
    assert model.teacher_temperature() == pytest.approx(0.055)
    model.on_step_end(0.5)
    assert model.teacher_temperature() == pytest.approx(0.07)


def test_dino_embedding_is_the_unit_bottleneck_entering_the_prototypes():
    model = _model("dino")
    h = model.representation(_views()[0])
    z = model.embedding(h)
    assert z.shape == (8, 16)
    _close(z.norm(dim=1), torch.ones(8))
    _close(model.projector.last_layer(z), model.projector(h))


# --------------------------------------------------------------------------- target networks


@pytest.mark.parametrize("recipe_steps, run_steps", [(19.0, 19), (40.0, 4)])
@pytest.mark.parametrize("name", sorted(TARGET_NETWORKS))
def test_target_network_gets_no_gradient_and_follows_the_ema(name, recipe_steps, run_steps):
    """τ follows the cosine schedule; a recipe's τ given for ``recipe_steps`` steps per epoch is
    applied as τ^(recipe_steps / run_steps) per step (the recipe's decay per epoch)."""
    model = _model(name, recipe_steps_per_epoch=recipe_steps)
    model.on_train_start(run_steps)
    target = getattr(model, TARGET_NETWORKS[name])
    optimizer = build_optimizer(model, OptimSpec("sgd", 0.5, 0.0, 0.0, 0.0, 32, False), 32)
    optimised = {id(p) for group in optimizer.param_groups for p in group["params"]}
    assert not optimised & {id(p) for p in target.parameters()}
    for online, copy in zip([model.backbone, model.projector], target.copies, strict=True):
        for a, b in zip(online.parameters(), copy.parameters(), strict=True):
            assert torch.equal(a, b)  # the target starts as a copy of the online network

    model.loss(_views()).backward()
    assert all(p.grad is None for p in target.parameters())
    assert all(p.grad is not None for p in model.backbone.parameters())
    optimizer.step()
    before = [p.clone() for p in target.parameters()]
    online = [p.clone() for m in (model.backbone, model.projector) for p in m.parameters()]
    assert any(not torch.equal(a, b) for a, b in zip(before, online, strict=True))

    spec = model.spec
    model.on_step_end(0.3)
    tau = (
        spec.final_momentum
        - (spec.final_momentum - spec.base_momentum) * (math.cos(math.pi * 0.3) + 1) / 2
    ) ** (recipe_steps / run_steps)
    for new, old, o in zip(target.parameters(), before, online, strict=True):
        _close(new, tau * old + (1 - tau) * o)


# --------------------------------------------------------------------------- training


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    data = generate_trifeature(n=128, image_size=16, seed=0)
    return torch.from_numpy(data.images).permute(0, 3, 1, 2).contiguous()


# Views differ by a horizontal flip only: at 16 px and a few dozen steps the full SimCLR views
# give no reliable loss trend for any method, these give one for all.
FLIP_ONLY = AugmentSpec(crop_scale=(1.0, 1.0), crop_ratio=(1.0, 1.0), jitter_p=0.0, grayscale_p=0.0)
SPEC = TrainSpec(
    epochs=6,
    batch_size=32,
    seed=0,
    optimizer=OptimSpec("adam", 1e-3, 0.0, 0.9, 0.0, lr_batch_size=32, exclude_bias_n_norm=True),
    augment=(FLIP_ONLY,),
)


def _normalised_h_std(model, images: torch.Tensor) -> torch.Tensor:
    """Per-dimension std over the batch of h/‖h‖ (→ 0 under collapse; 1/√d if spread out)."""
    model.eval()
    with torch.no_grad():
        h = model.representation(evaluation_view(images, FLIP_ONLY))
    model.train()
    return F.normalize(h, dim=1).std(dim=0)


@pytest.fixture(scope="module", params=sorted(METHODS))
def trained(request, images, tmp_path_factory):
    """(name, std of h before, model after, history) of one short run per method."""
    name = request.param
    model = _model(name)
    before = _normalised_h_std(model, images[:64])
    history = train(model, images, SPEC, tmp_path_factory.mktemp(name))
    return name, before, model, history


def test_short_training_run_lowers_the_loss(trained):
    name, _, _, history = trained
    assert len(history) == SPEC.epochs
    assert all(math.isfinite(h["loss"]) for h in history)
    # Compared with epoch 2: MoCo's first epoch scores against the random initial queue.
    assert history[-1]["loss"] < history[1]["loss"], (name, [h["loss"] for h in history])


def test_non_contrastive_methods_do_not_collapse(trained, images):
    name, before, model, _ = trained
    if name not in NON_CONTRASTIVE:
        pytest.skip("contrastive: negatives prevent collapse by construction")
    after = _normalised_h_std(model, images[:64])
    assert (after > 1e-3).all(), name  # no dimension constant over the batch
    assert after.mean() > 0.5 * before.mean(), (name, float(before.mean()), float(after.mean()))


@pytest.mark.parametrize("name", sorted(METHODS))
def test_interrupted_run_resumes_to_the_same_state(name, images, tmp_path):
    """Queues, centres, targets and progress are in state_dict(): a resumed run is exact."""
    overrides = {"queue_length": 32} if name == "swav" else {}
    spec = dataclasses.replace(SPEC, epochs=2, augment=(AugmentSpec(),))
    data = images[:64]
    reference = _model(name, **overrides)
    train(reference, data, spec, tmp_path / "full")

    class Interrupt(Exception):
        pass

    def stop(epoch, record):
        if epoch == 1:
            raise Interrupt

    with pytest.raises(Interrupt):
        train(_model(name, **overrides), data, spec, tmp_path / "cut", on_epoch_end=stop)
    resumed = _model(name, seed=123, **overrides)
    train(resumed, data, spec, tmp_path / "cut")
    ref_state, res_state = reference.state_dict(), resumed.state_dict()
    assert ref_state.keys() == res_state.keys()
    for key in ref_state:
        assert torch.equal(ref_state[key], res_state[key]), (name, key)
