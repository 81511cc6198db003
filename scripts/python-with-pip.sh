# Sourced by the install scripts: prints the first of python3, python that runs pip, or nothing.
python_with_pip() {
  local candidate
  for candidate in python3 python; do
    if command -v "${candidate}" >/dev/null 2>&1 && "${candidate}" -m pip --version >/dev/null 2>&1; then
      echo "${candidate}"
      return
    fi
  done
}
