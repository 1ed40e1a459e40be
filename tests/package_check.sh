#!/usr/bin/env bash
# package_check.sh BUILD_DIR: builds the Debian package (cpack -G DEB) from this build, checks
# what it holds and declares, validates its desktop entry, AppStream metainfo and MIME type with
# the freedesktop tools, and runs the programs from the unpacked package: --version of both, one
# evaluation of the installed demo, and the window finding its installed data beside bin/.
# Exit 77 (skipped) without cpack, dpkg-deb or dpkg-shlibdeps.
set -u
build="$1"
for tool in cpack dpkg-deb dpkg-shlibdeps appstreamcli desktop-file-validate update-mime-database; do
  command -v "$tool" >/dev/null || { echo "skipped: $tool not installed (scripts/install-deps installs it)"; exit 77; }
done
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/cache" XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config"
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }

(cd "$build" && cpack -G DEB -B "$tmp/pkg" >"$tmp/cpack.log" 2>&1) || { cat "$tmp/cpack.log"; echo "FAIL cpack"; exit 1; }
deb="$(ls "$tmp"/pkg/sparsescope_*_amd64.deb 2>/dev/null | head -1)"
[ -n "$deb" ] && ok "package built: $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)" || { bad "no sparsescope_*.deb"; exit 1; }

dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$tmp/contents"
for f in /usr/bin/sparsescope /usr/bin/sparsescope-cli \
  /usr/share/applications/org.sparsescope.SparseScope.desktop \
  /usr/share/metainfo/org.sparsescope.SparseScope.metainfo.xml \
  /usr/share/mime/packages/org.sparsescope.SparseScope.xml \
  /usr/share/icons/hicolor/scalable/apps/org.sparsescope.SparseScope.svg \
  /usr/share/icons/hicolor/16x16/apps/org.sparsescope.SparseScope.png \
  /usr/share/icons/hicolor/48x48/apps/org.sparsescope.SparseScope.png \
  /usr/share/icons/hicolor/256x256/apps/org.sparsescope.SparseScope.png \
  /usr/share/man/man1/sparsescope.1.gz /usr/share/man/man1/sparsescope-cli.1.gz \
  /usr/share/doc/sparsescope/copyright /usr/share/doc/sparsescope/README.md \
  /usr/share/sparsescope/models/fashion-moe/model.safetensors /usr/share/sparsescope/models/kjv-moe/tokenizer.model; do
  grep -qx "$f" "$tmp/contents" || bad "package lacks $f"
done
[ "$fail" -eq 0 ] && ok "package holds the programs, desktop entry, metainfo, MIME type, icons, man pages, docs, demo models"
grep -q '^/usr/lib\|^/usr/include\|^/usr/local' "$tmp/contents" && bad "package installs libraries, headers or /usr/local files"

depends="$(dpkg-deb -f "$deb" Depends)"
for lib in libqt6widgets6 libqt6svg6 libopenblas0 libsqlite3-0 libonnx1 libqcustomplot2.1-qt6; do
  grep -q "$lib" <<<"$depends" || bad "Depends lacks $lib: $depends"
done
ok "Depends (dpkg-shlibdeps): $depends"

dpkg-deb -x "$deb" "$tmp/root"
r="$tmp/root"
appstreamcli validate --no-net "$r/usr/share/metainfo/org.sparsescope.SparseScope.metainfo.xml" >"$tmp/as.log" 2>&1 \
  && ok "appstreamcli validate" || { cat "$tmp/as.log"; bad "appstreamcli validate"; }
desktop-file-validate "$r/usr/share/applications/org.sparsescope.SparseScope.desktop" && ok "desktop-file-validate" || bad "desktop-file-validate"
grep -q '^MimeType=application/x-sparsescope-session;' "$r/usr/share/applications/org.sparsescope.SparseScope.desktop" || bad "desktop entry opens no sessions"
mkdir -p "$tmp/mime/packages" && cp "$r/usr/share/mime/packages/org.sparsescope.SparseScope.xml" "$tmp/mime/packages/"
update-mime-database "$tmp/mime" >/dev/null 2>&1 && grep -q 'application/x-sparsescope-session:\*\.sparsescope' "$tmp/mime/globs2" \
  && ok "MIME type: *.sparsescope -> application/x-sparsescope-session" || bad "MIME type not registered"
zcat "$r/usr/share/man/man1/sparsescope-cli.1.gz" | grep -q '^\.TH SPARSESCOPE-CLI 1' && ok "man pages" || bad "man page"

out="$("$r/usr/bin/sparsescope-cli" --version 2>&1)" && grep -q "^SparseScope [0-9]" <<<"$out" && ok "sparsescope-cli --version: $(head -1 <<<"$out")" || bad "sparsescope-cli --version: $out"
out="$(QT_QPA_PLATFORM=offscreen "$r/usr/bin/sparsescope" --version 2>&1)"
grep -q "^data: $r/usr/share/sparsescope$" <<<"$out" && ok "sparsescope --version finds its installed data" || bad "sparsescope --version: $out"
demo="$r/usr/share/sparsescope/models/kjv-moe"
out="$("$r/usr/bin/sparsescope-cli" eval "$demo" --data "$demo/kjv-heldout.txt" --ctx 128 --chunks 2 --gen-tokens 4 --quant int8 --threads 1 2>&1)"
grep -q "^perplexity [0-9]" <<<"$out" && ok "installed demo evaluates: $(grep '^perplexity' <<<"$out")" || { echo "$out" | head; bad "eval of the installed demo"; }
out="$(QT_QPA_PLATFORM=offscreen timeout 120 "$r/usr/bin/sparsescope" --print-opened 2>&1)"
grep -q "^model: $r/usr/share/sparsescope/models/fashion-moe$" <<<"$out" && ok "the window opens the installed demo by default" || { echo "$out" | head; bad "window default model"; }
exit $fail
