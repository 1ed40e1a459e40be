#!/usr/bin/python3
# make_demo_lm.py - trains SparseScope's demo language model: a small Mixtral-layout MoE on the King
# James Bible (Debian bible-kjv-text, public domain), with a 4k SentencePiece BPE vocabulary, and
# writes it as a Hugging Face directory (config.json, model.safetensors in BF16, tokenizer.model)
# plus the held-out books as evaluation text, a training excerpt as calibration text, a Jargon File
# excerpt as out-of-domain text, and PyTorch goldens for the tests.
#
#   /usr/bin/python3 scripts/lm/make_demo_lm.py OUT_DIR [--steps N] [--threads T]
#
# Needs bible-kjv, jargon-text, sentencepiece (spm_train), python3-sentencepiece, python3-torch. The
# build and the tests only read what it wrote (committed under resources/models/kjv-moe and tests/data/lm).
import argparse, json, math, os, re, subprocess, sys, time

import sentencepiece as spm
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_reference as ref

HELD_OUT = ["Ruth", "Esther", "Jonah", "Micah", "Philippians", "James", "1 Peter"]  # evaluation books

CONFIG = {
    "architectures": ["MixtralForCausalLM"], "model_type": "mixtral",
    "vocab_size": 4096, "hidden_size": 256, "intermediate_size": 256, "num_hidden_layers": 4,
    "num_attention_heads": 8, "num_key_value_heads": 4, "max_position_embeddings": 1024,
    "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "num_local_experts": 8, "num_experts_per_tok": 2,
    "tie_word_embeddings": False, "sliding_window": None, "hidden_act": "silu", "torch_dtype": "bfloat16",
    "bos_token_id": 1, "eos_token_id": 2, "router_aux_loss_coef": 0.02, "output_router_logits": False,
}


def kjv_books():
    """{book: text}, one verse per line, from the bible program's output."""
    raw = subprocess.run(["bible", "-p", "/usr/lib", "gen1:1-rev22:21"], capture_output=True, text=True, check=True).stdout
    books, book, verse = {}, None, None
    head = re.compile(r"^([1-3] )?[A-Z][a-z]+( of [A-Z][a-z]+)? \d+$")
    for line in raw.splitlines():
        if head.match(line.strip()) and not line.startswith(" "):
            book = line.strip().rsplit(" ", 1)[0]
            books.setdefault(book, [])
            verse = None
            continue
        m = re.match(r"^\s+\d+ (.*)$", line)
        if m:
            books[book].append(m.group(1).strip())
        elif line.strip() and book and books[book]:
            books[book][-1] += " " + line.strip()
    return {b: "\n".join(v) + "\n" for b, v in books.items()}


def jargon_excerpt(limit=100_000):
    """About `limit` characters of the Jargon File (Debian jargon-text, public domain) from its first
    chapter on: English prose about computing, out of the Bible's domain. Lines of its tables and
    rules (box-drawing characters) are left out and each paragraph is one line, as each verse of
    the training text is."""
    import gzip
    lines = gzip.open("/usr/share/doc/jargon-text/jargon.txt.gz", "rt", encoding="utf-8").read().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("Chapter\u00a01."))
    paragraphs, words = [], []
    for l in lines[start:]:
        if any(0x2500 <= ord(c) <= 0x257F for c in l):
            continue
        if l.strip():
            words.append(l.strip())
        elif words:
            paragraphs.append(" ".join(words))
            words = []
    out, size = [], 0
    for p in paragraphs:
        if size + len(p) + 1 > limit:
            break
        out.append(p)
        size += len(p) + 1
    return "\n".join(out) + "\n"


