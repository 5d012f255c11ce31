package importer

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

func TestCheckRefusesWhatTheAPIServerWould(t *testing.T) {
	at := func(s string) metav1.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return metav1.NewTime(v)
	}
	override := func(start, end string) *klaxonv1alpha1.OnCallOverride {
		return &klaxonv1alpha1.OnCallOverride{ObjectMeta: metav1.ObjectMeta{Name: "o"}, Spec: klaxonv1alpha1.OnCallOverrideSpec{
			ScheduleRef: klaxonv1alpha1.LocalObjectReference{Name: "s"}, Start: at(start), End: at(end), Add: []string{"dave"}}}
	}
	layer := klaxonv1alpha1.ScheduleLayer{Name: "l", Participants: []string{"alice"}, Start: "2027-10-31T02:40:00", Shift: metav1.Duration{Duration: time.Hour}}
	backwards := layer
	backwards.End = "2027-10-31T02:10:00"
	ten := metav1.Duration{Duration: 10 * time.Minute}
	cases := []struct {
		obj  client.Object
		want string
	}{
		{override("2026-12-07T10:00:00Z", "2026-12-07T11:00:00Z"), ""},
		{override("2026-12-07T10:00:00.2Z", "2026-12-07T10:00:00.8Z"), "not after start"},
		{override("2026-12-07T10:00:00Z", "2027-06-07T10:00:00Z"), "at most 90 days"},
		{&klaxonv1alpha1.OnCallSchedule{ObjectMeta: metav1.ObjectMeta{Name: "s"}, Spec: klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "Europe/Berlin", Layers: []klaxonv1alpha1.ScheduleLayer{layer}}}, ""},
		{&klaxonv1alpha1.OnCallSchedule{ObjectMeta: metav1.ObjectMeta{Name: "s"}, Spec: klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "Europe/Berlin", Layers: []klaxonv1alpha1.ScheduleLayer{backwards}}}, "must be after start"},
		{&klaxonv1alpha1.EscalationPolicy{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: klaxonv1alpha1.EscalationPolicySpec{Levels: []klaxonv1alpha1.EscalationLevel{
			{Targets: []klaxonv1alpha1.EscalationTarget{{User: "alice"}}}, {After: &ten, Targets: []klaxonv1alpha1.EscalationTarget{{Schedule: "s"}}}}, Repeat: 2}}, ""},
		{&klaxonv1alpha1.EscalationPolicy{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: klaxonv1alpha1.EscalationPolicySpec{Levels: []klaxonv1alpha1.EscalationLevel{
			{Targets: []klaxonv1alpha1.EscalationTarget{{User: "alice"}}}, {Targets: []klaxonv1alpha1.EscalationTarget{{Schedule: "s"}}}}}}, "levels[1] has no after"},
		{&klaxonv1alpha1.EscalationPolicy{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: klaxonv1alpha1.EscalationPolicySpec{Levels: []klaxonv1alpha1.EscalationLevel{
			{Targets: []klaxonv1alpha1.EscalationTarget{{User: "alice"}}}}, Repeat: 1}}, "single level that repeats"},
		{&klaxonv1alpha1.Responder{ObjectMeta: metav1.ObjectMeta{Name: "r"}, Spec: klaxonv1alpha1.ResponderSpec{Rules: []klaxonv1alpha1.NotificationRule{{Contact: "mail"}}}}, `names contact "mail"`},
	}
	late := override("9999-12-31T23:00:00Z", "9999-12-31T23:30:00Z")
	late.Spec.End = metav1.NewTime(late.Spec.Start.Add(2 * time.Hour))
	cases = append(cases, struct {
		obj  client.Object
		want string
	}{late, "beyond the year 9999"})
	for i, tc := range cases {
		err := Check(tc.obj)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("case %d: %v", i, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("case %d: %v, want an error saying %q", i, err, tc.want)
		}
	}
}

func TestPhoneKind(t *testing.T) {
	for _, c := range []struct {
		channel, address string
		want             klaxonv1alpha1.ContactKind
	}{
		{ChannelSMS, "+4915112345678", klaxonv1alpha1.ContactKindSMS},
		{ChannelVoice, "+4915112345678", klaxonv1alpha1.ContactKindVoice},
		{ChannelSMS, "015112345678", ""},
		{ChannelVoice, "+49 151 12345678", ""},
		{ChannelPush, "+4915112345678", ""},
		{ChannelEmail, "a@example.com", ""},
	} {
		if got := PhoneKind(c.channel, c.address); got != c.want {
			t.Errorf("PhoneKind(%q, %q) = %q, want %q", c.channel, c.address, got, c.want)
		}
	}
}
