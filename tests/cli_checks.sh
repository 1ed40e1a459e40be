#!/usr/bin/env bash
# cli_checks.sh CLI RESOURCE_DIR: sparsescope-cli contract checks (exit codes, JSON keys, messages).
set -u
cli="$1"; res="$2"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/cache" # kernel choices measured here stay here
fail=0
check() { # name, expected exit code, regex on output, command...
  local name="$1" want="$2" re="$3"; shift 3
  local out rc
  out="$("$@" 2>&1)"; rc=$?
  if [ "$rc" -ne "$want" ] || ! grep -qE -- "$re" <<<"$out"; then
    echo "FAIL $name: exit $rc (want $want), output:"; echo "$out" | head -5; fail=1
  else
    echo "ok   $name"
  fi
}
model="$res/models/fashion-moe"
check "eval json keys" 0 '"accuracy":.*"expert_share":\{"moe":\[.*"latency_ms":\{"p50":.*"p95":.*"per_class_accuracy":.*"samples":500.*"sparsity":0\.5.*"throughput_sps".*"weight_bytes":2347068' \
  "$cli" eval "$model" --limit 500 --prune magnitude:0.5 --quant int8 --json
check "top-k override" 0 '"top_k":1' "$cli" eval "$model" --limit 100 --top-k 1 --json
check "info" 0 '2308874' "$cli" info "$model" --json
check "missing model" 1 'error: .*nope: no such file or directory' "$cli" eval "$tmp/nope"
head -c 1000 "$model/model.safetensors" > "$tmp/trunc.safetensors"
check "truncated safetensors" 1 'trunc.safetensors: .*(runs past the end|exceed)' "$cli" eval "$tmp/trunc.safetensors"
check "bad prune" 2 "prune 'magnitude:2': sparsity must be a number in \[0, 1\)" "$cli" eval "$model" --prune magnitude:2
check "top-k too big" 2 'exceeds the 8 experts' "$cli" eval "$model" --top-k 9
check "unknown option" 2 'unknown option --frobnicate' "$cli" eval "$model" --frobnicate
printf '\0\0\x08\x03\0\0\0\x01\0\0\0\x02\0\0\0\x02abcd' > "$tmp/x-images-idx3-ubyte"
printf '\0\0\x08\x01\0\0\0\x01\x03' > "$tmp/x-labels-idx1-ubyte"
check "data mismatch" 1 'samples have 4 features but model .fashion-moe. expects 784' "$cli" eval "$model" --data "$tmp/x-images-idx3-ubyte"
mkdir "$tmp/m" && cp "$model/model.safetensors" "$tmp/m/" && sed 's/"hidden": 512/"hidden": 256/' "$model/config.json" > "$tmp/m/config.json"
check "wrong shapes" 1 "tensor 'moe.experts.0.fc1.weight' has shape \[512, 256\], config expects \[256, 256\]" "$cli" eval "$tmp/m"
check "export int8" 0 'wrote .*q.safetensors' "$cli" export "$model" --prune magnitude:0.5 --quant int8 -o "$tmp/q.safetensors"
check "export evaluates the same" 0 '"accuracy":0.8962' "$cli" eval "$tmp/q.safetensors" --json
check "export info" 0 'sparsescope.source_sha256' "$cli" info "$tmp/q.safetensors"
check "export needs -o" 2 'export needs -o OUT' "$cli" export "$model"
printf 'f1,f2,label\n1,2,0\n3,4,1\n' > "$tmp/d.csv"
check "data csv json" 0 '"samples": 2' "$cli" data "$tmp/d.csv" --json
printf 'shirt\r\ntrouser\r\n' > "$tmp/classes.txt"
check "data class names from classes.txt" 0 '1 +trouser +1 +50\.00 %' "$cli" data "$tmp/d.csv"
check "data names in json" 0 '"class_names": \[' "$cli" data "$tmp/d.csv" --json
printf 'shirt\n' > "$tmp/one.txt"
check "too few class names" 1 'one.txt: names 1 classes, but the labels go up to 1' "$cli" data "$tmp/d.csv" --classes "$tmp/one.txt"
printf 'f1,f2,label\n1,2,0\n3,oops,1\n' > "$tmp/bad.csv"
check "data csv error" 1 "bad.csv: line 3, column 2 \('f2'\): 'oops' is not a finite number" "$cli" data "$tmp/bad.csv"
check "int4 plan json" 0 '"quant":"int4:g32"' "$cli" eval "$model" --limit 300 --quant int4:g32 --json
check "robustness json" 0 '"mce":[0-9.]+.*"robustness":\{"contrast":\{"5":0\.[0-9]+' "$cli" eval "$model" --limit 300 --quant int8 --robustness --corruptions contrast --severities 5 --json
check "robustness table" 0 'contrast +[0-9.]+ / +[0-9.]+ +[0-9.]+ +[-+][0-9.]+' "$cli" eval "$model" --limit 300 --robustness --corruptions contrast,shift --severities 2
check "unknown corruption" 2 "--corruptions: 'fog' is not one of gaussian_noise, " "$cli" eval "$model" --robustness --corruptions fog
check "regressions and calibration json" 0 '"dense_ece":[0-9.e-]+,.*"ece":[0-9.e-]+,.*"flipped":\{"count":[0-9]+,.*"regressions":\[\{"class":"T-shirt/top","gained":[0-9]+,"lost":[0-9]+,"p":' "$cli" eval "$model" --limit 500 --prune magnitude:0.8 --json
check "regressions named" 0 'Ankle boot .* REGRESSION' "$cli" eval "$model" --limit 1000 --prune magnitude:0.9
check "ood json" 0 '"ood":\{"dense_energy":\{"aupr_in":.*"msp":\{"aupr_in":[0-9.]+,"aupr_out":[0-9.]+,"auroc":[0-9.]+,"fpr95":[0-9.]+\},"out_samples":496,"set":"glyphs"' "$cli" eval "$model" --limit 500 --quant int4:g32 --ood glyphs --json
check "ood noise line" 0 '^ood +test split \(300\) against noise \(1000\): max-softmax AUROC [0-9.]+ \(dense [0-9.]+\)' "$cli" eval "$model" --limit 300 --ood noise
# Data governance: cards, duplicates, leakage, drift.
mkdir -p "$tmp/carded"; cp "$tmp/x-images-idx3-ubyte" "$tmp/x-labels-idx1-ubyte" "$tmp/carded/"
printf '{"name": "Tiny", "license": "CC0-1.0", "source": "typed in"}' > "$tmp/carded/dataset-card.json"
check "dataset card" 0 'card +from .*dataset-card.json' "$cli" data "$tmp/carded/x-images-idx3-ubyte" --card
check "dataset card json" 0 '"license": "CC0-1.0"' "$cli" data "$tmp/carded/x-images-idx3-ubyte" --card --json
printf '{"licence": "MIT"}' > "$tmp/carded/dataset-card.json"
check "bad dataset card" 1 "dataset-card.json: key 'licence' is not a dataset card field" "$cli" data "$tmp/carded/x-images-idx3-ubyte" --card
check "leakage" 0 'near pairs +[0-9]+ +\(dHash within 4 bits' "$cli" data /usr/share/datasets/fashion-mnist --leakage /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz --pairs 1
check "leakage size mismatch" 1 'cannot be compared for leakage' "$cli" data /usr/share/datasets/fashion-mnist --leakage "$tmp/carded/x-images-idx3-ubyte"
check "drift" 0 'mean value +[0-9.]+ -> [0-9.]+ +KS D [0-9.]+, p [0-9.e-]+ +shifted' "$cli" drift /usr/share/datasets/fashion-mnist /usr/share/datasets/fashion-mnist "$model" --limit 500 --corrupt brightness:3 --prune magnitude:0.5
check "drift json" 0 '"new_confidence": 0\.[0-9]+' "$cli" drift /usr/share/datasets/fashion-mnist /usr/share/datasets/fashion-mnist "$model" --limit 300 --quant int8 --json
check "drift bad corruption" 2 "--corrupt 'fog:2': expected NAME:SEVERITY" "$cli" drift /usr/share/datasets/fashion-mnist /usr/share/datasets/fashion-mnist "$model" --corrupt fog:2
printf 'id,site\n' > "$tmp/sl.csv"; for i in $(seq 0 299); do echo "$i,s$((i % 3))" >> "$tmp/sl.csv"; done
check "slices" 0 '^  footwear +[0-9]+ ' "$cli" eval "$model" --limit 300 --prune magnitude:0.8 --slices "$tmp/sl.csv:site" --slice-labels 'footwear=Sandal,Sneaker,Ankle boot'
check "slices json" 0 '"slices":\[\{"delta_points":' "$cli" eval "$model" --limit 300 --prune magnitude:0.8 --slices "$tmp/sl.csv:site" --json
check "slices short file" 1 'sl.csv: 300 data rows, but 500 samples were evaluated' "$cli" eval "$model" --limit 500 --slices "$tmp/sl.csv:site"
"$cli" sweep "$model" --session "$tmp/pie.sparsescope" --sparsity 0.5,0.9 --limit 500 --latency-samples 5 >/dev/null 2>&1
check "exemplars" 0 '^[0-9]+ of 500 samples are right under dense and wrong under every one of runs 1, 2 \(pruning-identified exemplars\)' "$cli" sessions exemplars "$tmp/pie.sparsescope"
check "exemplars json" 0 '"runs": \[' "$cli" sessions exemplars "$tmp/pie.sparsescope" 2 --json
check "comparison" 0 '"agreement":' "$cli" eval "$model" --limit 300 --prune nm:2:4 --json
check "drop experts (calibrated)" 0 'dropped moe\.' "$cli" eval "$model" --limit 300 --prune experts:2
printf '{"quant": "int8", "layers": {"head": {"quant": "none"}}}' > "$tmp/plan.json"
check "plan file" 0 'int8 \(\+layers\)' "$cli" eval "$model" --limit 300 --plan "$tmp/plan.json"
printf '{"quant": "int8", "laeyrs": {}}' > "$tmp/bad-plan.json"
check "bad plan" 1 "bad-plan.json: unknown key 'laeyrs'" "$cli" eval "$model" --plan "$tmp/bad-plan.json"
check "bad group" 2 'group size must be 32, 64 or 128' "$cli" eval "$model" --quant int4:g48
check "sensitivity" 0 'moe\.experts\.7' "$cli" sensitivity "$model" --prune magnitude:0.5 --limit 200
check "export int4 round trip" 0 'wrote' "$cli" export "$model" --quant int4:g32:asym -o "$tmp/q4"
check "int4 export evaluates" 0 'int4:g32:asym' "$cli" info "$tmp/q4"
check "kernel plan, static rule" 0 'moe\.experts\.0\.fc1 +512x256 +90\.0% +f32 +csr-rows +csr-panel' "$cli" plan "$model" --prune magnitude-layer:0.9 --static-kernels
check "kernel plan, measured" 0 'measured choice' "$cli" plan "$model" --prune magnitude-layer:0.9
check "kernel plan int4" 0 'stem +256x784 +[0-9.]+% +int4:g32 +q4-dot +q4-tiles' "$cli" plan "$model" --quant int4:g32
check "kernel plan, 4x1 blocks" 0 'moe\.experts\.0\.fc1 +512x256 +[0-9.]+% +f32 +bsr4-rows +bsr4-panel' "$cli" plan "$model" --prune magnitude:0.9:block4 --static-kernels
check "kernel plan dense" 0 'head +10x256 .* sgemv +sgemm' "$cli" plan "$model"

