import torch
import torch.nn.functional as F

from sslbench.methods import build_method
from sslbench.models.resnet import BackboneSpec, build_backbone


def nt_xent(z0: torch.Tensor, z1: torch.Tensor, tau: float) -> torch.Tensor:
    """NT-Xent written out (SimCLR eq. 1): -log exp(s_ij/τ) / Σ_{k≠i} exp(s_ik/τ), mean over 2N."""
    z = F.normalize(torch.cat([z0, z1]), dim=1)
    n = z0.shape[0]
    sim = z @ z.T / tau
    losses = []
    for i in range(2 * n):
        positive = (i + n) % (2 * n)
        others = torch.cat([sim[i, :i], sim[i, i + 1 :]])
        losses.append(-(sim[i, positive] - torch.logsumexp(others, dim=0)))
    return torch.stack(losses).mean()


def _model(tau: float = 0.2):
    backbone = build_backbone(BackboneSpec("resnet18", 4, "cifar"))
    params = {"temperature": tau, "projection_hidden_dim": 16, "projection_dim": 8}
    return build_method("simclr", backbone, params)


def test_lightly_ntxent_equals_the_formula():
    g = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g)
    model = _model(tau=0.5)
    torch.testing.assert_close(model.criterion(z0, z1), nt_xent(z0, z1, 0.5))


def test_simclr_loss_is_ntxent_of_its_embeddings():
    torch.manual_seed(0)
    model = _model()
    views = [torch.randn(4, 3, 16, 16), torch.randn(4, 3, 16, 16)]
    loss = model.loss(views)
    z0, z1 = model.embedding(model.representation(torch.cat(views))).chunk(2)
    torch.testing.assert_close(loss, nt_xent(z0, z1, 0.2), rtol=1e-4, atol=1e-5)


def test_identical_views_give_lower_loss_than_unrelated_views():
    torch.manual_seed(0)
    model = _model().eval()
    x = torch.randn(8, 3, 16, 16)
    assert model.loss([x, x]) < model.loss([x, torch.randn(8, 3, 16, 16)])
