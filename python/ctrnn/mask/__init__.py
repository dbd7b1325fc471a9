"""Connectivity builders (nn4n's ``nn4n.mask``): masks for ``ctrnn.CTRNN`` and ``ctrnn.torch.CTRNN``.

    m = ctrnn.mask.MultiAreaEI(dims=[2, 100, 1], n_areas=2, area_connectivities=[0.2, 0.1], exc_pct=0.8)
    model = ctrnn.CTRNN(dims=m.dims, sparsity_masks=m.sparsity_masks(), ei_masks=m.ei_masks())
    m.plot().savefig("masks.png")

Every builder takes nn4n's keywords and defaults and returns, from ``get_masks()``, what nn4n's
returns for the same parameters: [input (I, H), hidden (H, H), readout (H, O)], pre x post (row =
source neuron), the orientation of every ctrnn array. Random draws come from numpy's global
generator (``np.random.seed`` fixes them, as in nn4n) unless ``seed`` is given. Where nn4n's
builders have bugs these do the intended thing: docs/contract.md lists the differences.
"""
from .multi_area import MultiArea, MultiAreaEI
from .multi_io import MultiIO
from .random_input import RandomInput

__all__ = ["MultiArea", "MultiAreaEI", "MultiIO", "RandomInput"]
