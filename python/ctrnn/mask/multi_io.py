"""nn4n 1.2.0's MultiIO: groups of inputs and groups of outputs, each routed to chosen hidden neurons."""
import numpy as np

from ._base import Mask, integer_list, invalid


def _groups(name, value, total, total_name):
    sizes = integer_list(name, value, 1)
    if not sizes or sum(sizes) != total:
        raise invalid(name, f"group sizes that add up to {total_name} {total}", list(value))
    return sizes


def _table(name, value, groups, hidden_size):
    if value is None:
        return np.ones((groups, hidden_size))
    try:
        table = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"ctrnn: invalid {name}: expected a 0/1 array of shape ({groups}, {hidden_size}), "
                        f"got {type(value).__name__}") from None
    if table.shape != (groups, hidden_size):
        raise invalid(name, f"shape ({groups}, {hidden_size}) (groups x hidden_size)", table.shape)
    if not np.all((table == 0) | (table == 1)):
        raise invalid(name, "only 0 and 1", np.unique(table[(table != 0) & (table != 1)])[:3].tolist())
    return table


class MultiIO(Mask):
    """nn4n 1.2.0's ``nn4n.mask.MultiIO``: the inputs and the outputs in groups (a 1-dim olfactory and a
    100-dim visual signal are two input groups), each group connected to the hidden neurons a table
    chooses. Parameters and defaults as nn4n's:

    dims=[1, 100, 1]; input_dims=[dims[0]] (the input groups' sizes, adding up to I);
    readout_dims=[dims[2]] (the output groups' sizes, adding up to O); input_table (groups x H,
    0/1: whether input group g reaches hidden neuron h; default all ones); readout_table (groups x
    H, 0/1: whether hidden neuron h feeds output group g; default all ones).

    ``get_masks()`` returns 0/1 masks, pre x post: input (I, H) (each input's row is its group's
    table row), hidden (H, H) all ones, readout (H, O) (each output's column is its group's row).
    """

    def __init__(self, *, dims=None, input_dims=None, readout_dims=None, input_table=None, readout_table=None,
                 input_dim=None, hidden_size=None, output_dim=None):
        super().__init__(dims, input_dim, hidden_size, output_dim, seed=None)
        I, H, O = self.dims
        self.input_dims = _groups("input_dims", [I] if input_dims is None else input_dims, I, "dims[0]")
        self.readout_dims = _groups("readout_dims", [O] if readout_dims is None else readout_dims, O, "dims[2]")
        self.input_table = _table("input_table", input_table, len(self.input_dims), H)
        self.readout_table = _table("readout_table", readout_table, len(self.readout_dims), H)
        self.input_mask = np.repeat(self.input_table, self.input_dims, axis=0)
        self.hidden_mask = np.ones((H, H))
        self.readout_mask = np.repeat(self.readout_table, self.readout_dims, axis=0).T.copy()
