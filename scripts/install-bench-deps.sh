#!/usr/bin/env bash
# What `make bench` needs beyond `make test`, installed only when missing: the servers the benchmarks
# compare against and the load tool. Not part of the normal install.
#   nginx-light      static tiles (python -m bench tiles, case e) and the deploy/nginx recipe (case f);
#                    the front of MapServer's FastCGI processes (python -m bench wms)
#   wrk              the HTTP load tool of the tiles and wms benchmarks
#   cgi-mapserver    MapServer 8 (mapserv, FastCGI-capable) and spawn-fcgi to keep its processes alive
# The benchmarks start their own nginx on free 127.0.0.1 ports; the Debian nginx service is not used.
set -euo pipefail
packages=(nginx-light wrk cgi-mapserver mapserver-bin spawn-fcgi)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing Debian packages for the benchmarks: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
