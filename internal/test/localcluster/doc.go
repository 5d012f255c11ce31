// Package localcluster starts a local control plane (etcd and
// kube-apiserver, through controller-runtime's envtest) with Klaxon's CRDs and
// admission policy installed. The integration tests and `make dev` use it.
package localcluster
