"""What every connectivity builder shares: the network's dims, argument checks, the random draws,
the three masks (pre x post) and their picture."""
import math
import numbers
import warnings

import numpy as np

_LAYERS = ("input", "hidden", "readout")


def invalid(name, expected, found):
    return ValueError(f"ctrnn: invalid {name}: expected {expected}, got {found!r}")


def integer(name, value, minimum):
    """An int (numpy's too, never a bool) >= minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"ctrnn: invalid {name}: expected an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise invalid(name, f"an integer >= {minimum}", value)
    return int(value)


def fraction(name, value):
    """A real number in [0, 1] (nn4n 1.1.1 refuses the ints 0 and 1 where it wants a float; any real is fine here)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"ctrnn: invalid {name}: expected a number in [0, 1], got {type(value).__name__} {value!r}")
    if not 0 <= value <= 1:  # NaN fails too
        raise invalid(name, "a number in [0, 1]", value)
    return float(value)


def flag(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"ctrnn: invalid {name}: expected True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def integer_list(name, value, minimum):
    """A list or tuple of ints >= minimum."""
    if not isinstance(value, (list, tuple, np.ndarray)):
        raise TypeError(f"ctrnn: invalid {name}: expected a list of integers, got {type(value).__name__} {value!r}")
    return [integer(f"{name}[{k}]", v, minimum) for k, v in enumerate(value)]


def share(n, fraction_of_n):
    """floor(n * fraction) of the exact product: the float product can fall just below a whole number
    (100 * 0.29 = 28.999999999999996), where nn4n's int() loses one neuron."""
    return int(math.floor(n * fraction_of_n + 1e-9))


def random_source(seed):
    """None: numpy's global generator, so that np.random.seed() fixes the masks as in nn4n; an int or a
    numpy Generator: draws of their own."""
    if seed is None:
        return np.random
    if isinstance(seed, (np.random.Generator, np.random.RandomState)):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"ctrnn: invalid seed: expected None, an integer >= 0 or a numpy Generator, got {seed!r}")
    return np.random.default_rng(integer("seed", seed, 0))


def _dims(dims, input_dim, hidden_size, output_dim):
    """dims = [I, H, O]; nn4n's older keywords input_dim, hidden_size, output_dim still name its parts
    (nn4n 1.1.1's masks ignore them silently and build [1, 100, 1])."""
    old = {"input_dim": input_dim, "hidden_size": hidden_size, "output_dim": output_dim}
    given = {k: v for k, v in old.items() if v is not None}
    if dims is None:
        dims = [1, 100, 1]
        if given:
            warnings.warn(f"ctrnn.mask: {', '.join(given)} are nn4n's deprecated names; "
                          "use dims=[input_dim, hidden_size, output_dim]", UserWarning, stacklevel=4)
            dims = [given.get("input_dim", 1), given.get("hidden_size", 100), given.get("output_dim", 1)]
    elif given:
        raise ValueError(f"ctrnn: invalid {next(iter(given))}: give either dims or nn4n's deprecated "
                         "input_dim / hidden_size / output_dim, not both")
    if not isinstance(dims, (list, tuple, np.ndarray)) or len(dims) != 3:
        raise invalid("dims", "[input_dim, hidden_size, output_dim] (three positive integers)", dims)
    return [integer(f"dims[{k}]", v, 1) for k, v in enumerate(dims)]


class Mask:
    """A network's connectivity: ``input_mask`` (I, H), ``hidden_mask`` (H, H), ``readout_mask`` (H, O),
    all pre x post (row = source neuron, column = target) as ctrnn's arrays are. A builder's subclass
    fills them in its constructor."""

    def __init__(self, dims, input_dim, hidden_size, output_dim, seed):
        self.dims = _dims(dims, input_dim, hidden_size, output_dim)
        self.input_dim, self.hidden_size, self.output_dim = self.dims
        self._rng = random_source(seed)

    def _draw(self, shape, density):
        """0/1 entries, each 1 with probability `density`."""
        if density >= 1:
            return np.ones(shape)
        if density <= 0:
            return np.zeros(shape)
        return (self._rng.random(shape) < density).astype(np.float64)

    def get_masks(self):
        """[input (I, H), hidden (H, H), readout (H, O)], pre x post: what nn4n's ``get_masks()``
        returns for the same parameters. Signed where the builder has E/I neurons (MultiAreaEI)."""
        return [self.input_mask.copy(), self.hidden_mask.copy(), self.readout_mask.copy()]

    def sparsity_masks(self):
        """The masks as 0/1 synapse masks, for CTRNN(sparsity_masks=...)."""
        return [(m != 0).astype(np.float64) for m in (self.input_mask, self.hidden_mask, self.readout_mask)]

    def ei_masks(self):
        """E/I masks for CTRNN(ei_masks=...): [None, None, None] for a builder without E/I neurons."""
        return [None, None, None]

    def get_input_idx(self):
        """The hidden neurons that receive input, ascending."""
        return np.flatnonzero(self.input_mask.any(axis=0))

    def get_non_input_idx(self):
        """The hidden neurons that receive no input, ascending."""
        return np.flatnonzero(~self.input_mask.any(axis=0))

    def get_readout_idx(self):
        """The hidden neurons that the readout reads, ascending."""
        return np.flatnonzero(self.readout_mask.any(axis=1))

    def _area_index(self, area, names):
        """An area given by index (0, 1, ...) or by one of its names -> its index."""
        if isinstance(area, str) and area in names:
            return names.index(area)
        if isinstance(area, numbers.Integral) and not isinstance(area, bool) and 0 <= area < len(names):
            return int(area)
        raise invalid("area", f"an area index in [0, {len(names)}) or one of {names}", area)

    def plot(self, title=None):
        """The three masks side by side (needs matplotlib): rows are sources, columns targets;
        red +1 (a synapse; excitatory where signed), blue -1 (inhibitory), white none.
        Returns the matplotlib Figure (``fig.savefig("masks.png")`` writes it)."""
        from ..plot import _pyplot

        plt = _pyplot()
        I, H, O = self.dims
        fig, axes = plt.subplots(1, 3, figsize=(12, 4.2), gridspec_kw={"width_ratios": [1.0, 1.0, 0.35]})
        for ax, name, mask in zip(axes, _LAYERS, (self.input_mask, self.hidden_mask, self.readout_mask)):
            image = ax.imshow(mask, cmap="bwr", vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
            density = np.count_nonzero(mask) / mask.size
            ax.set(title=f"{name} {mask.shape[0]} x {mask.shape[1]} ({density:.0%} dense)",
                   xlabel="post (target)", ylabel="pre (source)")
        fig.colorbar(image, ax=axes, shrink=0.8, ticks=[-1, 0, 1])
        fig.suptitle(title or f"{type(self).__name__} masks, dims [{I}, {H}, {O}]")
        return fig

    # nn4n's name for the picture.
    plot_masks = plot

    def __repr__(self):
        return f"{type(self).__name__}(dims={self.dims})"
