import pytest
import torch

from slowfast_lite.models import NonLocal, init_weights


def naive_non_local(block, x):
    """Position by position, straight from the definition (slow, for tiny inputs)."""
    n, c, t, h, w = x.shape
    theta = block.conv_theta(x).flatten(2)
    pooled = torch.nn.functional.max_pool3d(x, (1, 2, 2))
    phi, g = block.conv_phi(pooled).flatten(2), block.conv_g(pooled).flatten(2)
    y = torch.zeros_like(theta)
    for i in range(theta.shape[2]):
        scores = torch.einsum("nc,ncp->np", theta[:, :, i], phi)
        if block.kind == "softmax":
            weights = (scores / block.inner_channels**0.5).softmax(-1)
        else:
            weights = scores / phi.shape[2]
        y[:, :, i] = torch.einsum("np,ncp->nc", weights, g)
    return x + block.bn(block.conv_out(y.view(n, -1, t, h, w)))


def test_a_fresh_block_is_the_identity():
    block = init_weights(NonLocal(8)).eval()
    x = torch.randn(2, 8, 2, 4, 4)
    torch.testing.assert_close(block(x), x)


@pytest.mark.parametrize("kind", ["softmax", "dot_product"])
def test_matches_the_definition(kind):
    torch.manual_seed(0)
    block = NonLocal(8, kind=kind).eval()
    torch.nn.init.normal_(block.bn.weight)
    x = torch.randn(2, 8, 2, 4, 6)
    y = block(x)
    assert y.shape == x.shape
    assert not torch.allclose(y, x)
    torch.testing.assert_close(y, naive_non_local(block, x))


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="gaussian"):
        NonLocal(8, kind="gaussian")
