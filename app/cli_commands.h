// cli_commands.h - one function per sparsescope-cli command; each returns the exit code and
// throws cli::UsageError or ss::Error.
#pragma once

namespace cli {

extern const char* kUsage;

int cmd_eval(int argc, char** argv);
int cmd_generate(int argc, char** argv);
int cmd_tokenize(int argc, char** argv);
int cmd_train(int argc, char** argv);
int cmd_finetune(int argc, char** argv);
int cmd_info(int argc, char** argv);
int cmd_export(int argc, char** argv);
int cmd_data(int argc, char** argv);
int cmd_drift(int argc, char** argv);
int cmd_sensitivity(int argc, char** argv);
int cmd_plan(int argc, char** argv);
int cmd_sweep(int argc, char** argv);
int cmd_sessions(int argc, char** argv);

} // namespace cli
