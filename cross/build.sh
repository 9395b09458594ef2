#!/usr/bin/env bash
# Builds tern for ARM, PowerPC and RISC-V boards from an x86_64 Debian machine, and prints the sizes.
#
#   cross/build.sh                                         # all six targets, release profile
#   cross/build.sh aarch64-unknown-linux-gnu powerpc-unknown-linux-gnu
#   cross/build.sh --profile NAME ...                      # another Cargo profile
#   cross/build.sh --full-only aarch64-unknown-linux-gnu   # skip the minimal binary
#
# For each target, one target after another (each build uses every core), it builds two binaries:
#   full     .wat, WASI, network and `tern serve` (--features wat,wasi,net,cli-extras,serve): the handler
#            server without its control plane (no --data/--api-listen, SQLite or client verbs; see
#            the README's board section)
#   minimal  --no-default-features (runs .wasm modules only: no .wat, WASI or network)
# and leaves them in target/cross/<target>/<profile>/{tern,tern-minimal}. Both are linked with
# cross_release_flags (targets.sh): rust-lld, packed relocations (glibc >= 2.36 on the board;
# CROSS_RELR=0 for older), folded functions, no unwind tables (the profile must abort on panic).
# It installs what is missing first: rustup targets, Debian's cross gcc, qemu-user (see targets.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. cross/targets.sh

cross_parse_args "$0" "$@"
variants=(full minimal)
[ -z "$full_only" ] || variants=(full)
cross_install "${targets[@]}"

target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
sizes=()
for triple in "${targets[@]}"; do
    (
        cross_env "$triple"
        cross_release_flags "$triple"
        out="$target_dir/cross/$triple/$profile"
        mkdir -p "$out"
        for variant in "${variants[@]}"; do
            flags=(--no-default-features --features wat,wasi,net,cli-extras,serve)
            [ "$variant" = minimal ] && flags=(--no-default-features)
            echo "--- $triple $variant ($profile)"
            start=$SECONDS
            # The boards keep the interpreter optimised for size (wasmi and wasmi_core "s", the rest
            # "z"), as measured in the README; the x86_64 release builds it at 3 (Cargo.toml).
            cargo build --quiet -p tern-cli --bin tern --profile "$profile" --target "$triple" "${flags[@]}" \
                --config "profile.$profile.package.wasmi.opt-level=\"s\"" \
                --config "profile.$profile.package.wasmi_core.opt-level=\"s\"" \
                --config "profile.$profile.package.wasmi_ir.opt-level=\"z\"" \
                --config "profile.$profile.package.wasmi_collections.opt-level=\"z\""
            name=tern
            [ "$variant" = minimal ] && name=tern-minimal
            # Both variants build to the same path; keep each under its own name.
            cp "$target_dir/$triple/$profile/tern" "$out/$name"
            echo "    built in $((SECONDS - start))s: $out/$name"
        done
    )
    out="$target_dir/cross/$triple/$profile"
    minimal_size=-
    [ "${variants[*]}" = full ] || minimal_size=$(stat -c %s "$out/tern-minimal")
    sizes+=("$(printf '%-36s %10d %10s' "$triple" "$(stat -c %s "$out/tern")" "$minimal_size")")
done

echo
echo "sizes ($profile profile, bytes):"
printf '%-36s %10s %10s\n' target full minimal
printf '%s\n' "${sizes[@]}"
