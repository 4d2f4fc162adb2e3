#!/usr/bin/env bash
# Smoke test of the built Linux bundle as a township laptop would run it: a clean environment
# (env -i) whose PATH holds no Python at all, a fresh home folder, no network needed.
# It creates the demo store, runs the data check, makes an encrypted store (`new`, `demo
# --encrypted`) and opens it with the right and a wrong password, prints the village notice when
# the bundle has the `print` command, makes a backup in the data folder and restores it.
# Usage: bash packaging/smoke_test.sh [BUNDLE_DIR]   (default packaging/dist/wq-desktop)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

BUNDLE="$(cd "${1:-packaging/dist/wq-desktop}" 2>/dev/null && pwd)" || {
  echo "smoke_test: FAILED: no bundle at ${1:-packaging/dist/wq-desktop}; run packaging/build_linux.sh first" >&2
  exit 1
}
BIN="$BUNDLE/wq-desktop"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

fail() { echo "smoke_test: FAILED: $*" >&2; exit 1; }
step() { echo "smoke_test: $*"; }

[ -x "$BIN" ] || fail "$BIN is missing or not executable"
command -v pdfinfo >/dev/null || fail "pdfinfo not found (apt-get install poppler-utils)"

# An empty bin folder as the whole PATH: no python, python3, pip… can be found by the program.
mkdir -p "$WORK/bin" "$WORK/home" "$WORK/tmp"
for py in python python3 python3.11; do
  if env -i PATH="$WORK/bin" /bin/sh -c "command -v $py" >/dev/null 2>&1; then
    fail "a $py is reachable on the test PATH"
  fi
done
DATA="$WORK/home/.local/share/wq-desktop"  # platformdirs' user data folder for this HOME

run() {
  env -i HOME="$WORK/home" PATH="$WORK/bin" TMPDIR="$WORK/tmp" LANG=C.UTF-8 \
    QT_QPA_PLATFORM=offscreen "$BIN" "$@"
}
PASSWORD="Smoke2026pass"
# The same, with a local account's password (what a user types at the prompt).
run_as() {
  local password="$1"; shift
  env -i HOME="$WORK/home" PATH="$WORK/bin" TMPDIR="$WORK/tmp" LANG=C.UTF-8 \
    QT_QPA_PLATFORM=offscreen WQ_PASSWORD="$password" "$BIN" "$@"
}
ID_RE='652399[0-9]{11}[0-9X]'


# Nothing may be written beside the executable: remember the bundle's state.
find "$BUNDLE" -type f -printf '%P %s %T@\n' | sort > "$WORK/bundle-before.txt"

# The libraries' data must be inside the bundle (pyproj's proj.db, GDAL data for pyogrio).
find "$BUNDLE" -name proj.db | grep -q . || fail "proj.db (pyproj data) is not in the bundle"
find "$BUNDLE" -path '*gdal_data*' -name 'gdalvrt.xsd' | grep -q . || fail "GDAL data (pyogrio) is not in the bundle"

step "--help lists the commands"
HELP="$(run --help 2>&1)" || fail "--help exited non-zero: $HELP"
for cmd in demo check backup restore; do
  grep -qE "^ +$cmd " <<<"$HELP" || fail "command '$cmd' missing from the bundle's --help (hidden import?)"
done

DB="$WORK/demo.sqlite"
step "demo: create the demo store"
run demo --db "$DB" || fail "demo did not create the store"
[ -s "$DB" ] || fail "demo exited 0 but $DB is missing"

step "check: run the data checks"
run check --db "$DB" > "$WORK/check.txt" 2>&1
rc=$?
tail -n 1 "$WORK/check.txt"
[ $rc -eq 0 ] || fail "check exited $rc on the demo store: $(tail -n 3 "$WORK/check.txt")"

step "new: an encrypted store with its first account, from the command line"
NEWDB="$WORK/wq.sqlite"
run_as "$PASSWORD" new --db "$NEWDB" --township 652301105 --name 六工镇 --user 张三 >"$WORK/new.txt" 2>&1 \
  || fail "new exited non-zero: $(tail -n 3 "$WORK/new.txt")"
grep -qE '([0-9A-Z]{4}-){5}[0-9A-Z]{4}' "$WORK/new.txt" || fail "new did not show the recovery code"
[ -s "$NEWDB.keys" ] || fail "new made no key file beside the store"
head -c 15 "$NEWDB" | grep -q "SQLite format" && fail "the new store is not encrypted"
run_as "$PASSWORD" check --db "$NEWDB" --user 张三 >/dev/null 2>&1 || fail "check cannot open the encrypted store"
if run_as "Wrong2026pass" check --db "$NEWDB" --user 张三 >/dev/null 2>&1; then
  fail "a wrong password opened the encrypted store"
fi

