#!/usr/bin/env bash
# gui_args.sh GUI RESOURCE_DIR FIXTURES: the window's command line as a desktop starts it, through
# the real binary. Under Xvfb (xvfb-run) when present, so Qt's X11 platform plugin - the one that
# takes "-session ID" for X session management - sees the arguments; offscreen otherwise.
set -u
gui="$1"; res="$2"; fixtures="$3"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
export XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache"
run=("$gui")
if command -v xvfb-run >/dev/null; then
  run=(xvfb-run -a -s "-screen 0 1280x900x24" "$gui"); unset QT_QPA_PLATFORM
  echo "platform: xcb under Xvfb"
else
  export QT_QPA_PLATFORM=offscreen
  echo "platform: offscreen (no xvfb-run)"
fi
cp "$fixtures/session-v7.sparsescope" "$tmp/runs.sparsescope"
cp "$fixtures/session-v7.sparsescope" "$tmp/renamed.safetensors" # a session by content, whatever its name
fail=0
check() { # name, expected exit code, regex on output, arguments...
  local name="$1" want="$2" re="$3"; shift 3
  local out rc
  out="$(timeout 120 "${run[@]}" "$@" 2>&1)"; rc=$?
  if [ "$rc" -ne "$want" ] || ! tr "\n" " " <<<"$out" | grep -qE -- "$re"; then
    echo "FAIL $name: exit $rc (want $want), output:"; echo "$out" | grep -v propagateSizeHints | head -8; fail=1
  else
    echo "ok   $name"
  fi
}
session_re="session: $tmp/runs.sparsescope \(2 runs\)"
check "--session FILE" 0 "$session_re" --session "$tmp/runs.sparsescope" --print-opened
check "-s FILE" 0 "$session_re" -s "$tmp/runs.sparsescope" --print-opened
check "--session=FILE" 0 "$session_re" "--session=$tmp/runs.sparsescope" --print-opened
check "FILE (what a file manager passes)" 0 "$session_re" "$tmp/runs.sparsescope" --print-opened
check "session renamed .safetensors" 0 "session: $tmp/renamed.safetensors \(2 runs\)" "$tmp/renamed.safetensors" --print-opened
check "model, text and session, by content" 0 "model: $res/models/kjv-moe.*data: $res/models/kjv-moe/kjv-heldout.txt.*session: $tmp/runs.sparsescope" \
  "$res/models/kjv-moe" "$res/models/kjv-moe/kjv-heldout.txt" "$tmp/runs.sparsescope" --print-opened
check "a device is refused by name" 1 "not opened: /dev/null: not a regular file" /dev/null --print-opened
check "--version" 0 "SparseScope [0-9]+\.[0-9]+\.[0-9]+.*OpenBLAS.*SQLite 3\..*Qt 6\." --version
exit $fail
