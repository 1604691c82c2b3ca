#!/usr/bin/env bash
# Installs the system packages the tests and the local stack run for real (Debian/Ubuntu), when missing.
set -euo pipefail
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# initdb/pg_ctl live outside PATH on Debian (/usr/lib/postgresql/<version>/bin); tests run their own cluster.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing system packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # Keep the packages from starting system-wide daemons (port 80, 5432, 6379): the project starts its own
  # instances on free loopback ports. policy-rc.d exit 101 = "action forbidden" for invoke-rc.d.
  blocker=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    blocker=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$blocker" >/dev/null && $SUDO chmod +x "$blocker"
  fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ -z "$blocker" ] || $SUDO rm -f "$blocker"
fi
