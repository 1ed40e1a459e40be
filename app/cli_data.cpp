// cli_data.cpp - `sparsescope-cli data`.
#include "cli_args.h"
#include "cli_commands.h"

namespace cli {

int cmd_data(int, char**) { throw UsageError("data: not implemented yet"); }

} // namespace cli
