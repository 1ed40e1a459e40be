#!/usr/bin/python3
# make_bench_lm.py - a random-weight Mixtral-layout model of about 1 B parameters, BF16, as a
# Hugging Face directory, for bench/bench_lm (not committed: ~1.9 GB). Weights are N(0, 0.02)
# (o_proj and w2 scaled down), streamed tensor by tensor so memory stays small. Needs only numpy.
#
#   /usr/bin/python3 scripts/lm/make_bench_lm.py /tmp/bench-lm [--layers 12] [--dim 1024]
import argparse, json, os, struct

import numpy as np


def bf16(a):
    """float32 array -> bfloat16 bits (round to nearest even), as uint16."""
    u = a.astype(np.float32).view(np.uint32)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--dim", type=int, default=1024)
    ap.add_argument("--inter", type=int, default=2816)
    ap.add_argument("--experts", type=int, default=8)
    ap.add_argument("--vocab", type=int, default=32000)
    a = ap.parse_args()
    D, I, E, V, L, H, KV = a.dim, a.inter, a.experts, a.vocab, a.layers, a.dim // 64, a.dim // 256
    cfg = {"architectures": ["MixtralForCausalLM"], "model_type": "mixtral", "vocab_size": V, "hidden_size": D,
           "intermediate_size": I, "num_hidden_layers": L, "num_attention_heads": H, "num_key_value_heads": KV,
           "max_position_embeddings": 4096, "rms_norm_eps": 1e-5, "rope_theta": 1e6, "num_local_experts": E,
           "num_experts_per_tok": 2, "tie_word_embeddings": False, "sliding_window": None, "hidden_act": "silu",
           "torch_dtype": "bfloat16", "bos_token_id": 1, "eos_token_id": 2}
    kvd = KV * 64
    shapes = [("model.embed_tokens.weight", (V, D)), ("model.norm.weight", (D,)), ("lm_head.weight", (V, D))]
    for i in range(L):
        p = f"model.layers.{i}."
        shapes += [(p + "input_layernorm.weight", (D,)), (p + "post_attention_layernorm.weight", (D,)),
                   (p + "self_attn.q_proj.weight", (D, D)), (p + "self_attn.k_proj.weight", (kvd, D)),
                   (p + "self_attn.v_proj.weight", (kvd, D)), (p + "self_attn.o_proj.weight", (D, D)),
                   (p + "block_sparse_moe.gate.weight", (E, D))]
        for e in range(E):
            x = f"{p}block_sparse_moe.experts.{e}."
            shapes += [(x + "w1.weight", (I, D)), (x + "w3.weight", (I, D)), (x + "w2.weight", (D, I))]
    shapes.sort()
    header, off = {}, 0
    for name, s in shapes:
        n = int(np.prod(s)) * 2
        header[name] = {"dtype": "BF16", "shape": list(s), "data_offsets": [off, off + n]}
        off += n
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(7)
    params = 0
    with open(os.path.join(a.out, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for name, s in shapes:
            if name.endswith("norm.weight"):
                t = np.ones(s, np.float32)
            else:
                t = rng.standard_normal(s, dtype=np.float32) * 0.02
                if name.endswith("o_proj.weight") or name.endswith("w2.weight"):
                    t /= np.sqrt(2 * L)
            f.write(bf16(t).tobytes())
            params += t.size
    json.dump(cfg, open(os.path.join(a.out, "config.json"), "w"), indent=1)
    print(f"wrote {a.out}: {params / 1e9:.3f} B parameters, {off / 2**30:.2f} GiB of BF16")


if __name__ == "__main__":
    main()
