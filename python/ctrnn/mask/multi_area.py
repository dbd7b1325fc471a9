"""nn4n 1.1.1's MultiArea and MultiAreaEI: the hidden neurons in areas of consecutive indices, with a
density of synapses for each pair of areas, input to some areas and readout from some."""
import numpy as np

from ._base import Mask, flag, fraction, integer, integer_list, invalid, share


def _area_sizes(n_areas, hidden_size):
    if isinstance(n_areas, (list, tuple, np.ndarray)):
        sizes = integer_list("n_areas", n_areas, 1)
        if not sizes or sum(sizes) != hidden_size:
            raise invalid("n_areas", f"area sizes that add up to hidden_size {hidden_size}", list(n_areas))
        return sizes
    n = integer("n_areas", n_areas, 1)
    if hidden_size % n:
        raise invalid("n_areas", f"a divisor of hidden_size {hidden_size} (or a list of area sizes)", n)
    return [hidden_size // n] * n


def _connectivities(value, n):
    """The (n, n) matrix of densities; entry [i, j] is from area j onto area i (nn4n's orientation).
    A list [forward, backward] or [forward, backward, within]: forward onto later areas (below the
    diagonal), backward onto earlier ones (above), within on the diagonal (default 1)."""
    try:
        c = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"ctrnn: invalid area_connectivities: expected [forward, backward(, within)] or an "
                        f"(n_areas, n_areas) array of densities, got {value!r}") from None
    if not np.all((c >= 0) & (c <= 1)):  # NaN fails too
        raise invalid("area_connectivities", "densities in [0, 1]", value)
    if c.ndim == 1:
        if len(c) not in (2, 3):
            raise invalid("area_connectivities", "[forward, backward] or [forward, backward, within] "
                          "(or an (n_areas, n_areas) array)", value)
        within = c[2] if len(c) == 3 else 1.0
        matrix = np.where(np.tri(n, k=-1, dtype=bool), c[0], c[1])
        np.fill_diagonal(matrix, within)
        return matrix
    if c.shape != (n, n):
        raise invalid("area_connectivities", f"an array of shape ({n}, {n}) (n_areas x n_areas)", c.shape)
    return c


def _areas(name, value, n):
    if value is None:
        return list(range(n))
    areas = integer_list(name, value, 0)
    for k, a in enumerate(areas):
        if a >= n:
            raise invalid(f"{name}[{k}]", f"an area index in [0, {n})", a)
    return areas


class MultiArea(Mask):
    """nn4n 1.1.1's ``nn4n.mask.MultiArea``, with its parameters and defaults:

    dims=[1, 100, 1]; n_areas=2 (a divisor of H: equal areas, or a list of area sizes adding up
    to H; areas are runs of consecutive neurons); area_connectivities=[0.1, 0.1] ([forward, backward]
    or [forward, backward, within] densities, within 1 by default, or an (n_areas, n_areas) array
    whose entry [i, j] is the density of synapses from area j onto area i, as in nn4n: forward
    means onto a later area); input_areas=None and readout_areas=None (all areas; else the
    indices of the areas that receive input / feed the readout; with one area, that area).
    Plus seed: None draws from numpy's global generator (np.random.seed fixes it, as in nn4n),
    an int or a numpy Generator draws reproducibly on its own.

    ``get_masks()`` returns 0/1 masks, pre x post: input (I, H), hidden (H, H), readout (H, O).
    """

    def __init__(self, *, dims=None, n_areas=2, area_connectivities=(0.1, 0.1), input_areas=None,
                 readout_areas=None, seed=None, input_dim=None, hidden_size=None, output_dim=None):
        super().__init__(dims, input_dim, hidden_size, output_dim, seed)
        sizes = _area_sizes(n_areas, self.hidden_size)
        self.n_areas = len(sizes)
        starts = np.cumsum([0] + sizes)
        self.node_assignment = [np.arange(starts[a], starts[a + 1]) for a in range(self.n_areas)]
        self.area_connectivities = _connectivities(area_connectivities, self.n_areas)
        if self.n_areas == 1:  # nn4n: one area receives and feeds everything, whatever was asked
            input_areas = readout_areas = [0]
        self.input_areas = _areas("input_areas", input_areas, self.n_areas)
        self.readout_areas = _areas("readout_areas", readout_areas, self.n_areas)
        self._connect()

    def _connect(self):
        I, H, O = self.dims
        nodes = self.node_assignment
        self.hidden_mask = np.zeros((H, H))
        for target in range(self.n_areas):
            for source in range(self.n_areas):
                block = np.ix_(nodes[source], nodes[target])
                self.hidden_mask[block] = self._draw((len(nodes[source]), len(nodes[target])),
                                                     self.area_connectivities[target, source])
        self.input_mask = np.zeros((I, H))
        for a in self.input_areas:
            self.input_mask[:, nodes[a]] = 1
        self.readout_mask = np.zeros((H, O))
        for a in self.readout_areas:
            self.readout_mask[nodes[a], :] = 1

    def get_areas(self):
        """The areas' names: area_1, area_2, ..."""
        return [f"area_{a + 1}" for a in range(self.n_areas)]

    def get_area_idx(self, area):
        """The neurons of an area, by index (0, 1, ...) or name ("area_1", ...)."""
        return self.node_assignment[self._area_index(area, self.get_areas())].copy()


