#!/usr/bin/env bash
# Installs PyPI's `moto[server]` (an S3-compatible server the tests of imports from object storage start on a
# loopback port) into <repo>/.tools/moto, pinned. Idempotent: does nothing when the pinned version is there, or
# when MOTO_SERVER_PATH points at a moto_server installed some other way. Runs as part of the npm `postinstall`
# script and as `npm run setup:moto`; the tests fall back to a `moto` the machine's python3 imports.
set -euo pipefail

readonly MOTO_VERSION="5.2.1"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/python-with-pip.sh
source "${repo_root}/scripts/python-with-pip.sh"
target_dir="${MOTO_TARGET_DIR:-${repo_root}/.tools/moto}"

log() { echo "[install-moto] $*" >&2; }

if [[ -n "${MOTO_SERVER_PATH:-}" ]]; then
  log "MOTO_SERVER_PATH is set; using ${MOTO_SERVER_PATH} and skipping the install."
  exit 0
fi
if [[ -f "${target_dir}/.version" ]] && [[ "$(cat "${target_dir}/.version")" == "${MOTO_VERSION}" ]]; then
  log "moto ${MOTO_VERSION} already installed in ${target_dir}"
  exit 0
fi
python="$(python_with_pip)"
if [[ -z "${python}" ]]; then
  # Not fatal: only the object-storage tests need it, and they say so.
  log "no python with pip found: moto is not installed (the tests of s3 sources need it)"
  exit 0
fi
rm -rf "${target_dir}"
"${python}" -m venv "${target_dir}"
"${target_dir}/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==${MOTO_VERSION}"
echo "${MOTO_VERSION}" > "${target_dir}/.version"
log "installed moto ${MOTO_VERSION}: ${target_dir}/bin/moto_server"
