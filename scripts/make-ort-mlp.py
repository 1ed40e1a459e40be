#!/usr/bin/python3
"""make-ort-mlp.py - the MLP bench/ort-peer compares SparseScope with ONNX Runtime on:
784 -> 256 -> 1024 (GELU) -> 256 -> 10, PyTorch's default initialisation (seed 0), exported by
torch.onnx.export with a dynamic batch axis (GELU as PyTorch writes it: Div, Erf, Add, Mul, Mul).
Development-time only (Debian's python3-torch); the build and the tests never need it.

    /usr/bin/python3 scripts/make-ort-mlp.py OUT.onnx
"""
import sys

import torch


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 1024), torch.nn.GELU(),
                              torch.nn.Linear(1024, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10)).eval()
    torch.onnx.export(net, torch.zeros(1, 784), sys.argv[1], input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13)
    print(f"wrote {sys.argv[1]}")


if __name__ == "__main__":
    main()
