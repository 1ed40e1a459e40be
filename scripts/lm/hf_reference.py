#!/usr/bin/python3
# hf_reference.py - plain-PyTorch forward passes of the Hugging Face decoder families SparseScope
# reads (Llama, Mixtral, Qwen2-MoE, OLMoE, GraniteMoE; per-expert or fused expert tensors), written
# from the families' published definitions, for goldens and for training the demo model.
# Debian 12 has no `transformers` or `safetensors` package: models are dicts of HF tensor names.
# Development-time only: the build and the tests never run this.
import json, math, struct

import torch
import torch.nn.functional as F

ARCHS = {"LlamaForCausalLM": "llama", "MixtralForCausalLM": "mixtral", "Qwen2MoeForCausalLM": "qwen2_moe",
         "OlmoeForCausalLM": "olmoe", "GraniteMoeForCausalLM": "granitemoe"}


class Config:
    def __init__(self, c):
        self.raw = c
        self.family = ARCHS[c["architectures"][0]]
        self.dim = c["hidden_size"]
        self.layers = c["num_hidden_layers"]
        self.heads = c["num_attention_heads"]
        self.kv_heads = c.get("num_key_value_heads") or self.heads
        self.head_dim = c.get("head_dim") or self.dim // self.heads
        self.vocab = c["vocab_size"]
        self.eps = c.get("rms_norm_eps", 1e-6)
        self.theta = c.get("rope_theta", (c.get("rope_parameters") or {}).get("rope_theta", 10000.0))
        self.tied = c.get("tie_word_embeddings", False)
        self.inter = c.get("intermediate_size")
        self.experts = c.get("num_local_experts", c.get("num_experts", 0)) or 0
        self.top_k = c.get("num_experts_per_tok", 0)
        self.moe_inter = c.get("moe_intermediate_size", self.inter)
        self.norm_topk = c.get("norm_topk_prob", self.family == "mixtral")
        self.qkv_bias = c.get("attention_bias", self.family == "qwen2_moe")
        self.clip_qkv = c.get("clip_qkv")
        g = self.family == "granitemoe"
        self.emb_mult = c.get("embedding_multiplier", 1.0) if g else 1.0
        self.attn_mult = c.get("attention_multiplier", 1.0) if g else 1.0 / math.sqrt(self.head_dim)
        self.res_mult = c.get("residual_multiplier", 1.0) if g else 1.0
        self.logits_scaling = c.get("logits_scaling", 1.0) if g else 1.0
        self.sparse_step = c.get("decoder_sparse_step", 1)
        self.mlp_only = set(c.get("mlp_only_layers", []))
        self.shared_inter = c.get("shared_expert_intermediate_size", 0)

    def moe_layer(self, i):
        if self.family == "llama":
            return False
        if self.family == "qwen2_moe":
            return i not in self.mlp_only and self.experts > 0 and (i + 1) % self.sparse_step == 0
        return True


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rope(positions, head_dim, theta):
    inv = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    f = positions.float()[:, None] * inv[None, :]
    e = torch.cat((f, f), dim=-1)
    return e.cos(), e.sin()


def mlp(x, gate, up, down):
    return F.linear(F.silu(F.linear(x, gate)) * F.linear(x, up), down)


def expert_weights(p, cfg, pre, e):
    """(gate, up, down) of expert e, from per-expert or fused tensors."""
    fam = cfg.family
    if fam == "granitemoe":
        w = p[pre + "block_sparse_moe.input_linear.weight"][e]
        i = w.shape[0] // 2
        return w[:i], w[i:], p[pre + "block_sparse_moe.output_linear.weight"][e]
    base = pre + ("block_sparse_moe." if fam == "mixtral" else "mlp.")
    if base + "experts.gate_up_proj" in p:  # fused layout, gate half first
        w = p[base + "experts.gate_up_proj"][e]
        i = w.shape[0] // 2
        return w[:i], w[i:], p[base + "experts.down_proj"][e]
    if fam == "mixtral":
        ex = f"{base}experts.{e}."
        return p[ex + "w1.weight"], p[ex + "w3.weight"], p[ex + "w2.weight"]
    ex = f"{base}experts.{e}."
    return p[ex + "gate_proj.weight"], p[ex + "up_proj.weight"], p[ex + "down_proj.weight"]


def route(logits, cfg, top_k):
    """(weights (T, k), experts (T, k)) by the family's rule."""
    if cfg.family == "granitemoe":
        v, idx = logits.topk(top_k, dim=-1)
        return F.softmax(v.float(), dim=-1), idx
    probs = F.softmax(logits.float(), dim=-1)
    v, idx = probs.topk(top_k, dim=-1)
    if cfg.norm_topk:
        v = v / v.sum(dim=-1, keepdim=True)
    return v, idx


