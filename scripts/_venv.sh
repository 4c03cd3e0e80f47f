# Sourced by the scripts: makes .venv with the project and the extras a script needs installed
# (EXTRAS, set by the script before sourcing: scripts/demo only "demo", scripts/test "test,postgres,demo").
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${FLASK_KOMTET_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
EXTRAS="${EXTRAS:-test,postgres,demo}"
stamp="$VENV/.installed-$( (cat "$ROOT/setup.cfg" "$ROOT/pyproject.toml"; echo "$EXTRAS") | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -e "$ROOT[$EXTRAS]"
  touch "$stamp"
fi
export PATH="$VENV/bin:$PATH"
cd "$ROOT"
