#!/usr/bin/env bash
# What `make bench` needs beyond `make test`, installed only when missing: the servers the benchmarks
# compare against and the load tool. Not part of the normal install.
#   nginx-light      static tiles (python -m bench tiles, case e) and the deploy/nginx recipe (case f);
#                    the front of MapServer's FastCGI processes (python -m bench wms)
#   wrk              the HTTP load tool of the tiles and wms benchmarks
#   cgi-mapserver    MapServer 8 (mapserv, FastCGI-capable) and spawn-fcgi to keep its processes alive
#   qgis-server-*    QGIS Server 3.22 (qgis_mapserver, its WFS and WMS modules): python -m bench wfs
# The benchmarks start their own nginx on free 127.0.0.1 ports; the Debian nginx service is not used.
set -euo pipefail
packages=(nginx-light wrk cgi-mapserver mapserver-bin spawn-fcgi qgis-server-bin qgis-server-wfs qgis-server-wms)
. "$(dirname "$0")/apt-missing.sh"
mapfile -t missing < <(apt_missing "${packages[@]}")
apt_install "the benchmarks" "${missing[@]}"
