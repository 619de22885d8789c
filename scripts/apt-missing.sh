# Sourced by the install scripts. `apt_missing PKG...` prints the packages not installed yet;
# `apt_install WHAT PKG...` installs them with apt-get; `as_root CMD...` runs a command as root
# (directly, or through sudo).
apt_missing() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  local what=$1; shift
  [ $# -eq 0 ] && return 0
  echo "Installing Debian packages for $what: $*"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q
  as_root apt-get install -y -q --no-install-recommends "$@"
}
