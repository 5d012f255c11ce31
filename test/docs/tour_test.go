package docs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/operator"
	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
	"github.com/klaxon-dev/klaxon/internal/test/suite"
)

// tourUser is who runs the tour's commands: the user the README's output
// names as the actor.
const tourUser = "alice"

// tourNamespace is where make dev applies the samples, and where the
// tour's commands act (its kubeconfig names no namespace).
const tourNamespace = "default"

// skipped are the README's commands a test cannot run, matched by prefix,
// with the reason. Keep it short: every other command runs.
var skipped = []struct{ prefix, why string }{
	{"make dev", "this test stands in for it: the same local control plane, the samples applied as a user, the operator running; make dev itself runs until Ctrl-C"},
	{"make test", "it runs this test"},
	{"curl -s http://127.0.0.1:8025/", "it needs mailpit on make dev's fixed ports, and jq; the output shown after it is that mailpit listing (test/e2e checks mail delivery through mailpit)"},
}

// checks are what a command's output must show beyond what the README
// prints after it, matched by prefix: the README's prose says it.
var checks = map[string]func(stdout string) error{
	// "every sample person has a Responder whose pages go by mail through
	// the mail channel"
	"kubectl get inc payment-gateway-timeouts -o jsonpath='{.status.notifications}'": func(stdout string) error {
		var deliveries []klaxonv1alpha1.Notification
		if err := json.Unmarshal([]byte(stdout), &deliveries); err != nil {
			return fmt.Errorf("the sample incident's notifications are not a JSON list: %w", err)
		}
		if len(deliveries) == 0 {
			return errors.New("the sample incident has no notification: nobody was paged, or the page planned no delivery")
		}
		for _, d := range deliveries {
			if d.Responder == "" || d.Channel != "mail" {
				return fmt.Errorf("a delivery of the sample incident is for responder %q through channel %q, not a sample person's mail", d.Responder, d.Channel)
			}
		}
		return nil
	},
}

// tourBlock is an sh block of the README, with the output the README shows
// for it.
type tourBlock struct {
	line int
	cmds []command
	// prompted blocks write "$ command" followed by what it prints: wants
	// holds that, command by command (stdout, or stderr when it fails).
	prompted bool
	wants    [][]string
	// want is the output block shown right after an unprompted block: what
	// its commands print to stdout, together.
	want []string
}

// parseTour returns the sh blocks of the README, in order.
func parseTour(readme string) ([]tourBlock, error) {
	var out []tourBlock
	bs := blocks(readme)
	for i, b := range bs {
		if b.lang != "sh" {
			continue
		}
		tb := tourBlock{line: b.line}
		prompted := false
		for _, l := range b.lines {
			prompted = prompted || strings.HasPrefix(l, "$ ")
		}
		if prompted {
			var err error
			if tb.cmds, tb.wants, err = splitPrompted(b.lines, b.line+1); err != nil {
				return nil, err
			}
			tb.prompted = true
		} else {
			tb.cmds = splitCommands(b.lines, b.line+1)
			if i+1 < len(bs) && bs[i+1].lang == "" && bs[i+1].follows {
				tb.want = bs[i+1].lines
			}
		}
		out = append(out, tb)
	}
	return out, nil
}

// splitPrompted splits a block of "$ command" lines, each followed by what
// it prints, into commands and outputs.
func splitPrompted(lines []string, first int) ([]command, [][]string, error) {
	var (
		cmds  []command
		wants [][]string
		quote rune
		more  bool // the command goes on on the next line
	)
	for i, l := range lines {
		switch {
		case more:
			cmds[len(cmds)-1].text += "\n" + l
		case strings.HasPrefix(l, "$ "):
			l = strings.TrimPrefix(l, "$ ")
			cmds = append(cmds, command{text: l, line: first + i})
			wants = append(wants, nil)
		case len(cmds) == 0:
			return nil, nil, fmt.Errorf("README line %d: a prompted block starts with output, not a $ command", first+i)
		default:
			wants[len(wants)-1] = append(wants[len(wants)-1], l)
			continue
		}
		var continued bool
		var heredocs []string
		quote, continued, heredocs = lineState(l, quote)
		if len(heredocs) > 0 {
			return nil, nil, fmt.Errorf("README line %d: a here-document in a prompted block: write it as a plain block", first+i)
		}
		more = quote != 0 || continued
	}
	return cmds, wants, nil
}

