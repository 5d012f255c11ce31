#!/usr/bin/env bash
# Builds pinned kube-apiserver, kubectl and etcd from the Go module proxy into a
# cache outside the clone, keyed by version, and prints the directory to use as
# KUBEBUILDER_ASSETS. Later runs reuse the cache and finish at once.
#
# kube-apiserver and kubectl come from k8s.io/kubernetes, whose go.mod points its
# k8s.io/* staging modules at ./staging; a throwaway module replaces each of
# them with the published v0.X.Y instead. etcd comes from
# go.etcd.io/etcd/server/v3 with its go.etcd.io/etcd/* siblings pinned alike.
set -euo pipefail

KUBE_VERSION=${KUBE_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
CACHE_ROOT=${KLAXON_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/klaxon}
ASSETS="$CACHE_ROOT/control-plane/kube-$KUBE_VERSION-etcd-$ETCD_VERSION"

log() { echo "control-plane: $*" >&2; }

if [[ -x $ASSETS/kube-apiserver && -x $ASSETS/kubectl && -x $ASSETS/etcd ]]; then
  echo "$ASSETS"
  exit 0
fi

mkdir -p "$ASSETS"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
staging_version="v0.${KUBE_VERSION#v1.}"

if [[ ! -x $ASSETS/kube-apiserver || ! -x $ASSETS/kubectl ]]; then
  log "building kube-apiserver and kubectl $KUBE_VERSION (first run takes minutes)"
  mkdir -p "$work/kube"
  cd "$work/kube"
  gomod=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  [[ -f $gomod ]] || { log "cannot download k8s.io/kubernetes@$KUBE_VERSION"; exit 1; }
  goversion=$(sed -n 's/^go \([0-9.]*\).*/\1/p' "$gomod")
  {
    echo "module klaxon.dev/throwaway/kube"
    echo
    echo "go $goversion"
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    # Every staging module that kubernetes replaces with ./staging/src/...
    sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9./-]*\) => ./staging/src/.*#\1#p' "$gomod" |
      while read -r m; do echo "replace $m => $m $staging_version"; done
  } >go.mod
  cat >tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 || true
  GOFLAGS=-mod=mod go get "k8s.io/kubernetes@$KUBE_VERSION"
  ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$KUBE_VERSION" | cut -d. -f2)"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION"
  GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$ASSETS/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
  GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$ASSETS/kubectl.tmp" k8s.io/kubernetes/cmd/kubectl
  mv "$ASSETS/kube-apiserver.tmp" "$ASSETS/kube-apiserver"
  mv "$ASSETS/kubectl.tmp" "$ASSETS/kubectl"
fi

if [[ ! -x $ASSETS/etcd ]]; then
  log "building etcd $ETCD_VERSION"
  mkdir -p "$work/etcd"
  cd "$work/etcd"
  cat >go.mod <<GOMOD
module klaxon.dev/throwaway/etcd

go 1.25

require go.etcd.io/etcd/server/v3 $ETCD_VERSION

replace (
	go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/pkg/v3 => go.etcd.io/etcd/client/pkg/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/v3 => go.etcd.io/etcd/client/v3 $ETCD_VERSION
	go.etcd.io/etcd/pkg/v3 => go.etcd.io/etcd/pkg/v3 $ETCD_VERSION
)
GOMOD
  cat >main.go <<'GO'
// Command etcd is etcd's own server main, built from go.etcd.io/etcd/server/v3.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  GOFLAGS=-mod=mod go mod tidy
  GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$ASSETS/etcd.tmp" .
  mv "$ASSETS/etcd.tmp" "$ASSETS/etcd"
fi

log "ready in $ASSETS"
echo "$ASSETS"
