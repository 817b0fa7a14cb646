"""Each method's loss against its written-out formula, on the method's own embeddings of fixed
random views (models in training mode, so BatchNorm uses batch statistics and a recomputation
gives the same tensors); queues, centres and prototypes."""

import pytest
import torch
import torch.nn.functional as F
from tiny_methods import (
    assert_close,
    random_views,
    tiny_model,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def _info_nce(q, k, negatives, tau):
    """MoCo eq. 1: −log exp(q·k₊/τ) / (exp(q·k₊/τ) + Σ_queue exp(q·k/τ)), mean over queries."""
    q, k = F.normalize(q, dim=1), F.normalize(k, dim=1)
    pos = (q * k).sum(1, keepdim=True) / tau
    neg = q @ negatives.T / tau
    return -(pos.squeeze(1) - torch.logsumexp(torch.cat([pos, neg], dim=1), dim=1)).mean()


def test_mocov2_loss_is_infonce_against_the_queue_and_the_queue_shifts_by_one_batch():
    model = tiny_model("mocov2", queue_size=24)
    views = random_views(8)
    queue, ptr = model.queue.clone(), int(model.criterion.queue_ptr)
    loss = model.loss(views)
    query = model.embedding(model.representation(views[0]))
    key = model.key_encoder(views[1])
    assert_close(loss, _info_nce(query, key, queue, 0.2))
    # the batch of keys replaced the oldest 8 entries; the rest is untouched
    assert int(model.criterion.queue_ptr) == ptr + 8
    assert_close(model.queue[ptr : ptr + 8], F.normalize(key, dim=1))
    assert torch.equal(model.queue[ptr + 8 :], queue[ptr + 8 :])
    # the queue and its position are saved with the model
    assert torch.equal(model.state_dict()["criterion.queue"], model.queue)
    assert int(model.state_dict()["criterion.queue_ptr"]) == ptr + 8


def test_byol_loss_is_symmetrised_normalised_mse_to_the_target():
    model = tiny_model("byol")
    views = random_views()
    loss = model.loss(views)
    p = [model.predictor(model.embedding(model.representation(x))) for x in views]
    t = [model.target(x) for x in views]

    def mse(a, b):  # BYOL eq. 2: ‖ā − b̄‖² = 2 − 2 cos
        return ((F.normalize(a, dim=1) - F.normalize(b, dim=1)) ** 2).sum(1).mean()

    assert_close(loss, mse(p[0], t[1]) + mse(p[1], t[0]))


def test_simsiam_loss_is_negative_cosine_with_stop_gradient():
    model = tiny_model("simsiam")
    views = random_views()

    def formula(stop_gradient: bool):
        z = [model.embedding(model.representation(x)) for x in views]
        p = [model.predictor(zi) for zi in z]
        t = [zi.detach() for zi in z] if stop_gradient else z
        d = [-F.cosine_similarity(p[0], t[1]).mean(), -F.cosine_similarity(p[1], t[0]).mean()]
        return 0.5 * d[0] + 0.5 * d[1]

    params = list(model.projector.parameters())
    loss = model.loss(views)
    assert_close(loss, formula(True))
    grads = torch.autograd.grad(loss, params)
    with_stop = torch.autograd.grad(formula(True), params)
    without_stop = torch.autograd.grad(formula(False), params)
    for g, g_stop in zip(grads, with_stop, strict=True):
        assert_close(g, g_stop)
    assert any(not torch.allclose(g, g2) for g, g2 in zip(grads, without_stop, strict=True))


def test_vicreg_loss_is_invariance_variance_covariance():
    model = tiny_model("vicreg")
    views = random_views(16)
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
    assert_close(loss, expected)


def test_barlow_twins_loss_is_cross_correlation_to_identity():
    model = tiny_model("barlowtwins")
    views = random_views(16)
    loss = model.loss(views)
    za, zb = (model.embedding(model.representation(x)) for x in views)

    def standardise(z):  # along the batch (biased variance, BatchNorm's ε)
        return (z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + 1e-5)

    c = standardise(za).T @ standardise(zb) / za.shape[0]
    on = ((1 - c.diagonal()) ** 2).sum()
    off = (c**2).sum() - (c.diagonal() ** 2).sum()
    assert_close(loss, 0.1 * (on + 0.0051 * off))


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
    model = tiny_model("swav")
    with torch.no_grad():
        model.prototypes.heads[0].weight.mul_(3.0)  # not unit norm: the loss must normalise
    views = random_views()
    loss = model.loss(views)
    weight = model.prototypes.heads[0].weight
    assert_close(weight.norm(dim=1), torch.ones(weight.shape[0]))
    assert torch.equal(model.prototypes.heads[0].bias, torch.zeros(weight.shape[0]))
    z = [model.embedding(model.representation(x)) for x in views]
    assert_close(torch.stack(z).norm(dim=2), torch.ones(2, 8))
    scores = [zi @ weight.T for zi in z]
    codes = [_sinkhorn(s.detach()) for s in scores]
    assert_close(loss, _swapped(scores, codes, 0.1))


def test_swav_queue_shifts_and_joins_sinkhorn_once_full():
    model = tiny_model("swav", queue_length=16)
    views = random_views(8)
    model.loss(views)
    first = torch.stack([model.embedding(model.representation(x)) for x in views]).detach()
    assert int(model.queue_filled) == 8 and not model.queue_active()
    assert_close(model.queue[:, :8], first)
    model.loss(views)
    assert_close(model.queue[:, 8:], first)  # shifted back by one batch
    assert model.queue_active()
    # the host copies of the fill count and of progress follow a loaded checkpoint
    restored = tiny_model("swav", queue_length=16)
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
    assert_close(loss, _swapped(scores, codes, 0.1))


def test_swav_prototypes_get_no_update_during_the_frozen_fraction():
    model = tiny_model("swav")  # freeze_prototypes_fraction 0.05
    model.loss(random_views()).backward()
    model.before_optimizer_step(0.04)
    assert all(p.grad is None for p in model.prototypes.parameters())
    assert all(p.grad is not None for p in model.projector.parameters())
    model.loss(random_views()).backward()
    model.before_optimizer_step(0.05)
    assert model.prototypes.heads[0].weight.grad is not None


def test_dino_loss_is_cross_entropy_to_the_centred_sharpened_teacher():
    model = tiny_model("dino")
    views = random_views()
    centre = model.criterion.center.clone() + 0.01 * torch.arange(24.0)  # non-zero centre
    model.criterion.center.copy_(centre)
    loss = model.loss(views)
    student = [model.projector(model.representation(x)) for x in views]
    teacher = [model.teacher(x) for x in views]
    tau_t = 0.04  # progress 0: start of the teacher-temperature warmup
    p_t = [F.softmax((t - centre[0]) / tau_t, dim=1) for t in teacher]
    log_p_s = [F.log_softmax(s / 0.1, dim=1) for s in student]
    expected = -((p_t[0] * log_p_s[1]).sum(1).mean() + (p_t[1] * log_p_s[0]).sum(1).mean()) / 2
    assert_close(loss, expected)
    # DINO eq. 4: c ← m·c + (1 − m)·mean of the teacher outputs of both views
    assert_close(
        model.criterion.center[0, 0], 0.9 * centre[0, 0] + 0.1 * torch.cat(teacher).mean(0)
    )


def test_dino_teacher_temperature_warms_up_with_progress():
    model = tiny_model("dino")  # 0.04 → 0.07 over the first 10 %
    assert model.teacher_temperature() == pytest.approx(0.04)
    model.on_step_end(0.05)
    assert model.teacher_temperature() == pytest.approx(0.055)
    model.on_step_end(0.5)
    assert model.teacher_temperature() == pytest.approx(0.07)


def test_dino_embedding_is_the_unit_bottleneck_entering_the_prototypes():
    model = tiny_model("dino")
    h = model.representation(random_views()[0])
    z = model.embedding(h)
    assert z.shape == (8, 16)
    assert_close(z.norm(dim=1), torch.ones(8))
    assert_close(model.projector.last_layer(z), model.projector(h))
