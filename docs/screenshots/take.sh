#!/usr/bin/env bash
# The README's screenshots: a fresh `lms-assets demo` in a scratch folder, the UI on it, and
# headless Chromium (apt-get install chromium) on the pages a new user opens first.
#   bash docs/screenshots/take.sh        (from the repository root, after make demo once)
set -euo pipefail
set -m  # background jobs get their own process group: the trap stops the UI and its children
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
port=3333
trap 'kill -9 -- -$ui_pid 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
SECONDS=0
"$repo/.venv/bin/lms-assets" demo > demo.log
echo "demo: ${SECONDS}s; $(grep -E '^(Runs|Checks):' demo.log | tr '\n' ' ')"
"$repo/.venv/bin/lms-assets" ui --port 0 --ui-port "$port" > ui.log 2>&1 &
ui_pid=$!
until curl -sf -o /dev/null "http://127.0.0.1:$port/"; do
  kill -0 "$ui_pid" || { cat ui.log; exit 1; }
  sleep 1
done
shoot() {  # name path [height]
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --window-size=1440,"${3:-900}" --virtual-time-budget=30000 \
    --screenshot="$repo/docs/screenshots/$1.png" "http://127.0.0.1:$port/$2" 2>/dev/null
}
shoot catalog assets
shoot raw_data assets/raw_data 1200
shoot raw_data_events "assets/raw_data?view=events" 1200
shoot overview overview/activity/timeline
shoot jobs jobs
shoot automation automation
# raw_data's latest materialization with its chart, and one course report (a file, offline).
shoot raw_data_chart "assets/raw_data?view=events" 1500
# The dropout model's latest materialization: its evaluation tables and AUC chart.
shoot dropout_model "assets/dropout_model?view=events" 3600
report="$(find "$work/data/reports" -name '*.html' | sort | head -n 1)"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1440,2600 \
  --screenshot="$repo/docs/screenshots/course_report.png" "file://$report" 2>/dev/null
echo "screenshots in $repo/docs/screenshots/"