// ageField is how kubectl shows an age; the README's ages are examples.
var ageField = regexp.MustCompile(`^(?:\d+(?:ms|s|m|h|d|y))+$|^<invalid>$|^<unknown>$`)

// matchLines says whether every line of want appears in got, in order,
// field by field (so column widths do not matter), an age matching any age.
func matchLines(want []string, got string) error {
	gotLines := strings.Split(got, "\n")
	j := 0
	for _, w := range want {
		wf := strings.Fields(w)
		if len(wf) == 0 {
			continue
		}
		for ; j < len(gotLines); j++ {
			if fieldsMatch(wf, strings.Fields(gotLines[j])) {
				break
			}
		}
		if j == len(gotLines) {
			return fmt.Errorf("no line (in order) matches %q", w)
		}
		j++
	}
	return nil
}

func fieldsMatch(want, got []string) bool {
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if want[i] != got[i] && (!ageField.MatchString(want[i]) || !ageField.MatchString(got[i])) {
			return false
		}
	}
	return true
}

// reads are commands that change nothing, so a command whose output is not
// there yet can be run again while the operator catches up.
var reads = regexp.MustCompile(`^kubectl\s+(get|describe)\s`)

// shell runs commands with bash as a person's terminal would, keeping the
// environment their exports leave from one command to the next.
type shell struct {
	bash, dir, envFile, kubectlFile string
	env                             []string
	// kubectlDir is the control-plane cache the README's PATH line names.
	kubectlDir string
	// kubectl is the kubectl the last command found on its PATH.
	kubectl string
}

// run runs one command and returns what it printed.
func (s *shell) run(ctx context.Context, text string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	script := text + "\n__klaxon_status=$?\nenv -0 >" + s.envFile + "\ncommand -v kubectl >" + s.kubectlFile + "\nexit $__klaxon_status\n"
	cmd := exec.CommandContext(ctx, s.bash, "--noprofile", "--norc", "-c", script)
	cmd.Dir, cmd.Env = s.dir, s.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	runErr := cmd.Run()
	if env, readErr := os.ReadFile(s.envFile); readErr == nil && len(env) > 0 {
		s.env = strings.Split(strings.TrimSuffix(string(env), "\x00"), "\x00")
		_ = os.Remove(s.envFile)
	}
	if found, readErr := os.ReadFile(s.kubectlFile); readErr == nil {
		s.kubectl = strings.TrimSpace(string(found))
		_ = os.Remove(s.kubectlFile)
	}
	return out.String(), errOut.String(), runErr
}

// makeVariable reads a variable's default from the Makefile ("NAME ?= value").
func makeVariable(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + name + `\s*\?=\s*(\S+)`).FindSubmatch(data)
	if m == nil {
		t.Fatalf("the Makefile sets no %s", name)
	}
	return string(m[1])
}

