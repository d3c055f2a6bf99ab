#!/usr/bin/env python3
"""Roofline model of the fused SSL loss kernels (kernels/cuda/ssl_loss_launchers.h) on an H100 SXM,
next to the unfused kernel sequence, fwd + bwd, float32. Prints the Markdown tables of
docs/kernels.md. Traffic counts compulsory DRAM bytes: each kernel of a sequence reads its
inputs and writes its outputs once (tile re-reads are assumed to hit L2/shared memory).

usage: python3 bench/ssl_roofline.py
"""

PEAK_FLOPS = 67e12  # FP32 FMA pipes, no tensor cores (H100 SXM5: 66.9 TFLOP/s)
PEAK_BYTES = 3.35e12  # HBM3 (H100 SXM5)
PEAK_TF32 = 495e12  # dense TF32 tensor cores: what a later wmma version could reach
F = 4  # bytes per float


def roofline_us(flops, nbytes, peak=PEAK_FLOPS):
    return max(flops / peak, nbytes / PEAK_BYTES) * 1e6


def column_splits(row_blocks, col_tiles):
    """nt_xent.cu's column_splits on the GPU: two waves of 132 SMs, at most 4 splits."""
    return max(1, min(-(-264 // row_blocks), col_tiles, 4))


def barlow_twins(N, D):
    """Returns flops, fused bytes, unfused bytes, fused scratch bytes, unfused scratch bytes."""
    ND, DD = N * D, D * D
    flops = 6 * N * DD  # C = ẑ1ᵀẑ2, dẑ1 = ẑ2Gᵀ, dẑ2 = ẑ1G: 2·N·D² each
    # fused: stats (two passes over z1, z2: 4ND) | C GEMM (reads z1, z2, writes G) |
    # grad GEMMs (read z and G, write dẑ, twice) | BN backward (2 passes over dẑ and z, write dz)
    fused = 4 * ND + (2 * ND + DD) + 2 * (ND + DD + ND) + 2 * (4 * ND + ND)
    # unfused: BN fwd (stats 2 passes, normalize: read z, write ẑ) | GEMM (read ẑ, write C) |
    # mask (read C, write the masked squares) | reduce (read them) | G = ∂L/∂C (read C, write G) |
    # grad GEMMs (read ẑ and G, write dẑ, twice) | BN backward (as fused)
    unfused = (2 * 4 * ND) + (2 * ND + DD) + 2 * DD + DD + 2 * DD + 2 * (2 * ND + DD) + 2 * (5 * ND)
    scratch_fused = DD + 6 * D + 2 * ((D + 63) // 64) ** 2  # G, stats, tile partials
    scratch_unfused = 3 * DD + 4 * ND  # C, masked squares, G; ẑ1, ẑ2, dẑ1, dẑ2
    return flops, fused * F, unfused * F, scratch_fused * F, scratch_unfused * F


def nt_xent(N, D):
    M = 2 * N
    MD, MM = M * D, M * M
    # forward: S tiles 2M²D; backward: S tiles recomputed 2M²D + (P + Pᵀ)·z 2M²D
    flops = 6 * MM * D
    tiles = -(-M // 64)
    fwd_splits = column_splits(tiles, tiles)
    bwd_splits = column_splits(tiles * -(-D // 128), tiles)
    # fused: fwd reads z, writes (m, l) per split; the merge reads them and z (s_pos), writes
    # lse, q; bwd reads z, lse, q, writes dz
    # (+ with split columns, the partial dz of every split written and read back)
    split_partials = 2 * bwd_splits * MD if bwd_splits > 1 else 0
    fused = (MD + 2 * fwd_splits * M) + (2 * fwd_splits * M + MD + 2 * M) + (MD + 2 * M + MD) + split_partials
    # unfused: S = zzᵀ/τ written (M²) | diagonal masked (r+w M²) | log_softmax (max pass, sum pass,
    # write: 3M²) | bwd: softmax − onehot (read, write: 2M²) | mask bwd (2M²) |
    # dz = (dS + dSᵀ)z/τ (read dS twice, z twice, write dz)
    unfused = (MD + MM) + 2 * MM + 3 * MM + 2 * MM + 2 * MM + (2 * MM + 2 * MD + MD)
    scratch_fused = 4 + 4 * M * max(D, 4)  # nt_xent_workspace_size, for 4 splits
    scratch_unfused = 3 * MM  # S, log-probabilities, dS
    return flops, fused * F, unfused * F, scratch_fused * F, scratch_unfused * F


def byol(N, D):
    ND = N * D
    flops = 9 * ND  # ||p||², ||t||², p·t (6ND) and dp = a·t + b·p (3ND)
    fused = 3 * ND  # read p, t; write dp
    # unfused: normalize p and t (norm pass, read, write p̂/t̂: 3ND each) | p̂·t̂ (2ND) |
    # bwd: dp̂ = c·t̂ (read t̂, write 2ND) | normalize backward (read p, dp̂ twice, write dp: 5ND)
    unfused = 6 * ND + 2 * ND + 2 * ND + 5 * ND
    return flops, fused * F, unfused * F, 1028 * F, 3 * ND * F


def mb(x):
    return f"{x / 1e6:,.1f}"


def table(title, fn, shapes, shape_label):
    print(f"#### {title}\n")
    print(f"| {shape_label} | GFLOP | fused MB | unfused MB | fused µs | unfused µs "
          f"| TF32: fused µs | TF32: unfused µs | scratch fused MB | scratch unfused MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for shape in shapes:
        flops, fb, ub, sf, su = fn(*shape)
        print(f"| {' × '.join(map(str, shape))} | {flops / 1e9:.3g} | {mb(fb)} | {mb(ub)} "
              f"| {roofline_us(flops, fb):,.1f} | {roofline_us(flops, ub):,.1f} "
              f"| {roofline_us(flops, fb, PEAK_TF32):,.1f} | {roofline_us(flops, ub, PEAK_TF32):,.1f} "
              f"| {mb(sf)} | {mb(su)} |")
    print()


def main():
    print(f"Peaks assumed: {PEAK_FLOPS / 1e12:.0f} TFLOP/s FP32 (no tensor cores), "
          f"{PEAK_BYTES / 1e12:.2f} TB/s HBM3 (TF32 columns: {PEAK_TF32 / 1e12:.0f} TFLOP/s dense); "
          f"time = max(FLOPs/peak, bytes/bandwidth).\n")
    table("Barlow Twins (fwd + bwd)", barlow_twins,
          [(256, 2048), (256, 8192), (1024, 2048), (2048, 8192)], "N × D")
    table("NT-Xent (fwd + bwd), D = 128", nt_xent,
          [(512, 128), (1024, 128), (2048, 128), (4096, 128)], "N × D")
    table("BYOL (fwd + bwd)", byol, [(256, 256), (4096, 256)], "N × D")


if __name__ == "__main__":
    main()
