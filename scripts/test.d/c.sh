#!/usr/bin/env bash
# C and C++ applications against libaxruntime (docs/c.md):
#   1. `zig build` installs libaxruntime.so (soname .so.1, link name .so), libaxr.so, the
#      headers and lib/pkgconfig/axruntime.pc; the examples and tests/c/bad_input.c build
#      with `zig cc`/`zig c++ $(pkg-config --cflags --libs axruntime)` and nothing else,
#      the headers are clean C99 and C++17 (-Wall -Wextra -Werror -pedantic);
#   2. tests/c/bad_input.c: bad input from C gives the documented codes and messages;
#   3. the C example and bad_input.c under valgrind: no invalid reads, no leaks (a library
#      built for a CPU valgrind knows, as scripts/test.d/fuzz.sh does).
# (The examples' output bytes against the TypeScript API: tests/c_examples.test.ts.)
# Last line: "c: N passed, M failed".
set -uo pipefail
source "$(cd "$(dirname "$0")/.." && pwd)/env.sh" || exit 1
cd "$AXR_ROOT"
passed=0; failed=0
tmp=$(mktemp -d -t axr-c-test.XXXXXX); trap 'rm -rf "$tmp"' EXIT
export AXR_EMU_STATE_DIR="$tmp/state"
tiny=tests/fixtures/tiny/model.json
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

# 1. install layout and pkg-config
if zig build -Doptimize=ReleaseSafe --prefix "$tmp/p" >"$tmp/build.log" 2>&1; then ok "zig build --prefix"; else bad "zig build"; cat "$tmp/build.log"; fi
lib="$tmp/p/lib"
if [ "$(readlink "$lib/libaxruntime.so")" = libaxruntime.so.1 ] && [ -f "$lib/libaxruntime.so.1" ] && [ -f "$lib/libaxr.so" ] &&
   readelf -d "$lib/libaxruntime.so.1" | grep -q 'SONAME.*\[libaxruntime\.so\.1\]' &&
   [ -f "$tmp/p/include/axruntime/axruntime.h" ] && [ -f "$tmp/p/include/axruntime/axruntime.hpp" ]; then
  ok "libaxruntime.so -> libaxruntime.so.1 (soname libaxruntime.so.1), libaxr.so, include/axruntime/*"
else bad "install layout"; ls -lR "$tmp/p"; fi
export PKG_CONFIG_PATH="$lib/pkgconfig"
flags=$(pkg-config --cflags --libs axruntime) && ok "pkg-config --cflags --libs axruntime: $flags" || bad "pkg-config axruntime"
strict=(-Wall -Wextra -Werror -pedantic)
build() { # out compiler std source
  local out=$1 cc=$2 std=$3 src=$4
  if zig "$cc" "$std" "${strict[@]}" -O1 -g "$src" $flags -o "$tmp/$out" 2>"$tmp/$out.err"; then ok "zig $cc $std $src \$(pkg-config ...)"
  else bad "zig $cc $std $src"; cat "$tmp/$out.err"; fi
}
build classify-c cc -std=c99 examples/c/classify.c
build classify-cpp c++ -std=c++17 examples/c/classify.cpp
build bad-input cc -std=c99 tests/c/bad_input.c
echo '#include <axruntime/axruntime.hpp>
int main() { auto c = axr::to_ptr(axr_create_context()); return axr_last_error(AXR_OBJECT(c.get())); }' >"$tmp/hpp.cpp"
build hpp c++ -std=c++17 "$tmp/hpp.cpp"

# 2. the programs, through the dynamic loader as an application finds the library
export LD_LIBRARY_PATH="$lib"
for p in classify-c classify-cpp; do
  if out=$("$tmp/$p" "$tiny" 2>&1) && echo "$out" | grep -qE '^best class: [0-9]+$'; then ok "$p runs: $(echo "$out" | tail -1)"
  else bad "$p"; echo "$out"; fi
done
[ "$("$tmp/classify-c" "$tiny" | tail -1)" = "$("$tmp/classify-cpp" "$tiny" | tail -1)" ] && ok "C and C++ agree" || bad "C and C++ disagree"
"$tmp/bad-input" "$tiny" >"$tmp/bad.out" 2>&1; st=$?
grep -E '^FAIL' "$tmp/bad.out"
line=$(grep -E '^c-api: [0-9]+ passed' "$tmp/bad.out")
echo "$line"
passed=$((passed + $(echo "$line" | grep -oE '[0-9]+ passed' | cut -d' ' -f1)))
failed=$((failed + $(echo "$line" | grep -oE '[0-9]+ failed' | cut -d' ' -f1)))
[ "$st" -eq 0 ] || [ -n "$line" ] || bad "bad_input exited $st without a summary"
unset LD_LIBRARY_PATH

# 3. valgrind
if command -v valgrind >/dev/null; then
  vg="$tmp/vg"
  if zig build -Doptimize=ReleaseSafe -Dcpu=x86_64_v3 --prefix "$vg" >"$tmp/vgbuild.log" 2>&1 &&
     zig cc -mcpu=x86_64_v3 -std=c99 -O1 -g examples/c/classify.c -I"$vg/include" -L"$vg/lib" -laxruntime -o "$tmp/vg-classify" &&
     zig cc -mcpu=x86_64_v3 -std=c99 -O1 -g tests/c/bad_input.c -I"$vg/include" -L"$vg/lib" -laxruntime -o "$tmp/vg-bad"; then
    for p in vg-classify vg-bad; do
      if LD_LIBRARY_PATH="$vg/lib" valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible \
          --errors-for-leak-kinds=definite,indirect,possible "$tmp/$p" "$tiny" >"$tmp/$p.out" 2>"$tmp/$p.err"; then
        ok "valgrind $p: no memory errors, no leaks"
      else bad "valgrind $p"; head -c 4000 "$tmp/$p.err"; tail -5 "$tmp/$p.out"; fi
    done
  else bad "valgrind build"; tail -20 "$tmp/vgbuild.log"; fi
else
  echo "valgrind missing: the valgrind runs were not done"
fi
echo "c: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
