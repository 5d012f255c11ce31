package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	// The time zone database is compiled in, so schedules and maintenance
	// windows read the same zones whatever the image or host holds.
	_ "time/tzdata"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	// Load every client auth plugin (OIDC, GCP, Azure...) for out-of-cluster use.
	_ "k8s.io/client-go/plugin/pkg/client/auth"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/acklink/keystore"
	"github.com/klaxon-dev/klaxon/internal/controller"
	"github.com/klaxon-dev/klaxon/internal/egress"
	"github.com/klaxon-dev/klaxon/internal/operator"
	"github.com/klaxon-dev/klaxon/internal/receiver"
)

// version is stamped at build time: -ldflags "-X main.version=v0.1.0".
var version = "dev"

func main() {
	var o operator.Options
	var showVersion bool
	var qps, receiverQPS float64
	var burst, receiverBurst int
	var namespaces, egressAllow, egressDeny string
	flag.BoolVar(&showVersion, "version", false, "Print the version and exit.")
	// High enough not to throttle an alert storm; API Priority and
	// Fairness protects the API server.
	flag.Float64Var(&qps, "kube-api-qps", 300, "Requests per second the controllers may make to the API server.")
	flag.IntVar(&burst, "kube-api-burst", 600, "Requests the controllers may make to the API server in a burst above --kube-api-qps.")
	flag.Float64Var(&receiverQPS, "receiver-kube-api-qps", 300,
		"Requests per second the receiver may make to the API server, apart from the controllers', so that an alert storm never starves paging.")
	flag.IntVar(&receiverBurst, "receiver-kube-api-burst", 600, "Requests the receiver may make in a burst above --receiver-kube-api-qps.")
	flag.IntVar(&o.IncidentWorkers, "incident-workers", controller.DefaultIncidentWorkers,
		"How many incidents are reconciled at once; one incident is never reconciled twice at once.")
	flag.StringVar(&o.PprofAddr, "pprof-bind-address", "0", "The address of the pprof profiling endpoints, such as 127.0.0.1:6060; 0 turns them off.")
	flag.StringVar(&namespaces, "watch-namespaces", "",
		"Comma-separated namespaces whose objects the manager watches and caches; every namespace when empty. Incidents, routes and the rest outside them are ignored.")
	flag.StringVar(&o.MetricsAddr, "metrics-bind-address", "0",
		"The address the metrics endpoint binds to, :8443 for HTTPS or :8080 for HTTP; 0 turns it off.")
	flag.BoolVar(&o.SecureMetrics, "metrics-secure", true,
		"Serve metrics over HTTPS, behind Kubernetes authentication and authorization.")
	flag.StringVar(&o.ProbeAddr, "health-probe-bind-address", ":8081", "The address the health probes bind to.")
	flag.BoolVar(&o.LeaderElection, "leader-elect", false,
		"Elect a leader, so only one replica pages and escalates.")
	flag.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", "",
		"Namespace of the leader election lease; needed when running outside a cluster.")
	flag.DurationVar(&o.LeaseDuration, "leader-elect-lease-duration", 15*time.Second,
		"How long a leader's lease lasts; when the leader dies, another replica takes over paging within it.")
	flag.DurationVar(&o.RenewDeadline, "leader-elect-renew-deadline", 10*time.Second,
		"How long the leader keeps trying to renew its lease before it stops leading; shorter than the lease duration.")
	flag.DurationVar(&o.RetryPeriod, "leader-elect-retry-period", 2*time.Second,
		"How often replicas try to acquire or renew the lease.")
	flag.StringVar(&o.ReceiverAddr, "receiver-bind-address", receiver.DefaultAddr,
		"The address the Alertmanager webhook receiver binds to; 0 turns it off.")
	flag.Int64Var(&o.ReceiverMaxBodyBytes, "receiver-max-body-bytes", receiver.DefaultMaxBodyBytes,
		"The largest webhook body the receiver accepts; larger ones are answered 413.")
	flag.IntVar(&o.ReceiverMaxConcurrentParses, "receiver-max-concurrent-parses", receiver.DefaultMaxConcurrentParses,
		"How many webhook bodies the receiver reads and parses at once; more wait up to a second, then are answered 503.")
	flag.DurationVar(&o.ClosedIncidentRetention, "closed-incident-retention", 0,
		"How long a closed incident is kept after it was closed (status.closedAt) before it is deleted, such as 2160h for 90 days; 0 keeps closed incidents.")
	flag.DurationVar(&o.OverrideRetention, "override-retention", controller.DefaultOverrideRetention,
		"How long an OnCallOverride is kept after its end before it is deleted; 0 keeps ended overrides.")
	flag.StringVar(&o.PublicURL, "public-url", "",
		"The URL under which people reach the receiver's HTTP server, such as https://klaxon.example.com; messages link to incidents under it. Empty leaves links out.")
	flag.StringVar(&o.AckKeyNamespace, "ack-key-namespace", ackKeyNamespace(),
		"The namespace of the Secret "+keystore.SecretName+" holding the acknowledge link key, which the operator creates when missing; the operator's own namespace.")
	flag.DurationVar(&o.AckLinkTTL, "ack-link-ttl", acklink.DefaultTTL,
		"How long an acknowledge link in a page stays valid.")
	// Per-client limits behind an ingress, and the status page cache.
	flag.Func("trusted-proxies",
		"Comma-separated CIDRs or addresses of the proxies (an ingress, a load balancer) in front of the receiver: a request from one of them is limited by the right-most address of its X-Forwarded-For that is not a listed proxy. Empty trusts no X-Forwarded-For.",
		func(v string) (err error) {
			o.ReceiverTrustedProxies, err = receiver.ParseTrustedProxies(v)
			return err
		})
	flag.DurationVar(&o.StatusPageCacheTTL, "status-page-cache-ttl", receiver.DefaultStatusCacheTTL,
		"How long a rendered status page or feed is served to every reader before it is rendered again.")
	flag.StringVar(&egressAllow, "egress-allow", "",
		"Comma-separated CIDRs and host:ports that channels and AlertRoutes' Alertmanagers may reach although Klaxon refuses them by default "+
			"(loopback, link-local and cloud metadata, unspecified, multicast, and with --egress-deny-private the private ranges), "+
			"such as 10.20.0.0/16,smtp.internal:587. Only a host:port entry reaches the operator's own pod or the API server.")
	flag.StringVar(&egressDeny, "egress-deny", "",
		"Comma-separated CIDRs and host:ports that channels and AlertRoutes' Alertmanagers may never reach, whatever --egress-allow says.")
	flag.BoolVar(&o.EgressDenyPrivate, "egress-deny-private", false,
		"Also refuse the private ranges (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7, ...) unless --egress-allow names them: "+
			"for an operator whose channels should only reach the internet.")
	flag.StringVar(&o.FallbackReceiverFile, "fallback-receiver-file", "",
		"A file holding one Alertmanager receiver block (as under receivers: in alertmanager.yml), such as a mounted Secret's key, "+
			"through which Klaxon pages that it cannot reach the Kubernetes API server while notifications wait; empty turns the fallback off.")
	flag.DurationVar(&o.FallbackAfter, "fallback-after", operator.DefaultFallbackAfter,
		"How long the API server must have been unreachable, with notifications waiting that Klaxon cannot record, before the fallback pages.")
	flag.DurationVar(&o.FallbackRepeat, "fallback-repeat", operator.DefaultFallbackRepeat,
		"The least time between two fallback pages while one outage lasts.")
	zapOpts := zap.Options{Development: false}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	if showVersion {
		fmt.Println("klaxon", version)
		return
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	setupLog := ctrl.Log.WithName("setup")
	for ns := range strings.SplitSeq(namespaces, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			o.WatchNamespaces = append(o.WatchNamespaces, ns)
		}
	}

	if err := egressFlags(&o, egressAllow, egressDeny); err != nil {
		setupLog.Error(err, "Invalid flag")
		os.Exit(1)
	}

	cfg := ctrl.GetConfigOrDie()
	cfg.QPS, cfg.Burst = float32(qps), burst
	o.ReceiverQPS, o.ReceiverBurst = float32(receiverQPS), receiverBurst
	setupLog.Info("Starting", "version", version, "watchNamespaces", o.WatchNamespaces)
	ctx := ctrl.SetupSignalHandler()
	if err := waitForAPIServer(ctx, cfg, setupLog); err != nil {
		if ctx.Err() != nil {
			return // stopped while waiting
		}
		setupLog.Error(err, "Unable to reach the API server")
		os.Exit(1)
	}
	mgr, err := operator.New(cfg, o)
	if err != nil {
		setupLog.Error(err, "Unable to set up the manager")
		os.Exit(1)
	}
	setupLog.Info("Starting manager")
	if err := mgr.Start(ctx); err != nil {
		setupLog.Error(err, "Manager stopped with an error")
		os.Exit(1)
	}
}

