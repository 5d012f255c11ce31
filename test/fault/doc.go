// Package fault is Klaxon's fault suite: it runs the operator binary, a
// kube-apiserver and etcd, Alertmanager and an SMTP server as separate
// processes, breaks them (an API server outage, a killed operator, a killed
// leader, hostile requests) and checks that no alert is lost, nobody is
// paged or mailed twice once a send is recorded, and no tenant reaches
// another. `make fault` runs it; `make test` includes it.
package fault
