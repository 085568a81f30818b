#!/usr/bin/env bash
# Installs what the build and the tests need, only where it is missing or at the wrong version.
# Idempotent: a second run on a ready machine takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
WASM_PACK_REQ=0.15
CARGO_FUZZ_VERSION=0.13.2

say() { printf '[tools] %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

# Rust toolchain and the wasm target (rust-toolchain.toml names both; this makes sure).
if ! have cargo; then
  say "cargo is missing: install rustup from https://rustup.rs first"; exit 1
fi
rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install
for t in wasm32-unknown-unknown wasm32-wasip1; do
  rustup target list --installed 2>/dev/null | grep -qx "$t" || rustup target add "$t"
done
# The standard library's sources: the page's release build rebuilds it (scripts/trunk.sh).
rustup component list --installed 2>/dev/null | grep -q '^rust-src' || rustup component add rust-src

# Chromium and ChromeDriver for the browser tests, nftables for the partition test, and a CJK
# font so that screenshots of the 简体中文 interface show characters rather than boxes (Debian
# packages).
apt_need=()
have chromium || apt_need+=(chromium)
have chromedriver || apt_need+=(chromium-driver)
dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || apt_need+=(fonts-wqy-microhei)
dpkg -s nftables >/dev/null 2>&1 || apt_need+=(nftables)
if [ ${#apt_need[@]} -gt 0 ]; then
  say "installing ${apt_need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get install -y "${apt_need[@]}" >/dev/null 2>&1 \
    || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y "${apt_need[@]}" >/dev/null; }
fi

# wasm-bindgen-cli: must equal the wasm-bindgen version in Cargo.lock (Trunk and wasm-pack use it
# from PATH). Installed without --locked: its lock file names a crate version the registry lacks.
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)
if [ -z "$WB_VERSION" ]; then say "no wasm-bindgen in Cargo.lock"; exit 1; fi
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WB_VERSION" ]; then
  say "installing wasm-bindgen-cli $WB_VERSION (a few minutes)"
  cargo install -q wasm-bindgen-cli --version "$WB_VERSION" --force
fi

# Trunk (0.22 needs a newer rustc than the pinned one).
if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
  say "installing trunk $TRUNK_VERSION (about 13 minutes)"
  cargo install -q --locked trunk --version "$TRUNK_VERSION" --force
fi

# wasm-pack 0.15.x.
case "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" in
  "$WASM_PACK_REQ".*) ;;
  *) say "installing wasm-pack $WASM_PACK_REQ.x"; cargo install -q wasm-pack --version "~$WASM_PACK_REQ" --force ;;
esac

# cargo-fuzz for make fuzz / fuzz-smoke (run on the pinned stable toolchain with RUSTC_BOOTSTRAP=1).
if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$CARGO_FUZZ_VERSION" ]; then
  say "installing cargo-fuzz $CARGO_FUZZ_VERSION (about a minute)"
  cargo install -q --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION" --force
fi

# Node packages of the browser tests (playwright-core drives Debian's chromium) and of the page's
# release build (esbuild minifies wasm-bindgen's JS: scripts/trunk-minify-js.sh).
if [ -f e2e/package-lock.json ] && { [ ! -d e2e/node_modules/playwright-core ] || [ ! -x e2e/node_modules/.bin/esbuild ]; }; then
  say "installing the browser-test and build packages (e2e/node_modules)"
  npm ci --prefix e2e --no-audit --no-fund >/dev/null
fi
# The official Nacos clients the SDK tests drive (make test-sdk), pinned, in project-local places:
# npm `nacos` 2.6.3 into sdk-tests/node_modules, PyPI `nacos-sdk-python` 1.0.0 into .venv-sdk/.
NODE_NACOS=2.6.3
PY_NACOS=1.0.0
if ! have node || ! have npm; then
  say "node and npm are needed for the SDK tests: installing nodejs and npm"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get install -y nodejs npm >/dev/null 2>&1 \
    || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y nodejs npm >/dev/null; }
fi
if [ "$(node -p "require('./sdk-tests/node_modules/nacos/package.json').version" 2>/dev/null)" != "$NODE_NACOS" ]; then
  say "installing the Node client nacos $NODE_NACOS (sdk-tests/node_modules)"
  npm ci --prefix sdk-tests --no-audit --no-fund >/dev/null
fi
if [ "$(.venv-sdk/bin/python -c 'import nacos; print(nacos.__version__)' 2>/dev/null)" != "$PY_NACOS" ]; then
  say "installing the Python client nacos-sdk-python $PY_NACOS (.venv-sdk)"
  PY=$(command -v python3 || true)
  if [ -z "$PY" ] || ! "$PY" -m venv --help >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get install -y python3 python3-venv >/dev/null 2>&1 \
      || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y python3 python3-venv >/dev/null; }
    PY=$(command -v python3)
  fi
  rm -rf .venv-sdk
  "$PY" -m venv .venv-sdk
  .venv-sdk/bin/pip install -q --disable-pip-version-check -r sdk-tests/requirements.txt
fi
say "ready: $(trunk --version), wasm-bindgen $(wasm-bindgen --version | awk '{print $2}'), $(wasm-pack --version), $(cargo fuzz --version), $(chromium --version 2>/dev/null | head -c 40)"
