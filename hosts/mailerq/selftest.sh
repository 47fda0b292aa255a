#!/usr/bin/env bash
# Builds the reference MailerQ host and the test plugins in a temp dir, runs
# each scenario and checks exit status and key messages. Exits non-zero if
# any check fails. Needs cc, g++ and -ldl; python3 or node validates the JSON.
set -u

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/mq-selftest.XXXXXX")
trap 'rm -rf "$work"' EXIT
checks=0
failures=0

pass() { checks=$((checks + 1)); echo "ok   $*"; }
fail() {
    checks=$((checks + 1)); failures=$((failures + 1))
    echo "FAIL $*"
    if [ -f "$work/out" ]; then sed 's/^/     | /' "$work/out" | tail -n 5; fi
}

# ---- build --------------------------------------------------------------------

if ! cc -O2 -Wall -Wextra -Werror -rdynamic -o "$work/mq-ref-host" "$here/host.c" -ldl; then
    echo "FAIL host.c does not build with -Wall -Wextra -Werror"
    exit 1
fi
pass "host builds with -Wall -Wextra -Werror"

mkdir -p "$work/lib"
# plugin OUTPUT SOURCE [compiler flags]: C or C++ by extension, hidden visibility by default
plugin() {
    local out=$1 src=$2 compiler=cc
    shift 2
    case $src in *.cc) compiler="g++ -std=c++17" ;; esac
    $compiler -O2 -fPIC -shared -Wall -Wextra -Werror -I "$here" "$@" \
        -o "$work/lib/$out" "$here/test-plugins/$src" || { echo "FAIL cannot build $out"; exit 1; }
}
hidden=-fvisibility=hidden
plugin good.so good.c $hidden
plugin version7.so good.c $hidden -DMQ_API_VERSION=7
plugin async.so async.c $hidden
plugin never.so never.c $hidden
plugin crash.so crash.c $hidden
plugin exports.so exports.c # deliberately without -fvisibility=hidden
plugin misspelled.so misspelled.c $hidden
plugin thread.so thread.c $hidden -pthread
plugin thread-joined.so thread.c $hidden -pthread -DJOIN
plugin overload.so overload.cc $hidden
plugin bad.so bad.c $hidden
plugin rearm.so rearm.c $hidden
plugin nover.so nover.c $hidden
plugin undef.so undef.c $hidden
plugin cxx.so cxx.cc $hidden
plugin cxxstd.so cxx.cc $hidden -DWITH_STD_TEMPLATES
printf '{\n  global: mq_*;\n  local: *;\n};\n' >"$work/exports.map"
plugin cxxstd-map.so cxx.cc $hidden -DWITH_STD_TEMPLATES -Wl,--version-script="$work/exports.map"
pass "test plugins build"

# ---- helpers ------------------------------------------------------------------

# dir NAME FILE=PLUGIN...: a fresh plugin directory holding copies under new names
dir() {
    local d="$work/dirs/$1"
    shift
    rm -rf "$d" && mkdir -p "$d"
    for spec in "$@"; do cp "$work/lib/${spec#*=}" "$d/${spec%%=*}"; done
    echo "$d"
}

# run DIR [host options]: runs the host; sets $status and $elapsed_ms, output in $work/out and $work/err
run() {
    local d=$1 start
    shift
    start=$(date +%s%N)
    # the outer 2>/dev/null only mutes bash's own "Segmentation fault" notice
    { "$work/mq-ref-host" --plugin-dir "$d" --api-version 1 "$@" >"$work/out" 2>"$work/err"; status=$?; } 2>/dev/null
    elapsed_ms=$((($(date +%s%N) - start) / 1000000))
}

# check LABEL EXPECTED_STATUS [TEXT...]: status matches and stdout holds every TEXT
check() {
    local label=$1 want=$2 text
    shift 2
    if [ "$status" -ne "$want" ]; then fail "$label: exit $status, expected $want"; return; fi
    for text in "$@"; do
        if ! grep -qF -- "$text" "$work/out"; then fail "$label: stdout lacks: $text"; return; fi
    done
    pass "$label"
}

