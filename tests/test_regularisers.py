import pytest
import torch
import yaml
from workflow_runner import REPO

from sslbench.analysis.qscore import discriminative_from_config
from sslbench.losses.infonce import InfoNCECriterion, info_nce
from sslbench.methods import build_method
from sslbench.models.resnet import BackboneSpec, build_backbone
from sslbench.regularisers import build_regulariser
from sslbench.regularisers.base import RegulariserError
from sslbench.regularisers.qscore import QScoreRegulariser, QScoreSpec
from sslbench.regularisers.sparsehead import l21_norm

SIMCLR = {"temperature": 0.5, "projection_hidden_dim": 16, "projection_dim": 8}
QSCORE = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["regularisers"]["qscore"]


def _qscore_spec(**changes) -> QScoreSpec:
    """config's regularisers.qscore block (QScoreSpec has no defaults) with ``changes``."""
    return QScoreSpec(**(QSCORE | changes))


def _simclr(seed=0):
    torch.manual_seed(seed)
    return build_method("simclr", build_backbone(BackboneSpec("resnet18", 4, "cifar")), SIMCLR)


def _views(seed=0, n=6):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, 3, 16, 16, generator=g) for _ in range(2)]


def test_lasso_equals_lambda_times_l1_of_the_online_representations():
    model = _simclr().train()
    lasso = build_regulariser("lasso", {"weight": 0.01})
    lasso.attach(model)
    views = _views()
    model.loss(views)
    penalty = lasso.penalty()
    with torch.no_grad():  # not collected: the hook only sees gradient-carrying passes
        h = model.representation(torch.cat(views))
    torch.testing.assert_close(penalty.detach(), 0.01 * h.abs().sum(dim=1).mean())
    assert lasso.penalty() == 0.0  # the batch is consumed


def test_sparsehead_is_the_l21_norm_of_the_last_projector_layer_with_autograd_gradient():
    model = _simclr()
    reg = build_regulariser("sparsehead", {"weight": 0.1})
    reg.attach(model)
    w = reg.layer.weight
    assert w.shape == (8, 16)  # (out, in): groups are the 16 input columns
    explicit = 0.1 * sum(torch.sqrt((w[:, j] ** 2).sum()) for j in range(w.shape[1]))
    penalty = reg.penalty()
    torch.testing.assert_close(penalty, explicit)
    (grad,) = torch.autograd.grad(penalty, w)
    expected = 0.1 * w / w.norm(dim=0, keepdim=True)
    torch.testing.assert_close(grad, expected.detach())
    assert l21_norm(torch.tensor([[3.0, 0.0], [4.0, 1.0]])) == 6.0


def test_qscore_pushes_only_low_q_samples_and_penalises_only_wide_columns():
    g = torch.Generator().manual_seed(0)
    h = torch.rand(8, 12, generator=g).requires_grad_()
    reg = QScoreRegulariser(_qscore_spec(lambda1=1.0, lambda2=0.0, version="v1"))
    (grad,) = torch.autograd.grad(reg.representation_penalty(h), h)
    q = reg.scores(h.detach())
    high = q >= q.mean()
    assert high.any() and (~high).any()
    assert torch.all(grad[high] == 0) and torch.any(grad[~high] != 0)

    reg = QScoreRegulariser(_qscore_spec(lambda1=0.0, lambda2=1.0, version="v1"))
    (grad,) = torch.autograd.grad(reg.representation_penalty(h), h)
    columns = h.detach().abs().sum(0)
    narrow = columns <= columns.mean()
    assert torch.all(grad[:, narrow] == 0)
    assert torch.allclose(grad[:, ~narrow], torch.ones_like(grad[:, ~narrow]))


def test_qscore_v2_uses_only_discriminative_highly_activating_features():
    h = torch.tensor([[0.0, 0.0, 0.0, 0.0, 5.0], [0.0, 0.0, 0.0, 0.0, 5.0]], requires_grad=True)
    with_d = QScoreRegulariser(_qscore_spec(version="v2", epsilon=1.0), torch.tensor([4]))
    without = QScoreRegulariser(_qscore_spec(version="v2", epsilon=1.0), torch.tensor([0, 1]))
    assert torch.all(with_d.scores(h) > 0)
    assert torch.all(without.scores(h) == 0)
    with pytest.raises(ValueError, match="discriminative"):
        QScoreRegulariser(_qscore_spec(version="v2")).scores(h)


def _never_called() -> torch.Tensor:
    raise AssertionError("train features computed for a regulariser that does not need them")


def test_prepare_gives_qscore_v2_the_discriminative_set_of_the_train_features():
    """The fine-tune stage calls prepare() on every regulariser; Q-Score v2 takes D there, the
    same D as analysis.qscore.discriminative_from_config on its config block."""
    h = torch.relu(torch.randn(200, 32, generator=torch.Generator().manual_seed(0))) ** 3
    reg = build_regulariser("qscore", QSCORE | {"version": "v2"})
    assert reg.discriminative is None
    reg.prepare(lambda: h)
    _, expected = discriminative_from_config(h.double().numpy(), QSCORE)
    assert reg.discriminative.dtype == torch.long and len(expected) > 0
    assert reg.discriminative.tolist() == expected.tolist()
    assert torch.isfinite(reg.scores(h)).all()


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("none", {}),
        ("lasso", {"weight": 0.01}),
        ("sparsehead", {"weight": 0.1}),
        ("qscore", QSCORE | {"version": "v1"}),
        ("no_l2_norm", {}),
        ("identity_head", {}),
    ],
)
def test_regularisers_that_need_no_train_features_never_compute_them(name, params):
    reg = build_regulariser(name, params)
    reg.prepare(_never_called)
    reg.attach(_simclr())


