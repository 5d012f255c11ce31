# Klaxon — build, generate, test and run.

# Tools are pinned and installed into ./bin.
CONTROLLER_TOOLS_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0
# kube-api-linter has no releases: a pseudo-version of its main branch.
KUBE_API_LINTER_VERSION ?= v0.0.0-20260716143926-092fe0c72997
# promtool, from the Prometheus module (v0.316.0 is Prometheus v3.16.0).
PROMTOOL_VERSION ?= v0.316.0
# helm and kustomize render the chart and the kustomize install.
HELM_VERSION ?= v4.3.1
KUSTOMIZE_VERSION ?= v5.8.2
# crd-ref-docs writes docs/reference/api.md from the Go types in api/.
CRD_REF_DOCS_VERSION ?= v0.3.0
LOCALBIN ?= $(shell pwd)/bin
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
# The linters carry their version in their name, so bumping one reinstalls it.
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
KUBE_API_LINTER ?= $(LOCALBIN)/golangci-lint-kube-api-linter-$(KUBE_API_LINTER_VERSION)
PROMTOOL ?= $(LOCALBIN)/promtool-$(PROMTOOL_VERSION)
HELM ?= $(LOCALBIN)/helm-$(HELM_VERSION)
KUSTOMIZE ?= $(LOCALBIN)/kustomize-$(KUSTOMIZE_VERSION)
CRD_REF_DOCS ?= $(LOCALBIN)/crd-ref-docs-$(CRD_REF_DOCS_VERSION)
SHELLCHECK ?= shellcheck

# The control plane (kube-apiserver, etcd, kubectl) is built from source by
# hack/control-plane.sh into a cache outside the clone.
KUBE_VERSION ?= v1.37.2
ETCD_VERSION ?= v3.6.16
# Alertmanager for the end-to-end tests, installed by hack/alertmanager.sh.
ALERTMANAGER_VERSION ?= v0.31.1
# Mailpit, the SMTP server the mail sender's tests deliver to, installed by
# hack/mailpit.sh.
MAILPIT_VERSION ?= v1.27.11
export KUBE_VERSION ETCD_VERSION ALERTMANAGER_VERSION MAILPIT_VERSION

IMG ?= ghcr.io/klaxon-dev/klaxon:latest
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GO ?= go
GOTEST_FLAGS ?=

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate CRDs and RBAC from the API types and markers, and copy them into the chart.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./..." output:crd:artifacts:config=config/crd/bases
	@hack/sync-chart.sh

.PHONY: generate
generate: controller-gen ## Generate deepcopy code.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: api-docs
api-docs: crd-ref-docs ## Generate the API reference, docs/reference/api.md, from the Go types in api/.
	@mkdir -p docs/reference
	$(CRD_REF_DOCS) --source-path=./api --config=hack/api-docs/config.yaml --renderer=markdown --output-path=docs/reference/api.md

.PHONY: fmt
fmt: ## Run gofmt.
	gofmt -l -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet.
	$(GO) vet ./...

