#!/usr/bin/env bash
# System packages the test-suite needs beyond Python: nothing yet besides a compiler
# for llama-cpp-python (present on the image). Browser and database tests add theirs here.
set -euo pipefail
need=()
command -v cmake >/dev/null || need+=(cmake)
command -v g++ >/dev/null || need+=(g++)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