# step_ok NAME / step_failed NAME: a step line with that name and result exists
step_ok() { echo "{\"name\":\"$1\",\"ok\":true"; }
step_failed() { echo "{\"name\":\"$1\",\"ok\":false"; }

# Every stdout line must be a JSON object with exactly name/ok/ms/detail.
validate_json() {
    local label=$1
    if command -v python3 >/dev/null; then
        python3 - "$work/out" <<'EOF' || { fail "$label: stdout is not one JSON step per line"; return; }
import json, sys
for line in open(sys.argv[1], encoding="utf-8", errors="surrogateescape"):
    step = json.loads(line)
    assert sorted(step) == ["detail", "ms", "name", "ok"], step
    assert isinstance(step["name"], str) and isinstance(step["ok"], bool)
    assert isinstance(step["ms"], (int, float)) and isinstance(step["detail"], str)
EOF
    elif command -v node >/dev/null; then
        node -e '
for (const line of require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean)) {
  const s = JSON.parse(line);
  if (Object.keys(s).sort().join() !== "detail,ms,name,ok" || typeof s.ok !== "boolean") throw line;
}' "$work/out" || { fail "$label: stdout is not one JSON step per line"; return; }
    else
        echo "skip $label: no python3 or node to validate JSON"
        return
    fi
    pass "$label: every stdout line is a JSON step"
}

# ---- (a) two good plugins: load order and call order ---------------------------

d=$(dir a 20-b.so=good.so 10-a.so=good.so)
touch "$d/README.txt" && mkdir "$d/30-dir.so" # neither is a plugin
run "$d"
check "(a) two good plugins pass" 0 \
    '"detail":"'"$d"': 10-a.so, 20-b.so"}' \
    "$(step_ok "exports 10-a.so")" "$(step_ok "smtp out: sent")" "$(step_ok "mq_cleanup")" \
    'mq_smtp_in_connect: 10-a.so, 20-b.so;' \
    'mq_smtp_in_rcptto: 10-a.so, 20-b.so, 10-a.so, 20-b.so;' \
    'mq_smtp_in_message: 10-a.so, 20-b.so, 10-a.so, 20-b.so;' \
    '10-a.so: MQ_continue before returning true; 20-b.so: MQ_continue before returning true'
validate_json "(a)"
if grep -qF '[10-a.so] INFO sender@example.com' "$work/err"; then pass "(a) MQ_log goes to stderr as [plugin] LEVEL message"
else fail "(a) MQ_log line missing from stderr"; fi
if grep -qF 'good.c wrote this to stdout' "$work/err"; then pass "(a) plugin stdout is diverted to stderr"
else fail "(a) plugin stdout went missing"; fi

run "$d" --recipients 3
check "(a) --recipients 3 plays three RCPT TO and three messages" 0 \
    "$(step_ok "smtp in: rcptto rcpt3@example.org")" "$(step_ok "smtp in: message rcpt3@example.org")"

# ---- (b) API version mismatch -----------------------------------------------------

run "$(dir b 10-a.so=version7.so)"
check "(b) mq_version mismatch fails" 1 "$(step_failed "mq_version 10-a.so")" \
    '10-a.so: mq_version() returned 7, this MailerQ expects 1 (MQ_API_VERSION mismatch: MailerQ logs an error and exits)'

# ---- (c) control taken and never handed back --------------------------------------

run "$(dir c 10-a.so=good.so 20-b.so=never.so)"
check "(c) never handing back fails at the default 2000 ms" 1 "$(step_failed "smtp in: mailfrom")" \
    '20-b.so: mq_smtp_in_mailfrom returned true but never called MQ_continue, MQ_complete or MQ_retry within 2000 ms'
if [ "$elapsed_ms" -ge 2000 ] && [ "$elapsed_ms" -lt 4000 ]; then pass "(c) gave up after ${elapsed_ms} ms"
else fail "(c) took ${elapsed_ms} ms, expected 2000-4000"; fi
run "$(dir c 10-a.so=good.so 20-b.so=never.so)" --timeout-ms 300
check "(c) --timeout-ms 300" 1 'within 300 ms'

# ---- (d) control handed back later from the event loop ----------------------------

