#!/usr/bin/env bash
# Builds the store images of docker-compose.yml (Redis, NGINX) and of its local override (PostgreSQL) without a
# registry, from this machine's Debian packages: each binary with the shared libraries it links, the data files it
# needs, users matching the official images' uids, imported as one layer and tagged with the name the compose files
# use, so `docker-compose up` finds them locally and runs the compose file as written. For machines that cannot pull
# (tests/deploy/docker.test.ts); elsewhere compose pulls the official images. Needs redis-server, nginx, postgresql
# and wget installed (tools/ensure-system-deps.sh --tests).
#   usage: tools/compose/store-images.sh          (DOCKER, DOCKER_HOST choose the client and the engine)
#   tags:  REDIS_IMAGE, NGINX_IMAGE, POSTGRES_IMAGE (defaults: the names the compose files use)
set -euo pipefail
cd "$(dirname "$0")/../.."
docker_cmd="${DOCKER:-docker}"
redis_image="${REDIS_IMAGE:-redis:7.4.11-alpine}"
nginx_image="${NGINX_IMAGE:-nginxinc/nginx-unprivileged:1.27.4-alpine}"
postgres_image="${POSTGRES_IMAGE:-dronedelivery/compose-postgres:local}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# new_root <name>: an empty root filesystem with /tmp and the shell that entrypoints and healthchecks use.
new_root() {
  local root="$work/$1"
  mkdir -p "$root"/{bin,usr/bin,usr/local/bin,etc,tmp}
  chmod 1777 "$root/tmp"
  add_binary "$root" /bin/dash /bin/sh
  echo "$root"
}

