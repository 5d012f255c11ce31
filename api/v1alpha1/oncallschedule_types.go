package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Weekday is a day of the week in its three-letter English form.
// +kubebuilder:validation:Enum=Mon;Tue;Wed;Thu;Fri;Sat;Sun
type Weekday string

// The days of the week.
const (
	Monday    Weekday = "Mon"
	Tuesday   Weekday = "Tue"
	Wednesday Weekday = "Wed"
	Thursday  Weekday = "Thu"
	Friday    Weekday = "Fri"
	Saturday  Weekday = "Sat"
	Sunday    Weekday = "Sun"
)

// TimeRestriction is a local wall-clock window during which a layer covers
// the schedule, in one of two forms: the same-day form (days, from, to)
// repeats a window on each of the given days; the multi-day form (fromDay,
// from, toDay, to) is one weekly window from fromDay at from to the next
// toDay at to, such as a weekend from Fri 18:00 to Mon 09:00.
// +kubebuilder:validation:XValidation:rule="has(self.days) != has(self.fromDay)",message="a restriction needs either days (a window repeated on each day) or fromDay and toDay (one window across days), not both"
// +kubebuilder:validation:XValidation:rule="has(self.fromDay) == has(self.toDay)",message="fromDay and toDay go together: set both for a window across days, or use days instead"
// +kubebuilder:validation:XValidation:rule="!has(self.fromDay) || self.fromDay != self.toDay || self.from != self.to",message="a window from a day and time to the same day and time is empty or a whole week: leave the restriction out to cover all the time, or change from, to or the days"
type TimeRestriction struct {
	// days on which the window opens (the same-day form); a window that
	// crosses midnight belongs to the day it opens.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=7
	Days []Weekday `json:"days,omitempty"`

	// fromDay is the day the window opens (the multi-day form).
	// +optional
	FromDay Weekday `json:"fromDay,omitempty"`

	// toDay is the day the window closes (the multi-day form): the first
	// toDay at to after the window opens, so the window lasts less than a
	// week.
	// +optional
	ToDay Weekday `json:"toDay,omitempty"`

	// from is the local time the window opens, "HH:MM".
	// +required
	// +kubebuilder:validation:MinLength=5
	// +kubebuilder:validation:MaxLength=5
	// +kubebuilder:validation:Pattern=`^([01][0-9]|2[0-3]):[0-5][0-9]$`
	From string `json:"from"`

	// to is the local time the window closes, "HH:MM". In the same-day form,
	// a to at or before from closes the window on the next day, so from ==
	// to covers a whole day.
	// +required
	// +kubebuilder:validation:MinLength=5
	// +kubebuilder:validation:MaxLength=5
	// +kubebuilder:validation:Pattern=`^([01][0-9]|2[0-3]):[0-5][0-9]$`
	To string `json:"to"`
}

// LayerCombine says how a layer's people combine with the layers below.
// +kubebuilder:validation:Enum=Replace;Add
type LayerCombine string

// The ways a layer combines with the layers below.
const (
	// CombineReplace: where the layer has someone on call, it replaces
	// whoever the layers below have.
	CombineReplace LayerCombine = "Replace"
	// CombineAdd: the layer adds its people to whoever the layers below have.
	CombineAdd LayerCombine = "Add"
)

// ScheduleGroup is the people of one turn of a layer: all of them are on
// call together.
type ScheduleGroup struct {
	// members are the people of the group, at least one and at most 50
	// (the schema's bound, checked before any rule).
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=50
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="size(self) >= 1",message="a group needs at least one member: add people to it or remove the group"
	Members []string `json:"members"`
}