.PHONY: lint
lint: golangci-lint kube-api-linter ## Run golangci-lint, kube-api-linter (on ./api) and shellcheck; report every finding.
	@command -v $(SHELLCHECK) >/dev/null || { echo "shellcheck is missing: apt-get install shellcheck"; exit 1; }
	@status=0; \
	echo "golangci-lint run ./..."; $(GOLANGCI_LINT) run ./... || status=1; \
	echo "kube-api-linter ./api/..."; $(KUBE_API_LINTER) run --config .golangci-kal.yml ./api/... || status=1; \
	echo "shellcheck hack/*.sh .ci/run"; $(SHELLCHECK) hack/*.sh .ci/run || status=1; \
	exit $$status

.PHONY: lint-fix
lint-fix: golangci-lint ## Apply golangci-lint's formatters (gofmt, goimports) and automatic fixes.
	$(GOLANGCI_LINT) run --fix ./...

.PHONY: verify-monitoring
verify-monitoring: promtool ## Check the alert rules with promtool and the dashboard's queries against the exported metrics.
	$(PROMTOOL) check rules config/monitoring/alerts.yaml
	cd config/monitoring && $(PROMTOOL) test rules alerts_test.yaml
	$(GO) test -count=1 -run 'TestDashboardNamesExportedMetrics|TestAlertRulesNameExportedMetrics' ./internal/metrics/

.PHONY: verify-install
verify-install: helm kustomize ## Lint and render the Helm chart, and render the kustomize install.
	$(HELM) lint --strict charts/klaxon
	$(HELM) lint --strict charts/klaxon --set metrics.serviceMonitor.enabled=true,metrics.prometheusRule.enabled=true,metrics.dashboard.enabled=true
	$(HELM) lint --strict charts/klaxon --set fallback.secretName=klaxon-fallback
	$(HELM) template klaxon charts/klaxon --namespace klaxon-system --include-crds >/dev/null
	$(KUSTOMIZE) build config/default >/dev/null
	$(KUSTOMIZE) build test/install/testdata/fallback >/dev/null

.PHONY: verify
verify: manifests generate api-docs lint verify-monitoring verify-install ## Regenerate (generated code and docs/reference), lint, check formatting and vet, check config/monitoring; fail on any difference.
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }
	@if [ -n "$$(git status --porcelain -- api config internal cmd charts docs)" ]; then \
		echo "Generated files are stale; run 'make manifests generate api-docs' and commit:"; \
		git status --porcelain -- api config internal cmd charts docs; git diff --stat; exit 1; fi

.PHONY: control-plane
control-plane: ## Build (or reuse) kube-apiserver, etcd and kubectl; print their directory.
	@hack/control-plane.sh

.PHONY: test
test: manifests generate helm kustomize ## Run every test: unit, envtest integration, end-to-end, install, and then the fault suite.
	KLAXON_HELM="$(HELM)" KLAXON_KUSTOMIZE="$(KUSTOMIZE)" \
	KUBEBUILDER_ASSETS="$$(hack/control-plane.sh)" \
	KLAXON_ALERTMANAGER_DIR="$$(hack/alertmanager.sh)" \
	KLAXON_MAILPIT_DIR="$$(hack/mailpit.sh)" \
	$(GO) test -timeout 20m $(GOTEST_FLAGS) $$($(GO) list ./... | grep -v /test/fault)
	@# Alone, so that no other test's load blurs its failover and crash timing.
	$(MAKE) fault

.PHONY: fault
fault: ## Run the fault suite: outages, crashes, failover and hostile input against the real binaries (test/fault).
	KUBEBUILDER_ASSETS="$$(hack/control-plane.sh)" \
	KLAXON_ALERTMANAGER_DIR="$$(hack/alertmanager.sh)" \
	KLAXON_MAILPIT_DIR="$$(hack/mailpit.sh)" \
	$(GO) test -count=1 -timeout 20m -v ./test/fault/

.PHONY: bench
BENCH_FLAGS ?=
bench: build ## Benchmark bin/manager on a local control plane and print the table (BENCH_FLAGS=-smoke for a quick run, BENCH_SCALE=1 for 10,000 incidents).
	KUBEBUILDER_ASSETS="$$(hack/control-plane.sh)" $(GO) run ./test/bench -manager bin/manager $(BENCH_FLAGS)

.PHONY: alertmanager
alertmanager: ## Install (or find) the pinned alertmanager and amtool; print their directory.
	@hack/alertmanager.sh

.PHONY: mailpit
mailpit: ## Install (or find) the pinned mailpit; print its directory.
	@hack/mailpit.sh

FUZZTIME ?= 20s
.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZTIME (default 20s); the receiver's runs against a local control plane.
	@KUBEBUILDER_ASSETS="$$(hack/control-plane.sh)" hack/fuzz.sh $(FUZZTIME)

##@ Build

.PHONY: build
build: ## Build the manager binary, as the Dockerfile does.
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o bin/manager ./cmd

.PHONY: plugin
plugin: ## Build the kubectl plugin (bin/kubectl-klaxon) and its completion helper.
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o bin/kubectl-klaxon ./cmd/kubectl-klaxon
	install -m 0755 cmd/kubectl-klaxon/kubectl_complete-klaxon bin/

PLUGIN_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
.PHONY: plugin-dist
plugin-dist: ## Build the release archives the krew manifest names, into dist/plugin/.
	@set -e; mkdir -p dist/plugin; for p in $(PLUGIN_PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; d=$$(mktemp -d); \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $$d/kubectl-klaxon ./cmd/kubectl-klaxon; \
	  cp cmd/kubectl-klaxon/kubectl_complete-klaxon $$d/; \
	  tar -czf dist/plugin/kubectl-klaxon_$(VERSION)_$${os}_$${arch}.tar.gz -C $$d kubectl-klaxon kubectl_complete-klaxon; \
	  rm -rf $$d; echo "dist/plugin/kubectl-klaxon_$(VERSION)_$${os}_$${arch}.tar.gz"; done

.PHONY: build-installer
build-installer: manifests kustomize ## Write dist/install.yaml, the whole kustomize install with IMG.
	@mkdir -p dist
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	cp -r config "$$tmp/"; \
	cd "$$tmp/config/manager" && $(KUSTOMIZE) edit set image controller=$(IMG); \
	$(KUSTOMIZE) build "$$tmp/config/default" > $(CURDIR)/dist/install.yaml
	@echo "wrote dist/install.yaml (image $(IMG))"

.PHONY: docker-build
docker-build: ## Build the container image (needs a Docker engine).
	docker build --build-arg VERSION=$(VERSION) -t $(IMG) .

.PHONY: run
run: ## Run the operator against the cluster of the current kubeconfig.
	$(GO) run ./cmd

.PHONY: dev
dev: ## Run Klaxon on a local control plane with the samples applied and mailpit catching its mail.
	$(GO) build -o bin/klaxon-dev ./hack/dev
	KUBEBUILDER_ASSETS="$$(hack/control-plane.sh)" \
	KLAXON_MAILPIT_DIR="$$(hack/mailpit.sh)" \
	bin/klaxon-dev

.PHONY: install
install: manifests ## Install the CRDs and the admission policy into the current cluster.
	KUBECTL="$$(hack/control-plane.sh)/kubectl"; \
	$$KUBECTL apply -k config/crd && $$KUBECTL apply -k config/admission

.PHONY: uninstall
uninstall: ## Remove the CRDs and the admission policy from the current cluster.
	KUBECTL="$$(hack/control-plane.sh)/kubectl"; \
	$$KUBECTL delete --ignore-not-found -k config/admission && $$KUBECTL delete --ignore-not-found -k config/crd

.PHONY: deploy
deploy: manifests ## Install Klaxon into the current cluster (image set in config/manager).
	KUBECTL="$$(hack/control-plane.sh)/kubectl"; \
	$$KUBECTL apply -k config/default

##@ Tools

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN)
$(CONTROLLER_GEN): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) $(GO) install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT) ## Install the pinned golangci-lint into ./bin.
$(GOLANGCI_LINT): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(LOCALBIN)/golangci-lint $@

# kube-api-linter is a golangci-lint module plugin, normally linked in by
# `golangci-lint custom`, which clones golangci-lint with git. Instead, its own
# main package (cmd/golangci-lint-kube-api-linter: golangci-lint with the
# plugin compiled in) is built from the module proxy, in a throwaway module
# outside the clone that pins golangci-lint to GOLANGCI_LINT_VERSION. Nothing
# of it is kept but the binary.
.PHONY: kube-api-linter
kube-api-linter: $(KUBE_API_LINTER) ## Build golangci-lint with the pinned kube-api-linter into ./bin.
$(KUBE_API_LINTER): | $(LOCALBIN)
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; cd "$$tmp"; \
	export GOWORK=off GOFLAGS="$$GOFLAGS -mod=mod"; \
	$(GO) mod init klaxon.invalid/kube-api-linter-build 2>/dev/null; \
	$(GO) get sigs.k8s.io/kube-api-linter/cmd/golangci-lint-kube-api-linter@$(KUBE_API_LINTER_VERSION) \
		github.com/golangci/golangci-lint/v2@$(GOLANGCI_LINT_VERSION); \
	echo "go build -o $@ sigs.k8s.io/kube-api-linter/cmd/golangci-lint-kube-api-linter"; \
	$(GO) build -o $@ sigs.k8s.io/kube-api-linter/cmd/golangci-lint-kube-api-linter

# go-install installs package@version ($(1)), a main package whose binary
# is named $(2), into the target's path, outside any workspace and without
# leaving a half-written binary behind.
define go-install
@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
echo "go install $(1)"; \
GOWORK=off GOBIN="$$tmp" $(GO) install $(1); \
mv "$$tmp/$(2)" $@
endef

# promtool builds with a plain go install from the module proxy (some
# Prometheus releases did not, because of replace directives; this one does).
# It takes minutes once; the binary carries its version in its name.
.PHONY: promtool
promtool: $(PROMTOOL) ## Install the pinned promtool into ./bin.
$(PROMTOOL): | $(LOCALBIN)
	$(call go-install,github.com/prometheus/prometheus/cmd/promtool@$(PROMTOOL_VERSION),promtool)

# helm and kustomize install with a plain go install from the module proxy;
# each takes minutes once, and the binary carries its version in its name.
.PHONY: helm
helm: $(HELM) ## Install the pinned helm into ./bin.
$(HELM): | $(LOCALBIN)
	$(call go-install,helm.sh/helm/v4/cmd/helm@$(HELM_VERSION),helm)

.PHONY: kustomize
kustomize: $(KUSTOMIZE) ## Install the pinned kustomize into ./bin.
$(KUSTOMIZE): | $(LOCALBIN)
	$(call go-install,sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION),kustomize)

# crd-ref-docs installs with a plain go install from the module proxy; the
# binary carries its version in its name.
.PHONY: crd-ref-docs
crd-ref-docs: $(CRD_REF_DOCS) ## Install the pinned crd-ref-docs into ./bin.
$(CRD_REF_DOCS): | $(LOCALBIN)
	$(call go-install,github.com/elastic/crd-ref-docs@$(CRD_REF_DOCS_VERSION),crd-ref-docs)

$(LOCALBIN):
	mkdir -p $(LOCALBIN)
