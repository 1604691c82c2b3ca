#!/usr/bin/env bash
# Builds a minimal Node 22 base image without a registry: the Node binary from the npm `node` package (the one
# this repo's scripts run on), the shared libraries it links, npm, a POSIX shell and the system CA bundle,
# imported as one layer. For machines that cannot pull the official node:22 image; the Dockerfile takes either
# through its NODE_IMAGE build argument.
#   usage: tools/docker/node-base-image.sh [tag]      (DOCKER, DOCKER_HOST choose the client and the engine)
set -euo pipefail
cd "$(dirname "$0")/../.."
tag="${1:-dronedelivery/node-base:22}"
docker_cmd="${DOCKER:-docker}"
node_bin="node_modules/node/bin/node"
[ -x "$node_bin" ] || { echo "missing $node_bin: run npm ci first" >&2; exit 1; }
case "$("$node_bin" -v)" in v22.*) ;; *) echo "$node_bin is not Node 22" >&2; exit 1 ;; esac
npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
[ -f "$npm_dir/bin/npm-cli.js" ] || { echo "cannot find npm next to $(command -v npm)" >&2; exit 1; }

rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{usr/local/bin,usr/local/lib/node_modules,usr/bin,bin,etc/ssl/certs,tmp,home/node,root}
chmod 1777 "$rootfs/tmp"
cp "$node_bin" "$rootfs/usr/local/bin/node"
cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
for tool in npm npx; do
  printf '#!/bin/sh\nexec node /usr/local/lib/node_modules/npm/bin/%s-cli.js "$@"\n' "$tool" > "$rootfs/usr/local/bin/$tool"
  chmod 755 "$rootfs/usr/local/bin/$tool"
done
# npm runs lifecycle scripts through sh, and package bins start with #!/usr/bin/env node.
cp /bin/dash "$rootfs/bin/sh"
cp /usr/bin/env "$rootfs/usr/bin/env"
for binary in "$node_bin" /bin/dash /usr/bin/env; do
  ldd "$binary" | grep -oE '/[^ ]+\.so[^ ]*|/lib[^ ]*/ld-linux[^ ]*'
done | sort -u | while read -r lib; do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/"
printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\n' > "$rootfs/etc/group"
chown 1000:1000 "$rootfs/home/node"

tar -C "$rootfs" -c . | "$docker_cmd" import \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --change 'ENV NPM_CONFIG_CAFILE=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["node"]' \
  - "$tag" >/dev/null
echo "$tag"
