#!/usr/bin/env bash
# Installs the system packages the tests and the local stack run for real (Debian/Ubuntu), when missing.
#   --tests   also what only the test suite needs: a Docker engine (docker.io: dockerd, containerd, runc) for the
#             image build-and-run test, Debian's docker-compose to validate and run docker-compose.yml (its engine
#             gets a private network namespace: iproute2, iptables), wget for the locally made NGINX image's
#             healthcheck, unzip for helm, chromium (the load generator's HTML report opened headless) and
#             python3-locust (the Locust file run against the local stack), prometheus (promtool for the alert rules'
#             unit tests; the server for the system test that runs every dashboard query against the local stack).
# PROMETHEUS=1 (`PROMETHEUS=1 npm start`: a Prometheus beside the local stack) installs prometheus as well.
set -euo pipefail
missing=()
if [ "${1:-}" = "--tests" ]; then
  [ -x /usr/sbin/dockerd ] || command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
  command -v unzip >/dev/null 2>&1 || missing+=(unzip)
  command -v ip >/dev/null 2>&1 || missing+=(iproute2)
  command -v iptables >/dev/null 2>&1 || [ -x /usr/sbin/iptables ] || missing+=(iptables)
  command -v wget >/dev/null 2>&1 || missing+=(wget)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v locust >/dev/null 2>&1 || python3 -c 'import locust' >/dev/null 2>&1 || missing+=(python3-locust)
fi
if [ "${1:-}" = "--tests" ] || [ "${PROMETHEUS:-}" = "1" ]; then
  command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
fi
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# initdb/pg_ctl live outside PATH on Debian (/usr/lib/postgresql/<version>/bin); tests run their own cluster.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing system packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # Keep the packages from starting system-wide daemons (port 80, 5432, 6379, 9090, dockerd): the project starts its own
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
