# Shared by scripts/run and scripts/test: make .venv with everything installed, reusing it when
# pyproject.toml has not changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      PYTHON="$candidate"; break
    fi
  done
fi
if [ -z "$PYTHON" ]; then
  echo "Switchboard needs Python 3.11 or newer on PATH." >&2
  exit 1
fi

VENV="$ROOT/.venv"
if [ ! -x "$VENV/bin/python" ]; then
  echo "→ Creating the virtual environment in .venv"
  "$PYTHON" -m venv "$VENV"
fi
STAMP="$VENV/.switchboard-installed"
WANT="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  echo "→ Installing dependencies (first run takes a minute)"
  mkdir -p "$ROOT/var"
  if ! { "$VENV/bin/python" -m pip install --upgrade pip &&
         "$VENV/bin/python" -m pip install -e ".[dev]"; } > "$ROOT/var/pip.log" 2>&1; then
    tail -30 "$ROOT/var/pip.log" >&2
    echo "Installing dependencies failed; the full log is in var/pip.log." >&2
    exit 1
  fi
  echo "$WANT" > "$STAMP"
fi
PY="$VENV/bin/python"
