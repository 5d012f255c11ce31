package oncall

import (
	"slices"
	"time"
)

// scheduleSeed is a seed of FuzzScheduleAnswers in readable form.
type scheduleSeed struct {
	zone uint8
	from int64
	spec fuzzSpec
}

// seedFrom is a fuzz instant in readable form.
func seedFrom(rfc3339 string) int64 {
	at, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		panic(err)
	}
	return int64(at.Sub(fuzzEpoch))
}

func zoneIndex(name string) uint8 { return uint8(slices.Index(fuzzZones, name)) }

// Indexes of fuzzShifts and fuzzPool, and fuzzWindow days, for seeds.
const (
	shiftDay, shiftWeek, shift12h, shift8h, shiftHour, shift75m = 0, 1, 2, 3, 4, 5
	shiftFraction, shift59m                                     = 13, 14
	alice, bob, carol, dave, nobody                             = 0, 1, 2, 3, 4
	weekdaysMask, everyDay, sunday, saturday                    = 0b0011111, 0b1111111, 1 << 6, 1 << 5
)

func scheduleSeeds() []scheduleSeed {
	return []scheduleSeed{
		// A daily 02:30 handoff moves to 03:30 in Berlin's spring-forward gap.
		{zoneIndex("Europe/Berlin"), seedFrom("2026-03-28T11:00:00Z"), fuzzSpec{layers: []fuzzLayer{
			{participants: []int{alice, bob}, start: [6]int{2026, 3, 27, 2, 30, 0}, shift: shiftDay},
		}}},
		// 12h exact shifts under office hours across New York's spring forward.
		{zoneIndex("America/New_York"), seedFrom("2026-03-06T18:00:00Z"), fuzzSpec{layers: []fuzzLayer{
			{participants: []int{alice, bob}, start: [6]int{2026, 3, 7, 8, 0, 0}, shift: shift12h},
			{participants: []int{carol, dave, alice}, start: [6]int{2026, 3, 2, 9, 0, 0}, shift: shiftWeek,
				windows: []fuzzWindow{{days: weekdaysMask, from: 36, to: 68}}},
		}}},
		// Lord Howe's half-hour DST: a window inside the gap and one across it.
		{zoneIndex("Australia/Lord_Howe"), seedFrom("2026-10-03T08:00:00Z"), fuzzSpec{layers: []fuzzLayer{
			{participants: []int{alice}, start: [6]int{2026, 1, 1, 0, 0, 0}, shift: shiftWeek},
			{participants: []int{bob, carol}, start: [6]int{2026, 9, 28, 2, 15, 0}, shift: shiftHour,
				windows: []fuzzWindow{{days: sunday, from: 8, to: 10}, {days: saturday | sunday, from: 88, to: 24}}},
		}}},
		// Overlapping overrides over three layers at Sydney's DST end.
		{zoneIndex("Australia/Sydney"), seedFrom("2026-04-04T09:00:00Z"), fuzzSpec{
			layers: []fuzzLayer{
				{participants: []int{alice, bob, carol}, start: [6]int{2026, 3, 30, 9, 0, 0}, shift: shiftWeek},
				{participants: []int{dave}, start: [6]int{2026, 1, 1, 0, 0, 0}, shift: shiftWeek, windows: []fuzzWindow{{days: saturday, from: 88, to: 24}}},
				{participants: []int{bob, bob, alice}, start: [6]int{2026, 4, 1, 0, 0, 0}, shift: shift8h,
					windows: []fuzzWindow{{days: everyDay, from: 0, to: 0}}},
			},
			overrides: []fuzzOverride{{user: carol, start: 2, length: 8}, {user: dave, start: 4, length: 12}},
		}},
		// Santiago changes DST at midnight; a whole-day window from midnight.
		{zoneIndex("America/Santiago"), seedFrom("2026-04-03T12:00:00Z"), fuzzSpec{layers: []fuzzLayer{
			{participants: []int{alice, bob}, start: [6]int{2026, 1, 3, 0, 0, 0}, shift: shiftDay,
				windows: []fuzzWindow{{days: saturday | sunday, from: 0, to: 0}}},
		}}},
		// A lone participant on hourly shifts never hands off: the walk
		// reaches the Horizon or its budget.
		{zoneIndex("UTC"), seedFrom("2027-06-01T00:00:00Z"), fuzzSpec{layers: []fuzzLayer{
			{participants: []int{dave, dave}, start: [6]int{2027, 1, 1, 0, 0, 0}, shift: shiftHour},
			{participants: []int{dave}, start: [6]int{2027, 1, 1, 0, 0, 0}, shift: shift75m,
				windows: []fuzzWindow{{days: everyDay, from: 4, to: 5}, {days: everyDay, from: 50, to: 51}}},
		}}},
		// Shifts with a fraction of a second from 1900, in Kolkata.
		{zoneIndex("Asia/Kolkata"), seedFrom("2031-01-01T00:00:00Z"), fuzzSpec{layers: []fuzzLayer{
			{participants: []int{alice, bob, carol}, start: [6]int{1900, 1, 1, 0, 0, 0}, shift: shiftFraction},
		}}},
		// A weekend window Fri 18:00 to Mon 09:00 over a weekday layer of
		// groups, and an Add layer ending mid-rotation, at Berlin's fall back.
		{zoneIndex("Europe/Berlin"), seedFrom("2026-10-23T12:00:00Z"), fuzzSpec{layers: []fuzzLayer{
			{participants: []int{alice, bob}, start: [6]int{2026, 10, 19, 9, 0, 0}, shift: shiftWeek,
				flags: fuzzGroups, groups: []int{1<<alice | 1<<bob | 1<<carol, 1 << dave}},
			{participants: []int{dave, carol}, start: [6]int{2026, 1, 2, 18, 0, 0}, shift: shiftWeek,
				windows: []fuzzWindow{{from: 72, to: 36, span: 1 + 4 + 7*0}}},
			{participants: []int{alice, carol}, start: [6]int{2026, 10, 22, 2, 30, 0}, shift: shift12h,
				flags: fuzzAdd | fuzzEnd, end: 9},
		}}},
		// OnCallOverrides add, replace and remove across New York's spring
		// forward, over a window across days; one replace is refused.
		{zoneIndex("America/New_York"), seedFrom("2026-03-08T06:00:00Z"), fuzzSpec{
			layers: []fuzzLayer{
				{participants: []int{alice, bob}, start: [6]int{2026, 3, 2, 9, 0, 0}, shift: shiftDay},
				{participants: []int{carol}, start: [6]int{2026, 1, 1, 0, 0, 0}, shift: shiftWeek, flags: fuzzAdd,
					windows: []fuzzWindow{{from: 80, to: 32, span: 1 + 5 + 7*0}}},
			},
			overrides: []fuzzOverride{
				{user: dave, start: 0, length: 16, kind: 1},
				{user: alice, start: 2, length: 40, kind: 2, with: dave},
				{user: dave, start: 4, length: 8, kind: 3},
				{user: bob, start: 0, length: 8, kind: 2, with: bob},
			},
		}},
		// Lord Howe's half-hour DST under a window across days and an
		// ending layer of groups.
		{zoneIndex("Australia/Lord_Howe"), seedFrom("2026-10-03T12:00:00Z"), fuzzSpec{layers: []fuzzLayer{
			{participants: []int{alice}, start: [6]int{2026, 1, 1, 0, 0, 0}, shift: shiftWeek},
			{participants: []int{bob, carol}, start: [6]int{2026, 9, 28, 2, 15, 0}, shift: shiftHour,
				flags: fuzzGroups | fuzzEnd, groups: []int{1<<bob | 1<<dave, 1 << carol}, end: 40,
				windows: []fuzzWindow{{from: 8, to: 10, span: 1 + 5 + 7*6}}},
		}}},
		// Refused: an empty group, a group of 51, an end before the start,
		// and an empty window across days.
		{zoneIndex("UTC"), seedFrom("2026-01-01T00:00:00Z"), fuzzSpec{layers: []fuzzLayer{
			{participants: []int{alice, bob}, start: [6]int{2026, 1, 1, 0, 0, 0}, shift: shiftDay,
				flags: fuzzGroups | fuzzEnd, groups: []int{0, fuzzCrowd}, end: -1,
				windows: []fuzzWindow{{from: 8, to: 8, span: 1 + 3 + 7*3}}},
		}}},
		// Refused: an unknown zone.
		{zoneIndex("Mars/Olympus_Mons"), seedFrom("2026-01-01T00:00:00Z"), fuzzSpec{layers: []fuzzLayer{
			{participants: []int{alice}, start: [6]int{2026, 1, 1, 0, 0, 0}, shift: shiftDay},
		}}},
		// Refused: 30 February, a 24:00 window, a 59-minute shift, no user.
		{zoneIndex("Europe/Berlin"), seedFrom("2026-01-01T00:00:00Z"), fuzzSpec{
			layers: []fuzzLayer{
				{participants: []int{alice}, start: [6]int{2026, 2, 30, 9, 0, 0}, shift: shiftDay},
				{participants: []int{bob, nobody}, start: [6]int{2026, 1, 1, 0, 0, 0}, shift: shift59m,
					windows: []fuzzWindow{{days: everyDay, from: 36, to: 96}}},
			},
			overrides: []fuzzOverride{{user: nobody, start: 0, length: 0}},
		}},
	}
}