step "demo --encrypted: the demo township encrypted, no ID number in its bytes or its backup"
ENCDB="$WORK/enc/encdemo.sqlite"
mkdir -p "$WORK/enc"
run_as "$PASSWORD" demo --db "$ENCDB" --encrypted --user 张三 >/dev/null 2>&1 || fail "demo --encrypted failed"
grep -aqE "$ID_RE" "$ENCDB" && fail "an ID number can be read from the encrypted demo store"
run_as "$PASSWORD" check --db "$ENCDB" --user 张三 >/dev/null 2>&1 || fail "the encrypted demo does not pass check"
run_as "$PASSWORD" backup --db "$ENCDB" --user 张三 >/dev/null 2>&1 || fail "backup of the encrypted store failed"
ENCBACKUP="$(find "$DATA/backups" -name 'encdemo_*.sqlite' 2>/dev/null | head -n 1)"
[ -n "$ENCBACKUP" ] || fail "no backup of the encrypted store"
grep -aqE "$ID_RE" "$ENCBACKUP" && fail "an ID number can be read from the encrypted backup"
grep -aqE "$ID_RE" "$DB" || fail "the plain demo has no ID number to look for (the check above proves nothing)"

step "app: the window starts (offscreen) and keeps running"
timeout 20 env -i HOME="$WORK/home" PATH="$WORK/bin" TMPDIR="$WORK/tmp" LANG=C.UTF-8 \
  QT_QPA_PLATFORM=offscreen "$BIN" app --db "$DB" >"$WORK/app.txt" 2>&1
rc=$?
# 124: still running when timeout stopped it, which is what a window does.
[ $rc -eq 124 ] || fail "the window exited with $rc instead of running: $(tail -n 5 "$WORK/app.txt")"

if grep -qE '^ +print ' <<<"$HELP"; then
  # The demo calendar's year: this year from 21 November on, else last year (demo.demo_year).
  YEAR=$(date +%Y)
  [ "$((10#$(date +%m%d)))" -lt 1121 ] && YEAR=$((YEAR - 1))
  PDF="$WORK/notice.pdf"
  step "print notice: village 652301105901, year $YEAR"
  run print notice --db "$DB" --year "$YEAR" --village 652301105901 -o "$PDF" \
    || fail "print notice exited non-zero"
  INFO="$(pdfinfo "$PDF" 2>&1)" || fail "pdfinfo cannot read the notice: $INFO"
  PAGES=$(awk '/^Pages:/ {print $2}' <<<"$INFO")
  [ "${PAGES:-0}" -ge 1 ] || fail "the notice PDF has no pages"
  if command -v pdffonts >/dev/null; then
    pdffonts "$PDF" | tail -n +3 | awk '{print $(NF-4)}' | grep -qx no \
      && fail "the notice PDF has a font that is not embedded"
  fi
  step "notice PDF OK: $PAGES page(s)"
else
  step "SKIPPED print notice: the bundle has no 'print' command yet (wq_desktop/cli_print.py)"
fi

step "backup: copy into the user's data folder"
run backup --db "$DB" || fail "backup exited non-zero"
BACKUP="$(find "$DATA/backups" -name 'demo_*.sqlite' 2>/dev/null | head -n 1)"
[ -n "$BACKUP" ] || fail "no backup in $DATA/backups"

step "restore: refused without --yes on non-interactive stdin"
if run restore "$BACKUP" --db "$DB" </dev/null >"$WORK/restore.txt" 2>&1; then
  fail "restore without --yes and without a terminal did not refuse"
fi
grep -q -- "--yes" "$WORK/restore.txt" || fail "the refusal does not say how to confirm: $(cat "$WORK/restore.txt")"
step "restore --yes: current file kept aside"
run restore "$BACKUP" --db "$DB" --yes </dev/null || fail "restore --yes exited non-zero"
ls "$WORK"/demo.before-restore-*.sqlite >/dev/null 2>&1 || fail "the previous store was not kept aside"
run check --db "$DB" >/dev/null 2>&1 || fail "the restored store does not pass check"

step "logs: written in the data folder, no ID or phone numbers"
ls "$DATA"/logs/*.log >/dev/null 2>&1 || fail "no log file in $DATA/logs"
if grep -hnE '(^|[^0-9A-Za-z])([0-9]{17}[0-9Xx]|[0-9]{15}|1[3-9][0-9]{9})([^0-9A-Za-z]|$)' "$DATA"/logs/*.log; then
  fail "the log contains an ID or phone number (lines above)"
fi

find "$BUNDLE" -type f -printf '%P %s %T@\n' | sort > "$WORK/bundle-after.txt"
diff "$WORK/bundle-before.txt" "$WORK/bundle-after.txt" >/dev/null \
  || fail "the program wrote into its own folder: $(diff "$WORK/bundle-before.txt" "$WORK/bundle-after.txt" | head -n 5)"

echo "smoke_test: OK: demo, check, encrypted store (new, demo --encrypted, backup), window, $( [ -n "${PAGES:-}" ] && echo "notice PDF, " )backup and restore with no Python on PATH"
