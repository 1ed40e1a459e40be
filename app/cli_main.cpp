// cli_main.cpp - sparsescope-cli: dispatch and error reporting. Errors go to stderr with exit
// code 1 (2 for usage errors); the engine's messages name the file, the field and the rule.
#include "kernels/blas_setup.h"
#include "cli_args.h"
#include "cli_commands.h"
#include "error.h"
#include "eval/machine_info.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

namespace cli {
const char* kUsage = R"(usage:
  sparsescope-cli eval MODEL [--data PATH [--labels FILE] [--label-column C]] [COMPRESSION]
                       [--limit N] [--threads N] [--json] [--cached-baseline]
                       [--input-scale F] [--input-mean F] [--input-std F]
                       [--robustness [--severities 1,3,5] [--corruptions NAME,...] [--robustness-samples N]]
                       [--ood glyphs|noise|PATH]   (out-of-distribution separation, both models)
                       [--slices FILE.csv:COLUMN] [--slice-labels NAME=L1,L2[;NAME=...]]
  sparsescope-cli eval LM_DIR --data TEXT.txt|TOKENS.npy [--tokenizer PATH] [--add-bos] [--ctx N]
                       [--chunks K] [--gen-tokens N] [COMPRESSION] [--threads N] [--json]
                       [--robustness] [--ood-text FILE] [--typos 1,5,10]   (other text: out of domain, with typos)
                       [--flipped N]   (next tokens one model predicted and the other did not)
  sparsescope-cli generate LM_DIR --prompt TEXT [-n N] [--temp T] [--top-p P] [--seed S]
                       [COMPRESSION] [--ctx N] [--threads N]
  sparsescope-cli tokenize LM_DIR|TOKENIZER (--text TEXT | --file FILE) [--add-bos] [--json]
  sparsescope-cli train --config CONFIG.json -o OUTDIR [--data DIR] [--epochs N] [--batch N]
                       [--lr F] [--aux F] [--weight-decay F] [--seed N] [--threads N]
  sparsescope-cli finetune MODEL COMPRESSION (-o OUT | --session FILE) [--epochs N] [--distill]
                       [--distill-temp T] [--distill-weight A] [--schedule gmp:START:END] [--data DIR]
                       [--lr F] [--batch N] [--aux F] [--seed N] [--threads N] [--test-limit N] [--tag T]
                       (recovers accuracy: mask held fixed, quantization-aware; docs/recovery.md)
  sparsescope-cli info MODEL [--json]
  sparsescope-cli export MODEL [COMPRESSION] -o OUT
  sparsescope-cli export LM_DIR [COMPRESSION] -o OUT.gguf [--quant f32|f16|bf16|q8_0|q4_0]
                       (for llama.cpp: int8 weights as Q8_0, int4 and below as Q4_0, values unchanged)
  sparsescope-cli sensitivity MODEL [--prune P] [--quant Q] [--data PATH] [--limit N] [--json]
  sparsescope-cli plan MODEL [COMPRESSION] [--json]     (the kernel each matrix runs with)
  sparsescope-cli data PATH [--labels FILE] [--label-column C] [--classes FILE] [--json]
                       [--card] [--duplicates] [--leakage TRAIN] [--pairs N] [--threads N]
  sparsescope-cli data TEXT.txt [--leakage TRAIN.txt] [--ngram 13] [--json]   (shared word n-grams)
  sparsescope-cli drift REFERENCE NEW MODEL [COMPRESSION] [--corrupt NAME:SEVERITY] [--limit N]
                       [--threads N] [--json]   (has NEW moved away from REFERENCE? inputs, predictions)
  sparsescope-cli sweep MODEL --session FILE [--data PATH] [--prune-method M,...] [--sparsity S,...]
                       [--quant Q,...] [--top-k K,...] [--shard I/N] [--limit N] [--threads N]
                       [--latency-samples N] [--tag T] [--robustness ...] [--ood glyphs|noise|PATH]
  sparsescope-cli sessions list FILE
  sparsescope-cli sessions show FILE [RUN] [--json]
  sparsescope-cli sessions diff FILE RUN_A RUN_B [--json]   (or FILE_A:RUN FILE_B:RUN)
  sparsescope-cli sessions export FILE [--format json|csv] [-o OUT]
  sparsescope-cli sessions merge OUT IN...
  sparsescope-cli sessions card FILE RUN [--model MODEL] [-o CARD.md]   (a model card, Markdown)
  sparsescope-cli sessions purge FILE   (removes the runs deleted in the window, for good)
  sparsescope-cli sessions exemplars FILE [RUN...] [--model MODEL] [--limit N] [--json]
                       (samples every run lost: default, every pruned run of the last sweep)
  sparsescope-cli --version

Every command that loads a model refuses NaN or infinite weights unless --allow-nonfinite.

COMPRESSION: [--plan plan.json] [--prune P] [--quant Q] [--top-k K]
             [--quant-experts-by-use HIGH,LOW] [--calib PATH] [--calib-samples N]
  P: none | magnitude:S[:block4] | magnitude-layer:S[:block4] | nm:N:M | neurons:S | wanda:S | experts:K | experts:moe.3,...
  Q: none | int8 | int8:gG | int4:gG | int3:gG | int2:gG [:asym] | fp16 | bf16     (G: 32, 64, 128)
  Plans needing calibration (wanda, experts:K, by use) take the train split of an IDX --data
  directory unless --calib is given; a language model needs --calib TEXT.txt|TOKENS.npy. docs/compression.md defines every method.

sweep runs every combination (M: magnitude, magnitude-layer, magnitude:block4, wanda, neurons,
nm:2:4, none), saving each run to the session as it finishes; a rerun skips grid points already
there, so an interrupted sweep resumes. --shard I/N runs points whose index % N == I (I from 0);
sessions merge joins the shards' sessions. sessions commands never modify their inputs, but purge.

MODEL is a directory (config.json + model.safetensors or a sharded model.safetensors.index.json)
or a single .safetensors file carrying its config in __metadata__. LM_DIR is a Hugging Face
decoder directory (Llama, Mixtral, Qwen2-MoE, OLMoE, GraniteMoE); its perplexity follows
llama.cpp (chunks of --ctx tokens, default 512; the second half of each chunk scored) and is
compared with the dense model (KL, same top token, delta p) and timed beside it (docs/language-models.md). export writes OUT as a
directory, or as one file when OUT ends in .safetensors.
A dataset PATH is an IDX directory or images file (MNIST, Fashion-MNIST, KMNIST, EMNIST; gzip
or raw), a .csv file (label column by name or 0-based index), or X.npy with y.npy.
data --card shows provenance (a dataset-card.json beside the data, a Debian copyright file or a
README); --duplicates finds exact and near-duplicate samples (dHash, then pixels) within PATH;
--leakage TRAIN finds PATH's samples that also occur in TRAIN (an IDX directory gives its train
split, so PATH and TRAIN may be the same directory); docs/data-governance.md.
--data defaults to the Fashion-MNIST test split in /usr/share/datasets/fashion-mnist
(train uses the train split of --data and reports test accuracy per epoch when it exists).
)";
} // namespace cli

