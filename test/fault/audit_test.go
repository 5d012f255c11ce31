package fault

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
)

// auditPolicy logs every request the operator's identity makes, with its
// verb, resource and answer, and nothing else.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  users: ["` + localcluster.OperatorUser + `"]
- level: None
`

// rbacFiles are the operator's shipped roles.
var rbacFiles = []string{"role.yaml", "leader_election_role.yaml", "ack_key_role.yaml", "secret_reader_role.yaml"}

// unexercised are the grants the suite does not use, and why they are
// granted all the same.
var unexercised = map[string]string{
	"klaxon.dev/incidents delete":       "--closed-incident-retention deletes closed incidents; the suite keeps them (internal/controller tests the deletion)",
	"events.k8s.io/events patch":        "a repeated Event is patched into a series",
	"klaxon.dev/oncalloverrides delete": "--override-retention deletes ended overrides; the suite's operator keeps them (internal/controller tests the deletion)",
	"/events patch":                     "leader election's repeated Events are patched",
}

// streamed tells whether a list or get grant is justified by a watch the
// operator made. Informers stream their initial list through the watch
// (WatchList) and fall back to list on API servers that cannot. A get
// reveals nothing a list does not; reads go through the cache, and live
// only when it has not seen an object yet (the receiver's route reads).
func streamed(grant string, used map[string]int) bool {
	resource, verb, _ := strings.Cut(grant, " ")
	return (verb == "list" || verb == "get") && used[resource+" watch"] > 0
}

// auditRBAC checks the operator's roles against what the operator did
// during the suite, from kube-apiserver's audit log: no grant has a
// wildcard, every grant was used (or is listed in unexercised with its
// reason), and nothing the operator asked for was refused but reading
// Secrets of namespaces that do not grant it. It needs the whole suite: a
// run of some tests only exercises some grants.
func auditRBAC() error {
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() != "" {
		return nil
	}
	granted, err := grants()
	if err != nil {
		return err
	}
	if err = secretScope(); err != nil {
		return err
	}
	used, refused, err := operatorRequests(auditLog)
	if err != nil {
		return err
	}
	var problems []string
	for _, g := range granted {
		if strings.Contains(g, "*") {
			problems = append(problems, "a wildcard grant: "+g)
		}
		if used[g] == 0 && unexercised[g] == "" && !streamed(g, used) {
			problems = append(problems, "granted, never used: "+g)
		}
	}
	for r := range refused {
		if r != "/secrets get" {
			problems = append(problems, "refused to the operator: "+r)
		}
	}
	for u := range used {
		if !slices.Contains(granted, u) {
			problems = append(problems, "used without a grant: "+u)
		}
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		return fmt.Errorf("the operator's RBAC does not match what it does:\n  %s", strings.Join(problems, "\n  "))
	}
	fmt.Printf("rbac audit: %d grants, every one used or justified; %d kinds of request made\n", len(granted), len(used))
	return nil
}

// secretScope checks where the roles let the operator read Secrets, which
// grants() does not tell: the cluster-wide manager role grants nothing on
// Secrets; the secret-reader ClusterRole, bound per namespace, only gets;
// in its own namespace the operator may get only its acknowledge-link key.
func secretScope() error {
	var problems []string
	for _, file := range []string{"role.yaml", "secret_reader_role.yaml", "ack_key_role.yaml", "leader_election_role.yaml"} {
		role, err := readRole(file)
		if err != nil {
			return err
		}
		for _, rule := range role.Rules {
			if !slices.Contains(rule.Resources, "secrets") {
				continue
			}
			switch {
			case file == "secret_reader_role.yaml" && slices.Equal(rule.Verbs, []string{"get"}) && len(rule.ResourceNames) == 0:
			case file == "ack_key_role.yaml" && slices.Equal(rule.Verbs, []string{"get"}) && slices.Equal(rule.ResourceNames, []string{"klaxon-ack-key"}):
			case file == "ack_key_role.yaml" && slices.Equal(rule.Verbs, []string{"create"}):
				// Create cannot be limited by name; the operator creates its
				// key once.
			default:
				problems = append(problems, fmt.Sprintf("%s grants %v on Secrets (names %v)", file, rule.Verbs, rule.ResourceNames))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("the roles reach Secrets beyond what the operator needs:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

// readRole reads one of the shipped roles; a Role's rules read the same as
// a ClusterRole's.
func readRole(file string) (*rbacv1.ClusterRole, error) {
	data, err := os.ReadFile(filepath.Join(localcluster.RepoRoot(), "config", "rbac", file))
	if err != nil {
		return nil, err
	}
	role := &rbacv1.ClusterRole{}
	if err := utilyaml.Unmarshal(data, role); err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	return role, nil
}

// grants lists the shipped roles' grants as "group/resource verb".
func grants() ([]string, error) {
	var out []string
	for _, file := range rbacFiles {
		role, err := readRole(file)
		if err != nil {
			return nil, err
		}
		for _, rule := range role.Rules {
			for _, group := range rule.APIGroups {
				for _, resource := range rule.Resources {
					for _, verb := range rule.Verbs {
						if g := group + "/" + resource + " " + verb; !slices.Contains(out, g) {
							out = append(out, g)
						}
					}
				}
			}
		}
	}
	return out, nil
}

// auditEvent is the part of an audit.k8s.io/v1 Event the audit reads.
type auditEvent struct {
	Verb string `json:"verb"`
	User struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef *struct {
		APIGroup    string `json:"apiGroup"`
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
	RequestReceivedTimestamp time.Time `json:"requestReceivedTimestamp"`
}

// apiServerRestarts are the instants the outage test started kube-apiserver
// again. For a few seconds after, until its RBAC informers have synced, it
// refuses what the roles allow; those refusals are the API server's, not
// the roles'.
var apiServerRestarts []time.Time

// justRestarted tells whether at falls in those seconds.
func justRestarted(at time.Time) bool {
	for _, r := range apiServerRestarts {
		if !at.Before(r) && at.Before(r.Add(10*time.Second)) {
			return true
		}
	}
	return false
}

// operatorRequests counts the operator's resource requests in the audit
// log, as "group/resource verb", and those refused with 403.
func operatorRequests(path string) (used, refused map[string]int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the audit log: %w", err)
	}
	defer func() { _ = f.Close() }()
	used, refused = map[string]int{}, map[string]int{}
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for scanner.Scan() {
		var e auditEvent
		if err := json.Unmarshal(scanner.Bytes(), &e); err != nil {
			return nil, nil, fmt.Errorf("reading the audit log: %w", err)
		}
		if e.User.Username != localcluster.OperatorUser || e.ObjectRef == nil || e.ObjectRef.Resource == "" {
			continue // API discovery and the like
		}
		resource := e.ObjectRef.Resource
		if e.ObjectRef.Subresource != "" {
			resource += "/" + e.ObjectRef.Subresource
		}
		key := e.ObjectRef.APIGroup + "/" + resource + " " + e.Verb
		if e.ResponseStatus != nil && e.ResponseStatus.Code == 403 {
			if !justRestarted(e.RequestReceivedTimestamp) {
				refused[key]++
			}
			continue
		}
		used[key]++
	}
	if err := scanner.Err(); err != nil {
		return nil, nil, fmt.Errorf("reading the audit log: %w", err)
	}
	if len(used) == 0 {
		return nil, nil, errors.New("the audit log holds no request of the operator")
	}
	return used, refused, nil
}
