#!/usr/bin/env bash
# Fetch the handful of Linux host-side TDX files the conformance suite builds
# against tdxsim, from Debian's linux-source packages (GPL-2.0: never
# committed, always fetched at test time).
#
# Usage: scripts/fetch-linux-src.sh 6.12|7 DESTDIR [--cache-dir DIR]
#
#   6.12  linux-source-6.12 from the machine's own apt sources (bookworm-security)
#   7     the newest linux-source-7.* in trixie-backports, through a PRIVATE apt
#         configuration (own sources.list + lists + cache under the cache dir);
#         /etc/apt and the system's lists are never touched.
#
# Result: DESTDIR/linux-<upstream version>/ holding only the needed files at
# their kernel-relative paths, plus MANIFEST (package, version, sha256 of each
# file) and .stamp; DESTDIR/linux-6.12 or DESTDIR/linux-7 is a symlink to it.
# A matching .stamp (package + version + file-list hash) makes a rerun print
# "cached" and do nothing else.
#
# Both versions are fetched with `apt-get download` + extraction rather than
# `apt-get install linux-source-6.12`: installing would put ~150 MB into /usr/src
# and change the system's dpkg state for the sake of ~20 files; the .deb kept in
# the cache dir is reused by later runs, and both versions share one code path.
#
# Cache dir: --cache-dir DIR, else $TDXSIM_DEPS_CACHE, else build/deps/apt
# (relative to the repo root); .debs go to <cache>/debs. The private lists are
# refreshed when missing or older than $TDXSIM_APT_LISTS_TTL seconds (default
# 86400). $TDXSIM_DEBIAN_MIRROR overrides the mirror URI read from the system.
set -euo pipefail

die() { echo "fetch-linux-src: ERROR: $*" >&2; exit 1; }
log() { echo "fetch-linux-src: $*" >&2; }
usage() { echo "usage: $0 6.12|7 DESTDIR [--cache-dir DIR]" >&2; exit 2; }

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
CACHE_DIR=${TDXSIM_DEPS_CACHE:-$REPO_ROOT/build/deps/apt}
LISTS_TTL=${TDXSIM_APT_LISTS_TTL:-86400}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --cache-dir) [ $# -ge 2 ] || usage; CACHE_DIR=$2; shift 2 ;;
        --cache-dir=*) CACHE_DIR=${1#*=}; shift ;;
        -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
        -*) usage ;;
        *) args+=("$1"); shift ;;
    esac
done
[ ${#args[@]} -eq 2 ] || usage
KVER=${args[0]}
DESTDIR=${args[1]}
case "$KVER" in 6.12|7) ;; *) usage ;; esac

# -------------------------------------------------------------- file lists
# Kernel-relative paths. A leading '?' marks a file that may be absent.
FILES_COMMON=(
    arch/x86/virt/vmx/tdx/tdx.c
    arch/x86/virt/vmx/tdx/tdx.h
    arch/x86/include/asm/tdx.h
    arch/x86/include/asm/shared/tdx.h
    arch/x86/include/asm/trapnr.h
    arch/x86/include/asm/msr-index.h
    arch/x86/include/asm/intel-family.h
    arch/x86/include/uapi/asm/mce.h
    include/uapi/linux/const.h
    include/vdso/const.h
    include/linux/const.h
    include/linux/align.h
    include/linux/sizes.h
    include/linux/pfn.h
)
FILES_7=(
    arch/x86/virt/vmx/tdx/tdx_global_metadata.c
    arch/x86/virt/vmx/tdx/seamldr.c
    arch/x86/virt/vmx/tdx/seamcall_internal.h
    arch/x86/include/asm/tdx_global_metadata.h
    arch/x86/include/asm/shared/tdx_errno.h
    arch/x86/include/asm/seamldr.h          # included by seamldr.c, tdx-host.c
    arch/x86/include/asm/virt.h             # declares x86_virt_get_ref/put_ref (tdx.c includes it)
    '?arch/x86/virt/hw.c'                   # defines x86_virt_get_ref/put_ref
    '?drivers/virt/coco/tdx-host/tdx-host.c'
)
if [ "$KVER" = 6.12 ]; then
    FILES=("${FILES_COMMON[@]}")
