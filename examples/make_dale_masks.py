#!/usr/bin/env python3
"""Writes examples/dale_sparse_masks.safetensors: the masks of examples/perceptual_decision_dale.json.

A Dale network of H = 64 neurons, 80% excitatory: every outgoing synapse of neuron i (row i of
the pre x post hidden and readout matrices) has the neuron's sign. The hidden layer is sparse:
each synapse exists with probability 0.25, no self-connections. Pure Python (no numpy needed).
"""
import json
import random
import struct
from pathlib import Path

H, O, DENSITY, EXCITATORY = 64, 2, 0.25, 0.8


def write_safetensors(path, tensors):
    header, data, offset = {}, b"", 0
    for name, (shape, values) in tensors.items():
        blob = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        data += blob
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(text)) + text + data)


def main():
    rng = random.Random(2024)
    n_exc = round(EXCITATORY * H)
    sign = [1.0 if i < n_exc else -1.0 for i in range(H)]
    sparsity = [1.0 if i != j and rng.random() < DENSITY else 0.0 for i in range(H) for j in range(H)]
    write_safetensors(Path(__file__).with_name("dale_sparse_masks.safetensors"), {
        "ei_hidden": ([H, H], [sign[i] for i in range(H) for _ in range(H)]),
        "ei_readout": ([H, O], [sign[i] for i in range(H) for _ in range(O)]),
        "sparsity_hidden": ([H, H], sparsity),
    })


if __name__ == "__main__":
    main()