# Language models (tiny Hugging Face fixtures, tests/data/lm).
lm="$(cd "$(dirname "$0")" && pwd)/data/lm"
check "lm eval json keys" 0 '"chunks":3.*"comparison":\{"delta_p_mean".*"kld_mean".*"kld_p99".*"ppl_ratio".*"same_top_p".*"throughput_ratio".*"ctx":32.*"expert_share":\{"0":\[.*"gen_tps".*"kernels".*"mean_nll".*"perplexity":706\.05.*"prompt_tps".*"resident_bytes".*"sparsity".*"tokens_scored":45.*"weight_bytes"' \
  "$cli" eval "$lm/mixtral" --data "$lm/mixtral/tokens.npy" --ctx 32 --gen-tokens 4 --json
check "lm eval int4" 0 'perplexity 6[0-9][0-9]\.[0-9]+ \+-' "$cli" eval "$lm/mixtral" --data "$lm/mixtral/tokens.npy" --ctx 32 --quant int4:g32
check "lm ctx above max positions" 1 'error: --ctx 4096 exceeds the model.s max_position_embeddings of 128' "$cli" eval "$lm/mixtral" --data "$lm/mixtral/tokens.npy" --ctx 4096
check "lm needs data" 2 'needs --data FILE.txt' "$cli" eval "$lm/mixtral"
mkdir "$tmp/arch" && cp "$lm/olmoe/model.safetensors" "$tmp/arch/" && sed 's/OlmoeForCausalLM/PhiMoEForCausalLM/' "$lm/olmoe/config.json" > "$tmp/arch/config.json"
check "lm unknown architecture" 1 "arch/config.json: field 'architectures' = PhiMoEForCausalLM is not supported" "$cli" info "$tmp/arch"
check "lm info" 0 'model.layers.0: attention 4 heads \(4 kv\) x 16; MoE 8 experts of 32, top-3' "$cli" info "$lm/olmoe"
check "lm generate, foreign tokenizer" 1 "tokenizer.model: the tokenizer's vocabulary has 4096 tokens but the model's embeddings have 256" \
  "$cli" generate "$lm/mixtral" --prompt x --tokenizer "$res/models/kjv-moe/tokenizer.model" -n 5
