#!/usr/bin/env bash
# Mutation testing of closte-core with cargo-mutants: each mutant (a deliberate bug, e.g. `>`
# turned into `>=`) is built and `cargo test -p closte-core` must fail on it. Only that crate's
# own tests count: the PHP and WordPress suites do not run here.
#
# Usage:
#   scripts/mutants.sh                 every mutant of the crate; writes target/mutants/summary.md
#                                      and fails when fewer than MUTANTS_FLOOR % (default 90) of
#                                      the viable mutants are caught
#   scripts/mutants.sh --in-diff REV   only the mutants on lines changed in closte-core since REV
#                                      (CI: the previous commit); fails when any is missed, so new
#                                      code comes with tests that catch its mutants
# Environment: MUTANTS_FLOOR (90), MUTANTS_JOBS (2), MUTANTS_OUT (target/mutants), PROPTEST_CASES.
#
# Mutants that no test can catch because the mutated program behaves the same (equivalent
# mutants) are excluded in .cargo/mutants.toml, each with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
# cargo from rustup; PATH is left as it is when it has it already (a changed PATH makes cargo
# rerun ext-php-rs's build script, which looks for php on it, and rebuild the extension).
case ":$PATH:" in *":$HOME/.cargo/bin:"*) ;; *) export PATH="$HOME/.cargo/bin:$PATH" ;; esac

CARGO_MUTANTS_VERSION=27.1.0
FLOOR=${MUTANTS_FLOOR:-90}
JOBS=${MUTANTS_JOBS:-2}
OUT=${MUTANTS_OUT:-target/mutants}

mode=full
base=
if [ "${1:-}" = --in-diff ]; then
  mode=diff
  base=${2:?"--in-diff needs a revision (e.g. HEAD~1)"}
fi

# The whole suite runs once per mutant (620 of them in a full run): the proptest properties run
# 256 cases each instead of 4,000. Random inputs find new bugs; a mutant is found by far fewer.
export PROPTEST_CASES=${PROPTEST_CASES:-256}

# The code under test is the tree as it is now (cargo-mutants copies it): name that commit, and
# say so when closte-core has uncommitted changes.
measured=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- crates/closte-core || measured="$measured + uncommitted changes to closte-core"

mkdir -p "$OUT"
args=(--package closte-core --jobs "$JOBS" --output "$OUT")
if [ "$mode" = diff ]; then
  if ! git rev-parse --verify --quiet "$base^{commit}" >/dev/null; then
    echo "mutants: no revision $base to compare with (first commit or a shallow clone); nothing to test"
    exit 0
  fi
  git diff "$base" -- crates/closte-core/src >"$OUT/diff.patch"
  if [ ! -s "$OUT/diff.patch" ]; then
    echo "mutants: closte-core's code is unchanged since $(git rev-parse --short "$base"); nothing to test"
    exit 0
  fi
  args+=(--in-diff "$OUT/diff.patch")
fi

if ! cargo mutants --version 2>/dev/null | grep -qx "cargo-mutants $CARGO_MUTANTS_VERSION"; then
  echo "installing cargo-mutants $CARGO_MUTANTS_VERSION"
  cargo install --locked --quiet cargo-mutants --version "$CARGO_MUTANTS_VERSION"
fi

# closte-core's simulator tests start the closte-sim binary. cargo-mutants builds in scratch
# copies of the tree, where target/<profile>/closte-sim does not exist: build it once here and
# name it, at a path no rebuild replaces while the mutants run.
cargo build --locked --quiet -p closte-sim
cp target/debug/closte-sim "$OUT/closte-sim"
export CLOSTE_SIM="$PWD/$OUT/closte-sim"

set +e
cargo mutants "${args[@]}"
status=$?
set -e
# 0: every mutant caught; 2: some missed; 3: some timed out (a mutant that hangs the tests is
# caught by the timeout). Anything else (1, 4: the unmutated tree fails) is an error as such.
case $status in
  0 | 2 | 3) ;;
  *) echo "cargo mutants failed (exit $status); see $OUT/mutants.out/debug.log" >&2; exit "$status" ;;
esac

count() { # lines of outcome file $1 (0 when cargo-mutants wrote none)
  local file="$OUT/mutants.out/$1.txt"
  if [ -f "$file" ]; then grep -c . "$file" || true; else echo 0; fi
}
caught=$(count caught)
timeout=$(count timeout)
missed=$(count missed)
unviable=$(count unviable)
viable=$((caught + timeout + missed))
if [ "$viable" -eq 0 ]; then
  echo "mutants: no viable mutant (unviable: $unviable)"
  exit 0
fi
score=$(((caught + timeout) * 1000 / viable))
score_text="$((score / 10)).$((score % 10)) %"

{
  echo "# cargo-mutants on closte-core ($mode run$([ "$mode" = diff ] && echo " since $base"))"
  echo
  echo "commit $measured, cargo-mutants $CARGO_MUTANTS_VERSION, \`cargo test -p closte-core\` only"
  echo
  echo "| caught | caught by timeout | missed | viable | score | unviable (do not build) |"
  echo "|---|---|---|---|---|---|"
  echo "| $caught | $timeout | $missed | $viable | $score_text | $unviable |"
  if [ "$missed" -gt 0 ]; then
    echo
    echo "Missed mutants:"
    echo
    sed 's/^/- /' "$OUT/mutants.out/missed.txt"
  fi
} >"$OUT/summary.md"
cat "$OUT/summary.md"

if [ "$mode" = diff ]; then
  if [ "$missed" -gt 0 ]; then
    echo "mutants: $missed mutant(s) in the changed lines survive the tests: add a test that catches each, or, when the mutant behaves exactly like the original, exclude it in .cargo/mutants.toml with the reason" >&2
    exit 1
  fi
elif [ "$score" -lt $((FLOOR * 10)) ]; then
  echo "mutants: $score_text caught, below the floor of $FLOOR %" >&2
  exit 1
fi
echo "mutants: $score_text of $viable viable mutants caught"
