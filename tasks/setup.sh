#!/bin/sh
# The one command for a fresh Debian machine that has only Node/npm and apt:
#   sudo sh tasks/setup.sh [husk run arguments...]     (default: /bin/sh)
# Installs Deno and the Debian packages husk needs if missing (install-deps.sh), prepares rootfs/default,
# then starts a container.
set -eu
cd "$(dirname -- "$0")/.."
. ./tasks/install-deps.sh
husk_install_base
deno task -q rootfs
[ "$#" -gt 0 ] || set -- /bin/sh
exec deno task run -- "$@"
