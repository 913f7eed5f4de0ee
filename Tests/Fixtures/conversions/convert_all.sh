#!/bin/bash
# Converts every case of cases.txt with the mvlm binary $1 into the folder $2 (NAME.EXT, and
# NAME.log with the command's output). Used to check that a refactoring leaves the files
# byte-identical: run it with the old and the new binary, then compare.py OLD NEW.
set -u
mvlm=$1; out=$2
here=$(cd "$(dirname "$0")" && pwd); fixtures=$(dirname "$here")
mkdir -p "$out"
cd "$fixtures"
status=0
while IFS='|' read -r name source ext arguments; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  # shellcheck disable=SC2086
  if ! "$mvlm" convert "$source" -o "$out/$name.$ext" $arguments > "$out/$name.log" 2>&1; then
    echo "FAILED: $name (see $out/$name.log)"; status=1
  fi
done < "$here/cases.txt"
exit $status
