#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter: on PATH first, then pyenv.
# Exit 1 with a clear message if none is found.
set -u
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
for cand in python3.13 python3.12 python3 python; do
    p=$(command -v "$cand" 2>/dev/null) || continue
    if ok "$p"; then echo "$p"; exit 0; fi
done
if command -v pyenv >/dev/null 2>&1; then
    root=$(pyenv root)
    for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9]|[2-9][0-9])(\.[0-9]+)?$' | sort -t. -k1,1n -k2,2n -k3,3n -r); do
        p="$root/versions/$v/bin/python"
        if [ -x "$p" ] && ok "$p"; then echo "$p"; exit 0; fi
    done
fi
echo "error: no Python >= 3.12 found (Mesa 3.5 needs it). Install one (e.g. 'pyenv install 3.12') or put python3.12 on PATH." >&2
exit 1
