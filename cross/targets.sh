# shellcheck shell=bash
# The board targets and what building and running each needs on an x86_64 Debian machine.
# Sourced by cross/build.sh and cross/test.sh; source it yourself to get the same environment:
#
#   . cross/targets.sh && cross_env aarch64-unknown-linux-gnu && cargo build --release --target aarch64-unknown-linux-gnu -p tern-cli
#
# Linkers are set through CARGO_TARGET_<TRIPLE>_LINKER (and the C compiler for C dependencies such as
# ring through CC_<triple>/AR_<triple>) rather than a .cargo/config.toml, so a plain `cargo build` in
# the repository is never affected.

# triple  gnu-prefix (gcc/binutils and the /usr/<prefix> sysroot)  qemu-user binary
CROSS_TABLE="
aarch64-unknown-linux-gnu      aarch64-linux-gnu      qemu-aarch64
armv7-unknown-linux-gnueabihf  arm-linux-gnueabihf    qemu-arm
thumbv7neon-unknown-linux-gnueabihf arm-linux-gnueabihf qemu-arm
powerpc-unknown-linux-gnu      powerpc-linux-gnu      qemu-ppc
powerpc64le-unknown-linux-gnu  powerpc64le-linux-gnu  qemu-ppc64le
riscv64gc-unknown-linux-gnu    riscv64-linux-gnu      qemu-riscv64
"

# All known triples, one per line.
cross_triples() { awk 'NF {print $1}' <<<"$CROSS_TABLE"; }

# The GNU prefix of a triple (aarch64-linux-gnu), or failure for an unknown triple.
cross_prefix() { awk -v t="$1" '$1 == t {print $2; f=1} END {exit !f}' <<<"$CROSS_TABLE"; }

# The qemu-user binary for a triple (qemu-aarch64).
cross_qemu() { awk -v t="$1" '$1 == t {print $3; f=1} END {exit !f}' <<<"$CROSS_TABLE"; }

# The command that runs a target binary under qemu-user: qemu with the sysroot's dynamic loader named
# explicitly, not `qemu -L SYSROOT`. With -L, qemu maps the path "/" itself into the sysroot, so a
# file opened from "/" one component at a time (as tern's file: scheme does, to follow no link the
# policy did not see) is looked for inside /usr/<prefix> and is not found, which no board would do.
cross_runner() {
    local prefix loader
    prefix=$(cross_prefix "$1") || return 1
    loader=$(ls /usr/"$prefix"/lib/ld*.so* 2>/dev/null | head -n 1)
    [ -n "$loader" ] || { echo "no dynamic loader in /usr/$prefix/lib (install the cross gcc)" >&2; return 1; }
    echo "$(cross_qemu "$1") $loader --library-path /usr/$prefix/lib"
}

