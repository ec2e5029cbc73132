#!/usr/bin/env bash
# Mutation testing (cargo-mutants) of the modules that carry the legal duty:
# does a test fail when their code is changed? Not part of CI: each mutant
# costs an incremental build and the test binaries that guard its module
# (about a minute on 2 cores), so the whole set takes hours (README
# "Development").
#
# Usage:
#   benches/mutants.sh [BASE]   the mutants in the lines of the duty modules
#                               changed since BASE (default HEAD~1), e.g.
#                               benches/mutants.sh origin/main
#   benches/mutants.sh --all    every duty module, one at a time, each with
#                               its own tests (hours)
#   LIST=1 benches/mutants.sh ...   only list the mutants (no build)
#
# BASE is compared with the working tree (`git diff BASE`), so uncommitted
# changes count too. Needs `cargo install cargo-mutants --locked`. Runs in
# place (it edits the source files while it runs and puts them back; do not
# edit them meanwhile, and do not start another cargo job in this tree).
# Results go to mutants/diff/mutants.out/ (--all: mutants/MODULE/mutants.out/;
# the folder is $MUTANTS_OUT, default mutants/), missed mutants listed in
# missed.txt there. Excluded mutants and their reasons: .cargo/mutants.toml.
#
# Exit status: 0 when every mutant was caught (or unviable); otherwise the
# status of cargo-mutants (2 = a mutant was missed, 3 = a timeout, 4 = the
# tests fail without any mutant, 5 = the diff does not match the tree).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${MUTANTS_OUT:-mutants}

# The duty modules and the test binaries that guard each (`lib`: the unit
# tests in the crate).
modules=(
    src/state.rs
    src/main.rs
    src/commands/mod.rs
    src/report/publish.rs
    src/report/breach_log.rs
    src/report/folder.rs
    src/planned.rs
    src/detect/mod.rs
)
tests_for() {
    case $1 in
        src/state.rs | src/main.rs | src/commands/mod.rs)
            echo "duty alerts claims report tools" ;;
        src/report/publish.rs)
            echo "alerts duty input_errors morning nightly report tools" ;;
        src/report/breach_log.rs)
            echo "report duty morning alerts" ;;
        src/report/folder.rs)
            echo "folder_safety nightly hostile_names tools" ;;
        src/planned.rs)
            echo "lib scan input_errors inputs duty" ;;
        src/detect/mod.rs)
            echo "lib scan invariants alerts" ;;
    esac
}
# Of src/detect/mod.rs only the transient/loss rule: `Engine::recovery`,
# `recovery_intervals` and the classification in `Engine::scan` (the rest
# of the engine is the statistics, guarded by the property tests). The
# classification is lines 865-889 (from `let rec = self.recovery(` on line 868 to
# the marking of the incident's samples); a check stops the script when they move.
detect_re='src/detect/mod\.rs:(86[5-9]|87[0-9]|88[0-9]):|::recovery'
if ! sed -n 868p src/detect/mod.rs | grep -q 'let rec = self.recovery(' ||
    ! sed -n 887p src/detect/mod.rs | grep -q 'self.last_ex.push'; then
    echo "src/detect/mod.rs moved: update the classification lines in $0" >&2
    exit 1
fi
# The same for a diff: every other duty module whole, the engine's rule only.
diff_re="^src/(state|main|commands/mod|report/publish|report/breach_log|report/folder|planned)\\.rs:|$detect_re"

# The test binaries as cargo arguments of both the build and the test run
# (`-C`), so a mutant builds only those, not all of tests/.
cargo_tests() { # NAME...
    local t
    for t in "$@"; do
        if [ "$t" = lib ]; then printf -- '-C --lib '; else printf -- '-C --test=%s ' "$t"; fi
    done
}

run() { # NAME ARGS...: cargo mutants into $out/NAME; its status
    local name=$1 rc=0
    shift
    if [ -n "${LIST:-}" ]; then
        cargo mutants --list "$@" || rc=$?
        return "$rc"
    fi
    mkdir -p "$out/$name"
    cargo mutants --in-place --timeout 240 --output "$out/$name" "$@" || rc=$?
    return "$rc"
}

if [ "${1:-}" = "--all" ]; then
    worst=0
    for f in src/state.rs src/report/publish.rs src/report/breach_log.rs \
        src/report/folder.rs src/planned.rs src/detect/mod.rs; do
        files=(--file "$f")
        # main.rs and commands/mod.rs (the exit codes) go with state.rs
        [ "$f" = src/state.rs ] && files+=(--file src/main.rs --file src/commands/mod.rs)
        re=()
        [ "$f" = src/detect/mod.rs ] && re=(--re "$detect_re")
        echo "== ${files[*]}" >&2
        rc=0
        # shellcheck disable=SC2046 # the test list is words
        run "$(basename "$f" .rs)" "${files[@]}" "${re[@]}" $(cargo_tests $(tests_for "$f")) || rc=$?
        [ "$rc" -gt "$worst" ] && worst=$rc
    done
    exit "$worst"
fi

base=${1:-HEAD~1}
diff=$(mktemp)
trap 'rm -f "$diff"' EXIT
git diff "$base" -- "${modules[@]}" >"$diff"
if [ ! -s "$diff" ]; then
    echo "no duty module changed since $base: nothing to mutate" >&2
    exit 0
fi
# The tests of every duty module the diff touches, each named once.
tests=()
for f in $(git diff --name-only "$base" -- "${modules[@]}"); do
    for t in $(tests_for "$f"); do
        case " ${tests[*]} " in *" $t "*) ;; *) tests+=("$t") ;; esac
    done
done
files=()
for f in "${modules[@]}"; do files+=(--file "$f"); done
echo "== mutants in the duty lines changed since $base; tests: ${tests[*]}" >&2
# shellcheck disable=SC2046 # the test list is words
run diff --in-diff "$diff" "${files[@]}" --re "$diff_re" $(cargo_tests "${tests[@]}")
