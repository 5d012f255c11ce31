package proc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// AlertmanagerBinary is the alertmanager that hack/alertmanager.sh
// installs, found through KLAXON_ALERTMANAGER_DIR.
func AlertmanagerBinary() (string, error) {
	dir := os.Getenv("KLAXON_ALERTMANAGER_DIR")
	if dir == "" {
		return "", errors.New("KLAXON_ALERTMANAGER_DIR is not set: run `make test`, which installs Alertmanager first")
	}
	return filepath.Join(dir, "alertmanager"), nil
}

// AlertmanagerOptions say how to run one Alertmanager.
type AlertmanagerOptions struct {
	// Binary is the alertmanager binary; empty means AlertmanagerBinary.
	Binary string
	// Dir holds its configuration, its data and, unless Log is set, its
	// log, alertmanager.log.
	Dir string
	// Config is its alertmanager.yml.
	Config string
	// Log receives its output instead of the log file.
	Log io.Writer
	// LogLevel is --log.level; empty means warn.
	LogLevel string
	// PeerTimeout and SettleTimeout tune a cluster's gossip (zero keeps
	// Alertmanager's defaults); a single Alertmanager ignores them.
	PeerTimeout, SettleTimeout time.Duration
}

// Alertmanager is a running Alertmanager.
type Alertmanager struct {
	// URL is the base URL of its web server and API.
	URL string
	// LogPath is its log file, or "" when its output went to Log.
	LogPath string
	cmd     *exec.Cmd
	done    chan struct{}
}

// StartAlertmanager runs one Alertmanager, without gossip, on a free
// loopback port and waits until it is ready.
func StartAlertmanager(ctx context.Context, o AlertmanagerOptions) (*Alertmanager, error) {
	ams, err := StartAlertmanagers(ctx, o)
	if err != nil {
		return nil, err
	}
	return ams[0], nil
}

// StartAlertmanagers runs one Alertmanager per options, clustered with each
// other on loopback when there are several (an HA group), one after another,
// each ready before the next starts. On error nothing is left running.
func StartAlertmanagers(ctx context.Context, opts ...AlertmanagerOptions) ([]*Alertmanager, error) {
	clusterAddrs, err := FreeAddrs(len(opts))
	if err != nil {
		return nil, err
	}
	var ams []*Alertmanager
	fail := func(err error) ([]*Alertmanager, error) {
		for _, am := range ams {
			am.Stop()
		}
		return nil, err
	}
	for i, o := range opts {
		var peers []string
		if len(opts) > 1 {
			for j, peer := range clusterAddrs {
				if j != i {
					peers = append(peers, peer)
				}
			}
		}
		am, err := startAlertmanager(ctx, o, clusterAddrs[i], peers)
		if err != nil {
			return fail(err)
		}
		ams = append(ams, am)
	}
	return ams, nil
}

func startAlertmanager(ctx context.Context, o AlertmanagerOptions, clusterAddr string, peers []string) (*Alertmanager, error) {
	if o.Binary == "" {
		bin, err := AlertmanagerBinary()
		if err != nil {
			return nil, err
		}
		o.Binary = bin
	}
	if o.LogLevel == "" {
		o.LogLevel = "warn"
	}
	config := filepath.Join(o.Dir, "alertmanager.yml")
	if err := os.WriteFile(config, []byte(o.Config), 0o600); err != nil {
		return nil, fmt.Errorf("writing alertmanager's configuration: %w", err)
	}
	addrs, err := FreeAddrs(1)
	if err != nil {
		return nil, err
	}
	addr := addrs[0]
	args := []string{
		"--config.file=" + config,
		"--storage.path=" + filepath.Join(o.Dir, "data"),
		"--web.listen-address=" + addr,
		"--web.external-url=http://" + addr,
		"--log.level=" + o.LogLevel,
	}
	if len(peers) == 0 {
		args = append(args, "--cluster.listen-address=") // no gossip
	} else {
		args = append(args, "--cluster.listen-address="+clusterAddr, "--cluster.advertise-address="+clusterAddr)
		if o.PeerTimeout > 0 {
			args = append(args, "--cluster.peer-timeout="+o.PeerTimeout.String())
		}
		if o.SettleTimeout > 0 {
			args = append(args, "--cluster.settle-timeout="+o.SettleTimeout.String())
		}
		for _, peer := range peers {
			args = append(args, "--cluster.peer="+peer)
		}
	}
	am := &Alertmanager{URL: "http://" + addr, done: make(chan struct{})}
	out := o.Log
	var logFile *os.File
	if out == nil {
		am.LogPath = filepath.Join(o.Dir, "alertmanager.log")
		if logFile, err = os.Create(am.LogPath); err != nil {
			return nil, fmt.Errorf("creating alertmanager's log: %w", err)
		}
		out = logFile
	}
	am.cmd = exec.Command(o.Binary, args...)
	am.cmd.Stdout, am.cmd.Stderr = out, out
	// Pdeathsig ends it should the process that started it be killed.
	am.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err = am.cmd.Start(); err != nil {
		if logFile != nil {
			_ = logFile.Close()
		}
		return nil, fmt.Errorf("starting alertmanager: %w", err)
	}
	go func() {
		_ = am.cmd.Wait()
		if logFile != nil {
			_ = logFile.Close()
		}
		close(am.done)
	}()
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		select {
		case <-am.done:
			return false, fmt.Errorf("alertmanager exited: %s", am.cmd.ProcessState)
		default:
		}
		return AnswersOK(ctx, am.URL+"/-/ready"), nil
	})
	if err != nil {
		am.Stop()
		if am.LogPath != "" {
			err = fmt.Errorf("%w; the last lines of its log:\n%s", err, LogTail(am.LogPath, 40))
		}
		return nil, fmt.Errorf("alertmanager did not become ready: %w", err)
	}
	return am, nil
}

// Stop kills the Alertmanager and waits until it has exited; it is safe to
// call more than once.
func (am *Alertmanager) Stop() {
	select {
	case <-am.done:
		return
	default:
	}
	_ = am.cmd.Process.Kill()
	<-am.done
}
