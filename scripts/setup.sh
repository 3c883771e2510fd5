#!/usr/bin/env bash
# Sets up a Debian/Ubuntu machine. Two modes:
#   scripts/setup.sh         (`npm run setup`, `npm run ci`): development and tests — every system
#                            package the tests use (RabbitMQ and Redis, which tests also start privately,
#                            nginx, Prometheus with promtool, docker-compose for config checks, Chromium),
#                            the local RabbitMQ and Redis services, npm dependencies, a build.
#   scripts/setup.sh --run   (`prestart` of `npm start`): only what `npm start` runs — RabbitMQ at
#                            AMQP_URL and Redis at REDIS_URL, each checked by connecting to its port, and
#                            nginx (its binary); then npm dependencies and a build.
# A missing package or a stopped local service is installed (apt-get) or started as root; otherwise the
# script names what to install or start, and exits 1. It never asks rabbitmqctl and never writes
# outside the repository unless it runs as root.
set -euo pipefail
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 # artillery depends on Playwright: never download a browser (tests use the system Chromium)
cd "$(dirname "$0")/.."

mode=all
case "${1:-}" in
  --run) mode=run ;;
  '') ;;
  *) echo "usage: setup.sh [--run]" >&2; exit 2 ;;
esac

log() { printf '[setup] %s\n' "$*"; }
root() { [ "$(id -u)" = 0 ]; }
has_rabbitmq() { command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; }
has_redis() { command -v redis-server >/dev/null 2>&1; }
# testkit's startNginx and `npm start` run /usr/sbin/nginx.
has_nginx() { [ -x /usr/sbin/nginx ]; }

# probe amqp|redis: sets host, port, where (local|remote), state (up|down) from scripts/probe.mjs.
probe() {
  local line
  line=$(node scripts/probe.mjs "$1") || { [ $? = 1 ] || exit 2; }
  read -r host port where state <<<"$line"
}

amqp_state() { probe amqp; amqp_host=$host amqp_port=$port amqp_where=$where amqp_up=$state; }
redis_state() { probe redis; redis_host=$host redis_port=$port redis_where=$where redis_up=$state; }
amqp_state
redis_state

# System packages. A service that already answers needs no package here in --run mode (it may run
# elsewhere, in a container, or from another install); the tests start private RabbitMQ nodes and
# redis-servers, so the full set-up always wants both packages.
missing=()
if [ $mode = all ] || { [ "$amqp_up" = down ] && [ "$amqp_where" = local ]; }; then
  has_rabbitmq || missing+=(rabbitmq-server)
fi
if [ $mode = all ] || { [ "$redis_up" = down ] && [ "$redis_where" = local ]; }; then
  has_redis || missing+=(redis-server)
fi
has_nginx || missing+=(nginx)
if [ $mode = all ]; then
  command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
  command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if root && command -v apt-get >/dev/null 2>&1; then
    log "installing ${missing[*]} from apt"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  else
    log "missing system packages: ${missing[*]}"
    log "install them with: sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
fi

# wait_up amqp|redis SECONDS: until the port accepts connections.
wait_up() {
  local i
  for ((i = 0; i < $2; i++)); do
    if node scripts/probe.mjs "$1" >/dev/null; then return 0; fi
    sleep 1
  done
  return 1
}

# Services. A remote one that does not answer is named; a local one is started as root.
problems=()
amqp_state
if [ "$amqp_up" = down ]; then
  if [ "$amqp_where" = remote ]; then
    problems+=("RabbitMQ at $amqp_host:$amqp_port (AMQP_URL) does not accept connections")
  elif root; then
    log "starting RabbitMQ"
    rabbitmq-server -detached >/dev/null 2>&1 || true
    wait_up amqp 120 || problems+=("RabbitMQ did not open $amqp_host:$amqp_port within 120 s (see /var/log/rabbitmq)")
  else
    problems+=("RabbitMQ is not running on $amqp_host:$amqp_port: start it (sudo systemctl start rabbitmq-server, or sudo rabbitmq-server -detached), or set AMQP_URL")
  fi
fi
redis_state
if [ "$redis_up" = down ]; then
  if [ "$redis_where" = remote ]; then
    problems+=("Redis at $redis_host:$redis_port (REDIS_URL) does not accept connections")
  elif root; then
    log "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$redis_port" --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
    wait_up redis 30 || problems+=("Redis did not open $redis_host:$redis_port within 30 s (see /var/log/redis/ci.log)")
  else
    problems+=("Redis is not running on $redis_host:$redis_port: start it (sudo systemctl start redis-server), or set REDIS_URL")
  fi
fi
if [ ${#problems[@]} -gt 0 ]; then
  for p in "${problems[@]}"; do log "$p"; done
  exit 1
fi
log "RabbitMQ $amqp_host:$amqp_port and Redis $redis_host:$redis_port accept connections; nginx is /usr/sbin/nginx"

# npm dependencies: skip the install when the lockfile is what was installed last.
stamp=node_modules/.setup-lock-sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  log "npm dependencies are up to date"
else
  log "installing npm dependencies"
  # `npm install`, not `npm ci`: the registry these machines reach lacks some of biome's optional
  # per-platform binaries (android, darwin, win32, musl), so the lockfile cannot list them and
  # `npm ci` refuses it as out of sync. `npm install` still installs the locked versions.
  npm install --no-audit --no-fund
  echo "$want" > "$stamp"
fi
log "building"
npm run build
log "ready"