# cross_parse_args SCRIPT ARGS...: the options build.sh and test.sh share. Sets profile (release
# unless --profile NAME), full_only (--full-only or empty) and targets (the named triples, checked;
# all six when none is named); --help prints SCRIPT's header comment.
cross_parse_args() {
    local script=$1
    shift
    profile=release full_only= targets=()
    while (($#)); do
        case $1 in
            --profile) (($# > 1)) || { echo "--profile needs a name" >&2; exit 2; }; profile=$2; shift 2 ;;
            --profile=*) profile=${1#*=}; shift ;;
            --full-only) full_only=--full-only; shift ;;
            -h|--help) sed -n '2,15p' "$script" | sed 's/^# \{0,1\}//'; exit 0 ;;
            -*) echo "unknown option $1" >&2; exit 2 ;;
            *) targets+=("$1"); shift ;;
        esac
    done
    ((${#targets[@]})) || mapfile -t targets < <(cross_triples)
    cross_check_triples "${targets[@]}"
}

# Exits with a message unless every argument is a known triple.
cross_check_triples() {
    local t
    for t in "$@"; do
        if ! cross_prefix "$t" >/dev/null; then
            echo "unknown target $t; known targets:" >&2
            cross_triples | sed 's/^/  /' >&2
            exit 2
        fi
    done
}

# Exports the linker, C compiler and qemu runner for one triple.
cross_env() {
    local triple=$1 prefix upper lower
    prefix=$(cross_prefix "$triple")
    upper=$(tr 'a-z-' 'A-Z_' <<<"$triple")
    lower=${triple//-/_}
    export "CARGO_TARGET_${upper}_LINKER=${prefix}-gcc"
    # `cargo run/test --target …` then runs the binary under qemu-user through the target's dynamic
    # loader, as cross/test.sh does (cross_runner says why not `qemu -L`); no runner until the cross
    # gcc (which brings the loader) is installed.
    local runner
    if runner=$(cross_runner "$triple"); then
        export "CARGO_TARGET_${upper}_RUNNER=$runner"
    fi
    export "CC_${lower}=${prefix}-gcc" "AR_${lower}=${prefix}-ar"
}

# Exports the link flags of a board build for one triple (cross/build.sh uses them; they cut a
# minimal binary by about 0.3-0.4 MB). Not for `cargo test --target`: tests unwind, and this drops
# the unwind tables.
#   rust-lld      the linker rustc itself uses on x86_64 Linux, from the toolchain (no apt package);
#                 GNU ld 2.40 cannot pack relocations for arm, powerpc or riscv64, nor fold functions
#   -z pack-relative-relocs
#                 relative relocations as a compact bitmap (DT_RELR): 60-100 KB less; the binary then
#                 needs glibc >= 2.36 on the board (Debian 12, Ubuntu 22.10, Raspberry Pi OS 12).
#                 CROSS_RELR=0 leaves it out, for glibc 2.34/2.35 (Ubuntu 22.04)
#   --icf=all     folds identical functions (Rust marks every function unnamed_addr)
#   no-unwind-tables.ld
#                 discards the unwind tables: release builds abort on panic (see that file)
cross_release_flags() {
    local triple=$1 upper host gcc_ld script flags
    upper=$(tr 'a-z-' 'A-Z_' <<<"$triple")
    host=$(rustc -vV | sed -n 's/^host: //p')
    gcc_ld="$(rustc --print sysroot)/lib/rustlib/$host/bin/gcc-ld"
    script="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/no-unwind-tables.ld"
    if [ ! -x "$gcc_ld/ld.lld" ]; then
        echo "rust-lld is missing from the Rust toolchain ($gcc_ld/ld.lld)" >&2
        return 1
    fi
    case "$gcc_ld$script" in *" "*) echo "cross_release_flags: a path with a space cannot go into RUSTFLAGS: $gcc_ld $script" >&2; return 1 ;; esac
    flags="-C link-arg=-B$gcc_ld -C link-arg=-fuse-ld=lld -C link-arg=-Wl,--icf=all -C link-arg=-Wl,-T,$script"
    [ "${CROSS_RELR:-1}" = 0 ] || flags+=" -C link-arg=-Wl,-z,pack-relative-relocs"
    export "CARGO_TARGET_${upper}_RUSTFLAGS=$flags"
}

# Installs what building and running the given triples needs and is missing: rustup targets, Debian's
# cross gcc (which brings the target's libc), and qemu-user.
cross_install() {
    local triple prefix missing=() installed
    installed=$(rustup target list --installed)
    for triple in "$@"; do
        grep -qx "$triple" <<<"$installed" || rustup target add "$triple"
        prefix=$(cross_prefix "$triple")
        command -v "${prefix}-gcc" >/dev/null || missing+=("gcc-${prefix}" "libc6-dev-$(cross_libc_arch "$triple")-cross")
        command -v "$(cross_qemu "$triple")" >/dev/null || missing+=(qemu-user)
    done
    ((${#missing[@]} == 0)) || cross_apt_install $(printf '%s\n' "${missing[@]}" | sort -u)
}

# Installs Debian packages (as root, or through sudo), after refreshing the package lists.
cross_apt_install() {
    local apt=(apt-get)
    [ "$(id -u)" = 0 ] || apt=(sudo apt-get)
    echo "installing: $*"
    "${apt[@]}" update -qq
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "$@" >/dev/null
}

# Debian's architecture name in libc6-dev-<arch>-cross.
cross_libc_arch() {
    case $1 in
        aarch64-*) echo arm64 ;;
        armv7-* | thumbv7neon-*) echo armhf ;;
        powerpc-*) echo powerpc ;;
        powerpc64le-*) echo ppc64el ;;
        riscv64gc-*) echo riscv64 ;;
    esac
}
