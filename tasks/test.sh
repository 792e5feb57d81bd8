#!/bin/sh
# The one test command (as root; works non-interactively, e.g. CI=true with no stdin):
#   sh tasks/test.sh
# Installs what the tests need if missing, prepares rootfs/default, then runs `deno task test`.
set -eu
cd "$(dirname -- "$0")/.."
exec </dev/null # nothing here reads stdin; a closed or absent one must not matter
. ./tasks/install-deps.sh
husk_install_base
husk_install_test_tools
deno task -q rootfs
exec deno task test
