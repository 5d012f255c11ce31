// Command dev runs Klaxon on a local control plane: it starts mailpit (the
// SMTP server the sample mail channel sends to), etcd and kube-apiserver,
// installs the CRDs and the admission policy, applies config/samples as
// you, and runs the operator in the foreground. Ctrl-C stops everything.
// `make dev` runs it with KUBEBUILDER_ASSETS and KLAXON_MAILPIT_DIR set.
package main