run "$(dir d 10-a.so=good.so 15-async.so=async.so 20-b.so=good.so)"
check "(d) hand-back from a timer and an io watch passes" 0 "$(step_ok "mq_cleanup")" \
    '15-async.so: MQ_continue after' \
    'mq_smtp_in_close: 10-a.so, 15-async.so;' \
    '15-async.so: MQ_complete before returning true, later plugins skipped' \
    'mq_smtp_out_data: 10-a.so, 15-async.so, 10-a.so, 15-async.so, 20-b.so;'
validate_json "(d)"

run "$(dir d 10-rearm.so=rearm.so)" --timeout-ms 300
check "(d) a timer re-arming forever only runs out the drain's clock" 0 \
    '"detail":"1 timer still pending after 300 ms"}' "$(step_ok "mq_cleanup")"

# ---- (e) crash inside plugin code ---------------------------------------------------

run "$(dir e 10-a.so=good.so 50-crash.so=crash.so)"
if [ "$status" -gt 128 ] && [ "$(kill -l $((status - 128)))" = SEGV ]; then pass "(e) host dies by SIGSEGV"
else fail "(e) exit $status, expected death by SIGSEGV"; fi
if tail -n 1 "$work/out" | grep -qF "$(step_ok "exports 50-crash.so")"; then
    pass "(e) last printed step is the one before mq_initialize"
else fail "(e) last line is not the exports step: $(tail -n 1 "$work/out")"; fi
# MailerQ calls mq_initialize right after loading a plugin, before loading the next.
order=$(grep -oE '"name":"(mq_initialize 10-a\.so|load 50-crash\.so)"' "$work/out" | tr '\n' ' ')
if [ "$order" = '"name":"mq_initialize 10-a.so" "name":"load 50-crash.so" ' ]; then
    pass "(e) 10-a.so is initialized before 50-crash.so is loaded"
else fail "(e) mq_initialize and load order: $order"; fi

# ---- (f) exports beyond mq_* -----------------------------------------------------------

run "$(dir f 50-exports.so=exports.so)"
check "(f) leaked exports fail" 1 "$(step_failed "exports 50-exports.so")" \
    '50-exports.so: exports beyond the mq_* entry points: counter, helper_fn (build with -fvisibility=hidden and MQ_EXPORT only the entry points)' \
    '; and 50-exports.so: mq_smtp_in_conect, mq_state are no MailerQ entry points (misspelled?), so MailerQ never calls them'

run "$(dir f 50-miss.so=misspelled.so)"
check "(f) a misspelled callback fails" 1 "$(step_failed "exports 50-miss.so")" \
    '"detail":"50-miss.so: mq_smtp_in_mailfrm is no MailerQ entry point (misspelled?), so MailerQ never calls it"}'

run "$(dir f 50-overload.so=overload.so)"
check "(f) a C++ overload outside extern \"C\" fails" 1 "$(step_failed "exports 50-overload.so")" \
    '_Z19mq_smtp_in_mailfromP10MQ_ContextP13MQ_ConnectionPK10MQ_Address' \
    'a mangled mq_* name is a C++ function outside extern \"C\" or with another signature'

# ---- (f) threads left running after mq_cleanup -----------------------------------------

run "$(dir f 50-thread.so=thread.so)"
check "(f) a thread left running after mq_cleanup fails" 1 "$(step_failed "threads after mq_cleanup")" \
    '1 thread a plugin started still running after mq_cleanup: MailerQ unloads plugins next, so stop and join them in mq_cleanup'

run "$(dir f 50-thread.so=thread-joined.so)"
check "(f) a thread joined in mq_cleanup passes" 0 \
    '"detail":"none left running"}' "$(step_ok "threads after mq_cleanup")"

# ---- (g) C++ plugins ----------------------------------------------------------------------

run "$(dir g 50-cxx.so=cxx.so)"
check "(g) C++ plugin with hidden visibility passes" 0 \
    '"detail":"exports: mq_smtp_in_mailfrom, mq_version"}' "$(step_ok "mq_cleanup")"
if grep -qF '[50-cxx.so] INFO hello sender@example.com' "$work/err"; then pass "(g) C++ plugin ran"
else fail "(g) C++ plugin did not log"; fi