// requireControlPlane skips the test without the control plane make test
// builds, unless it runs in CI, where that is a failure.
func requireControlPlane(t *testing.T) string {
	t.Helper()
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets != "" {
		return assets
	}
	const msg = "KUBEBUILDER_ASSETS is not set: `make test` runs this test, with the kube-apiserver, etcd and kubectl it builds (hack/control-plane.sh)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// TestReadmeTour runs the README's commands in order with the real kubectl
// against a local control plane with the CRDs, admission policies and
// samples installed and the operator running, as make dev leaves it, and
// checks that each prints what the README shows (ages aside).
func TestReadmeTour(t *testing.T) {
	assets := requireControlPlane(t)
	readme, err := os.ReadFile(filepath.Join(repoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	tour, err := parseTour(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	sh := startTourShell(t, assets)

	ctx := context.Background()
	env := startDevEnvironment(ctx, t, sh)

	ran, compared := 0, 0
	used := map[string]bool{}
	for _, b := range tour {
		var outputs []string
		blockWant := b.want
		for _, c := range b.cmds {
			if skipReason(c.text) != "" && len(blockWant) > 0 {
				t.Logf("README line %d: the output shown after this block is not compared: a command of the block is skipped", b.line)
				blockWant = nil
			}
		}
		for i, c := range b.cmds {
			if why := skipReason(c.text); why != "" {
				t.Logf("README line %d: skipped %q: %s", c.line, firstLine(c.text), why)
				used[skipPrefix(c.text)] = true
				continue
			}
			var want []string
			if b.prompted {
				want = b.wants[i]
			} else if i == len(b.cmds)-1 {
				want = blockWant
			}
			stdout := runStep(ctx, t, sh, env, c, b.prompted, want, outputs, used)
			outputs = append(outputs, stdout)
			ran++
			if len(want) > 0 {
				compared++
			}
		}
	}
	for _, s := range skipped {
		if !used[s.prefix] {
			t.Errorf("the skip list names %q, which the README no longer runs: remove it", s.prefix)
		}
	}
	for prefix := range checks {
		if !used[prefix] {
			t.Errorf("the checks name %q, which the README no longer runs: remove or update it", prefix)
		}
	}
	if ran == 0 || compared == 0 {
		t.Fatalf("the README's tour ran %d commands and compared %d outputs: its sh blocks were not found", ran, compared)
	}
	t.Logf("ran %d commands of the README, %d of them with the output it shows", ran, compared)
}

// runStep runs one command and checks it against what the README shows;
// before is what the block's earlier commands printed, for an output block
// that shows the whole block's.
func runStep(ctx context.Context, t *testing.T, sh *shell, env *devEnvironment, c command, prompted bool, want, before []string, used map[string]bool) string {
	t.Helper()
	check := checkFor(c.text)
	if check != nil {
		used[checkPrefix(c.text)] = true
	}
	deadline := time.Now().Add(suite.DefaultTimeout)
	for {
		stdout, stderr, err := sh.run(ctx, c.text)
		problem := judge(prompted, want, before, stdout, stderr, err)
		if problem == "" && strings.HasPrefix(c.text, "kubectl ") && sh.kubectl != filepath.Join(sh.kubectlDir, "kubectl") {
			problem = fmt.Sprintf("kubectl ran from %s, not from %s, the control-plane cache the README's PATH line names", sh.kubectl, sh.kubectlDir)
		}
		if problem == "" && check != nil {
			if checkErr := check(stdout); checkErr != nil {
				problem = checkErr.Error()
			}
		}
		if problem == "" {
			if !reads.MatchString(c.text) {
				env.settle(t)
			}
			return stdout
		}
		// A read may show what the operator has not done yet: ask again,
		// as a person would, until the timeout.
		if !reads.MatchString(c.text) || time.Now().After(deadline) {
			t.Fatalf("README line %d: %s\n%s\nexit: %v\nstdout:\n%s\nstderr:\n%s", c.line, c.text, problem, err, stdout, stderr)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// judge compares a command's outcome with the README; "" when it agrees.
func judge(prompted bool, want, before []string, stdout, stderr string, err error) string {
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return fmt.Sprintf("the command did not run: %v", err)
	}
	failed := err != nil
	switch {
	case prompted && len(want) > 0 && failed:
		// The README shows a refusal: it is what the command says on stderr.
		if mErr := matchLines(want, stderr); mErr != nil {
			return "it failed, but not as the README shows: " + mErr.Error()
		}
		return ""
	case failed:
		return "it failed; the README shows it succeeding"
	case len(want) > 0:
		if mErr := matchLines(want, strings.Join(append(before, stdout), "")); mErr != nil {
			return "its output is not what the README shows: " + mErr.Error()
		}
	}
	return ""
}

func skipReason(text string) string {
	for _, s := range skipped {
		if strings.HasPrefix(text, s.prefix) {
			return s.why
		}
	}
	return ""
}

func skipPrefix(text string) string {
	for _, s := range skipped {
		if strings.HasPrefix(text, s.prefix) {
			return s.prefix
		}
	}
	return ""
}

func checkFor(text string) func(string) error {
	if p := checkPrefix(text); p != "" {
		return checks[p]
	}
	return nil
}

func checkPrefix(text string) string {
	for p := range checks {
		if strings.HasPrefix(text, p) {
			return p
		}
	}
	return ""
}

func firstLine(text string) string {
	first, _, _ := strings.Cut(text, "\n")
	return first
}

// startTourShell prepares the terminal the tour's commands run in: a
// working directory standing for the clone (bin/dev/kubeconfig is written
// there) and a home whose control-plane cache, at the path
// hack/control-plane.sh uses for the Makefile's versions, is the
// KUBEBUILDER_ASSETS directory.
func startTourShell(t *testing.T, assets string) *shell {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("the README's commands run in bash: %v", err)
	}
	if _, err = os.Stat(filepath.Join(assets, "kubectl")); err != nil {
		t.Fatalf("no kubectl in KUBEBUILDER_ASSETS (%s): hack/control-plane.sh builds it: %v", assets, err)
	}
	root := t.TempDir()
	work, home := filepath.Join(root, "klaxon"), filepath.Join(root, "home")
	cache := filepath.Join(home, ".cache", "klaxon", "control-plane")
	for _, d := range []string{filepath.Join(work, "bin", "dev"), cache} {
		if err = os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	versions := "kube-" + makeVariable(t, "KUBE_VERSION") + "-etcd-" + makeVariable(t, "ETCD_VERSION")
	absAssets, err := filepath.Abs(assets)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(absAssets, filepath.Join(cache, versions)); err != nil {
		t.Fatal(err)
	}
	return &shell{
		bash: bash, dir: work, envFile: filepath.Join(root, "env"), kubectlFile: filepath.Join(root, "kubectl"),
		kubectlDir: filepath.Join(cache, versions),
		env: []string{
			"HOME=" + home, "PWD=" + work, "USER=" + tourUser,
			"PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8",
		},
	}
}

// devEnvironment is what make dev leaves running: a local control plane
// with the samples applied as a user and the operator.
type devEnvironment struct {
	cluster *localcluster.Cluster
}

// startDevEnvironment starts it, writing the user's kubeconfig where the
// README's export points, into the shell's working directory.
func startDevEnvironment(ctx context.Context, t *testing.T, sh *shell) *devEnvironment {
	t.Helper()
	suite.SetLogger()
	cluster, err := localcluster.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if stopErr := cluster.Stop(); stopErr != nil {
			t.Errorf("stopping the control plane: %v", stopErr)
		}
	})
	kubeconfig, err := cluster.AddUser(tourUser)
	if err != nil {
		t.Fatal(err)
	}
	if err = os.WriteFile(filepath.Join(sh.dir, "bin", "dev", "kubeconfig"), kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	userConfig, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	userClient, err := client.New(userConfig, client.Options{Scheme: operator.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	// As make dev does: the samples first, so the sample incident pages
	// with every Responder and channel in place.
	if err = localcluster.ApplyFiles(ctx, userClient, filepath.Join(localcluster.RepoRoot(), "config", "samples"), tourNamespace); err != nil {
		t.Fatalf("applying the samples: %v", err)
	}
	_, stop, err := suite.StartOperator(cluster.OperatorConfig, operator.Options{MetricsAddr: "0", ProbeAddr: "0", ReceiverAddr: "0", EgressAllow: suite.LoopbackEgress})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("stopping the operator: %v", err)
		}
	})
	env := &devEnvironment{cluster: cluster}
	env.settle(t)
	return env
}

// settle waits until the operator has acted on every incident's latest
// spec, as a person reading the output of one command before typing the
// next gives it time to: moves made faster than a reconcile are seen as
// one by design (docs/development.md, "Design notes").
func (e *devEnvironment) settle(t *testing.T) {
	t.Helper()
	suite.Eventually(t, "the operator to act on every incident's spec", suite.DefaultTimeout, func(ctx context.Context) (bool, error) {
		var incidents klaxonv1alpha1.IncidentList
		if err := e.cluster.Admin.List(ctx, &incidents, client.InNamespace(tourNamespace)); err != nil {
			return false, err
		}
		for _, inc := range incidents.Items {
			if inc.Status.ObservedGeneration != inc.Generation {
				return false, nil
			}
		}
		return true, nil
	})
}