def test_temperature_regulariser_equals_plain_infonce_when_tau_c_equals_tau_s():
    model = _simclr()
    build_regulariser(
        "temperature",
        {"tau_content": 0.5, "tau_style": 0.5, "content_fraction": 0.5, "l2_norm": True},
    ).attach(model)
    g = torch.Generator().manual_seed(1)
    z0, z1 = torch.randn(5, 8, generator=g), torch.randn(5, 8, generator=g)
    torch.testing.assert_close(model.criterion(z0, z1), info_nce(z0, z1, 0.5))
    assert model.criterion.temperature.shape == (8,)


def test_per_dimension_temperature_without_the_norm_is_002s_no_norm_variant():
    """002 Table 2's "w/o norm + diff. τ": with τ_c = τ_s it is the no-ℓ2-norm criterion."""
    same_tau = {"tau_content": 0.5, "tau_style": 0.5, "content_fraction": 0.5, "l2_norm": False}
    both = build_regulariser("temperature", same_tau).criterion(0.2, 0, 8)
    no_norm = build_regulariser("no_l2_norm", {"standardise": True}).criterion(0.5, 0, 8)
    g = torch.Generator().manual_seed(3)
    z0, z1 = 3 * torch.randn(6, 8, generator=g), torch.randn(6, 8, generator=g)
    torch.testing.assert_close(both(z0, z1), no_norm(z0, z1))
    kept = build_regulariser("temperature", same_tau | {"l2_norm": True}).criterion(0.2, 0, 8)
    assert not torch.allclose(both(z0, z1), kept(z0, z1))


def test_ifm_combines_plain_and_adversarial_losses():
    g = torch.Generator().manual_seed(2)
    z0, z1 = torch.randn(5, 8, generator=g), torch.randn(5, 8, generator=g)
    plain, adversarial = info_nce(z0, z1, 0.5), info_nce(z0, z1, 0.5, epsilon=0.1)
    both = InfoNCECriterion(0.5, epsilon=0.1, alpha=1.0)(z0, z1)
    torch.testing.assert_close(both, (plain + adversarial) / 2)
    only = InfoNCECriterion(0.5, epsilon=0.1, adversarial_only=True)(z0, z1)
    torch.testing.assert_close(only, adversarial)
    assert both >= plain


def test_queue_criterion_shifts_by_one_batch():
    crit = InfoNCECriterion(0.2, queue_size=10, dim=4)
    before = crit.queue.clone()
    q = torch.randn(3, 4, requires_grad=True)
    k = torch.randn(3, 4)
    crit(q, k)
    assert torch.allclose(crit.queue[:3], torch.nn.functional.normalize(k, dim=1))
    assert torch.equal(crit.queue[3:], before[3:]) and int(crit.queue_ptr) == 3


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("ifm", "simclr, mocov2"),
        ("temperature", "simclr, mocov2"),
        ("no_l2_norm", "simclr, mocov2"),
        ("identity_head", "simclr"),
        ("linear_head", "simclr"),
    ],
)
def test_method_specific_regularisers_refuse_other_methods(name, allowed):
    model = build_method(
        "simsiam",
        build_backbone(BackboneSpec("resnet18", 4, "cifar")),
        {"projection_hidden_dim": 16, "projection_dim": 8, "prediction_hidden_dim": 4},
    )
    with pytest.raises(RegulariserError, match=rf"{name}.*simsiam.*{allowed}$"):
        build_regulariser(name, {}).attach(model)


def test_identity_head_makes_the_embedding_the_representation():
    model = _simclr()
    build_regulariser("identity_head", {}).attach(model)
    x = _views()[0]
    model.eval()
    h = model.representation(x)
    assert torch.equal(model.embedding(h), h)
    assert torch.isfinite(model.loss(_views())).all()


def test_linear_head_is_one_bias_free_linear_map_to_the_projection_dim():
    model = _simclr()
    build_regulariser("linear_head", {}).attach(model)
    assert isinstance(model.projector, torch.nn.Linear) and model.projector.bias is None
    assert model.embedding(torch.zeros(3, model.backbone.output_dim)).shape == (3, 8)


def test_qscore_accepts_its_optional_exclude_inactive_key():
    """The schema allows regularisers.qscore.exclude_inactive (D without never-active features);
    the spec once lacked the field, so a config that set it failed with a TypeError."""
    reg = build_regulariser("qscore", QSCORE | {"exclude_inactive": True})
    assert reg.spec.exclude_inactive is True


def test_000_objective_descends_towards_h_zero_with_a_batchnorm_projector():
    """Why 000's regulariser (eq. 4, Q-Score v1 at λ1 = λ2 = 0.1) drives h to zero here: the
    SimCLR loss does not see the scale of h (the projector's BatchNorm renormalises it), while
    v1's Q = Z-score(max h) / ‖h‖₁ grows as 1/scale and the column-L1 term shrinks with it, so
    shrinking h lowers the objective with nothing holding it back: the objective's own trivial
    direction, not a wrong β (β only chooses which columns are penalised)."""
    model = _simclr().train()
    h = torch.relu(torch.randn(64, model.backbone.output_dim)) + 0.01
    spec = _qscore_spec(version="v1", lambda1=0.1, lambda2=0.1)
    penalty = QScoreRegulariser(spec).representation_penalty

    @torch.no_grad()
    def objective(scale: float) -> tuple[float, float]:
        z0, z1 = model.embedding(scale * h).chunk(2)
        return float(model.criterion(z0, z1)), float(penalty(scale * h))

    loss_1, penalty_1 = objective(1.0)
    loss_small, penalty_small = objective(0.1)
    assert loss_small == pytest.approx(loss_1, abs=1e-3)  # contrastive term: scale-free
    assert penalty_small < penalty_1  # the regulariser prefers the smaller h
