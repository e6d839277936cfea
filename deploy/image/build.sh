#!/usr/bin/env bash
# Builds the platform's one image (every service; the Deployment picks the service by its
# command) with buildah from scratch: the pinned Node binary (node_modules/node) and the shared
# libraries it links, the services' and libs' sources, production dependencies only, a non-root
# user. No base image and no registry are needed. Reproducible: file times and the image's
# creation time are the last commit's.
#
#   bash deploy/image/build.sh [--tag localhost/li-mediation:VERSION] [--oci-archive FILE]
#   npm run image
#
# Needs buildah (Debian package) and npm with access to the npm registry (or its cache).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
version="$(node -p "require('./services/admf/package.json').version" 2>/dev/null || sed -n 's/.*"version": "\(.*\)".*/\1/p' services/admf/package.json | head -1)"
tag="localhost/li-mediation:$version"
archive=""
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag="$2"; shift 2 ;;
    --oci-archive) archive="$2"; shift 2 ;;
    *) echo "usage: $0 [--tag NAME:TAG] [--oci-archive FILE]" >&2; exit 2 ;;
  esac
done
storage=(--storage-driver "${LI_STORAGE_DRIVER:-vfs}")
revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
nodebin="$root/node_modules/node/bin/node"
[ -x "$nodebin" ] || { echo "build.sh: $nodebin missing: run npm ci first" >&2; exit 1; }
command -v buildah >/dev/null || { echo "build.sh: buildah is required (apt-get install buildah)" >&2; exit 1; }

work="$root/.run/image"
rm -rf "$work" && mkdir -p "$work/rootfs/app" "$work/stage"
log() { printf 'image: %s\n' "$*" >&2; }

# 1. The application: the files git knows (tracked or new, never ignored ones such as build
# logs) of libs/ and services/, without tests, plus the lock file.
log "staging sources"
cp package.json package-lock.json "$work/stage/"
git ls-files --cached --others --exclude-standard -- libs services |
  grep -Ev '(^|/)(test|node_modules)/|\.test\.ts$|/(vitest\.config\.ts|tsconfig\.json|README\.md)$' |
  while read -r f; do [ -f "$f" ] && printf '%s\n' "$f"; done |
  tar -cf - --no-recursion -T - | tar -C "$work/stage" -xf -
# The other workspaces contribute only their package.json, so the lock file still matches.
for d in checks test bench deploy/k8s; do mkdir -p "$work/stage/$d" && cp "$d/package.json" "$work/stage/$d/"; done

# 2. Production dependencies of the services only (no install scripts: none is needed).
log "npm ci --omit=dev"
ws=()
for d in services/*; do ws+=(--workspace "$d"); done
(cd "$work/stage" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline \
  --include-workspace-root=false "${ws[@]}" >&2)
rm -rf "$work/stage/checks" "$work/stage/test" "$work/stage/bench" "$work/stage/deploy"
find "$work/stage/node_modules" -maxdepth 2 -type l | while read -r l; do [ -e "$l" ] || rm "$l"; done
cp -a "$work/stage/." "$work/rootfs/app/"

# 3. Node and exactly the shared libraries it links (from this machine's Debian).
log "node $("$nodebin" --version) and its libraries"
mkdir -p "$work/rootfs/usr/local/bin"
cp "$nodebin" "$work/rootfs/usr/local/bin/node"
ldd "$nodebin" | awk '/=> \//{print $3} /^\s*\/lib/{print $1}' | while read -r lib; do
  mkdir -p "$work/rootfs$(dirname "$lib")"
  cp -L "$lib" "$work/rootfs$lib"
done

# 4. A non-root user, an empty /tmp (mounted writable by Kubernetes: the root stays read-only).
mkdir -p "$work/rootfs/etc" "$work/rootfs/tmp" "$work/rootfs/var/lib/li"
printf 'root:x:0:0:root:/root:/sbin/nologin\nli:x:10001:10001:li:/app:/sbin/nologin\n' >"$work/rootfs/etc/passwd"
printf 'root:x:0:\nli:x:10001:\n' >"$work/rootfs/etc/group"
printf 'hosts: files dns\n' >"$work/rootfs/etc/nsswitch.conf"
chmod 1777 "$work/rootfs/tmp"
chown -R 0:0 "$work/rootfs"
chown 10001:10001 "$work/rootfs/var/lib/li"
find "$work/rootfs" -exec touch -h -d "@$epoch" {} +

# 5. The image.
log "buildah commit $tag"
ctr="$(buildah "${storage[@]}" from scratch)"
trap 'buildah "${storage[@]}" rm "$ctr" >/dev/null 2>&1 || true' EXIT
buildah "${storage[@]}" copy --quiet "$ctr" "$work/rootfs" / >/dev/null
created="$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)"
buildah "${storage[@]}" config \
  --user 10001:10001 --workingdir /app --entrypoint '["/usr/local/bin/node"]' --cmd '' \
  --env NODE_ENV=production \
  --label org.opencontainers.image.title=li-mediation \
  --label "org.opencontainers.image.version=$version" \
  --label "org.opencontainers.image.revision=$revision" \
  --label "org.opencontainers.image.source=${LI_IMAGE_SOURCE:-$(git remote get-url origin 2>/dev/null || echo local)}" \
  --label "org.opencontainers.image.created=$created" \
  --label org.opencontainers.image.licenses=Apache-2.0 \
  --label "org.opencontainers.image.description=LI mediation services (command: /usr/local/bin/node services/<name>/src/main.ts)" \
  "$ctr"
previous="$(buildah "${storage[@]}" images --no-trunc --format '{{.ID}}' "$tag" 2>/dev/null | head -1 || true)"
buildah "${storage[@]}" commit --quiet --timestamp "$epoch" --rm "$ctr" "$tag" >/dev/null
trap - EXIT
if [ -n "$archive" ]; then buildah "${storage[@]}" push --quiet "$tag" "oci-archive:$archive"; fi
id="$(buildah "${storage[@]}" images --no-trunc --format '{{.ID}}' "$tag" | head -1)"
# The image this tag named before, now untagged, is ours to remove (vfs keeps full copies).
if [ -n "$previous" ] && [ "$previous" != "$id" ]; then buildah "${storage[@]}" rmi "$previous" >/dev/null 2>&1 || true; fi
echo "image: $tag $id ($(du -sh "$work/rootfs" | cut -f1) rootfs, revision $revision)"
