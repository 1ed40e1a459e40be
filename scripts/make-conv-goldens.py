#!/usr/bin/python3
"""make-conv-goldens.py - PyTorch's own outputs on small random inputs, for tests/test_conv.cpp:
nn.Conv2d (stride, padding, dilation, groups, depthwise, non-square kernels) into DIR/conv2d_goldens.json,
nn.MaxPool2d / nn.AvgPool2d / nn.AdaptiveAvgPool2d(1) into DIR/pool2d_goldens.json, and
nn.BatchNorm2d (eval, random running statistics) after a convolution into DIR/batchnorm_goldens.json.
Development-time only (Debian's python3-torch); the build and the tests read the committed JSON.

    /usr/bin/python3 scripts/make-conv-goldens.py tests/data/conv
"""
import os
import json
import sys

import torch

CASES = [
    # name, in, out, kernel, stride, padding, dilation, groups, bias, n, h, w
    ("3x3 pad 1", 4, 6, (3, 3), (1, 1), (1, 1), (1, 1), 1, True, 2, 6, 6),
    ("3x3 stride 2 pad 1, no bias", 4, 5, (3, 3), (2, 2), (1, 1), (1, 1), 1, False, 2, 7, 7),
    ("3x3 dilation 2 pad 2", 3, 4, (3, 3), (1, 1), (2, 2), (2, 2), 1, True, 1, 7, 6),
    ("groups 2", 4, 6, (3, 3), (1, 1), (1, 1), (1, 1), 2, True, 2, 5, 5),
    ("depthwise 3x3 stride 2", 4, 4, (3, 3), (2, 2), (1, 1), (1, 1), 4, True, 2, 8, 8),
    ("depthwise multiplier 2", 3, 6, (3, 3), (1, 1), (0, 0), (1, 1), 3, True, 1, 5, 5),
    ("2x3 kernel, pad (1, 0), stride (1, 2)", 2, 3, (2, 3), (1, 2), (1, 0), (1, 1), 1, True, 2, 5, 7),
    ("1x1", 8, 4, (1, 1), (1, 1), (0, 0), (1, 1), 1, True, 2, 4, 4),
]


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


POOLS = [
    # name, op, kernel, stride, padding, dilation, count_include_pad, n, c, h, w
    ("max 2x2", "max", 2, 2, 0, 1, True, 2, 3, 6, 6),
    ("max 3x3 stride 2 pad 1", "max", 3, 2, 1, 1, True, 2, 3, 7, 7),
    ("max 3x3 dilation 2 pad 1", "max", 3, 1, 1, 2, True, 1, 2, 7, 7),
    ("avg 2x2", "avg", 2, 2, 0, 1, True, 2, 3, 6, 6),
    ("avg 3x3 stride 2 pad 1, pad counted", "avg", 3, 2, 1, 1, True, 2, 3, 8, 8),
    ("avg 3x3 stride 2 pad 1, pad not counted", "avg", 3, 2, 1, 1, False, 2, 3, 8, 8),
    ("global avg", "global", 0, 0, 0, 1, True, 2, 4, 5, 3),
]


def pools():
    torch.manual_seed(1)
    out = []
    for name, op, k, s, p, d, cip, n, c, h, w in POOLS:
        x = torch.randn(n, c, h, w)
        if op == "max":
            y = torch.nn.MaxPool2d(k, stride=s, padding=p, dilation=d)(x)
        elif op == "avg":
            y = torch.nn.AvgPool2d(k, stride=s, padding=p, count_include_pad=cip)(x)
        else:
            y = torch.nn.AdaptiveAvgPool2d(1)(x)
        out.append({"name": name, "op": op, "kernel": k, "stride": s, "padding": p, "dilation": d, "count_include_pad": cip,
                    "n": n, "c": c, "h": h, "w": w, "x": flat(x), "y": flat(y), "y_shape": list(y.shape)})
    return out


def batchnorms():
    torch.manual_seed(2)
    out = []
    for name, bias, groups in [("conv 3x3 + bn", True, 1), ("conv without bias + bn", False, 1), ("depthwise + bn", True, 4)]:
        cin, cout = (4, 4) if groups == 4 else (3, 5)
        conv = torch.nn.Conv2d(cin, cout, 3, padding=1, groups=groups, bias=bias)
        bn = torch.nn.BatchNorm2d(cout, eps=1e-3)
        with torch.no_grad():
            bn.running_mean.normal_()
            bn.running_var.uniform_(0.25, 4.0)
            bn.weight.normal_()
            bn.bias.normal_()
        bn.eval()
        x = torch.randn(2, cin, 6, 5)
        y = bn(conv(x))
        out.append({"name": name, "in_channels": cin, "out_channels": cout, "groups": groups, "n": 2, "h": 6, "w": 5, "eps": bn.eps,
                    "x": flat(x), "weight": flat(conv.weight), "bias": flat(conv.bias) if bias else None,
                    "gamma": flat(bn.weight), "beta": flat(bn.bias), "mean": flat(bn.running_mean), "var": flat(bn.running_var), "y": flat(y)})
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(os.path.join(sys.argv[1], "batchnorm_goldens.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": batchnorms()}, f)
    with open(os.path.join(sys.argv[1], "pool2d_goldens.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": pools()}, f)
    torch.manual_seed(0)
    out = []
    for name, cin, cout, k, s, p, d, g, bias, n, h, w in CASES:
        conv = torch.nn.Conv2d(cin, cout, k, stride=s, padding=p, dilation=d, groups=g, bias=bias)
        x = torch.randn(n, cin, h, w)
        y = conv(x)
        out.append({"name": name, "in_channels": cin, "out_channels": cout, "kernel": list(k), "stride": list(s), "padding": list(p),
                    "dilation": list(d), "groups": g, "n": n, "h": h, "w": w, "x": flat(x), "weight": flat(conv.weight),
                    "bias": flat(conv.bias) if bias else None, "y": flat(y), "y_shape": list(y.shape)})
    with open(os.path.join(sys.argv[1], "conv2d_goldens.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": out}, f)
    print(f"wrote {sys.argv[1]}: {len(out)} convolutions, {len(POOLS)} poolings (torch {torch.__version__})")


if __name__ == "__main__":
    main()