def calibration_excerpt(train_text, limit=40_000):
    """The first whole verses of the training text up to `limit` characters (Genesis): calibration
    text for Wanda and expert use, apart from the held-out evaluation books."""
    return train_text[: train_text.rindex("\n", 0, limit) + 1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--work", default="/tmp/kjv-demo")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1234)
    os.makedirs(a.out, exist_ok=True)
    os.makedirs(a.work, exist_ok=True)

    books = kjv_books()
    assert all(b in books for b in HELD_OUT), sorted(books)
    train_text = "".join(t for b, t in books.items() if b not in HELD_OUT)
    eval_text = "".join(books[b] for b in HELD_OUT)
    open(os.path.join(a.work, "train.txt"), "w").write(train_text)
    open(os.path.join(a.out, "kjv-heldout.txt"), "w").write(eval_text)
    open(os.path.join(a.out, "jargon-ood.txt"), "w").write(jargon_excerpt())
    open(os.path.join(a.out, "kjv-calib.txt"), "w").write(calibration_excerpt(train_text))

    # Tokenizer: Llama-style SentencePiece BPE (byte fallback, split digits, dummy prefix).
    prefix = os.path.join(a.work, "tokenizer")
    subprocess.run(["spm_train", f"--input={a.work}/train.txt", f"--model_prefix={prefix}", "--vocab_size=4096",
                    "--model_type=bpe", "--byte_fallback=true", "--split_digits=true", "--character_coverage=1.0",
                    "--normalization_rule_name=identity", "--remove_extra_whitespaces=false", "--add_dummy_prefix=true",
                    "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=-1", "--num_threads=1", "--minloglevel=1"], check=True)
    os.replace(prefix + ".model", os.path.join(a.out, "tokenizer.model"))
    sp = spm.SentencePieceProcessor(model_file=os.path.join(a.out, "tokenizer.model"))
    data = torch.tensor(sp.encode(train_text), dtype=torch.long)
    print(f"train tokens {data.numel()}, held-out tokens {len(sp.encode(eval_text))}", flush=True)

    cfg = ref.Config(CONFIG)
    D, I, E, V = cfg.dim, cfg.inter, cfg.experts, cfg.vocab
    kvd = cfg.kv_heads * cfg.head_dim
    shapes = {"model.embed_tokens.weight": (V, D), "model.norm.weight": (D,), "lm_head.weight": (V, D)}
    for i in range(cfg.layers):
        p = f"model.layers.{i}."
        shapes.update({p + "input_layernorm.weight": (D,), p + "post_attention_layernorm.weight": (D,),
                       p + "self_attn.q_proj.weight": (D, D), p + "self_attn.k_proj.weight": (kvd, D),
                       p + "self_attn.v_proj.weight": (kvd, D), p + "self_attn.o_proj.weight": (D, D),
                       p + "block_sparse_moe.gate.weight": (E, D)})
        for e in range(E):
            x = f"{p}block_sparse_moe.experts.{e}."
            shapes.update({x + "w1.weight": (I, D), x + "w3.weight": (I, D), x + "w2.weight": (D, I)})
    params = {}
    for n, s in shapes.items():
        t = torch.ones(s) if n.endswith("norm.weight") else torch.randn(s) * 0.02
        if n.endswith("o_proj.weight") or n.endswith("w2.weight"):
            t /= math.sqrt(2 * cfg.layers)
        params[n] = torch.nn.Parameter(t)
    opt = torch.optim.AdamW(params.values(), lr=3e-3, betas=(0.9, 0.95), weight_decay=0.1)
    warm = 100
    t0 = time.time()
    for step in range(a.steps):
        lr = 3e-3 * min(1.0, (step + 1) / warm) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, step / a.steps))))
        for g in opt.param_groups:
            g["lr"] = lr
        starts = torch.randint(0, data.numel() - a.seq - 1, (a.batch,))
        loss_sum, aux_sum = 0.0, 0.0
        opt.zero_grad()
        for s in starts.tolist():
            ids = data[s:s + a.seq + 1]
            rl = []
            logits = ref.forward(params, cfg, ids[:-1], router_logits_out=rl)
            loss = F.cross_entropy(logits, ids[1:])
            aux = 0.0
            for lg in rl:  # Switch-style load balancing, as Mixtral's router_aux_loss_coef
                pr = F.softmax(lg, dim=-1)
                _, sel = pr.topk(cfg.top_k, dim=-1)
                frac = F.one_hot(sel, E).float().mean(dim=(0, 1))
                aux = aux + E * (frac * pr.mean(0)).sum()
            total = (loss + CONFIG["router_aux_loss_coef"] * aux) / a.batch
            total.backward()
            loss_sum += loss.item()
            aux_sum += float(aux)
        torch.nn.utils.clip_grad_norm_(params.values(), 1.0)
        opt.step()
        if step % 50 == 0 or step == a.steps - 1:
            el = time.time() - t0
            tps = (step + 1) * a.batch * a.seq / el
            print(f"step {step} loss {loss_sum / a.batch:.3f} aux {aux_sum / a.batch:.3f} lr {lr:.2e} "
                  f"{tps:.0f} tok/s {el / 60:.1f} min", flush=True)

    # BF16 on disk; everything downstream (goldens included) uses exactly these values.
    tensors = {n: p.detach().to(torch.bfloat16) for n, p in params.items()}
    ref.save_safetensors(os.path.join(a.out, "model.safetensors"), tensors, {"format": "pt"})
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
    print("wrote", a.out, flush=True)


if __name__ == "__main__":
    main()
