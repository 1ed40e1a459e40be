#!/usr/bin/python3
# make_lm_goldens.py - PyTorch goldens for SparseScope's language-model tests.
#
#   /usr/bin/python3 scripts/lm/make_lm_goldens.py tests/data/lm            # tiny random models, one per family
#   /usr/bin/python3 scripts/lm/make_lm_goldens.py tests/data/lm --demo resources/models/kjv-moe
#
# Each tiny model is a Hugging Face directory (config.json, safetensors in F32 / F16 / BF16, one
# sharded) with tokens.npy and golden.json: perplexity over the chunks as llama.cpp computes it,
# every scored NLL, the top-k experts and weights of every position of the first chunk, and the
# first logits rows. For the demo model: the held-out text's token ids as Python's SentencePiece
# makes them, its perplexity and routing on the first chunks. Development-time only.
import argparse, json, math, os, struct, sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_reference as ref

V, D, L, H, CTX = 256, 64, 2, 4, 32

FAMILIES = {
    "llama": dict(architectures=["LlamaForCausalLM"], model_type="llama", num_attention_heads=4, num_key_value_heads=2, head_dim=24,
                  intermediate_size=96, tie_word_embeddings=True, rms_norm_eps=1e-6, rope_theta=10000.0),
    "mixtral": dict(architectures=["MixtralForCausalLM"], model_type="mixtral", num_attention_heads=4, num_key_value_heads=2,
                    intermediate_size=48, num_local_experts=4, num_experts_per_tok=2, rms_norm_eps=1e-5, rope_theta=1e6,
                    sliding_window=None, tie_word_embeddings=False),
    "mixtral_fused": dict(architectures=["MixtralForCausalLM"], model_type="mixtral", num_attention_heads=4, num_key_value_heads=4,
                          intermediate_size=48, num_local_experts=4, num_experts_per_tok=2, rms_norm_eps=1e-5,
                          rope_parameters={"rope_type": "default", "rope_theta": 500000.0}, tie_word_embeddings=False),
    "qwen2_moe": dict(architectures=["Qwen2MoeForCausalLM"], model_type="qwen2_moe", num_attention_heads=4, num_key_value_heads=2,
                      intermediate_size=80, moe_intermediate_size=32, shared_expert_intermediate_size=40, num_experts=6,
                      num_experts_per_tok=2, norm_topk_prob=False, decoder_sparse_step=1, mlp_only_layers=[1],
                      rms_norm_eps=1e-6, rope_theta=10000.0, use_sliding_window=False, sliding_window=64, tie_word_embeddings=False),
    "olmoe": dict(architectures=["OlmoeForCausalLM"], model_type="olmoe", num_attention_heads=4, num_key_value_heads=4,
                  intermediate_size=32, num_experts=8, num_experts_per_tok=3, norm_topk_prob=False, clip_qkv=2.5,
                  rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False),
    "granitemoe": dict(architectures=["GraniteMoeForCausalLM"], model_type="granitemoe", num_attention_heads=4, num_key_value_heads=2,
                       intermediate_size=40, num_local_experts=4, num_experts_per_tok=2, embedding_multiplier=12.0,
                       attention_multiplier=0.125, residual_multiplier=0.22, logits_scaling=4.0, rms_norm_eps=1e-6,
                       rope_theta=10000.0, tie_word_embeddings=True),
}
DTYPES = {"llama": torch.float16, "mixtral": torch.bfloat16, "mixtral_fused": torch.float32, "qwen2_moe": torch.float32,
          "olmoe": torch.bfloat16, "granitemoe": torch.float32}