run "$(dir g 50-cxx.so=cxxstd.so)"
check "(g) std:: template instantiations are flagged with the version-script fix" 1 \
    "$(step_failed "exports 50-cxx.so")" '_M_realloc_insert' '{ global: mq_*; local: *; };'

run "$(dir g 50-cxx.so=cxxstd-map.so)"
check "(g) the same plugin linked with a version script passes" 0 \
    '"detail":"exports: mq_smtp_in_mailfrom, mq_version"}'

# ---- (h) the stand-in header ---------------------------------------------------------------

printf '#include "mailerq.h"\nint main(void) { return MQ_API_VERSION - 1; }\n' >"$work/h.c"
cp "$work/h.c" "$work/h.cc"
if gcc -std=c11 -Wall -Wextra -Werror -pedantic -I "$here" -fsyntax-only "$work/h.c" &&
    g++ -std=c++17 -Wall -Wextra -Werror -I "$here" -fsyntax-only "$work/h.cc"; then
    pass "(h) mailerq.h compiles as C11 -pedantic and C++17"
else fail "(h) mailerq.h does not compile cleanly"; fi
for src in wrong-signature.c wrong-signature.cc; do
    case $src in *.cc) compiler="g++ -std=c++17" ;; *) compiler=cc ;; esac
    if $compiler -fPIC -shared -I "$here" -o "$work/ws.so" "$here/test-plugins/$src" 2>"$work/err"; then
        fail "(h) $src compiled despite a wrong entry-point signature"
    elif grep -q 'conflicting' "$work/err"; then pass "(h) $src is rejected by the compiler"
    else fail "(h) $src failed for another reason: $(head -n 1 "$work/err")"; fi
done

# ---- (i) control-protocol violations -------------------------------------------------------

d=$(dir i 10-a.so=good.so 20-bad.so=bad.so)
violation() { # MODE STEP MESSAGE
    MQ_BAD=$1 run "$d"
    check "(i) $1 is reported" 1 "$(step_failed "$2")" "$3"
}
violation garbage "smtp in: mailfrom" '20-bad.so: passed 0x1234 to MQ_continue, which is not a MQ_Connection* from MailerQ'
violation wrong-kind "smtp in: mailfrom" '20-bad.so: passed a MQ_Connection* to MQ_email, which takes a MQ_Address*'
violation twice "smtp in: mailfrom" '20-bad.so: called MQ_continue twice (control taken in mq_smtp_in_mailfrom)'
violation false-continue "smtp in: mailfrom" '20-bad.so: mq_smtp_in_mailfrom returned false but called MQ_continue'
violation complete-then-continue "smtp in: mailfrom" '20-bad.so: called MQ_continue after already calling MQ_complete'
violation block "smtp in: data" '20-bad.so: blocks: mq_smtp_in_data called usleep() on MailerQ'
violation nap "smtp in: data" '20-bad.so: blocks: mq_smtp_in_data called usleep() on MailerQ'"'"'s event loop; plugins must never block'
violation file "smtp in: data" '20-bad.so: blocks: mq_smtp_in_data called fopen() (file I/O) on MailerQ'"'"'s event loop'
violation system "smtp in: data" '20-bad.so: blocks: mq_smtp_in_data called system() (runs a command and waits for it)'
violation poll "smtp in: data" '20-bad.so: blocks: mq_smtp_in_data called poll() with a timeout'
violation dns "smtp in: data" '20-bad.so: blocks: mq_smtp_in_data called gethostbyname() (a DNS lookup)'
violation retry-loop "smtp out: data" '20-bad.so: called MQ_retry in smtp out: data 4 times in a row'
violation stale "event loop drain" '20-bad.so: passed a MQ_Connection* to MQ_connectionData after MailerQ released it'

# ---- (j) load failures and usage ------------------------------------------------------------

run "$(dir j 10-nover.so=nover.so)"
check "(j) missing mq_version fails" 1 "$(step_failed "load 10-nover.so")" 'no mq_version exported'
run "$(dir j 10-undef.so=undef.so)"
check "(j) an MQ_* function the host lacks fails to load" 1 "$(step_failed "load 10-undef.so")" \
    'undefined symbol: MQ_setAuthenticated'