def moe(x, p, cfg, pre, top_k, routing_out):
    fam = cfg.family
    if fam == "granitemoe":
        gate_w = p[pre + "block_sparse_moe.router.layer.weight"]
    elif fam == "mixtral":
        gate_w = p[pre + "block_sparse_moe.gate.weight"]
    else:
        gate_w = p[pre + "mlp.gate.weight"]
    logits = F.linear(x, gate_w)
    w, idx = route(logits, cfg, top_k)
    routing_out.append((idx, w))
    out = torch.zeros_like(x)
    for e in range(gate_w.shape[0]):
        rows, slot = torch.where(idx == e)
        if rows.numel() == 0:
            continue
        g, u, d = expert_weights(p, cfg, pre, e)
        out.index_add_(0, rows, mlp(x[rows], g, u, d) * w[rows, slot, None])
    if fam == "qwen2_moe" and pre + "mlp.shared_expert.gate_proj.weight" in p:
        s = pre + "mlp.shared_expert."
        sh = mlp(x, p[s + "gate_proj.weight"], p[s + "up_proj.weight"], p[s + "down_proj.weight"])
        out = out + torch.sigmoid(F.linear(x, p[pre + "mlp.shared_expert_gate.weight"])) * sh
    return out, logits


def forward(p, cfg, ids, top_k=None, routing_out=None, router_logits_out=None):
    """ids (T,) -> logits (T, vocab), one sequence from position 0 with a causal mask."""
    top_k = top_k or cfg.top_k
    routing_out = [] if routing_out is None else routing_out
    T = ids.shape[0]
    x = p["model.embed_tokens.weight"][ids] * cfg.emb_mult
    cos, sin = rope(torch.arange(T), cfg.head_dim, cfg.theta)
    mask = torch.full((T, T), float("-inf")).triu(1)
    hd, H, KV = cfg.head_dim, cfg.heads, cfg.kv_heads
    for i in range(cfg.layers):
        pre = f"model.layers.{i}."
        a = pre + "self_attn."
        h = rms_norm(x, p[pre + "input_layernorm.weight"], cfg.eps)
        q = F.linear(h, p[a + "q_proj.weight"], p.get(a + "q_proj.bias"))
        k = F.linear(h, p[a + "k_proj.weight"], p.get(a + "k_proj.bias"))
        v = F.linear(h, p[a + "v_proj.weight"], p.get(a + "v_proj.bias"))
        if a + "q_norm.weight" in p:  # OLMoE: over the whole projection, before RoPE
            q = rms_norm(q, p[a + "q_norm.weight"], cfg.eps)
            k = rms_norm(k, p[a + "k_norm.weight"], cfg.eps)
        if cfg.clip_qkv is not None:
            q, k, v = (t.clamp(-cfg.clip_qkv, cfg.clip_qkv) for t in (q, k, v))
        q = q.view(T, H, hd).transpose(0, 1)
        k = k.view(T, KV, hd).transpose(0, 1)
        v = v.view(T, KV, hd).transpose(0, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // KV, dim=0)
        v = v.repeat_interleave(H // KV, dim=0)
        s = q @ k.transpose(1, 2) * cfg.attn_mult + mask
        o = (F.softmax(s.float(), dim=-1) @ v).transpose(0, 1).reshape(T, H * hd)
        o = F.linear(o, p[a + "o_proj.weight"], p.get(a + "o_proj.bias"))
        x = x + o * cfg.res_mult
        h = rms_norm(x, p[pre + "post_attention_layernorm.weight"], cfg.eps)
        if cfg.moe_layer(i):
            m, logits = moe(h, p, cfg, pre, top_k, routing_out)
            if router_logits_out is not None:
                router_logits_out.append(logits)
        else:
            m = mlp(h, p[pre + "mlp.gate_proj.weight"], p[pre + "mlp.up_proj.weight"], p[pre + "mlp.down_proj.weight"])
        x = x + m * cfg.res_mult
    x = rms_norm(x, p["model.norm.weight"], cfg.eps)
    head = p["model.embed_tokens.weight"] if cfg.tied else p["lm_head.weight"]
    return F.linear(x, head) / cfg.logits_scaling


def perplexity(p, cfg, tokens, ctx, chunks=0):
    """llama.cpp's perplexity: consecutive chunks of ctx tokens, each from an empty cache; the
    logits at positions ctx/2 .. ctx-2 scored against the next token. Returns (ppl, nll list)."""
    n = len(tokens) // ctx
    if chunks:
        n = min(n, chunks)
    nll = []
    for c in range(n):
        ids = torch.tensor(tokens[c * ctx:(c + 1) * ctx])
        with torch.no_grad():
            lp = F.log_softmax(forward(p, cfg, ids).double(), dim=-1)
        for j in range(ctx // 2, ctx - 1):
            nll.append(-lp[j, ids[j + 1]].item())
    return math.exp(sum(nll) / len(nll)), nll


# --- safetensors, by hand ----------------------------------------------------------------------
DT = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int32: "I32", torch.int64: "I64"}


def save_safetensors(path, tensors, metadata=None):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {"dtype": DT[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        buf = bytearray(data[a:b])
        if e["dtype"] == "BF16":
            t = torch.frombuffer(buf, dtype=torch.int16).view(torch.bfloat16)
        else:
            t = torch.frombuffer(buf, dtype={"F32": torch.float32, "F16": torch.float16, "I32": torch.int32}[e["dtype"]])
        out[name] = t.reshape(e["shape"]).float()
    return out
