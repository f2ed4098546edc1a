#!/usr/bin/env bash
# Set up everything Digitify needs on a fresh Debian machine (idempotent, fast when nothing changed):
# Debian packages (PostgreSQL for the service tests, Redis for async prediction, Chromium for the browser
# tests, wrk for the load benchmark), the Python venv in .venv, the npm packages (handwriting fonts at the root, the web page
# in service/web) and the web page's build, DVC's empty raw-data folder.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

apt_packages=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || apt_packages+=(postgresql)
command -v redis-server >/dev/null || apt_packages+=(redis-server)
[ -x /usr/bin/chromium ] || apt_packages+=(chromium)
command -v wrk >/dev/null || apt_packages+=(wrk)
command -v npm >/dev/null || apt_packages+=(nodejs npm)
if [ ${#apt_packages[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${apt_packages[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
fi

stamp=".venv/.requirements.sha256"
wanted=$(cat requirements.txt requirements-lock.txt | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "setup: installing Python packages into .venv (about 3 minutes on a fresh machine)"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt -c requirements-lock.txt
  echo "$wanted" > "$stamp"
fi

npm_ci() {  # npm_ci DIR: install DIR's locked npm packages unless they are already there
  local dir=$1 wanted_lock
  wanted_lock=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ "$(cat "$dir/node_modules/.lock.sha256" 2>/dev/null)" != "$wanted_lock" ]; then
    echo "setup: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$wanted_lock" > "$dir/node_modules/.lock.sha256"
  fi
}
npm_ci .
if [ -f service/web/package-lock.json ]; then
  npm_ci service/web
  if [ ! -f service/web/dist/index.html ] || [ -n "$(find service/web/src service/web/index.html service/web/package-lock.json -newer service/web/dist/index.html 2>/dev/null | head -1)" ]; then
    echo "setup: building the web page"
    npm run --silent --prefix service/web build >/dev/null
  fi
fi

mkdir -p data/svhn
echo "setup: done"