check "lm export" 0 'wrote .*lmq' "$cli" export "$lm/granitemoe" --prune magnitude:0.5 -o "$tmp/lmq"
check "lm export evaluates the same" 0 'perplexity 254\.5198' "$cli" eval "$tmp/lmq" --data "$lm/granitemoe/tokens.npy" --ctx 32 --gen-tokens 0
check "lm bad export writes nothing" 1 'not supported' "$cli" export "$tmp/arch" -o "$tmp/never"
[ -e "$tmp/never" ] && { echo "FAIL lm bad export left $tmp/never"; fail=1; }
check "lm sweep" 0 '\[2/2\] run 2 .*ppl 7[0-9][0-9]\.' "$cli" sweep "$lm/mixtral" --session "$tmp/lm.sparsescope" --data "$lm/mixtral/tokens.npy" --ctx 32 --quant none,int8 --gen-tokens 2
check "lm sweep resumes" 0 '2 already in' "$cli" sweep "$lm/mixtral" --session "$tmp/lm.sparsescope" --data "$lm/mixtral/tokens.npy" --ctx 32 --quant none,int8 --gen-tokens 2
check "lm session lists perplexity" 0 'quant int8 +ppl 7[0-9][0-9]\.[0-9]+ +x[01]\.' "$cli" sessions list "$tmp/lm.sparsescope"
check "lm session keeps the metrics" 0 '"task": "language_modeling"' "$cli" sessions show "$tmp/lm.sparsescope" 2 --json
check "lm session diff speaks perplexity" 0 'perplexity vs dense +x1\.0000 +x0\.99' "$cli" sessions diff "$tmp/lm.sparsescope" 1 2
check "lm model card" 0 '## Language modelling' "$cli" sessions card "$tmp/lm.sparsescope" 2
cp "$tmp/lm.sparsescope" "$tmp/purge.sparsescope"
check "purge with nothing deleted" 0 'purge: 0 deleted run\(s\) removed from .*purge.sparsescope; 2 runs remain' "$cli" sessions purge "$tmp/purge.sparsescope"
check "lm csv has perplexity" 0 ',language_modeling,mixtral,.*,none,int8,2,1,45,[0-9.]+,,,.*,7[0-9][0-9]\.[0-9]+,' "$cli" sessions export "$tmp/lm.sparsescope" --format csv
check "lm wanda needs calibration text" 2 'needs calibration text: give --calib FILE.txt or FILE.npy' "$cli" eval "$lm/mixtral" --data "$lm/mixtral/tokens.npy" --ctx 32 --prune wanda:0.5
check "lm drops the least-used experts" 0 'dropped model\.layers\.0\.block_sparse_moe\.[0-9] \(calibration share' \
  "$cli" eval "$lm/mixtral" --data "$lm/mixtral/tokens.npy" --ctx 32 --gen-tokens 0 --prune experts:1 --calib "$lm/mixtral/tokens.npy"