else
    FILES=("${FILES_COMMON[@]}" "${FILES_7[@]}")
fi
FILES_HASH=$(printf '%s\n' "${FILES[@]}" | sha256sum | cut -d' ' -f1)

[ "$(id -u)" -eq 0 ] || die "must run as root (apt-get)"
mkdir -p "$CACHE_DIR/debs" "$DESTDIR" || die "cannot create $CACHE_DIR/debs or $DESTDIR"
CACHE_DIR=$(cd "$CACHE_DIR" && pwd)
DESTDIR=$(cd "$DESTDIR" && pwd)
export DEBIAN_FRONTEND=noninteractive

# -------------------------------------------------------------- apt helpers
# Mirror URI the system already uses for its main Debian suite.
system_mirror() {
    if [ -n "${TDXSIM_DEBIAN_MIRROR:-}" ]; then echo "$TDXSIM_DEBIAN_MIRROR"; return 0; fi
    local codename f uri
    # shellcheck source=/dev/null
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        uri=$(awk -v cn="$codename" '
            function flush() { if (en && hasdeb && hassuite && uri != "") { print uri; found=1; exit } }
            BEGIN { en=1 }
            /^[[:space:]]*$/ { flush(); uri=""; hasdeb=0; hassuite=0; en=1; next }
            /^[[:space:]]*#/ { next }
            /^Types:/   { hasdeb = ($0 ~ /[[:space:]]deb([[:space:]]|$)/) }
            /^Enabled:/ { en = ($2 !~ /^no$/) }
            /^URIs:/    { uri=$2 }
            /^Suites:/  { for (i = 2; i <= NF; i++) if ($i == cn) hassuite=1 }
            END { if (!found) flush() }' "$f")
        if [ -n "$uri" ]; then echo "${uri%/}"; return 0; fi
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        uri=$(awk -v cn="$codename" '
            $1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                          if ($(i+1) == cn) { print $i; exit } }' "$f")
        if [ -n "$uri" ]; then echo "${uri%/}"; return 0; fi
    done
    return 1
}

# APT: options for apt-get/apt-cache; empty = the system's own configuration.
APT=(-o "APT::Sandbox::User=root")
SUITE=system
private_apt_setup() {
    local suite=$1 mirror d
    mirror=$(system_mirror) || die "could not find the Debian mirror URI in /etc/apt/sources.list{,.d/*.sources} (set TDXSIM_DEBIAN_MIRROR)"
    [ -r "$KEYRING" ] || die "keyring $KEYRING missing (install debian-archive-keyring)"
    d=$CACHE_DIR/$suite
    mkdir -p "$d/lists/partial" "$d/cache/archives/partial" || die "cannot create private apt dirs under $d"
    printf 'deb [signed-by=%s] %s %s main\n' "$KEYRING" "$mirror" "$suite" >"$d/sources.list.new"
    if ! cmp -s "$d/sources.list.new" "$d/sources.list" 2>/dev/null; then
        mv "$d/sources.list.new" "$d/sources.list"
        rm -f "$d/lists/"*_Packages* "$d/lists/"*Release* 2>/dev/null || true
    else
        rm -f "$d/sources.list.new"
    fi
    APT=(-o "Dir::Etc::SourceList=$d/sources.list"
         -o "Dir::Etc::SourceParts=/dev/null"
         -o "Dir::State::Lists=$d/lists"
         -o "Dir::Cache=$d/cache"
         -o "Dir::Etc::Preferences=/dev/null"
         -o "Dir::Etc::PreferencesParts=/dev/null"
         -o "APT::Sandbox::User=root")
    SUITE=$suite
    PAPT_DIR=$d
}

apt_update() {
    local out
    if [ "$SUITE" = system ]; then
        log "apt-get update (system sources)"
        apt-get update -q >&2 || die "step 'apt-get update' (system sources) failed"
        return 0
    fi
    log "apt-get update (private config, suite $SUITE, lists in $PAPT_DIR/lists)"
    if ! out=$(apt-get "${APT[@]}" update -q 2>&1); then
        echo "$out" >&2
        die "step 'apt-get update' for private suite $SUITE failed"
    fi
    if grep -qE 'NO_PUBKEY|is not signed|EXPKEYSIG|^W: GPG error|^E:' <<<"$out"; then
        echo "$out" >&2
        die "signature check of $SUITE with $KEYRING failed; upgrade debian-archive-keyring"
    fi
}

private_lists_fresh() {
    local f
    f=$(compgen -G "$PAPT_DIR/lists/*_Packages*" | head -n1) || return 1
    [ -n "$f" ] && [ $(( $(date +%s) - $(stat -c %Y "$f") )) -lt "$LISTS_TTL" ]
}

candidate() {   # candidate version of $1, empty if none
    apt-cache "${APT[@]}" policy "$1" 2>/dev/null | awk '/^  Candidate:/ { if ($2 != "(none)") print $2; exit }'
}

# Sets PKG and VER.
select_package() {
    if [ "$KVER" = 6.12 ]; then
        PKG=linux-source-6.12
        VER=$(candidate "$PKG")
        if [ -z "$VER" ]; then apt_update; VER=$(candidate "$PKG"); fi
        [ -n "$VER" ] || die "no installable $PKG in the system's apt sources (expected from bookworm-security)"
        return 0
    fi
    private_apt_setup trixie-backports
    private_lists_fresh || apt_update
    local names n v
    PKG="" VER=""
    names=$(apt-cache "${APT[@]}" search --names-only '^linux-source-7\.[0-9]+$' 2>/dev/null | awk '{print $1}')
    [ -n "$names" ] || die "no linux-source-7.* package in trixie-backports (apt-cache search with the private config in $PAPT_DIR)"
    for n in $names; do
        v=$(candidate "$n")
        [ -n "$v" ] || continue
        if [ -z "$VER" ] || dpkg --compare-versions "$v" gt "$VER"; then PKG=$n VER=$v; fi
    done
    [ -n "$VER" ] || die "linux-source-7.* found ($names) but none has a candidate version"
    log "available in trixie-backports: $(for n in $names; do printf '%s=%s ' "$n" "$(candidate "$n")"; done)"
}

# Prints the path of the verified .deb for PKG=VER, downloading it if needed.
fetch_deb() {
    local sha f
    sha=$(apt-cache "${APT[@]}" show "$PKG=$VER" 2>/dev/null | awk '/^SHA256:/ {print $2; exit}')
    [ -n "$sha" ] || die "no SHA256 for $PKG=$VER in the apt lists ($SUITE)"
    for f in "$CACHE_DIR/debs/${PKG}_"*.deb; do
        [ -f "$f" ] || continue
        if [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$sha" ]; then
            log "using cached $f"; echo "$f"; return 0
        fi
    done
    log "downloading $PKG=$VER ($SUITE)"
    (cd "$CACHE_DIR/debs" && apt-get "${APT[@]}" download -q "$PKG=$VER" >&2) \
        || die "step 'apt-get download $PKG=$VER' ($SUITE) failed"
    for f in "$CACHE_DIR/debs/${PKG}_"*.deb; do
        if [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$sha" ]; then echo "$f"; return 0; fi
    done
    die "downloaded $PKG=$VER but no .deb with sha256 $sha in $CACHE_DIR/debs"
}

# -------------------------------------------------------------- main
select_package
UPSTREAM=${VER#*:}          # drop epoch
UPSTREAM=${UPSTREAM%-*}     # drop Debian revision: 7.3.4-1~bpo13+1 -> 7.3.4
VDIR=linux-$UPSTREAM
STABLE=linux-$KVER
[ "$VDIR" != "$STABLE" ] || VDIR=$VDIR.0   # keep the stable symlink name free
OUT=$DESTDIR/$VDIR
STAMP_CONTENT=$(printf 'package=%s\nversion=%s\nfiles=%s\n' "$PKG" "$VER" "$FILES_HASH")

link_stable() {
    if [ -e "$DESTDIR/$STABLE" ] && [ ! -L "$DESTDIR/$STABLE" ]; then
        die "$DESTDIR/$STABLE exists and is not a symlink; remove it"
    fi
    ln -sfn "$VDIR" "$DESTDIR/$STABLE" || die "cannot create symlink $DESTDIR/$STABLE"
}

if [ -f "$OUT/.stamp" ] && [ "$(cat "$OUT/.stamp")" = "$STAMP_CONTENT" ]; then
    link_stable
    echo "fetch-linux-src: cached: $PKG $VER -> $DESTDIR/$STABLE -> $VDIR"
    exit 0
fi

DEB=$(fetch_deb)
WORK=$(mktemp -d "$CACHE_DIR/extract.XXXXXX") || die "cannot create a temp dir in $CACHE_DIR"
trap 'rm -rf "$WORK"' EXIT

# 1. the kernel tarball out of the .deb (outer data.tar.xz: ~1 s)
log "extracting the source tarball from $(basename "$DEB")"
dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$WORK" --wildcards './usr/src/linux-source-*.tar.xz' \
    || die "cannot extract usr/src/linux-source-*.tar.xz from $DEB"
TARBALL=$(compgen -G "$WORK/usr/src/linux-source-*.tar.xz" | head -n1) || true
[ -n "$TARBALL" ] || die "$DEB holds no usr/src/linux-source-*.tar.xz"

# 2. the needed members, one pass over the xz stream. Members are prefixed by
#    linux-source-X.Y/; '*' must not match '/' (else tools/include/... would too).
members=()
for f in "${FILES[@]}"; do members+=("linux-source-*/${f#\?}"); done
log "extracting ${#members[@]} files from $(basename "$TARBALL")"
mkdir -p "$WORK/src"
set +e
tar -xJf "$TARBALL" -C "$WORK/src" --wildcards --no-wildcards-match-slash \
    --strip-components=1 "${members[@]}" 2>"$WORK/tar.err"
rc=$?
set -e
# rc 2 with only "Not found in archive" messages is judged per file below
if [ "$rc" -ne 0 ] && grep -v -e 'Not found in archive' -e 'Exiting with failure status' "$WORK/tar.err" | grep -q .; then
    cat "$WORK/tar.err" >&2
    die "tar -xJf $TARBALL failed (rc $rc)"
fi

missing_req=() missing_opt=() present=()
for f in "${FILES[@]}"; do
    p=${f#\?}
    if [ -f "$WORK/src/$p" ]; then present+=("$p")
    elif [ "$f" != "$p" ]; then missing_opt+=("$p")
    else missing_req+=("$p")
    fi
done
[ ${#missing_req[@]} -eq 0 ] || die "required files missing from $PKG $VER: ${missing_req[*]}"
for p in "${missing_opt[@]}"; do log "optional file absent in $PKG $VER: $p"; done

{
    echo "# package: $PKG"
    echo "# version: $VER"
    # fetch_deb checked the file against this SHA256 from the apt lists
    echo "# deb-sha256: $(apt-cache "${APT[@]}" show "$PKG=$VER" 2>/dev/null | awk '/^SHA256:/ {print $2; exit}')"
    echo "# absent-optional:${missing_opt[*]/#/ }"
    (cd "$WORK/src" && sha256sum "${present[@]}")
} >"$WORK/src/MANIFEST" || die "cannot write MANIFEST"
printf '%s\n' "$STAMP_CONTENT" >"$WORK/src/.stamp"

rm -rf "$OUT" || die "cannot remove old $OUT"
mv "$WORK/src" "$OUT" || die "cannot move extracted files to $OUT"
link_stable
echo "fetch-linux-src: $PKG $VER: ${#present[@]} files -> $DESTDIR/$STABLE -> $VDIR"
