package plugin

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
)

// publicURLEnv names the environment variable that gives the receiver's
// public address when --public-url does not.
const publicURLEnv = "KLAXON_PUBLIC_URL"

// defaultCalendarWeeks is the receiver's default: a URL without weeks= asks
// for it.
const defaultCalendarWeeks = 8

// maxKeyWrites bounds the attempts at writing the keys Secret while others
// write it too.
const maxKeyWrites = 5

type calendarFlags struct {
	user, schedule, publicURL string
	weeks                     int
	rotate                    bool
}

func (c *command) calendarCommand() *cobra.Command {
	var f calendarFlags
	cmd := &cobra.Command{
		Use:     "calendar (--user NAME | --schedule NAME) [--weeks N] [--rotate] [--public-url URL]",
		GroupID: "oncall",
		Short:   "Print the URL of a calendar feed of on-call shifts",
		Long: `Print the URL of an iCalendar feed to subscribe to in Google Calendar, Apple
Calendar or Thunderbird: a person's shifts on every OnCallSchedule of the
namespace (--user), or everyone's on one schedule (--schedule).

The URL carries a token signed with the feed's own key, kept in the Secret
klaxon-calendar-keys of the namespace; the first run makes the key. Anyone
with the URL can read the feed: --rotate replaces the key, so every URL
printed before stops working within seconds.

The receiver's public address comes from --public-url or $KLAXON_PUBLIC_URL.`,
		Example: `  kubectl klaxon calendar --user alice
  kubectl klaxon calendar --schedule payments-primary --weeks 12
  kubectl klaxon calendar --user alice --rotate`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.calendar(cmd.Context(), f)
		},
	}
	// --user shadows the kubeconfig's flag on this command, as on shifts.
	cmd.Flags().StringVar(&f.user, "user", "", "The feed of this person's shifts on every schedule.")
	cmd.Flags().StringVar(&f.schedule, "schedule", "", "The feed of everyone's shifts on this schedule.")
	cmd.Flags().IntVar(&f.weeks, "weeks", defaultCalendarWeeks, fmt.Sprintf("How many weeks ahead the feed looks, 1 to %d.", maxWeeks))
	cmd.Flags().BoolVar(&f.rotate, "rotate", false, "Replace the feed's key: every URL printed before stops working.")
	cmd.Flags().StringVar(&f.publicURL, "public-url", "", "Where the receiver is reached (default $"+publicURLEnv+").")
	_ = cmd.RegisterFlagCompletionFunc("schedule", c.completeNames(&klaxonv1alpha1.OnCallScheduleList{}))
	return cmd
}

func (c *command) calendar(ctx context.Context, f calendarFlags) error {
	claims := acklink.CalendarClaims{Kind: acklink.CalendarResponder, Name: f.user}
	switch {
	case (f.user == "") == (f.schedule == ""):
		return errors.New("give exactly one of --user (a person's feed) and --schedule (a schedule's)")
	case f.schedule != "":
		claims = acklink.CalendarClaims{Kind: acklink.CalendarSchedule, Name: f.schedule}
	}
	if f.weeks < 1 || f.weeks > maxWeeks {
		return fmt.Errorf("--weeks %d: give 1 to %d", f.weeks, maxWeeks)
	}
	publicURL := f.publicURL
	if publicURL == "" {
		publicURL = c.Getenv(publicURLEnv)
	}
	if publicURL == "" {
		return fmt.Errorf("no public URL: give --public-url or set %s to where the operator's receiver is reached (the operator's --public-url)", publicURLEnv)
	}
	if u, err := url.Parse(publicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("public URL %q: give an http or https URL, such as https://klaxon.example.com", publicURL)
	}
	k8s, err := c.clients.client()
	if err != nil {
		return err
	}
	if claims.Namespace, err = c.clients.namespace(); err != nil {
		return err
	}
	if claims.Validate() != nil {
		return fmt.Errorf("cannot make a calendar link of %s %q: the name is empty or too long", claims.Kind, claims.Name)
	}
	if f.schedule != "" {
		var s klaxonv1alpha1.OnCallSchedule
		if err = k8s.Get(ctx, client.ObjectKey{Namespace: claims.Namespace, Name: f.schedule}, &s); err != nil {
			return explain(err, "cannot read OnCallSchedule %s/%s: %s", claims.Namespace, f.schedule, apiMessage(err))
		}
	}
	key, err := feedKey(ctx, k8s, claims, f.rotate)
	if err != nil {
		return err
	}
	signer, err := acklink.NewSigner(key)
	if err != nil {
		return fmt.Errorf("the key of %s in Secret %s/%s: %w; replace it with --rotate",
			acklink.CalendarKeyName(claims.Kind, claims.Name), claims.Namespace, acklink.CalendarKeysSecret, err)
	}
	link := signer.CalendarURL(publicURL, claims)
	if f.weeks != defaultCalendarWeeks {
		link += "&weeks=" + strconv.Itoa(f.weeks)
	}
	if _, err = fmt.Fprintln(c.Streams.Out, link); err != nil {
		return err
	}
	if f.rotate {
		_, err = fmt.Fprintln(c.Streams.ErrOut, "The feed has a new key: links printed before stop working within seconds; subscribe again with this one.")
	}
	return err
}

// feedKey returns the feed's key from the namespace's keys Secret, making
// the Secret or the key when missing, and a new key when rotate. A write
// that conflicts with another's reads the Secret again.
func feedKey(ctx context.Context, k8s client.Client, c acklink.CalendarClaims, rotate bool) ([]byte, error) {
	entry := acklink.CalendarKeyName(c.Kind, c.Name)
	where := fmt.Sprintf("Secret %s/%s", c.Namespace, acklink.CalendarKeysSecret)
	for range maxKeyWrites {
		var secret corev1.Secret
		err := k8s.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: acklink.CalendarKeysSecret}, &secret)
		if apierrors.IsNotFound(err) {
			key := acklink.NewCalendarKey()
			secret = corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: acklink.CalendarKeysSecret, Namespace: c.Namespace,
					Labels: map[string]string{acklink.CalendarKeysLabel: "true"}},
				Data: map[string][]byte{entry: key},
			}
			err = k8s.Create(ctx, &secret)
			if apierrors.IsAlreadyExists(err) {
				continue
			}
			if err != nil {
				return nil, explain(err, "cannot create %s: %s", where, apiMessage(err))
			}
			return key, nil
		}
		if err != nil {
			return nil, explain(err, "cannot read %s: %s", where, apiMessage(err))
		}
		key, ok := secret.Data[entry]
		if ok && !rotate && secret.Labels[acklink.CalendarKeysLabel] == "true" {
			return key, nil
		}
		if !ok || rotate {
			key = acklink.NewCalendarKey()
		}
		if secret.Data == nil {
			secret.Data = map[string][]byte{}
		}
		secret.Data[entry] = key
		if secret.Labels == nil {
			secret.Labels = map[string]string{}
		}
		secret.Labels[acklink.CalendarKeysLabel] = "true"
		// Update carries the resourceVersion read: a concurrent write
		// conflicts rather than being lost.
		err = k8s.Update(ctx, &secret)
		if apierrors.IsConflict(err) {
			continue
		}
		if err != nil {
			return nil, explain(err, "cannot write %s: %s", where, apiMessage(err))
		}
		return key, nil
	}
	return nil, fmt.Errorf("cannot write %s: others kept changing it; try again", where)
}
