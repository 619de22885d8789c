#!/usr/bin/env bash
# Installs the Debian packages the project needs, only those that are missing.
set -euo pipefail
packages=(
  python3 python3-venv python3-dev build-essential
  postgresql-15 postgresql-15-postgis-3 postgresql-client-15
  gdal-bin libgdal-dev libgeos-dev libproj-dev
  redis-server
  # A real QGIS client for the WFS-T acceptance tests (driven headless from Debian's python3).
  python3-qgis qgis-providers
  # The map viewer's browser test: Debian's chromium driven by Playwright, and CJK fonts for zh-CN.
  chromium fonts-noto-cjk
)
. "$(dirname "$0")/apt-missing.sh"
mapfile -t missing < <(apt_missing "${packages[@]}")
# Front-end files come from npm at build time. A Node.js that ships its own npm (e.g. NodeSource's)
# conflicts with Debian's npm package: install Debian's only when there is no npm at all.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
[ ${#missing[@]} -eq 0 ] && exit 0
# The Debian postgresql package would create and start a system cluster on 5432; we run our own.
as_root mkdir -p /etc/postgresql-common
grep -qs '^create_main_cluster' /etc/postgresql-common/createcluster.conf \
  || echo 'create_main_cluster = false' | as_root tee -a /etc/postgresql-common/createcluster.conf >/dev/null
apt_install "the project" "${missing[@]}"
