#!/usr/bin/env python3
"""nn4n's way of training, on ctrnn: a torch.nn.Module in a plain PyTorch loop.

    python examples/python/train_nn4n_style.py     # --epochs, --steps; about 45 s of CPU time

1. nn4n's quickstart, unchanged but for its import: predict a sine wave one step ahead.
2. A Dale's-law network of two areas (80% excitatory neurons, sparse connections between the
   areas, input to the first, readout from the second's excitatory neurons), built with
   ctrnn.mask (nn4n's nn4n.mask), trained on a perceptual decision with a loss of our own: MSE
   over the response period plus a firing-rate penalty, with torch's gradient clipping.
"""
import argparse

import numpy as np
import torch

import ctrnn
from ctrnn.mask import MultiAreaEI  # was: from nn4n.mask import MultiAreaEI
from ctrnn.torch import CTRNN  # was: from nn4n.model import CTRNN

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=500, help="sine: nn4n's 500 epochs")
parser.add_argument("--steps", type=int, default=600, help="decision: training steps")
args = parser.parse_args()
torch.manual_seed(0)

# %% 1. nn4n's quickstart (its documentation's code): the sine wave, one step ahead.
inputs = np.sin(np.linspace(0, 10, 1000))
inputs = torch.from_numpy(inputs).float().unsqueeze(1).unsqueeze(1)  # (T, B, I) = (1000, 1, 1)
labels = inputs[1:]
inputs = inputs[:-1]

rnn = CTRNN(dims=[1, 10, 1])
optimizer = torch.optim.Adam(rnn.parameters(), lr=0.001)
for epoch in range(args.epochs):
    outputs, states = rnn(inputs)
    loss = torch.nn.MSELoss()(outputs, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if epoch % 50 == 0 or epoch == args.epochs - 1:
        print(f"sine: epoch {epoch} loss {loss.item():.5f}")

# %% 2. Two areas under Dale's law, from ctrnn.mask.
task = ctrnn.tasks.perceptual_decision()
m = MultiAreaEI(dims=[task.input_dim, 100, task.output_dim], n_areas=2,
                area_connectivities=[0.2, 0.05, 0.5],  # forward, backward, within
                exc_pct=0.8, input_areas=[0], readout_areas=[1], inh_readout=False, seed=0)
net = CTRNN(dims=m.dims, activation="relu", dt=20, preact_noise=0.05, biases="zero",
            sparsity_masks=m.sparsity_masks(), ei_masks=m.ei_masks())
optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=args.steps // 2, gamma=0.3)

for step, batch in enumerate(task.batches(batch_size=32, seed=1, count=args.steps)):
    u, target, mask = (torch.from_numpy(batch[k]) for k in ("u", "target", "mask"))
    outputs, [rates] = net(u)  # a training-mode forward first projects the weights onto the masks, as nn4n
    if step == args.steps - 1:
        w_hid = net.recurrent_layer.hidden_layer.weight.detach().numpy().T.copy()  # (post, pre) -> pre x post
    weight = mask[..., None]  # (T, B, 1): only the response period counts
    mse = ((outputs - target) ** 2 * weight).sum() / (weight.sum() * target.shape[-1])
    loss = mse + 1e-3 * rates.pow(2).mean()  # a penalty on the firing rates, through the same backward
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    if step % 100 == 0 or step == args.steps - 1:
        print(f"decision: step {step} loss {loss.item():.4f} (mse {mse.item():.4f})")

net.eval()
validation = task.batch(512, seed=2, index=10**9)  # trials never trained on
with torch.no_grad():
    outputs, [rates] = net(torch.from_numpy(validation["u"]))
print(f"decision accuracy on 512 new trials: {task.accuracy(validation, outputs.numpy()):.1%}")

# Dale's law held through training: in the last step's weights each neuron's outgoing synapses
# keep its sign, and no synapse grew outside the areas' masks.
sign = np.where(m.excitatory, 1.0, -1.0)[:, None]
assert (w_hid * sign >= 0).all() and not w_hid[m.sparsity_masks()[1] == 0].any()
print(f"Dale's law and the areas' sparsity hold: {np.count_nonzero(w_hid)} synapses, "
      f"{m.excitatory.mean():.0%} of the neurons excitatory")