check "SPARSESCOPE_ISA forces the AVX2 path" 0 'integer dot avx2;' \
  env SPARSESCOPE_ISA=avx2 "$cli" eval "$lm/mixtral" --data "$lm/mixtral/tokens.npy" --ctx 32 --gen-tokens 0 --quant int4:g32
cp "$tmp/lm.sparsescope" "$tmp/damaged.sparsescope"
sqlite3_cmd="$(command -v sqlite3 || true)"
if [ -n "$sqlite3_cmd" ]; then
  "$sqlite3_cmd" "$tmp/damaged.sparsescope" "UPDATE runs SET plan_json = '{oops' WHERE id = 1"
  check "a damaged run is skipped, named" 0 'skipped a damaged run: .*run 1 plan_json' "$cli" sessions list "$tmp/damaged.sparsescope"
fi
nan_model="$(cd "$(dirname "$0")" && pwd)/data/nan-model.safetensors" # written by hand: head.weight[0] = NaN
check "NaN weights refused by name" 1 "nan-model.safetensors: tensor 'head.weight' element 0 is NaN; a model with NaN or infinite weights is refused" \
  "$cli" info "$nan_model"
check "--allow-nonfinite loads and says so" 0 "warning: .*nan-model.safetensors: tensor 'head.weight' element 0 is NaN; loaded because of --allow-nonfinite" \
  "$cli" info "$nan_model" --allow-nonfinite
