#!/usr/bin/env bash
# Build the radplug CPU image (localhost/radplug:<version>) with podman on a machine without a registry.
#
#   scripts/build-image.sh              build if the sources changed, else reuse the image (quick)
#   scripts/build-image.sh --force      rebuild even when an image with the same content hash exists
#   scripts/build-image.sh --cuda       build the CUDA image instead (needs to pull nvidia/cuda: elsewhere)
#
# Steps: (1) a Debian bookworm root filesystem made with debootstrap and `podman import`ed as
# localhost/debian-base:bookworm (the FROM of containers/Dockerfile; base images cannot be pulled here);
# (2) `podman build --network host` of containers/Dockerfile from a minimal context (pyproject, README,
# radplug/, bin/, containers/) with a host wheelhouse mounted at /wheels, so torch and its CUDA
# libraries are downloaded once; (3) the image carries the label radplug.content-hash (sha256 of that
# context): when an image with the same label exists, nothing is built.
#
# Environment: RADPLUG_CACHE (default ~/.cache/radplug: wheelhouse, debootstrap tarball),
#              DEBIAN_MIRROR (default http://deb.debian.org/debian), RADPLUG_IMAGE (override the tag).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${RADPLUG_CACHE:-$HOME/.cache/radplug}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
BASE_IMAGE="localhost/debian-base:bookworm"
VERSION="$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$REPO/pyproject.toml" | head -1)"
FORCE=0; FLAVOUR=cpu
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --cuda) FLAVOUR=cuda ;;
    -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "build-image.sh: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$FLAVOUR" = cuda ]; then
  DOCKERFILE=containers/Dockerfile.cuda; IMAGE="${RADPLUG_IMAGE:-localhost/radplug-cuda:$VERSION}"
else
  DOCKERFILE=containers/Dockerfile; IMAGE="${RADPLUG_IMAGE:-localhost/radplug:$VERSION}"
fi

say() { printf '[build-image %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { printf '[build-image] ERROR: %s\n' "$*" >&2; exit 1; }
command -v podman >/dev/null || die "podman not found: run scripts/ci-services.sh or apt-get install podman"

# One build at a time (CI and a test may start this concurrently): later callers wait, then find it done.
mkdir -p "$CACHE"
exec 9>"$CACHE/build.lock"
flock 9

# --- minimal build context and its content hash -------------------------------------------------------
CTX="$(mktemp -d "${TMPDIR:-/tmp}/radplug-ctx.XXXXXX")"
trap 'rm -rf "$CTX"' EXIT
mkdir -p "$CTX/containers"
cp "$REPO/pyproject.toml" "$REPO/README.md" "$CTX/"
cp "$REPO/$DOCKERFILE" "$REPO/containers/requirements.txt" "$REPO/containers/requirements-radiomics.txt" "$CTX/containers/"
cp -r "$REPO/bin" "$CTX/bin"
(cd "$REPO" && find radplug -type f ! -name '*.pyc' ! -path '*/__pycache__/*' | LC_ALL=C sort | tar -cf - -T -) \
  | tar -C "$CTX" -xf -
HASH="$(cd "$CTX" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)"

if [ "$FORCE" = 0 ] && podman image exists "$IMAGE"; then
  have="$(podman image inspect "$IMAGE" --format '{{index .Labels "radplug.content-hash"}}')"
  if [ "$have" = "$HASH" ]; then
    say "$IMAGE is up to date (content hash $HASH): nothing to build"
    exit 0
  fi
  say "$IMAGE exists with content hash '$have'; sources now hash to $HASH: rebuilding"
fi

# --- base image ---------------------------------------------------------------------------------------
if [ "$FLAVOUR" = cpu ] && ! podman image exists "$BASE_IMAGE"; then
  command -v debootstrap >/dev/null || die "debootstrap not found: apt-get install debootstrap"
  [ "$(id -u)" = 0 ] || die "debootstrap needs root (run as root, or build elsewhere with --build-arg BASE=debian:bookworm-slim)"
  mkdir -p "$CACHE"
  tarball="$CACHE/debian-bookworm-minbase.tar"
  if [ ! -s "$tarball" ]; then
    rootfs="$(mktemp -d "${TMPDIR:-/tmp}/radplug-rootfs.XXXXXX")"
    say "debootstrap bookworm (minbase) from $MIRROR into $rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
      || die "debootstrap failed: see $CACHE/debootstrap.log"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" --numeric-owner -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
    rm -rf "$rootfs"
  fi
  say "importing $tarball as $BASE_IMAGE"
  podman import --change 'CMD ["/bin/bash"]' "$tarball" "$BASE_IMAGE" >/dev/null
fi

# --- image --------------------------------------------------------------------------------------------
mkdir -p "$CACHE/wheels"
say "building $IMAGE from $DOCKERFILE (content hash $HASH; wheelhouse $CACHE/wheels)"
start=$(date +%s)
ca=()    # the host's CA bundle, for pip behind a TLS-intercepting proxy (PIP_CERT or Debian's bundle)
host_ca="${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}"
[ -s "$host_ca" ] && ca=(-v "$host_ca:/run/radplug-ca.crt:ro" --build-arg PIP_CERT=/run/radplug-ca.crt)
podman build --network host \
  -v "$CACHE/wheels:/wheels:z" "${ca[@]}" \
  --build-arg "RADPLUG_VERSION=$VERSION" --label "radplug.content-hash=$HASH" \
  -f "$CTX/$DOCKERFILE" -t "$IMAGE" "$CTX"
got="$(podman image inspect "$IMAGE" --format '{{index .Labels "radplug.content-hash"}}')"
[ "$got" = "$HASH" ] || die "$IMAGE was built but its radplug.content-hash label is '$got', not $HASH"
size="$(podman image inspect "$IMAGE" --format '{{.Size}}')"
say "built $IMAGE in $(( $(date +%s) - start )) s; size $(( size / 1000000 )) MB"