// ScheduleLayer is a rotation of participants, or groups of them, taking
// turns in shifts.
// +kubebuilder:validation:XValidation:rule="has(self.participants) != has(self.groups)",message="a layer needs exactly one of participants (one person a turn) or groups (everyone in the turn's group)"
// +kubebuilder:validation:XValidation:rule="!has(self.end) || self.end > self.start",message="a layer's end must be after its start: move end later, or remove it to keep the layer"
type ScheduleLayer struct {
	// name identifies the layer within the schedule.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`

	// participants take turns in this order: participants[i] has shift i,
	// counting from start, round robin. A name may appear more than once.
	// Exactly one of participants and groups is set.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=128
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=253
	Participants []string `json:"participants,omitempty"`

	// groups take turns as participants do, a whole group a turn: everyone
	// in groups[i] is on call during shift i, round robin.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	Groups []ScheduleGroup `json:"groups,omitempty"`

	// combine says what the layer does where it has someone on call:
	// Replace (the default) puts its people on call instead of the layers
	// below; Add puts them on call beside them.
	// +optional
	Combine LayerCombine `json:"combine,omitempty"`

	// start is when the first turn (participants[0]'s or groups[0]'s) begins,
	// as local time in spec.timeZone, "2006-01-02T15:04:05". Before it the
	// layer has nobody.
	// +required
	// +kubebuilder:validation:MinLength=19
	// +kubebuilder:validation:MaxLength=19
	// +kubebuilder:validation:Pattern=`^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$`
	Start string `json:"start"`

	// end is when the layer stops covering the schedule, as local time in
	// spec.timeZone, written as start is; from then on the layer has nobody.
	// +optional
	// +kubebuilder:validation:MinLength=19
	// +kubebuilder:validation:MaxLength=19
	// +kubebuilder:validation:Pattern=`^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$`
	End string `json:"end,omitempty"`

	// shift is how long each participant is on call, at least an hour. A
	// whole number of days hands off at the same local wall-clock time across
	// DST changes; any other length is an exact duration.
	// +required
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="shift must be a positive duration, such as 24h or 168h"
	// +kubebuilder:validation:XValidation:rule="duration(self) <= duration('0s') || duration(self) >= duration('1h')",message="shift must be at least 1h, such as 12h, 24h or 168h"
	Shift metav1.Duration `json:"shift"`

	// restrictions limit the layer to these local windows; outside them the
	// layer has nobody and the layers below show through. Empty means always.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	Restrictions []TimeRestriction `json:"restrictions,omitempty"`
}

// ScheduleOverride puts one person on call in place of everyone else for a
// while, such as a swap or a holiday cover.
// +kubebuilder:validation:XValidation:rule="self.end > self.start",message="override end must be after its start"
type ScheduleOverride struct {
	// user is the person on call during the override.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	User string `json:"user"`

	// start is when the override begins (inclusive).
	// +required
	Start metav1.Time `json:"start"`

	// end is when the override ends (exclusive).
	// +required
	End metav1.Time `json:"end"`
}

// OnCallScheduleSpec says who is on call when.
type OnCallScheduleSpec struct {
	// timeZone is the IANA time zone, such as Europe/Berlin, in which layer
	// starts and restrictions are read.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$`
	// +kubebuilder:validation:XValidation:rule="self != 'Local'",message="timeZone must be an IANA name such as Europe/Berlin; Local would depend on the operator's machine"
	TimeZone string `json:"timeZone"`

	// layers are rotations; where several have someone on call, the later
	// one in the list wins, unless it combines with Add.
	// +required
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	Layers []ScheduleLayer `json:"layers"`

	// overrides replace whoever is on call in [start, end).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=128
	Overrides []ScheduleOverride `json:"overrides,omitempty"`

	// slackUserGroup is a Slack user group kept equal to whoever is on
	// call, such as @oncall-payments.
	// +optional
	SlackUserGroup *SlackUserGroup `json:"slackUserGroup,omitempty"`
}

