#!/usr/bin/env bash
# Install everything tdxsim's build needs (Debian bookworm, run as root).
#
# Idempotent: packages already present are left alone and `apt-get update`
# runs only when something has to be installed.
#
# Unicorn: bookworm ships 2.0.1, whose memory stores are ~40x slower than
# 2.1.1, so libunicorn2t64 + libunicorn-dev 2.1.1 are taken from Debian's
# trixie suite through a PRIVATE apt configuration kept in a cache dir
# (its own sources.list, lists and package cache). /etc/apt and the
# system's package lists are never modified; only the final
# `apt-get install ./x.deb ./y.deb` goes through the system's apt so that
# dependencies (just libc6 >= 2.34) are resolved normally.
#
# Usage: scripts/install-deps.sh [--cache-dir DIR]
#   Cache dir: --cache-dir DIR, else $TDXSIM_DEPS_CACHE, else build/deps/apt
#   (relative to the repo root).
#   $TDXSIM_DEBIAN_MIRROR overrides the mirror URI read from the system's
#   apt sources.
set -euo pipefail

die() { echo "install-deps: ERROR: $*" >&2; exit 1; }
log() { echo "install-deps: $*"; }

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
CACHE_DIR=${TDXSIM_DEPS_CACHE:-$REPO_ROOT/build/deps/apt}
while [ $# -gt 0 ]; do
    case "$1" in
        --cache-dir) [ $# -ge 2 ] || die "--cache-dir needs an argument"; CACHE_DIR=$2; shift 2 ;;
        --cache-dir=*) CACHE_DIR=${1#*=}; shift ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        *) die "unknown argument: $1 (usage: $0 [--cache-dir DIR])" ;;
    esac
done

[ "$(id -u)" -eq 0 ] || die "must run as root (apt-get install)"
mkdir -p "$CACHE_DIR" || die "cannot create cache dir $CACHE_DIR"
CACHE_DIR=$(cd "$CACHE_DIR" && pwd)   # absolute: apt-get install needs a path, not a name
command -v apt-get >/dev/null || die "apt-get not found: this script needs Debian"

export DEBIAN_FRONTEND=noninteractive
UNICORN_SUITE=trixie
UNICORN_VERSION_GLOB='2.1.1*'
UNICORN_MIN=2.1.0
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

# ---------------------------------------------------------------- bookworm
SYSTEM_PKGS=(cmake make gcc clang pkg-config libcmocka-dev libssl-dev zlib1g-dev
             libcapstone-dev xz-utils gnuplot-nox python3 jq ca-certificates
             g++ libsystemc-dev)

is_installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

missing=()
for p in "${SYSTEM_PKGS[@]}"; do
    # any gnuplot flavour (gnuplot-qt, gnuplot-x11, ...) is enough
    if [ "$p" = gnuplot-nox ] && command -v gnuplot >/dev/null; then continue; fi
    is_installed "$p" || missing+=("$p")
done

SYSTEM_UPDATED=0
system_update() {
    [ "$SYSTEM_UPDATED" -eq 1 ] && return 0
    log "apt-get update (system sources)"
    apt-get update -q || die "step 'apt-get update' (system sources) failed"
    SYSTEM_UPDATED=1
}

if [ ${#missing[@]} -gt 0 ]; then
    log "missing from bookworm: ${missing[*]}"
    system_update
    apt-get install -y -q --no-install-recommends "${missing[@]}" \
        || die "apt-get install of bookworm packages failed: ${missing[*]}"
else
    log "bookworm packages already installed"
fi

# ---------------------------------------------------------------- unicorn
unicorn_ok() {
    local v
    v=$(pkg-config --modversion unicorn 2>/dev/null) || return 1
    dpkg --compare-versions "$v" ge "$UNICORN_MIN"
}

# Mirror URI the system already uses for its main Debian suite.
system_mirror() {
    if [ -n "${TDXSIM_DEBIAN_MIRROR:-}" ]; then echo "$TDXSIM_DEBIAN_MIRROR"; return 0; fi
    local codename f uri
    # shellcheck source=/dev/null
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    # deb822 *.sources: a stanza whose Suites contain the bare codename
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        uri=$(awk -v cn="$codename" '
            function flush() { if (en && hasdeb && hassuite && uri != "") { print uri; found=1; exit } }
            /^[[:space:]]*$/ { flush(); uri=""; hasdeb=0; hassuite=0; en=1; next }
            /^[[:space:]]*#/ { next }
            /^Types:/   { hasdeb = ($0 ~ /[[:space:]]deb([[:space:]]|$)/) }
            /^Enabled:/ { en = ($2 !~ /^no$/) }
            /^URIs:/    { uri=$2 }
            /^Suites:/  { for (i = 2; i <= NF; i++) if ($i == cn) hassuite=1 }
            BEGIN { en=1 }
            END { if (!found) flush() }' "$f")
        if [ -n "$uri" ]; then echo "${uri%/}"; return 0; fi
    done
    # one-line style
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        uri=$(awk -v cn="$codename" '
            $1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                          if ($(i+1) == cn) { print $i; exit } }' "$f")
        if [ -n "$uri" ]; then echo "${uri%/}"; return 0; fi
    done
    return 1
}

# Private apt configuration for one suite under $CACHE_DIR/<suite>/.
PAPT=()
private_apt_setup() {
    local suite=$1 mirror d
    mirror=$(system_mirror) || die "could not find the Debian mirror URI in /etc/apt/sources.list{,.d/*.sources} (set TDXSIM_DEBIAN_MIRROR)"
    [ -r "$KEYRING" ] || die "keyring $KEYRING missing (install debian-archive-keyring)"
    d=$CACHE_DIR/$suite
    mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$CACHE_DIR/debs" \
        || die "cannot create private apt dirs under $d"
    printf 'deb [signed-by=%s] %s %s main\n' "$KEYRING" "$mirror" "$suite" >"$d/sources.list.new"
    if ! cmp -s "$d/sources.list.new" "$d/sources.list" 2>/dev/null; then
        mv "$d/sources.list.new" "$d/sources.list"
        rm -f "$d/lists/"*_Packages* "$d/lists/"*Release* 2>/dev/null || true
    else
        rm -f "$d/sources.list.new"
    fi
    PAPT=(-o "Dir::Etc::SourceList=$d/sources.list"
          -o "Dir::Etc::SourceParts=/dev/null"
          -o "Dir::State::Lists=$d/lists"
          -o "Dir::Cache=$d/cache"
          -o "Dir::Etc::Preferences=/dev/null"
          -o "Dir::Etc::PreferencesParts=/dev/null"
          -o "APT::Sandbox::User=root")
    PAPT_DIR=$d
}

private_apt_update() {
    local suite=$1 out
    log "apt-get update (private config, suite $suite, lists in $PAPT_DIR/lists)"
    if ! out=$(apt-get "${PAPT[@]}" update -q 2>&1); then
        echo "$out" >&2
        die "step 'apt-get update' for private suite $suite failed"
    fi
    if grep -qE 'NO_PUBKEY|not signed|is not signed|EXPKEYSIG|^W: GPG error|^E:' <<<"$out"; then
        echo "$out" >&2
        die "signature check of $suite with $KEYRING failed: the bookworm debian-archive-keyring cannot verify $suite; upgrade debian-archive-keyring"
    fi
}

# Newest available version of $1 matching glob $2 in the private suite.
private_version() {
    local pkg=$1 glob=$2 v best=""
    while read -r v; do
        # shellcheck disable=SC2053
        [[ $v == $glob ]] || continue
        if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then best=$v; fi
    done < <(apt-cache "${PAPT[@]}" madison "$pkg" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}')
    echo "$best"
}

# Download pkg=ver into $CACHE_DIR/debs unless a verified copy is there; prints the path.
private_download() {
    local pkg=$1 ver=$2 sha f
    sha=$(apt-cache "${PAPT[@]}" show "$pkg=$ver" 2>/dev/null | awk '/^SHA256:/ {print $2; exit}')
    [ -n "$sha" ] || die "no SHA256 for $pkg=$ver in private lists"
    for f in "$CACHE_DIR/debs/${pkg}_"*.deb; do
        [ -f "$f" ] || continue
        if [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$sha" ]; then
            log "cached: $f" >&2; echo "$f"; return 0
        fi
    done
    log "downloading $pkg=$ver" >&2
    (cd "$CACHE_DIR/debs" && apt-get "${PAPT[@]}" download -q "$pkg=$ver" >&2) \
        || die "step 'apt-get download $pkg=$ver' (suite $UNICORN_SUITE) failed"
    for f in "$CACHE_DIR/debs/${pkg}_"*.deb; do
        if [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$sha" ]; then echo "$f"; return 0; fi
    done
    die "downloaded $pkg=$ver but no .deb with sha256 $sha in $CACHE_DIR/debs"
}

lists_present() { compgen -G "$PAPT_DIR/lists/*_Packages*" >/dev/null; }

if unicorn_ok; then
    log "unicorn $(pkg-config --modversion unicorn) already installed (>= $UNICORN_MIN), skipping $UNICORN_SUITE fetch"
else
    log "unicorn >= $UNICORN_MIN not found (pkg-config: $(pkg-config --modversion unicorn 2>/dev/null || echo none)); fetching $UNICORN_VERSION_GLOB from $UNICORN_SUITE"
    private_apt_setup "$UNICORN_SUITE"
    lists_present || private_apt_update "$UNICORN_SUITE"
    uver=$(private_version libunicorn-dev "$UNICORN_VERSION_GLOB")
    if [ -z "$uver" ]; then
        private_apt_update "$UNICORN_SUITE"   # lists may be stale
        uver=$(private_version libunicorn-dev "$UNICORN_VERSION_GLOB")
    fi
    [ -n "$uver" ] || die "libunicorn-dev $UNICORN_VERSION_GLOB not available in $UNICORN_SUITE (apt-cache madison libunicorn-dev with the private config)"
    lver=$(private_version libunicorn2t64 "$uver")
    [ "$lver" = "$uver" ] || die "libunicorn2t64=$uver not available in $UNICORN_SUITE"
    deb_lib=$(private_download libunicorn2t64 "$uver")
    deb_dev=$(private_download libunicorn-dev "$uver")
    log "installing $deb_lib $deb_dev"
    apt-get install -y -q --no-install-recommends "$deb_lib" "$deb_dev" || {
        # a dependency missing from stale system lists: refresh once and retry
        system_update
        apt-get install -y -q --no-install-recommends "$deb_lib" "$deb_dev"
    } || die "apt-get install of libunicorn2t64/libunicorn-dev $uver failed"
    unicorn_ok || die "unicorn installed but pkg-config --modversion unicorn reports '$(pkg-config --modversion unicorn 2>/dev/null || echo none)' (< $UNICORN_MIN)"
fi

# ---------------------------------------------------------------- verify
fail=0
v_unicorn=$(pkg-config --modversion unicorn 2>/dev/null) || { echo "install-deps: ERROR: pkg-config cannot find unicorn" >&2; fail=1; }
unicorn_ok || { echo "install-deps: ERROR: unicorn ${v_unicorn:-none} < $UNICORN_MIN" >&2; fail=1; }
v_cmocka=$(pkg-config --modversion cmocka 2>/dev/null) || { echo "install-deps: ERROR: pkg-config cannot find cmocka (libcmocka-dev)" >&2; fail=1; }
v_crypto=$(pkg-config --modversion libcrypto 2>/dev/null) || { echo "install-deps: ERROR: pkg-config cannot find libcrypto (libssl-dev)" >&2; fail=1; }
v_capstone=$(pkg-config --modversion capstone 2>/dev/null) || { echo "install-deps: ERROR: pkg-config cannot find capstone (libcapstone-dev)" >&2; fail=1; }
v_systemc=$(pkg-config --modversion systemc 2>/dev/null) || { echo "install-deps: ERROR: pkg-config cannot find systemc (libsystemc-dev)" >&2; fail=1; }
printf '#include <stdarg.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <setjmp.h>\n#include <capstone/capstone.h>\n#include <unicorn/unicorn.h>\n#include <cmocka.h>\n#include <openssl/evp.h>\n' \
    | cc -fsyntax-only -x c - >/dev/null 2>&1 \
    || { echo "install-deps: ERROR: headers capstone/capstone.h, unicorn/unicorn.h, cmocka.h or openssl/evp.h not usable by cc" >&2; fail=1; }
command -v clang >/dev/null || { echo "install-deps: ERROR: clang missing" >&2; fail=1; }
command -v gnuplot >/dev/null || { echo "install-deps: ERROR: gnuplot missing" >&2; fail=1; }
[ "$fail" -eq 0 ] || die "verification failed"

echo "install-deps: OK unicorn=$v_unicorn cmocka=$v_cmocka libcrypto=$v_crypto capstone=$v_capstone systemc=$v_systemc" \
     "cmake=$(cmake --version | awk 'NR==1{print $3}') gcc=$(gcc -dumpfullversion) clang=$(clang -dumpversion)" \
     "gnuplot=$(gnuplot --version | awk '{print $2"."$4}')"
