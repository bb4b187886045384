#!/bin/sh
# Builds the base images of deploy/compose.yaml from Debian 12's packages, for a machine that cannot
# reach Docker Hub but can reach a Debian mirror (DEBIAN_MIRROR) and PyPI. Needs root for debootstrap
# (apt-get install debootstrap) and a running Docker engine.
#
#   sudo deploy/base-images/build.sh
#   set -a; . deploy/base-images/images.env; set +a     # or copy its lines into deploy/.env
#   docker compose -f deploy/compose.yaml up -d --build
#
# The images are named portal-base/*, so they never pass for the official ones. Behind a proxy that
# inspects TLS, the images trust the certificates (*.crt) in PORTAL_EXTRA_CA_DIR too (default
# /usr/local/share/ca-certificates, where Debian keeps the machine's own), so pip reaches PyPI.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

say() { printf '==> %s\n' "$*"; }

if ! docker info >/dev/null 2>&1; then
    echo "Docker antwoordt niet (docker info). Start de Docker-engine en probeer opnieuw." >&2
    exit 1
fi

root=
context=$(mktemp -d)
trap 'rm -rf "$context" ${root:+"$root"}' EXIT

if ! docker image inspect portal-base/debian-rootfs:bookworm >/dev/null 2>&1; then
    command -v debootstrap >/dev/null || {
        echo "debootstrap ontbreekt: apt-get install debootstrap" >&2; exit 1; }
    root=$(mktemp -d)
    say "Debian 12 (bookworm) met debootstrap van $mirror"
    debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null
    tar -C "$root" -c . | docker import - portal-base/debian-rootfs:bookworm >/dev/null
fi

cp "$here"/*.Dockerfile "$here"/*.sh "$context"/
mkdir "$context/ca"
for crt in "${PORTAL_EXTRA_CA_DIR:-/usr/local/share/ca-certificates}"/*.crt; do
    [ -f "$crt" ] && cp "$crt" "$context/ca/"
done

build() {  # name:tag dockerfile
    say "$1"
    docker build --quiet -t "$1" -f "$context/$2" "$context" >/dev/null
}
build portal-base/debian:bookworm debian.Dockerfile
build portal-base/python:3.11 python.Dockerfile
build portal-base/postgres:15 postgres.Dockerfile
build portal-base/redis:7 redis.Dockerfile
build portal-base/nginx:1.22 nginx.Dockerfile

say "Klaar. deploy/base-images/images.env noemt deze images voor deploy/compose.yaml"
