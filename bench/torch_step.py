#!/usr/bin/env python3
"""Times the training step of tools/step_bench in PyTorch, for comparison with bt.

Developer-side only: PyTorch 2.x from PyPI in a venv (bench/compare_torch.sh makes one). Builds
the same ResNet-18 (CIFAR stem, torchvision layout), the same heads and losses as bt's methods,
an SGD step, and times forward (two views) + loss + backward + update.

    python bench/torch_step.py --batch 128 --width 16 --bt-json out/step.json
prints ms/step per method and, with --bt-json (from `step_bench --json`), bt's time as a ratio;
--json FILE writes ms/step, img/s, peak RSS and the step's FLOPs (PyTorch's FlopCounterMode:
convolutions and matrix products, forward and backward) per method. --bf16 times the step under
CPU bf16 autocast.
"""
import argparse
import contextlib
import json
import resource
import time

import torch
import torch.utils.flop_counter
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (self.downsample(x) if self.downsample is not None else x))


def resnet18_cifar(width):
    layers, cin = [nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU()], width
    for i, stride in enumerate([1, 2, 2, 2]):
        planes = width << i
        layers += [BasicBlock(cin, planes, stride), BasicBlock(planes, planes, 1)]
        cin = planes
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers), cin


def mlp(dims, hidden_bias=False, last_bias=False):
    layers = []
    for a, b in zip(dims[:-2], dims[1:-1]):
        layers += [nn.Linear(a, b, bias=hidden_bias), nn.BatchNorm1d(b), nn.ReLU()]
    layers.append(nn.Linear(dims[-2], dims[-1], bias=last_bias))
    return nn.Sequential(*layers)


def barlow_loss(z1, z2, lam=0.0051):
    n = z1.shape[0]
    c = F.batch_norm(z1, None, None, training=True).T @ F.batch_norm(z2, None, None, training=True) / n
    on = (torch.diagonal(c) - 1).pow(2).sum()
    off = c.pow(2).sum() - torch.diagonal(c).pow(2).sum()
    return on + lam * off


def nt_xent(z1, z2, tau=0.5):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    s = z @ z.T / tau
    s.fill_diagonal_(float("-inf"))
    n = z1.shape[0]
    pos = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(s, pos)


def regression(p, t):
    return (2 - 2 * F.cosine_similarity(p, t.detach(), dim=-1)).mean()


def build(method, width, scale):
    backbone, feat = resnet18_cifar(width)
    h = lambda d: max(8, round(d * scale))
    if method == "barlow":
        proj = mlp([feat, h(2048), h(2048), h(2048)])
        return nn.ModuleList([backbone, proj]), lambda m, a, b: barlow_loss(m[1](m[0](a)), m[1](m[0](b)))
    if method == "simclr":
        proj = mlp([feat, h(2048), 128], True, True)
        return nn.ModuleList([backbone, proj]), lambda m, a, b: nt_xent(m[1](m[0](a)), m[1](m[0](b)))
    if method == "simsiam":
        proj = nn.Sequential(mlp([feat, h(2048), h(2048), h(2048)]), nn.BatchNorm1d(h(2048), affine=False))
        pred = mlp([h(2048), max(8, h(2048) // 4), h(2048)], False, True)

        def loss(m, a, b):
            z1, z2 = m[1](m[0](a)), m[1](m[0](b))
            return (regression(m[2](z1), z2) + regression(m[2](z2), z1)) / 4 - 1
        return nn.ModuleList([backbone, proj, pred]), loss
    proj = mlp([feat, h(4096), 256], True, True)
    pred = mlp([256, h(4096), 256], True, True)
    tb, tp = resnet18_cifar(width)[0], mlp([feat, h(4096), 256], True, True)

    def loss(m, a, b):
        p1, p2 = m[2](m[1](m[0](a))), m[2](m[1](m[0](b)))
        with torch.no_grad():
            t1, t2 = tp(tb(a)), tp(tb(b))
        return regression(p1, t2) + regression(p2, t1)
    return nn.ModuleList([backbone, proj, pred]), loss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--methods", nargs="+", default=["barlow", "byol", "simsiam", "simclr"])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--image", type=int, default=32)
    ap.add_argument("--head-scale", type=float, default=1.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bt-json", help="step_bench --json output to compare with")
    ap.add_argument("--json", help="write the results as JSON to this file")
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast (CPU)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)  # torch starts with 1 thread on these machines
    bt = {}
    if args.bt_json:
        bt = {r["method"]: r for r in json.load(open(args.bt_json))}
    print(f"{'method':8} {'torch ms':>9} {'bt ms':>9} {'torch/bt':>9}")
    results = []
    for method in args.methods:
        torch.manual_seed(0)
        model, loss_fn = build(method, args.width, args.head_scale)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
        a = torch.randn(args.batch, 3, args.image, args.image)
        b = torch.randn(args.batch, 3, args.image, args.image)
        autocast = torch.autocast("cpu", dtype=torch.bfloat16) if args.bf16 else contextlib.nullcontext()

        def step():
            opt.zero_grad(set_to_none=True)
            with autocast:
                loss = loss_fn(model, a, b)
            loss.backward()
            opt.step()

        times = []
        for r in range(args.repeats + 1):
            t0 = time.perf_counter()
            step()
            if r > 0:
                times.append((time.perf_counter() - t0) * 1000)
        ms = sorted(times)[len(times) // 2]
        with torch.utils.flop_counter.FlopCounterMode(display=False) as counter:
            step()
        results.append({"method": method, "batch": args.batch, "width": args.width, "ms_per_step": ms,
                        "images_per_s": 2 * args.batch / (ms / 1000),
                        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                        "flops_per_step": counter.get_total_flops(), "bf16": args.bf16})
        ref = bt.get(method, {}).get("ms_per_step")
        ratio = f"{ms / ref:9.2f}" if ref else "        -"
        print(f"{method:8} {ms:9.1f} {ref if ref else float('nan'):9.1f} {ratio}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
