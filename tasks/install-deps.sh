# Shared install steps for tasks/setup.sh and tasks/test.sh (POSIX sh; meant to be sourced:
#   . tasks/install-deps.sh && husk_install_base [&& husk_install_test_tools]
# Sourcing has no side effects besides defining husk_* functions and adding the sbin dirs to PATH.
# Everything is idempotent: a step runs only when what it provides is missing. Needs root for apt-get/npm -g.

# runc, ip, chroot... live in sbin, which a non-login PATH may lack.
for _husk_dir in /usr/local/sbin /usr/sbin /sbin; do
  case ":$PATH:" in *":$_husk_dir:"*) ;; *) PATH="$PATH:$_husk_dir" ;; esac
done
unset _husk_dir
export PATH

HUSK_DENO_VERSION=2.9.6
_husk_apt_updated=

husk_log() { printf 'install-deps: %s\n' "$*" >&2; }
husk_die() { printf 'install-deps: error: %s\n' "$*" >&2; exit 1; }

_husk_need_root() {
  [ "$(id -u)" = 0 ] || husk_die "$1 needs root: rerun with sudo"
}

# husk_apt_install PKG...: apt-get install, running a quiet apt-get update once first.
husk_apt_install() {
  command -v apt-get >/dev/null 2>&1 || husk_die "apt-get not found; install these yourself: $*"
  _husk_need_root "installing $*"
  if [ -z "$_husk_apt_updated" ]; then
    husk_log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >/dev/null
    _husk_apt_updated=1
  fi
  husk_log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" </dev/null >/dev/null
}

# husk_deb_installed PKG: is the Debian package installed?
husk_deb_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q ' installed$'
}

# Deno (from the npm registry), Debian's busybox-static (for the offline rootfs), what bridge networking
# runs: iproute2 (ip) and iptables (iptables-restore, for NAT and published ports), and the libraries the
# image commands call through Deno.dlopen: libssl3 (libcrypto's sha256), libisal2 (ISA-L's gunzip) and libzstd1.
husk_install_base() {
  if ! command -v deno >/dev/null 2>&1; then
    command -v npm >/dev/null 2>&1 || husk_die "deno is missing and so is npm: install Node.js/npm first"
    _husk_need_root "installing deno with npm install -g"
    husk_log "npm install -g deno@$HUSK_DENO_VERSION"
    npm install -g --no-fund --no-audit --loglevel=error "deno@$HUSK_DENO_VERSION" </dev/null >&2
    if ! command -v deno >/dev/null 2>&1; then
      PATH="$(npm prefix -g)/bin:$PATH"
      export PATH
      command -v deno >/dev/null 2>&1 || husk_die "npm installed deno, but it is not on PATH"
    fi
  fi
  if command -v dpkg-query >/dev/null 2>&1; then
    _husk_missing=
    for _husk_pkg in busybox-static iproute2 iptables libssl3 libisal2 libzstd1; do
      husk_deb_installed "$_husk_pkg" || _husk_missing="$_husk_missing $_husk_pkg"
    done
    # shellcheck disable=SC2086 # word splitting of the package list is intended
    [ -z "$_husk_missing" ] || husk_apt_install $_husk_missing
    unset _husk_missing _husk_pkg
  elif ! command -v busybox >/dev/null 2>&1; then
    husk_die "no busybox: install a statically linked busybox (or set HUSK_BUSYBOX to one)"
  fi
}

# What the test suite uses besides the base: runc (reference runtime), hyperfine (benchmarks), script
# (terminal tests), qemu and cpio (the cgroup v2 VM), tini (--init), bash (the fork bomb),
# util-linux (unshare, nsenter, mount), and for the pull tests a registry on 127.0.0.1 (docker-registry)
# that skopeo fills.
husk_install_test_tools() {
  _husk_missing=
  for _husk_pair in runc:runc hyperfine:hyperfine unshare:util-linux nsenter:util-linux script:bsdutils \
    qemu-system-x86_64:qemu-system-x86 cpio:cpio tini-static:tini bash:bash \
    docker-registry:docker-registry skopeo:skopeo; do
    command -v "${_husk_pair%%:*}" >/dev/null 2>&1 || _husk_missing="$_husk_missing ${_husk_pair#*:}"
  done
  # shellcheck disable=SC2086 # word splitting of the package list is intended
  [ -z "$_husk_missing" ] || husk_apt_install $_husk_missing
  unset _husk_missing _husk_pair
}