tok="$(cd "$(dirname "$0")" && pwd)/data/tokenizers"
check "tokenize tokenizer.json" 0 '"count":4,"ids":\[8421,220,50256,8499\]' "$cli" tokenize "$tok/gpt2/tokenizer.json" --text 'Before <|endoftext|>after' --json
kjv="$res/models/kjv-moe"
check "lm text robustness" 0 '^  typos 5 % +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+' "$cli" eval "$kjv" --data "$kjv/kjv-heldout.txt" --ctx 64 --chunks 4 --prune magnitude:0.5 --robustness --typos 1,5
check "lm text robustness json" 0 '"text_robustness":\[\{"dense_ece":' "$cli" eval "$kjv" --data "$kjv/kjv-heldout.txt" --ctx 64 --chunks 4 --quant int8 --robustness --json
check "lm next-token ece" 0 '^calibration next-token ECE [0-9.]+ %, dense [0-9.]+ %' "$cli" eval "$kjv" --data "$kjv/kjv-heldout.txt" --ctx 64 --chunks 4 --quant int4:g32
check "lm flipped tokens" 0 '^flipped +[0-9]+ next tokens in the first 2 chunks: [0-9]+ lost' "$cli" eval "$kjv" --data "$kjv/kjv-heldout.txt" --ctx 64 --chunks 2 --prune magnitude:0.6 --flipped 3
check "lm bad typo rate" 2 "--typos: 'x' is not a rate in percent" "$cli" eval "$kjv" --data "$kjv/kjv-heldout.txt" --ctx 64 --chunks 4 --typos x
printf 'and the mountain of the house shall be established\n' > "$tmp/train.txt"
check "text leakage" 0 'shared windows +4 of 4 ' "$cli" data "$tmp/train.txt" --leakage "$tmp/train.txt" --ngram 6
check "text leakage json" 0 '"shared_windows": 0' "$cli" data "$kjv/kjv-heldout.txt" --leakage "$kjv/kjv-calib.txt" --json
check "tokenize a model directory" 0 'text +--text, 2 bytes -> 1 tokens' "$cli" tokenize "$res/models/kjv-moe" --text 'In'
check "tokenize needs text" 2 'needs --text TEXT or --file FILE' "$cli" tokenize "$tok/gpt2/tokenizer.json"

# Messages a newcomer reads: the misused command's usage only, every --prune form, whole lines.
out="$("$cli" eval "$model" --prune bogus 2>&1)"; rc=$?
if [ "$rc" -eq 2 ] && grep -q 'experts:K or experts:NAME' <<<"$out" && grep -q '^  sparsescope-cli eval MODEL' <<<"$out" \
   && ! grep -q 'sparsescope-cli train' <<<"$out" && grep -q '^COMPRESSION:' <<<"$out"; then echo "ok   usage of the misused command only"
else echo "FAIL usage of the misused command only (exit $rc):"; echo "$out" | head -12; fail=1; fi
check "--version" 0 '^SparseScope [0-9]+\.[0-9]+\.[0-9]+$' "$cli" --version
check "info keeps metadata on one line" 0 '^  config +\{"format":"sparsescope/classifier-v1",.*\.\.\. \([0-9]+ bytes; --json prints all\)$' "$cli" info "$model"
check "eval per-class columns named" 0 '^  class +accuracy +vs dense \(pt\) +samples +lost/gained +McNemar p \(Holm\)$' "$cli" eval "$model" --limit 200 --prune magnitude:0.5
check "sensitivity names the dense accuracy" 0 '^dense accuracy [0-9]+\.[0-9]{2}%: ' "$cli" sensitivity "$model" --limit 100 --prune magnitude-layer:0.5
check "a session given as a model says what it is" 1 "not a safetensors file: .*it looks like a SparseScope session" "$cli" info "$(cd "$(dirname "$0")" && pwd)/fixtures/session-v7.sparsescope"

# finetune: what it refuses before training, by rule.
check "finetune needs a compression" 2 'finetune needs a compression to recover from' "$cli" finetune "$model" -o "$tmp/ft"
check "finetune needs an output" 2 'finetune needs -o OUT .* or --session FILE' "$cli" finetune "$model" --prune magnitude:0.5
check "finetune gmp needs a sparsity" 2 '--schedule gmp needs --prune magnitude:S' "$cli" finetune "$model" --prune nm:2:4 --schedule gmp:0:1 -o "$tmp/ft"
check "finetune gmp past the end" 2 "--schedule 'gmp:0:9': END \(9\) is past the last epoch \(5\)" "$cli" finetune "$model" --prune magnitude:0.5 --schedule gmp:0:9 -o "$tmp/ft"
check "finetune needs a train split" 2 'finetune needs an IDX directory with a train split' "$cli" finetune "$model" --prune magnitude:0.5 --data "$tmp/d.csv" -o "$tmp/ft"
exit $fail
