#!/usr/bin/env bash
# Release build of the Grafana plugin (not part of CI): `npm run release`.
# dist/ gets module.js, plugin.json and gpx_agentinsights_<os>_<arch> for every platform the Go
# toolchain cross-compiles (mage buildAll: linux amd64/arm64/arm, darwin amd64/arm64, windows
# amd64); then artifacts/<plugin id>-<version>.zip holds the folder <plugin id>/, ready to unpack
# into Grafana's plugin folder, with its SHA-256 beside it.
set -euo pipefail
cd "$(dirname "$0")/.."

id=$(node -p "require('./src/plugin.json').id")
version=$(node -p "require('./package.json').version")

rm -rf dist
npm run build:frontend
CGO_ENABLED=0 go run github.com/magefile/mage@v1.17.2 -v buildAll

missing=0
for f in module.js plugin.json \
  gpx_agentinsights_linux_amd64 gpx_agentinsights_linux_arm64 gpx_agentinsights_linux_arm \
  gpx_agentinsights_darwin_amd64 gpx_agentinsights_darwin_arm64 gpx_agentinsights_windows_amd64.exe; do
  if [ ! -s "dist/$f" ]; then
    echo "release: dist/$f is missing" >&2
    missing=1
  fi
done
if grep -q '%VERSION%' dist/plugin.json; then
  echo "release: dist/plugin.json still has the %VERSION% placeholder" >&2
  missing=1
fi
[ "$missing" -eq 0 ] || exit 1

mkdir -p artifacts
zipfile="artifacts/${id}-${version}.zip"
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
cp -R dist "$staging/$id"
rm -f "$zipfile"
(cd "$staging" && zip -qr - "$id") >"$zipfile"
(cd artifacts && sha256sum "$(basename "$zipfile")" >"$(basename "$zipfile").sha256")
echo "release: $zipfile ($(du -h "$zipfile" | cut -f1))"
unzip -l "$zipfile" | grep -E 'gpx_|module.js|plugin.json'