run "$work/does-not-exist"
check "(j) missing plugin directory fails" 1 "$(step_failed "plugin directory")" 'No such file or directory'
run "$(dir j)"
check "(j) directory without plugins fails" 1 "$(step_failed "plugin directory")" 'no *.so files'
for args in "" "--plugin-dir $work" "--plugin-dir $work --api-version x" "--bogus 1" \
    "--plugin-dir $work --api-version 1 --recipients 0" "--plugin-dir $work --api-version 1 --timeout-ms"; do
    # shellcheck disable=SC2086 # word splitting intended
    "$work/mq-ref-host" $args >"$work/out" 2>"$work/err"
    status=$?
    check "(j) usage error exits 2: '${args}'" 2
done

# ---- (k) memory mistakes under ASan, UBSan and LeakSanitizer ------------------------------

san="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
if ! echo 'int main(void) { return 0; }' | cc $san -x c -o "$work/san-probe" - 2>/dev/null || ! "$work/san-probe"; then
    echo "skip (k): cc cannot build and run with $san (install libasan8 and libubsan1)"
else
    # shellcheck disable=SC2086 # word splitting intended
    cc -O1 -g $san -Wall -Wextra -Werror -rdynamic -o "$work/mq-ref-host-san" "$here/host.c" -ldl &&
        plugin memory-san.so memory.c $hidden -O1 -g $san &&
        plugin good-san.so good.c $hidden -O1 -g $san &&
        plugin bad-san.so bad.c $hidden -O1 -g $san &&
        pass "(k) host and plugins build with $san" || fail "(k) sanitized builds"
    san_run() { # DIR [host options]
        local d=$1
        shift
        { "$work/mq-ref-host-san" --plugin-dir "$d" --api-version 1 "$@" >"$work/out" 2>"$work/err"; status=$?; } 2>/dev/null
    }
    "$work/mq-ref-host-san" --leaks probe >"$work/out" 2>/dev/null
    status=$?
    check "(k) the leak probe finds its own leak" 0 "$(step_ok "leak probe")"
    san_run "$(dir k 10-a.so=good-san.so 20-b.so=good-san.so)"
    check "(k) two good plugins pass, and so does the host itself" 0 "$(step_ok "leaks")" 'LeakSanitizer found none'
    d=$(dir k 10-memory.so=memory-san.so)
    san_run "$d"
    check "(k) connection data freed on close, a global kept: no leak" 0 "$(step_ok "leaks")"
    MQ_MEM=leak-connection san_run "$d"
    check "(k) connection data never freed is a leak" 1 "$(step_failed "leaks")"
    grep -q 'in mq_smtp_in_connect .*memory.c' "$work/err" && pass "(k) the leak report names mq_smtp_in_connect" ||
        fail "(k) the leak report names mq_smtp_in_connect"
    MQ_MEM=leak-connection san_run "$d" --leaks skip
    check "(k) --leaks skip says so" 0 '"name":"leaks","ok":true,"status":"skipped"'
    for mistake in overflow:heap-buffer-overflow use-after-free:heap-use-after-free "ub:runtime error: signed integer overflow"; do
        MQ_MEM=${mistake%%:*} san_run "$d"
        if [ "$status" -ne 0 ] && ! grep -q "$(step_ok "smtp in: close")" "$work/out" && grep -qF "${mistake#*:}" "$work/err"; then
            pass "(k) ${mistake%%:*} stops the host where it happens"
        else
            fail "(k) ${mistake%%:*}: exit $status, stderr: $(grep -m1 -E 'ERROR|runtime error' "$work/err")"
        fi
    done
    d=$(dir k 10-a.so=good-san.so 20-bad.so=bad-san.so)
    MQ_BAD=nap san_run "$d"
    check "(k) the blocking-call checks work in the sanitized host too" 1 "$(step_failed "smtp in: data")" 'called usleep()'
fi

# ---- summary -----------------------------------------------------------------------------

if [ "$failures" -ne 0 ]; then
    echo "selftest: $failures of $checks checks FAILED"
    exit 1
fi
echo "selftest: all $checks checks passed"