# add_binary <root> <path> [<path in image>]: the file (symlinks resolved) and every shared library it links.
add_binary() {
  local root="$1" source="$2" target="${3:-$2}"
  mkdir -p "$root$(dirname "$target")"
  cp -L "$source" "$root$target"
  { ldd "$source" 2>/dev/null || true; } | { grep -oE '/[^ ]+\.so[^ ]*|/lib[^ ]*/ld-linux[^ ]*' || true; } | sort -u | while read -r lib; do
    [ -e "$root$lib" ] && continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

# import_image <root> <tag> <stop signal> <--change ...>: one layer, numeric owners (the uids below, whatever this
# host calls them). `docker import` cannot set STOPSIGNAL: a one-line build on top does.
import_image() {
  local root="$1" tag="$2" signal="$3"
  shift 3
  tar --numeric-owner -C "$root" -c . | "$docker_cmd" import "$@" - "$tag" >/dev/null
  printf 'FROM %s\nSTOPSIGNAL %s\n' "$tag" "$signal" | "$docker_cmd" build -q -t "$tag" - >/dev/null
  echo "$tag"
}

# Redis: redis-server and redis-cli, uid 999 like the official image, /data its working directory (a new named
# volume takes this ownership). The official image turns protected mode off (it listens for other containers);
# the entrypoint does the same, before the compose file's own arguments so they still win.
redis_version="$(redis-server --version | grep -oE 'v=[0-9.]+' | cut -d= -f2)"
root="$(new_root redis)"
add_binary "$root" "$(command -v redis-server)" /usr/bin/redis-server
add_binary "$root" "$(command -v redis-cli)" /usr/bin/redis-cli
mkdir -p "$root/data"
chown 999:999 "$root/data"
printf 'root:x:0:0:root:/root:/bin/sh\nredis:x:999:999:redis:/data:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\nredis:x:999:\n' > "$root/etc/group"
cat > "$root/usr/local/bin/docker-entrypoint.sh" <<'SCRIPT'
#!/bin/sh
if [ "$1" = redis-server ]; then shift; set -- redis-server --protected-mode no "$@"; fi
exec "$@"
SCRIPT
chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"
import_image "$root" "$redis_image" SIGTERM \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' --change 'WORKDIR /data' --change 'EXPOSE 6379' \
  --change "LABEL org.opencontainers.image.description=\"redis-server $redis_version from Debian, made locally\"" \
  --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' --change 'CMD ["redis-server"]'

# NGINX: the Debian binary (no dynamic modules needed by the compose configuration) and wget for the healthcheck,
# uid 101 like nginx-unprivileged; its compiled-in error log goes to the container log.
nginx_version="$(/usr/sbin/nginx -v 2>&1 | grep -oE '[0-9]+\.[0-9.]+')"
root="$(new_root nginx)"
add_binary "$root" /usr/sbin/nginx
add_binary "$root" "$(command -v wget)" /usr/bin/wget
mkdir -p "$root/etc/nginx" "$root/var/log/nginx" "$root/var/lib/nginx"
ln -s /dev/stderr "$root/var/log/nginx/error.log"
ln -s /dev/stdout "$root/var/log/nginx/access.log"
printf 'root:x:0:0:root:/root:/bin/sh\nnginx:x:101:101:nginx:/nonexistent:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\nnginx:x:101:\n' > "$root/etc/group"
import_image "$root" "$nginx_image" SIGQUIT \
  --change 'ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/bin' --change 'EXPOSE 8080' --change 'USER 101:101' \
  --change "LABEL org.opencontainers.image.description=\"nginx $nginx_version from Debian, made locally\"" \
  --change 'CMD ["nginx", "-g", "daemon off;"]'

# PostgreSQL (the override's stand-in for SQL Server): server, initdb, psql and pg_isready with their libraries,
# catalog files and time zones; uid 999. Like the official image: initdb on first start with POSTGRES_PASSWORD for
# the postgres superuser (SCRAM over TCP from anywhere), then postgres in the foreground.
pg_bin="$(dirname "$(compgen -G '/usr/lib/postgresql/*/bin/postgres' | sort -V | tail -1)")"
[ -x "$pg_bin/postgres" ] || { echo "PostgreSQL not installed (apt-get install postgresql)" >&2; exit 1; }
pg_lib="$("$pg_bin/pg_config" --pkglibdir)"
pg_share="$("$pg_bin/pg_config" --sharedir)"
root="$(new_root postgres)"
for tool in postgres initdb psql pg_isready; do add_binary "$root" "$pg_bin/$tool"; done
for module in "$pg_lib"/*.so; do
  case "$(basename "$module")" in llvmjit*) continue ;; esac
  add_binary "$root" "$module"
done
mkdir -p "$root$pg_share" "$root/usr/share"
cp -a "$pg_share/." "$root$pg_share/"
rm -rf "$root$pg_share/man" "$root$pg_share/contrib"
cp -a /usr/share/zoneinfo "$root/usr/share/zoneinfo"
mkdir -p "$root/var/lib/postgresql/data"
chown 999:999 "$root/var/lib/postgresql" "$root/var/lib/postgresql/data"
chmod 700 "$root/var/lib/postgresql/data"
printf 'root:x:0:0:root:/root:/bin/sh\npostgres:x:999:999:postgres:/var/lib/postgresql:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\npostgres:x:999:\n' > "$root/etc/group"
cat > "$root/usr/local/bin/docker-entrypoint.sh" <<'SCRIPT'
#!/bin/sh
set -eu
if [ "${1:-}" = postgres ]; then
  : "${PGDATA:?}" "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    printf '%s\n' "$POSTGRES_PASSWORD" | initdb -D "$PGDATA" -U postgres --pwfile=/dev/stdin -E UTF8 --locale=C \
      --auth-local=trust --auth-host=scram-sha-256 --no-instructions
    echo 'host all all all scram-sha-256' >> "$PGDATA/pg_hba.conf"
  fi
  shift
  exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp "$@"
fi
exec "$@"
SCRIPT
chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"
import_image "$root" "$postgres_image" SIGINT \
  --change "ENV PATH=$pg_bin:/usr/local/bin:/usr/bin:/bin" --change 'ENV PGDATA=/var/lib/postgresql/data' \
  --change 'EXPOSE 5432' --change 'USER 999:999' \
  --change "LABEL org.opencontainers.image.description=\"PostgreSQL $("$pg_bin/postgres" -V | grep -oE '[0-9.]+$') from Debian, made locally\"" \
  --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' --change 'CMD ["postgres"]'
