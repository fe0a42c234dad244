#!/usr/bin/env bash
# Set up everything `make demo` and `make test` need on a fresh Debian machine:
# Debian packages (espeak-ng), a virtual environment with the pinned packages, and a running
# PostgreSQL where one is installed. Idempotent: a second run does nothing but checks.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv
APT_PACKAGES=(espeak-ng)

say() { printf '\033[1;34m[bootstrap]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[bootstrap] error:\033[0m %s\n' "$*" >&2; exit 1; }

# 1. Debian packages ---------------------------------------------------------------------------
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    die "missing Debian packages: ${missing[*]}; install them as root: apt-get install ${missing[*]}"
  fi
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    || die "apt-get install ${missing[*]} failed"
fi

# 2. Python virtual environment with the pinned packages ---------------------------------------
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "Python 3.11 or newer is needed; found $("$PYTHON" --version 2>&1). Set PYTHON=/path/to/python3.11"
if [[ ! -x $VENV/bin/python ]]; then
  say "creating $VENV"
  "$PYTHON" -m venv "$VENV" || die "could not create a virtual environment (Debian: apt-get install python3-venv)"
fi
stamp=$VENV/.installed
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  say "installing pinned Python packages into $VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]' \
    || die "pip install failed (see above)"
  echo "$want" > "$stamp"
fi

# 3. PostgreSQL: start the local cluster if it is installed but stopped ------------------------
if command -v pg_ctlcluster >/dev/null && command -v pg_isready >/dev/null; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    for v in /etc/postgresql/*; do
      [[ -d $v/main ]] || continue
      say "starting PostgreSQL $(basename "$v")"
      pg_ctlcluster --skip-systemctl-redirect "$(basename "$v")" main start 2>/dev/null || true
    done
  fi
fi
say "ready"