class MultiAreaEI(MultiArea):
    """nn4n 1.1.1's ``nn4n.mask.MultiAreaEI``: MultiArea's parameters, plus

    exc_pct=0.8 (the first floor(exc_pct * size) neurons of each area are excitatory, the rest
    inhibitory); inter_area_connections=[True, True, True, True] (whether exc->exc, exc->inh,
    inh->exc and inh->inh synapses between different areas are kept); inh_readout=True (whether
    the readout reads inhibitory neurons).

    ``get_masks()`` returns nn4n's signed masks: a source neuron's row is +1 where it has a synapse
    if it is excitatory, -1 if inhibitory (the input mask stays 0/1). For ctrnn.CTRNN give
    ``sparsity_masks=m.sparsity_masks(), ei_masks=m.ei_masks()``: the E/I masks there hold every
    neuron's sign on every entry of its row, so that a synapse that grows later
    (synapse_growth_masks) keeps its neuron's sign; passing the signed masks as E/I masks marks
    an excitatory neuron's absent synapses inhibitory, as nn4n's does.
    """

    def __init__(self, *, exc_pct=0.8, inter_area_connections=(True, True, True, True), inh_readout=True,
                 **multi_area):
        self.exc_pct = fraction("exc_pct", exc_pct)
        if not isinstance(inter_area_connections, (list, tuple)) or len(inter_area_connections) != 4:
            raise invalid("inter_area_connections", "four booleans [exc_exc, exc_inh, inh_exc, inh_inh]",
                          inter_area_connections)
        self.inter_area_connections = [flag(f"inter_area_connections[{k}]", v)
                                       for k, v in enumerate(inter_area_connections)]
        self.inh_readout = flag("inh_readout", inh_readout)
        super().__init__(**multi_area)

    def _connect(self):
        super()._connect()
        self.excitatory_neurons = [nodes[:share(len(nodes), self.exc_pct)] for nodes in self.node_assignment]
        self.inhibitory_neurons = [nodes[share(len(nodes), self.exc_pct):] for nodes in self.node_assignment]
        self.excitatory = np.zeros(self.hidden_size, dtype=bool)
        for nodes in self.excitatory_neurons:
            self.excitatory[nodes] = True
        sign = np.where(self.excitatory, 1.0, -1.0)[:, None]
        self.hidden_mask = self.hidden_mask * sign + 0.0  # + 0.0: no -0.0 where there is no synapse
        self.readout_mask = self.readout_mask * sign + 0.0
        kinds = {True: self.excitatory_neurons, False: self.inhibitory_neurons}
        pairs = [(True, True), (True, False), (False, True), (False, False)]  # (source, target) excitatory?
        for keep, (source_exc, target_exc) in zip(self.inter_area_connections, pairs):
            if keep:
                continue
            for s, sources in enumerate(kinds[source_exc]):
                for t, targets in enumerate(kinds[target_exc]):
                    if s != t:
                        self.hidden_mask[np.ix_(sources, targets)] = 0
        if not self.inh_readout:
            self.readout_mask[~self.excitatory] = 0

    def ei_masks(self):
        """[None, hidden (H, H), readout (H, O)]: +1 on every entry of an excitatory neuron's row,
        -1 on an inhibitory one's. The input layer has no E/I constraint."""
        sign = np.where(self.excitatory, 1.0, -1.0)[:, None]
        return [None, np.repeat(sign, self.hidden_size, axis=1), np.repeat(sign, self.output_dim, axis=1)]
