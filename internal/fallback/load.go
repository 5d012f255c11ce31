package fallback

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"

	"github.com/klaxon-dev/klaxon/internal/egress"
	"github.com/klaxon-dev/klaxon/internal/notify"
	"github.com/klaxon-dev/klaxon/internal/notify/alertmanager"
)

// Block is a loaded fallback receiver block.
type Block struct {
	// Sender sends through the block's integrations, as built when the
	// block was checked; NewSender builds a fresh one.
	Sender notify.Sender
	// Key signs the requests that replicas forward to the leader: derived
	// from the file's bytes, which every replica mounts. It is secret as
	// far as the file is: one without a credential needs a random comment
	// line (docs/reliability.md).
	Key []byte

	// The block's bytes and what it is built with, for NewSender.
	data        []byte
	policy      *egress.Policy
	externalURL string
	logger      *slog.Logger
}

// NewSender builds a sender of the block's integrations of its own. A
// sender lets one send through each integration at a time, and
// Alertmanager's email notifier has no deadline on the SMTP conversation:
// with a fresh sender each time, a wedged send costs its goroutine, not
// every later message. A Block made without Parse gives its Sender.
func (b *Block) NewSender() (notify.Sender, error) {
	if b.data == nil {
		return b.Sender, nil
	}
	return newSender(b.data, b.policy, b.externalURL, b.logger)
}

func newSender(data []byte, policy *egress.Policy, externalURL string, logger *slog.Logger) (notify.Sender, error) {
	return alertmanager.New(alertmanager.Config{Receiver: data, Egress: policy, ExternalURL: externalURL, Logger: logger,
		// The administrator's own block: mail is what a fallback most
		// often needs, when the chat and paging services are out of reach.
		AllowEmail: true})
}

// keyContext separates the forwarding key from any other use of the
// file's bytes.
const keyContext = "klaxon fallback forwarding v1\x00"

// Load reads the receiver block in path, at most
// alertmanager.MaxReceiverBytes, and checks and builds it as an
// alertmanager channel's block is, under the egress policy. Errors are one
// sentence naming the file.
func Load(path string, policy *egress.Policy, externalURL string, logger *slog.Logger) (*Block, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("the fallback receiver file %s does not exist", path)
		}
		return nil, fmt.Errorf("the fallback receiver file %s cannot be read: %w", path, err)
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, alertmanager.MaxReceiverBytes+1))
	if err != nil {
		return nil, fmt.Errorf("the fallback receiver file %s cannot be read: %w", path, err)
	}
	if len(data) > alertmanager.MaxReceiverBytes {
		return nil, fmt.Errorf("the fallback receiver file %s is larger than the %d bytes allowed", path, alertmanager.MaxReceiverBytes)
	}
	return Parse(path, data, policy, externalURL, logger)
}

// Parse checks and builds a block read from path (named in errors).
func Parse(path string, data []byte, policy *egress.Policy, externalURL string, logger *slog.Logger) (*Block, error) {
	s, err := newSender(data, policy, externalURL, logger)
	if err != nil {
		return nil, fmt.Errorf("the fallback receiver file %s is not a valid Alertmanager receiver block: %w", path, err)
	}
	return &Block{Sender: s, Key: forwardingKey(data),
		data: bytes.Clone(data), policy: policy, externalURL: externalURL, logger: logger}, nil
}

func forwardingKey(data []byte) []byte {
	h := sha256.New()
	h.Write([]byte(keyContext))
	h.Write(data)
	return h.Sum(nil)
}
