#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for development and tests: system packages that are
# missing (as root through apt-get; otherwise it says what to install), the local RabbitMQ and
# Redis services when AMQP_URL / REDIS_URL do not point elsewhere, npm dependencies, and a build.
set -euo pipefail
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 # artillery depends on Playwright: never download a browser (tests use the system Chromium)
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*"; }

# RabbitMQ and Redis run the system; nginx balances it; Prometheus, docker-compose (config checks
# only) and Chromium are used by the tests.
missing=()
command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing ${missing[*]} from apt"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  else
    log "missing system packages: ${missing[*]}"
    log "install them with: sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
fi

# The system RabbitMQ at 127.0.0.1:5672 is what tests use unless AMQP_URL says otherwise.
if [ -z "${AMQP_URL:-}" ]; then
  if ! rabbitmqctl -q await_startup --timeout 5 >/dev/null 2>&1; then
    log "starting RabbitMQ"
    rabbitmq-server -detached >/dev/null 2>&1 || true
    rabbitmqctl -q await_startup --timeout 120
  fi
fi
if [ -z "${REDIS_URL:-}" ]; then
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    log "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
  fi
fi

# npm ci starts from an empty node_modules; skip it when the lockfile is what was installed last.
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