def random_model(name, extra, g):
    c = dict(vocab_size=V, hidden_size=D, num_hidden_layers=L, max_position_embeddings=128, hidden_act="silu", bos_token_id=1,
             eos_token_id=2, **extra)
    cfg = ref.Config(c)
    hd, kvd, qd = cfg.head_dim, cfg.kv_heads * cfg.head_dim, cfg.heads * cfg.head_dim
    t = {}
    r = lambda *s, std=0.08: torch.randn(*s, generator=g) * std
    t["model.embed_tokens.weight"] = r(V, D, std=0.5 if name != "granitemoe" else 0.05)
    t["model.norm.weight"] = 1 + r(D, std=0.1)
    if not cfg.tied:
        t["lm_head.weight"] = r(V, D, std=0.15)
    fam = cfg.family
    for i in range(L):
        p = f"model.layers.{i}."
        a = p + "self_attn."
        t[p + "input_layernorm.weight"] = 1 + r(D, std=0.1)
        t[p + "post_attention_layernorm.weight"] = 1 + r(D, std=0.1)
        t[a + "q_proj.weight"], t[a + "k_proj.weight"] = r(qd, D, std=0.2), r(kvd, D, std=0.2)
        t[a + "v_proj.weight"], t[a + "o_proj.weight"] = r(kvd, D, std=0.2), r(D, qd, std=0.2)
        if fam == "qwen2_moe":
            for n, o in (("q", qd), ("k", kvd), ("v", kvd)):
                t[a + f"{n}_proj.bias"] = r(o, std=0.1)
        if fam == "olmoe":
            t[a + "q_norm.weight"], t[a + "k_norm.weight"] = 1 + r(qd, std=0.1), 1 + r(kvd, std=0.1)
        if not cfg.moe_layer(i):
            I = cfg.inter
            t[p + "mlp.gate_proj.weight"], t[p + "mlp.up_proj.weight"], t[p + "mlp.down_proj.weight"] = r(I, D), r(I, D), r(D, I)
            continue
        E, I = cfg.experts, cfg.moe_inter
        if fam == "granitemoe":
            t[p + "block_sparse_moe.router.layer.weight"] = r(E, D, std=0.5)
            t[p + "block_sparse_moe.input_linear.weight"] = r(E, 2 * I, D)
            t[p + "block_sparse_moe.output_linear.weight"] = r(E, D, I)
        elif name == "mixtral_fused":
            m = p + "block_sparse_moe."
            t[m + "gate.weight"] = r(E, D, std=0.5)
            t[m + "experts.gate_up_proj"] = r(E, 2 * I, D)
            t[m + "experts.down_proj"] = r(E, D, I)
        else:
            m = p + ("block_sparse_moe." if fam == "mixtral" else "mlp.")
            t[m + "gate.weight"] = r(E, D, std=0.5)
            names = ("w1", "w3", "w2") if fam == "mixtral" else ("gate_proj", "up_proj", "down_proj")
            for e in range(E):
                x = f"{m}experts.{e}."
                t[x + names[0] + ".weight"], t[x + names[1] + ".weight"], t[x + names[2] + ".weight"] = r(I, D), r(I, D), r(D, I)
            if fam == "qwen2_moe":
                S = cfg.shared_inter
                s = m + "shared_expert."
                t[s + "gate_proj.weight"], t[s + "up_proj.weight"], t[s + "down_proj.weight"] = r(S, D), r(S, D), r(D, S)
                t[m + "shared_expert_gate.weight"] = r(1, D, std=0.3)
    if fam == "llama":  # an old checkpoint's buffer, to be ignored
        t["model.layers.0.self_attn.rotary_emb.inv_freq"] = torch.ones(hd // 2)
    return c, t


def golden(params, cfg, tokens, ctx, chunks, first_rows=4):
    """perplexity, nll, first chunk's routing and first logits rows, from the values as stored."""
    ppl, nll = ref.perplexity(params, cfg, tokens, ctx, chunks)
    routing = []
    with torch.no_grad():
        logits = ref.forward(params, cfg, torch.tensor(tokens[:ctx]), routing_out=routing)
    idx = [r[0].tolist() for r in routing]  # (moe layers, ctx, k)
    w = [r[1].float().tolist() for r in routing]
    return {"ctx": ctx, "chunks": chunks, "perplexity": ppl, "nll": nll,
            "route_idx": [[idx[l][t] for l in range(len(idx))] for t in range(ctx)],
            "route_w": [[w[l][t] for l in range(len(w))] for t in range(ctx)],
            "logits": logits[:first_rows].tolist()}


def write_npy_i32(path, a):
    a = np.asarray(a, dtype="<i4")
    np.save(path, a)


def tiny(out):
    for name, extra in FAMILIES.items():
        g = torch.Generator().manual_seed(sum(map(ord, name)))
        c, t = random_model(name, extra, g)
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            os.remove(os.path.join(d, f))
        dt = DTYPES[name]
        stored = {k: v.to(dt) if "inv_freq" not in k else v for k, v in t.items()}
        if name == "llama":  # sharded in two files with an index
            names = sorted(stored)
            half = len(names) // 2
            shards = {"model-00001-of-00002.safetensors": names[:half], "model-00002-of-00002.safetensors": names[half:]}
            wm = {}
            for f, ns in shards.items():
                ref.save_safetensors(os.path.join(d, f), {n: stored[n] for n in ns}, {"format": "pt"})
                wm.update({n: f for n in ns})
            json.dump({"metadata": {}, "weight_map": wm}, open(os.path.join(d, "model.safetensors.index.json"), "w"), indent=1)
        else:
            ref.save_safetensors(os.path.join(d, "model.safetensors"), stored, {"format": "pt"})
        json.dump(c, open(os.path.join(d, "config.json"), "w"), indent=1)
        params = {k: v.float() for k, v in stored.items()}
        cfg = ref.Config(c)
        tokens = torch.randint(3, V, (3 * CTX + 5,), generator=g).tolist()
        write_npy_i32(os.path.join(d, "tokens.npy"), tokens)
        json.dump(golden(params, cfg, tokens, CTX, 0), open(os.path.join(d, "golden.json"), "w"))
        print("wrote", d)


def demo(out, model_dir, chunks=4, ctx=512):
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=os.path.join(model_dir, "tokenizer.model"))
    text = open(os.path.join(model_dir, "kjv-heldout.txt"), encoding="utf-8").read()
    tokens = sp.encode(text)
    cfg = ref.Config(json.load(open(os.path.join(model_dir, "config.json"))))
    params = ref.load_safetensors(os.path.join(model_dir, "model.safetensors"))
    d = os.path.join(out, "kjv-moe")
    os.makedirs(d, exist_ok=True)
    g = golden(params, cfg, tokens, ctx, chunks, first_rows=2)
    probe = "In the beginning  God\n12 créated the heaven; and the earth 😀."
    g["probe_text"] = probe
    g["probe_ids"] = sp.encode(probe)
    json.dump(g, open(os.path.join(d, "golden.json"), "w"))
    print("wrote", d, "perplexity", g["perplexity"])


def tokenizer_goldens(out, model_dir):
    """The demo tokenizer's ids for the held-out text and for probes with spaces, digits, bytes."""
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=os.path.join(model_dir, "tokenizer.model"))
    text = open(os.path.join(model_dir, "kjv-heldout.txt"), encoding="utf-8").read()
    write_npy_i32(os.path.join(out, "kjv-heldout-tokens.npy"), sp.encode(text))
    probes = ["In the beginning God created the heaven and the earth.", "  two  leading spaces, then  double ", "Line one\nLine two\n",
              "12 créated 😀 naïve", "", "x", "Behold, the LORD thy God hath set the land before thee:"]
    json.dump({"probes": [{"text": p, "ids": sp.encode(p)} for p in probes]}, open(os.path.join(out, "kjv-tokenizer.json"), "w"), indent=1)
    print("wrote tokenizer goldens")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--demo")
    ap.add_argument("--tokenizer", help="a model directory whose tokenizer.model and kjv-heldout.txt give tokenizer goldens")
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.tokenizer:
        tokenizer_goldens(a.out, a.tokenizer)
    elif a.demo:
        demo(a.out, a.demo)
    else:
        tiny(a.out)
