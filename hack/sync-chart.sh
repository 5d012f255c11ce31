#!/usr/bin/env bash
# Copies what the chart shares with config/ into charts/klaxon: the CRDs, the
# RBAC rules (the manager's are generated from the kubebuilder markers), the
# admission policies and the monitoring rules and dashboard. Helm reads
# nothing outside a chart's directory, so these are committed copies; `make
# verify` fails when they are stale, and a test compares the rendered chart
# with the kustomize install.
set -euo pipefail
cd "$(dirname "$0")/.."
chart=charts/klaxon
rm -rf "$chart/crds" "$chart/files"
mkdir -p "$chart/crds" "$chart/files/rbac" "$chart/files/admission" "$chart/files/monitoring"
cp config/crd/bases/*.yaml "$chart/crds/"
for role in role leader_election_role ack_key_role metrics_auth_role metrics_reader_role secret_reader_role incident_editor_role incident_viewer_role; do
	cp "config/rbac/$role.yaml" "$chart/files/rbac/"
done
cp config/admission/actor_policy.yaml config/admission/labels_policy.yaml config/admission/source_policy.yaml "$chart/files/admission/"
cp config/monitoring/alerts.yaml config/monitoring/dashboard.json "$chart/files/monitoring/"
