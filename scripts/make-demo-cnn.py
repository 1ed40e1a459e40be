#!/usr/bin/python3
"""The demo CNN (optional, needs Debian's python3-torch and python3-onnx; the build and the tests
never run this): a small ResNet for Fashion-MNIST, trained with PyTorch and written three ways -
SparseScope's safetensors layout (BatchNorm kept with its running statistics; SparseScope folds it
at load), ONNX as torch.onnx.export writes it, and PyTorch goldens (logits of the first test
samples, test accuracy) that tests/test_conv.cpp compares SparseScope's forward pass against.

  stem   conv 3x3 1->16, BN, ReLU, max pool 2            (28x28 -> 14x14)
  block1 basic block 16->16                              (14x14)
  block2 basic block 16->32, stride 2, 1x1 projection    (7x7)
  block3 basic block 32->64, stride 2, 1x1 projection    (4x4)
  head   global average pool, flatten, linear 64->10

usage: /usr/bin/python3 scripts/make-demo-cnn.py resources/models/fashion-resnet [EPOCHS]
"""
import gzip, json, os, struct, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

out = sys.argv[1] if len(sys.argv) > 1 else "resources/models/fashion-resnet"
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 15
os.makedirs(out, exist_ok=True)
root = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.286, 0.353
torch.manual_seed(0)
torch.set_num_threads(2)

def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)

def prep(x):  # raw 0..255 -> SparseScope's input preprocessing, (N, 1, 28, 28)
    return ((torch.tensor(x, dtype=torch.float64) / 255.0 - MEAN) / STD).float().reshape(-1, 1, 28, 28)

xtr, ytr = prep(idx(f"{root}/train-images-idx3-ubyte.gz")), torch.tensor(idx(f"{root}/train-labels-idx1-ubyte.gz"), dtype=torch.int64)
xte, yte = prep(idx(f"{root}/t10k-images-idx3-ubyte.gz")), torch.tensor(idx(f"{root}/t10k-labels-idx1-ubyte.gz"), dtype=torch.int64)

class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.proj = None
        if stride != 1 or cin != cout:
            self.proj = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (self.proj(x) if self.proj is not None else x))

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 16, 3, 1, 1, bias=False)
        self.stem_bn = nn.BatchNorm2d(16)
        self.block1 = Block(16, 16, 1)
        self.block2 = Block(16, 32, 2)
        self.block3 = Block(32, 64, 2)
        self.head = nn.Linear(64, 10)
    def forward(self, x):
        x = F.max_pool2d(F.relu(self.stem_bn(self.stem(x))), 2)
        x = self.block3(self.block2(self.block1(x)))
        return self.head(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

net = Net()
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True)
steps = epochs * ((len(xtr) + 127) // 128)
sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=steps)
for epoch in range(epochs):
    net.train()
    t0 = time.time()
    perm = torch.randperm(len(xtr))
    for i in range(0, len(xtr), 128):
        b = perm[i:i + 128]
        x = xtr[b]
        # augmentation: random horizontal flip and random shifts of up to 2 pixels (padding with the background)
        flip = torch.rand(len(b)) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(3), x)
        x = F.pad(x, (2, 2, 2, 2), value=(0.0 - MEAN) / STD)
        dx, dy = np.random.randint(0, 5, size=2)
        x = x[:, :, dy:dy + 28, dx:dx + 28]
        opt.zero_grad()
        F.cross_entropy(net(x), ytr[b]).backward()
        opt.step()
        sched.step()
    net.eval()
    with torch.no_grad():
        acc = (torch.cat([net(xte[i:i + 1000]) for i in range(0, len(xte), 1000)]).argmax(1) == yte).float().mean().item()
    print(f"epoch {epoch + 1}: test accuracy {acc:.4f} ({time.time() - t0:.0f} s)", flush=True)

net.eval()
with torch.no_grad():
    logits = torch.cat([net(xte[i:i + 1000]) for i in range(0, len(xte), 1000)])
acc = (logits.argmax(1) == yte).float().mean().item()
print(f"pytorch test accuracy {acc:.4f}")

# SparseScope's layout: PyTorch's tensor names and shapes; BatchNorm with its running statistics.
labels = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
def conv(name, m):
    return {"type": "conv2d", "name": name, "in_channels": m.in_channels, "out_channels": m.out_channels,
            "kernel": list(m.kernel_size), "stride": list(m.stride), "padding": list(m.padding), "bias": m.bias is not None}
def bn(name, m):
    return {"type": "batchnorm2d", "name": name, "channels": m.num_features, "eps": m.eps}
layers = [conv("stem", net.stem), bn("stem_bn", net.stem_bn), {"type": "relu"},
          {"type": "maxpool2d", "kernel": 2, "stride": 2}]
for bname in ["block1", "block2", "block3"]:
    blk = getattr(net, bname)
    layers += [{"type": "residual_save"}, conv(f"{bname}.conv1", blk.conv1), bn(f"{bname}.bn1", blk.bn1), {"type": "relu"},
               conv(f"{bname}.conv2", blk.conv2), bn(f"{bname}.bn2", blk.bn2)]
    add = {"type": "residual_add"}
    if blk.proj is not None:
        add["projection"] = {k: v for k, v in conv(f"{bname}.proj.0", blk.proj[0]).items() if k != "type"}
        add["projection_bn"] = bn(f"{bname}.proj.1", blk.proj[1])
    layers += [add, {"type": "relu"}]
layers += [{"type": "global_avgpool"}, {"type": "flatten"}, {"type": "linear", "name": "head", "in": 64, "out": 10}]
config = {"format": "sparsescope/classifier-v1", "name": "fashion-resnet",
          "input": {"shape": [1, 28, 28], "scale": 1 / 255, "mean": MEAN, "std": STD}, "labels": labels, "layers": layers}

tensors = {k: v.detach().numpy().astype("<f4") for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
for k, v in tensors.items():
    b = v.tobytes()
    header[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [offset, offset + len(b)]}
    offset += len(b)
    blobs.append(b)
h = json.dumps(header).encode()
h += b" " * ((8 - (8 + len(h)) % 8) % 8)
with open(f"{out}/model.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
with open(f"{out}/config.json", "w") as f:
    json.dump(config, f, indent=1)

torch.onnx.export(net, torch.zeros(1, 1, 28, 28), f"{out}/fashion-resnet.onnx", input_names=["x"], output_names=["logits"],
                  dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}}, opset_version=13)

with open(f"{out}/goldens.json", "w") as f:
    json.dump({"accuracy": acc, "correct": int((logits.argmax(1) == yte).sum()), "samples": len(yte),
               "first_logits": logits[:32].tolist(), "epochs": epochs, "torch": torch.__version__}, f, indent=1)