// SlackUserGroup names a Slack user group and the channel whose app
// updates it. The app's token needs the usergroups:write scope.
type SlackUserGroup struct {
	// channel names a slack NotificationChannel in the same namespace. A
	// person's Slack ID is the address of their Responder's contact on
	// this channel.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Channel string `json:"channel"`

	// id is the user group's ID, such as S0614TZR7.
	// +required
	// +kubebuilder:validation:MinLength=2
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^S[A-Z0-9]+$`
	ID string `json:"id"`
}

// OnCallScheduleStatus is who the operator computed to be on call.
type OnCallScheduleStatus struct {
	// conditions describe the schedule's state; see conditions.go.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the spec generation the status reflects.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// onCall are the people on call now, overrides applied, in name order.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=253
	OnCall []string `json:"onCall,omitempty"`

	// nextHandoffAt is when who is on call changes next; unset when it does
	// not change within the operator's look-ahead.
	// +optional
	NextHandoffAt *metav1.Time `json:"nextHandoffAt,omitempty"`

	// overrides are the OnCallOverrides of the schedule in force now, in the
	// order they apply, then those that start next.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	Overrides []OverrideInForce `json:"overrides,omitempty"`

	// shifts are everyone's shifts in the next 14 days as last worked out,
	// so that an edit's effect on them can be told (ShiftChange notices).
	// +optional
	Shifts *ShiftRecord `json:"shifts,omitempty"`

	// notices are the shift notices of the schedule's people: planned
	// (Pending), Sent or Failed, oldest first. Each is sent at least once
	// and, once recorded Sent, never again.
	// +optional
	// +listType=map
	// +listMapKey=key
	// +kubebuilder:validation:MaxItems=64
	Notices []ShiftNotice `json:"notices,omitempty"`

	// slackUserGroup is what the Slack user group was last set to.
	// +optional
	SlackUserGroup *SlackUserGroupStatus `json:"slackUserGroup,omitempty"`
}

// SlackUserGroupStatus is what a schedule last set its Slack user group to.
type SlackUserGroupStatus struct {
	// id is the user group set.
	// +required
	// +kubebuilder:validation:MaxLength=32
	ID string `json:"id"`

	// users are the Slack IDs the group was set to, sorted.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=64
	Users []string `json:"users,omitempty"`

	// syncedAt is when the group was set.
	// +required
	SyncedAt metav1.Time `json:"syncedAt"`
}

// ShiftRecord is the shifts a schedule's people have in a span of time.
type ShiftRecord struct {
	// revision grows each time the schedule's spec or its OnCallOverrides
	// change; calendar feeds give it as each shift's SEQUENCE.
	// +required
	// +kubebuilder:validation:Minimum=0
	Revision int64 `json:"revision"`

	// inputs is a digest of the spec and the OnCallOverrides the shifts
	// were worked out from.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Inputs string `json:"inputs,omitempty"`

	// from is when the span recorded begins: when the shifts were worked
	// out.
	// +required
	From metav1.Time `json:"from"`

	// until is when the span recorded ends: 14 days after from, or earlier
	// when the schedule changes hands too often for entries to hold them.
	// +required
	Until metav1.Time `json:"until"`

	// entries are each person's shifts within the span, cut to it, by
	// start, then user.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=256
	Entries []RecordedShift `json:"entries,omitempty"`

	// untold are the people whose change the record holds back: their
	// ShiftChange notices found no room in status.notices yet, so the
	// record keeps their old shifts until the notices are planned.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=253
	Untold []string `json:"untold,omitempty"`
}

// RecordedShift is one person's shift.
type RecordedShift struct {
	// user is the person on call.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	User string `json:"user"`

	// start is when the shift begins.
	// +required
	Start metav1.Time `json:"start"`

	// end is when the shift ends.
	// +required
	End metav1.Time `json:"end"`
}

// ShiftNoticeKind says what a shift notice tells.
// +kubebuilder:validation:Enum=ShiftStart;ShiftChange
type ShiftNoticeKind string

// The kinds of shift notice, named as the rules that ask for them.
const (
	ShiftNoticeStart  ShiftNoticeKind = "ShiftStart"
	ShiftNoticeChange ShiftNoticeKind = "ShiftChange"
)

// ShiftNoticeState is where a shift notice stands.
// +kubebuilder:validation:Enum=Pending;Sent;Failed
type ShiftNoticeState string

// The states of a shift notice.
const (
	// ShiftNoticePending: planned, not yet sent.
	ShiftNoticePending ShiftNoticeState = "Pending"
	// ShiftNoticeSent: the channel took it.
	ShiftNoticeSent ShiftNoticeState = "Sent"
	// ShiftNoticeFailed: every attempt failed, or it could no longer help.
	ShiftNoticeFailed ShiftNoticeState = "Failed"
)

// ShiftNotice is one notice to one of a person's contacts.
type ShiftNotice struct {
	// key names the notice: its kind, user and contact, and the start of
	// the shift (ShiftStart) or the record's revision (ShiftChange).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=400
	Key string `json:"key"`

	// kind is what the notice tells.
	// +required
	Kind ShiftNoticeKind `json:"kind"`

	// user is the person told.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	User string `json:"user"`

	// contact names the person's contact the notice goes to.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Contact string `json:"contact"`

	// state is where the notice stands.
	// +required
	State ShiftNoticeState `json:"state"`

	// attempts counts the sends tried.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Attempts int32 `json:"attempts,omitempty"`

	// shiftStart is when the shift told of starts (ShiftStart).
	// +optional
	ShiftStart *metav1.Time `json:"shiftStart,omitempty"`

	// shiftEnd is when the shift told of ends (ShiftStart).
	// +optional
	ShiftEnd *metav1.Time `json:"shiftEnd,omitempty"`

	// message is what the notice says, worked out when it was planned:
	// for ShiftStart who hands over and to whom, for ShiftChange what the
	// shifts were and what they are.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Message string `json:"message,omitempty"`

	// plannedAt is when the notice was planned.
	// +required
	PlannedAt metav1.Time `json:"plannedAt"`

	// lastAttemptAt is when the last send was tried.
	// +optional
	LastAttemptAt *metav1.Time `json:"lastAttemptAt,omitempty"`

	// reason says why the last attempt failed.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Reason string `json:"reason,omitempty"`
}

// OverrideState says whether an OnCallOverride applies now or starts next.
// +kubebuilder:validation:Enum=InForce;Next
type OverrideState string

// The states of the overrides a schedule lists.
const (
	// OverrideInForceNow: the override applies now.
	OverrideInForceNow OverrideState = "InForce"
	// OverrideNext: the override is the next to start.
	OverrideNext OverrideState = "Next"
)

// OverrideInForce is an OnCallOverride a schedule lists in its status.
type OverrideInForce struct {
	// name of the OnCallOverride.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// state says whether the override applies now or starts next.
	// +required
	State OverrideState `json:"state"`

	// start is when the override begins.
	// +required
	Start metav1.Time `json:"start"`

	// end is when the override ends.
	// +required
	End metav1.Time `json:"end"`

	// change says what the override does, such as "add dave",
	// "replace alice with dave" or "remove alice".
	// +required
	// +kubebuilder:validation:MaxLength=512
	Change string `json:"change"`
}

// The Next Handoff column is a string: a date column prints a time in the
// future as "<invalid>".

// OnCallSchedule says who is on call when: rotation layers, restrictions and
// overrides.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=oncall,categories=klaxon
// +kubebuilder:printcolumn:name="On Call",type=string,JSONPath=`.status.onCall`
// +kubebuilder:printcolumn:name="Next Handoff",type=string,JSONPath=`.status.nextHandoffAt`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type OnCallSchedule struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the object's standard metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says who is on call when.
	// +required
	Spec OnCallScheduleSpec `json:"spec"`

	// status is what the operator observed and did.
	// +optional
	Status OnCallScheduleStatus `json:"status,omitempty"`
}

// OnCallScheduleList is a list of OnCallSchedules.
// +kubebuilder:object:root=true
type OnCallScheduleList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []OnCallSchedule `json:"items"`
}

func init() {
	register(&OnCallSchedule{}, &OnCallScheduleList{})
}
