#!/usr/bin/env bash
# Checks the one direction of imports (docs/architecture.md): every product
# package has a layer, and imports only packages of lower layers. A package
# missing from the table fails the check, so a new package must be placed.
set -euo pipefail
cd "$(dirname "$0")/.."
mod=$(go list -m)
declare -A layer=(
  [internal/clierr]=0 [internal/shell]=0 [internal/version]=0 [internal/cloudinit]=0
  [internal/remote]=0 [internal/tags]=0 [internal/cost]=0 [internal/testjson]=0 [internal/namecache]=0
  [internal/nfs]=1 [internal/config]=1 [internal/output]=1 [internal/layout]=1
  [internal/azcli]=2 [internal/vmscript]=2 [internal/azcli/aztest]=3
  [internal/network]=3 [internal/billing]=3 [internal/vmprov]=3
  [internal/storage]=4
  [internal/sharedhome]=5
  [internal/provision]=6 [internal/costreport]=6
  [cmd/azlin]=7
)
bad=0
while read -r pkg imports; do
  p=${pkg#"$mod"/}
  [[ $p == localcloud/* ]] && continue
  if [[ -z ${layer[$p]+x} ]]; then echo "check-imports: $p has no layer in scripts/check-imports.sh"; bad=1; continue; fi
  for imp in $imports; do
    [[ $imp == "$mod"/* ]] || continue
    q=${imp#"$mod"/}
    if [[ $q == localcloud/* ]]; then echo "check-imports: $p imports the local cloud ($q)"; bad=1; continue; fi
    if [[ -z ${layer[$q]+x} ]] || (( layer[$q] >= layer[$p] )); then
      echo "check-imports: $p (layer ${layer[$p]}) imports $q (layer ${layer[$q]:-none}): imports go down only"; bad=1
    fi
  done
done < <(go list -f '{{.ImportPath}} {{join .Imports " "}}' ./...)
if go list -deps ./cmd/azlin | grep -E '/localcloud(/|$)'; then echo "check-imports: the azlin binary depends on the local cloud"; bad=1; fi
exit $bad
