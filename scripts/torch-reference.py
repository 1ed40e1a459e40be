#!/usr/bin/python3
"""Cross-check fixture (optional, needs Debian's python3-torch and python3-onnx; the build and
the tests never run this). Trains a small PyTorch MLP on Fashion-MNIST, exports it twice - with
torch.onnx.export and in SparseScope's safetensors layout - and records PyTorch's own test
accuracy and logits in expected.json, which tests/test_onnx.cpp compares SparseScope against.

usage: /usr/bin/python3 scripts/torch-reference.py tests/data/torch
"""
import gzip, json, os, struct, sys
import numpy as np
import torch

out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/torch"
os.makedirs(out, exist_ok=True)
root = "/usr/share/datasets/fashion-mnist"

def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)

xtr = torch.tensor(idx(f"{root}/train-images-idx3-ubyte.gz"), dtype=torch.float32).reshape(-1, 784) / 255
ytr = torch.tensor(idx(f"{root}/train-labels-idx1-ubyte.gz"), dtype=torch.int64)
xte = torch.tensor(idx(f"{root}/t10k-images-idx3-ubyte.gz"), dtype=torch.float32).reshape(-1, 784) / 255
yte = torch.tensor(idx(f"{root}/t10k-labels-idx1-ubyte.gz"), dtype=torch.int64)

torch.manual_seed(0)
net = torch.nn.Sequential(
    torch.nn.Linear(784, 64), torch.nn.GELU(), torch.nn.Dropout(0.1),
    torch.nn.Linear(64, 32), torch.nn.LeakyReLU(0.05),
    torch.nn.Linear(32, 10))
opt = torch.optim.Adam(net.parameters(), lr=2e-3)
for epoch in range(2):
    perm = torch.randperm(len(xtr))
    for i in range(0, len(xtr), 128):
        b = perm[i:i + 128]
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(xtr[b]), ytr[b]).backward()
        opt.step()
net.eval()
with torch.no_grad():
    logits = net(xte)
acc = (logits.argmax(1) == yte).float().mean().item()
print(f"pytorch test accuracy {acc:.4f}")

torch.onnx.export(net, torch.zeros(1, 784), f"{out}/mlp.onnx", input_names=["x"], output_names=["logits"],
                  dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}}, opset_version=13)

names = {0: "fc1", 3: "fc2", 5: "fc3"}
tensors = {}
for idx_, name in names.items():
    tensors[f"{name}.weight"] = net[idx_].weight.detach().numpy().astype("<f4")
    tensors[f"{name}.bias"] = net[idx_].bias.detach().numpy().astype("<f4")
config = {"format": "sparsescope/classifier-v1", "name": "torch-mlp",
          "input": {"shape": [28, 28], "scale": 1 / 255, "mean": 0.0, "std": 1.0},
          "labels": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
          "layers": [{"type": "linear", "name": "fc1", "in": 784, "out": 64}, {"type": "gelu"}, {"type": "dropout", "p": 0.1},
                     {"type": "linear", "name": "fc2", "in": 64, "out": 32}, {"type": "leaky_relu", "negative_slope": 0.05},
                     {"type": "linear", "name": "fc3", "in": 32, "out": 10}]}
header, offset, blobs = {"__metadata__": {"config": json.dumps(config), "format": "pt"}}, 0, []
for k, v in tensors.items():
    b = v.tobytes()
    header[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [offset, offset + len(b)]}
    offset += len(b)
    blobs.append(b)
h = json.dumps(header).encode()
h += b" " * ((8 - (8 + len(h)) % 8) % 8)
with open(f"{out}/mlp.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))

with open(f"{out}/expected.json", "w") as f:
    json.dump({"accuracy": acc, "correct": int((logits.argmax(1) == yte).sum()), "samples": len(yte),
               "first_logits": logits[:8].tolist(), "torch": torch.__version__}, f, indent=1)