using namespace cli;

namespace {
// kUsage's lines for one command ("  sparsescope-cli CMD ..." and their continuation lines), with
// the COMPRESSION block when they mention it; empty for an unknown command.
std::string command_usage(const std::string& cmd) {
    std::string out, line, compression;
    bool in_cmd = false, in_compression = false;
    for (const char *p = kUsage, *end = kUsage + std::strlen(kUsage); p < end;) {
        const char* nl = std::find(p, end, '\n');
        line.assign(p, nl);
        p = nl + 1;
        const std::string head = "  sparsescope-cli " + cmd;
        if (line.rfind("  sparsescope-cli ", 0) == 0) in_cmd = line.rfind(head + " ", 0) == 0 || line == head;
        else if (line.rfind("                ", 0) != 0) in_cmd = false;
        if (in_cmd) out += line + "\n";
        if (line.rfind("COMPRESSION:", 0) == 0) in_compression = true;
        else if (line.empty()) in_compression = false;
        if (in_compression) compression += line + "\n";
    }
    if (out.empty()) return {};
    out = "usage:\n" + out;
    if (out.find("COMPRESSION") != std::string::npos) out += "\n" + compression;
    return out + "\n`sparsescope-cli --help` lists every command.\n";
}
} // namespace

int main(int argc, char** argv) {
    ss::ensure_blas_core(argv);
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
        std::fputs(kUsage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const std::string cmd = argv[1];
    if (cmd == "--version" || cmd == "version") {
        std::fputs(ss::version_report().c_str(), stdout);
        return 0;
    }
    try {
        if (cmd == "eval") return cmd_eval(argc, argv);
        if (cmd == "generate") return cmd_generate(argc, argv);
        if (cmd == "tokenize") return cmd_tokenize(argc, argv);
        if (cmd == "train") return cmd_train(argc, argv);
        if (cmd == "finetune") return cmd_finetune(argc, argv);
        if (cmd == "info") return cmd_info(argc, argv);
        if (cmd == "export") return cmd_export(argc, argv);
        if (cmd == "data") return cmd_data(argc, argv);
        if (cmd == "drift") return cmd_drift(argc, argv);
        if (cmd == "sensitivity") return cmd_sensitivity(argc, argv);
        if (cmd == "plan") return cmd_plan(argc, argv);
        if (cmd == "sweep") return cmd_sweep(argc, argv);
        if (cmd == "sessions") return cmd_sessions(argc, argv);
        throw UsageError("unknown command '" + cmd + "'");
    } catch (const UsageError& e) {
        // The usage of the command that was misused, not of every command.
        const std::string usage = command_usage(cmd);
        std::fprintf(stderr, "sparsescope-cli: %s\n\n%s", e.what(), usage.empty() ? kUsage : usage.c_str());
        return 2;
    } catch (const ss::Error& e) {
        std::fprintf(stderr, "sparsescope-cli: error: %s\n", e.what());
        return 1;
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "sparsescope-cli: error: out of memory\n");
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sparsescope-cli: error: %s\n", e.what());
        return 1;
    }
}
