# Shared set-up for bin/run and bin/test (sourced, not run): Python >= 3.12, the virtualenv,
# pinned requirements, and local PostgreSQL and Redis. Each step is skipped when already done,
# so running it again is quick.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Succeeds when "$1" runs and is Python 3.12 or newer.
_new_enough() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

# Prints the path of a Python >= 3.12: $PYTHON, python3, python3.13, python3.12, then pyenv.
find_python() {
    local candidate version root
    for candidate in ${PYTHON:-} python3 python3.13 python3.12; do
        if command -v "$candidate" >/dev/null 2>&1 && _new_enough "$candidate"; then
            command -v "$candidate"
            return 0
        fi
    done
    if command -v pyenv >/dev/null 2>&1; then
        root="$(pyenv root)"
        # Newest first; call the interpreter directly so pyenv's shims and local version files don't matter.
        for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9]|[2-9][0-9])(\.[0-9]+)?$' | sort -rV); do
            candidate="$root/versions/$version/bin/python3"
            if [ -x "$candidate" ] && _new_enough "$candidate"; then
                echo "$candidate"
                return 0
            fi
        done
    fi
    return 1
}

# Creates .venv when missing (or made with a Python that is too old) and installs $1.
setup_venv() {
    local requirements="$1" python stamp wanted
    if [ ! -x "$VENV/bin/python" ] || ! _new_enough "$VENV/bin/python"; then
        python="$(find_python)" || die "Python 3.12 or newer is needed (Django 6.1); install it or set PYTHON=/path/to/python3.12"
        say "Creating .venv with $("$python" --version 2>&1)"
        rm -rf "$VENV"
        "$python" -m venv "$VENV"
        "$VENV/bin/python" -m pip install --quiet --upgrade pip
    fi
    # Reinstall only when the requirement files changed since the last install.
    stamp="$VENV/.installed-$(basename "$requirements")"
    wanted="$(cat "$ROOT"/requirements*.txt | sha256sum | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
        say "Installing $(basename "$requirements")"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/$requirements"
        echo "$wanted" >"$stamp"
    fi
    setup_pango
}

# WeasyPrint (hand-off PDFs) loads Pango at run time; installs Debian's when it is missing.
setup_pango() {
    local sudo=""
    ldconfig -p 2>/dev/null | grep -q libpangoft2 && return 0
    command -v apt-get >/dev/null 2>&1 || die "Pango is needed for PDFs: install libpango-1.0-0 and libpangoft2-1.0-0"
    say "Installing Pango from Debian (hand-off PDFs)"
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 >/dev/null
}

# Splits a URL into the variables below with the venv's Python (no extra dependency).
_parse_url() {
    "$VENV/bin/python" - "$1" <<'PY'
import shlex, sys
from urllib.parse import unquote, urlsplit
url = urlsplit(sys.argv[1])
values = {
    "URL_HOST": url.hostname or "127.0.0.1",
    "URL_PORT": str(url.port or ""),
    "URL_USER": unquote(url.username or ""),
    "URL_PASSWORD": unquote(url.password or ""),
    "URL_NAME": unquote(url.path.lstrip("/")),
}
for key, value in values.items():
    print(f"{key}={shlex.quote(value)}")
PY
}

_is_local() { case "$1" in 127.0.0.1 | localhost | ::1 | "") return 0 ;; *) return 1 ;; esac; }

# Starts the local PostgreSQL cluster if it is not answering, then creates the database.
setup_postgres() {
    local URL_HOST URL_PORT URL_USER URL_PASSWORD URL_NAME version cluster _rest i
    eval "$(_parse_url "${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/carecoord}")"
    URL_PORT="${URL_PORT:-5432}"
    if ! pg_isready -q -h "$URL_HOST" -p "$URL_PORT"; then
        _is_local "$URL_HOST" || die "PostgreSQL at $URL_HOST:$URL_PORT does not answer (DATABASE_URL)"
        command -v pg_lsclusters >/dev/null 2>&1 || die "PostgreSQL is not running and pg_lsclusters is not installed"
        say "Starting PostgreSQL"
        # "Ver Cluster Port Status Owner ..." -> start the cluster on our port (or the first one).
        read -r version cluster _rest < <(pg_lsclusters --no-header | awk -v port="$URL_PORT" '$3 == port' | head -n1)
        if [ -z "${version:-}" ]; then
            read -r version cluster _rest < <(pg_lsclusters --no-header | head -n1)
        fi
        [ -n "${version:-}" ] || die "no PostgreSQL cluster found (pg_lsclusters is empty)"
        pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start
        for i in $(seq 1 30); do
            pg_isready -q -h "$URL_HOST" -p "$URL_PORT" && break
            [ "$i" = 30 ] && die "PostgreSQL did not come up on $URL_HOST:$URL_PORT"
            sleep 1
        done
    fi
    [ -n "$URL_NAME" ] || return 0
    export PGPASSWORD="$URL_PASSWORD"
    if ! psql -h "$URL_HOST" -p "$URL_PORT" -U "${URL_USER:-postgres}" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$URL_NAME'" | grep -q 1; then
        say "Creating database $URL_NAME"
        createdb -h "$URL_HOST" -p "$URL_PORT" -U "${URL_USER:-postgres}" "$URL_NAME"
    fi
    unset PGPASSWORD
}

# Starts a throw-away local Redis (no persistence) if none answers.
setup_redis() {
    local URL_HOST URL_PORT URL_USER URL_PASSWORD URL_NAME i
    eval "$(_parse_url "${REDIS_URL:-redis://127.0.0.1:6379/0}")"
    URL_PORT="${URL_PORT:-6379}"
    if [ "$(redis-cli -h "$URL_HOST" -p "$URL_PORT" ping 2>/dev/null)" = "PONG" ]; then
        return 0
    fi
    _is_local "$URL_HOST" || die "Redis at $URL_HOST:$URL_PORT does not answer (REDIS_URL)"
    command -v redis-server >/dev/null 2>&1 || die "Redis is not running and redis-server is not installed"
    say "Starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$URL_PORT" --save "" --appendonly no >/dev/null
    for i in $(seq 1 20); do
        [ "$(redis-cli -h "$URL_HOST" -p "$URL_PORT" ping 2>/dev/null)" = "PONG" ] && return 0
        sleep 0.5
    done
    die "Redis did not come up on $URL_HOST:$URL_PORT"
}