// ackKeyNamespace is the operator's own namespace, from the downward API
// (config/manager/manager.yaml sets POD_NAMESPACE).
func ackKeyNamespace() string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	return keystore.DefaultNamespace
}

// waitForAPIServer waits until the API server answers discovery and
// serves every Klaxon kind, which setting up the manager needs. An
// operator started during an API server outage (a leader that lost its
// lease to one exits and is restarted) then waits for it, instead of
// exiting at once and being restarted by its kubelet after ever longer
// back-offs; so does one started while kube-apiserver, just started, has
// not loaded the CRDs yet, or before they are installed.
func waitForAPIServer(ctx context.Context, cfg *rest.Config, log logr.Logger) error {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return fmt.Errorf("creating a discovery client: %w", err)
	}
	kinds := operator.Kinds()
	return wait.PollUntilContextCancel(ctx, 2*time.Second, true, func(context.Context) (bool, error) {
		if _, err := dc.ServerGroups(); err != nil {
			log.Info("Waiting for the API server", "error", err.Error())
			return false, nil
		}
		served, err := dc.ServerResourcesForGroupVersion(klaxonv1alpha1.GroupVersion.String())
		if err != nil && !apierrors.IsNotFound(err) {
			log.Info("Waiting for the API server", "error", err.Error())
			return false, nil
		}
		if missing := operator.MissingKinds(served, kinds); len(missing) > 0 {
			log.Info("Waiting for the API server to serve Klaxon's kinds: are the CRDs installed?",
				"groupVersion", klaxonv1alpha1.GroupVersion.String(), "missing", missing)
			return false, nil
		}
		return true, nil
	})
}

// egressFlags parses --egress-allow and --egress-deny into o, and takes
// the pod's IP from the downward API (the chart sets POD_IP), so that
// channels cannot reach the operator's own pod.
func egressFlags(o *operator.Options, allow, deny string) error {
	var err error
	if o.EgressAllow, err = egress.ParseRules("--egress-allow", allow); err != nil {
		return err
	}
	if o.EgressDeny, err = egress.ParseRules("--egress-deny", deny); err != nil {
		return err
	}
	o.PodIP = os.Getenv("POD_IP")
	return nil
}
