"""nn4n 1.1.1's RandomInput: input to a random share of the hidden neurons, readout from another."""
import numpy as np

from ._base import Mask, flag, fraction, invalid, share


class RandomInput(Mask):
    """nn4n 1.1.1's ``nn4n.mask.RandomInput``, with its parameters and defaults:

    dims=[1, 100, 1]; input_spar=1 (the share of hidden neurons that receive every input:
    floor(input_spar * H) of them, drawn at random); readout_spar=1 (the share that feed every
    output); hidden_spar=1 (the density of recurrent synapses, each present with that
    probability); overlap=True (whether a neuron may both receive input and feed the readout;
    False needs floor(input_spar * H) + floor(readout_spar * H) <= H). Plus seed (see MultiArea).

    ``get_masks()`` returns 0/1 masks, pre x post: input (I, H), hidden (H, H), readout (H, O).
    """

    def __init__(self, *, dims=None, input_spar=1, readout_spar=1, hidden_spar=1, overlap=True, seed=None,
                 input_dim=None, hidden_size=None, output_dim=None):
        super().__init__(dims, input_dim, hidden_size, output_dim, seed)
        self.input_spar = fraction("input_spar", input_spar)
        self.readout_spar = fraction("readout_spar", readout_spar)
        self.hidden_spar = fraction("hidden_spar", hidden_spar)
        self.overlap = flag("overlap", overlap)
        I, H, O = self.dims
        n_input, n_readout = share(H, self.input_spar), share(H, self.readout_spar)
        if not self.overlap and n_input + n_readout > H:
            raise invalid("readout_spar", f"at most {1 - n_input / H:g} with overlap=False and input_spar "
                          f"{self.input_spar:g} (input and readout neurons apart)", readout_spar)
        self.hidden_mask = self._draw((H, H), self.hidden_spar)
        self.input_idx = np.sort(self._rng.choice(H, n_input, replace=False))
        self.non_input_idx = np.setdiff1d(np.arange(H), self.input_idx)
        pool = np.arange(H) if self.overlap else self.non_input_idx
        self.readout_idx = np.sort(self._rng.choice(pool, n_readout, replace=False))
        self.input_mask = np.zeros((I, H))
        self.input_mask[:, self.input_idx] = 1
        self.readout_mask = np.zeros((H, O))
        self.readout_mask[self.readout_idx, :] = 1

    def get_areas(self):
        """nn4n's two areas: the neurons that receive input and those that feed the readout."""
        return ["area_input", "area_readout"]

    def get_area_idx(self, area):
        """The neurons of "area_input" (or 0) or "area_readout" (or 1), ascending."""
        return (self.input_idx, self.readout_idx)[self._area_index(area, self.get_areas())].copy()
