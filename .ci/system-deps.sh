#!/usr/bin/env bash
# System packages the test-suite needs beyond Python: a compiler for llama-cpp-python
# (present on the image) and Chromium for the HTML report's browser test
# (tests/test_report_browser.py drives /usr/bin/chromium through Playwright; so does
# tests/test_chat_page.py) and PostgreSQL's server binaries (tests/test_server_postgres.py
# starts a throwaway cluster with initdb/pg_ctl from /usr/lib/postgresql/*/bin).
set -euo pipefail
need=()
command -v cmake >/dev/null || need+=(cmake)
command -v g++ >/dev/null || need+=(g++)
[ -x /usr/bin/chromium ] || need+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
