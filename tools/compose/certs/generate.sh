#!/usr/bin/env bash
# Regenerates the development-only TLS certificate of the compose Cosmos DB emulator (host name `cosmos`):
# cosmos.pem (certificate, which the package service trusts through COSMOS_TLS_CA_PATH), cosmos.key and
# cosmos.pfx (the same pair for the vNext emulator's CERT_PATH, password = CERT_SECRET in docker-compose.yml).
# Self-signed, valid ten years, for throwaway local containers only: it protects nothing and is no secret.
#   usage: tools/compose/certs/generate.sh
set -euo pipefail
cd "$(dirname "$0")"
secret="${COSMOS_CERT_SECRET:-dronedelivery-dev-only}"
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj '/CN=cosmos' \
  -addext 'subjectAltName=DNS:cosmos,DNS:localhost,IP:127.0.0.1' \
  -addext 'basicConstraints=critical,CA:TRUE' \
  -addext 'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign' \
  -addext 'extendedKeyUsage=serverAuth' \
  -keyout cosmos.key -out cosmos.pem 2>/dev/null
openssl pkcs12 -export -in cosmos.pem -inkey cosmos.key -name cosmos -passout "pass:$secret" -out cosmos.pfx
# Read by the emulator containers whatever user they run as.
chmod 644 cosmos.pem cosmos.key cosmos.pfx
openssl x509 -in cosmos.pem -noout -subject -enddate -ext subjectAltName
