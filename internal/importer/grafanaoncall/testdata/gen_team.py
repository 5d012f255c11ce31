#!/usr/bin/env python3
"""Writes the "team" fixture: Grafana OnCall API answers, as the public API
reference documents them, and the final shifts of each web schedule for four
weeks, resolved from the events listed below by Grafana OnCall's documented
rules: an override beats every shift, a higher level beats a lower one, and
shifts of one level that overlap put everyone of them on call.

The events are written out by hand (Europe/Berlin is UTC+1 all through
December and early January, so 09:00 Berlin is 08:00Z). This script only
resolves them and pages the answers; it shares nothing with Klaxon's code.
Run it from this directory: python3 gen_team.py
"""
import json
import os
from datetime import datetime, timedelta, timezone

OUT = "team"
BASE = "https://oncall.example.com/api/v1"
WINDOW = (datetime(2026, 12, 7, tzinfo=timezone.utc), datetime(2027, 1, 4, tzinfo=timezone.utc))
# Final shifts are resolved a day beyond the window on each side, and the
# stretches overlapping the window are answered whole, as the API does.
SPAN = (WINDOW[0] - timedelta(days=1), WINDOW[1] + timedelta(days=1))


def z(y, mo, d, h=0, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=timezone.utc)


def stamp(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


USERS = [
    # id, username, email, slack user id
    ("UALICE4K7Q2M9", "alice", "alice@example.com", "U01ALICE"),
    ("UBOB8P3X1R5TN", "bob", "bob@example.com", None),
    ("UCAROL2W6Y4HJ", "carol", "carol@example.com", "U01CAROL"),
    ("UDAVE5N8V3KQL", "dave", "dave@example.com", None),
    ("UERIN7T2M6BPC", "erin", "erin@example.com", None),
    ("UFRANK3Q9L5XD", "frank", "frank@example.com", None),
    ("UGRACE6H4J8WF", "grace.o'neil", "grace@example.com", None),
    ("UHENRY9C2R7SG", "henry", "henry@example.com", None),
    ("UIVAN4D6K3ZPH", "ivan", "ivan@example.com", None),
]
ID = {u[1].split(".")[0]: u[0] for u in USERS}
PEOPLE = {u[0]: u for u in USERS}


def write(name, body):
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(body, f, indent=2)
        f.write("\n")


def pages(path, query, results, size):
    """Writes a list as the API pages it: ?page=N from the second page on."""
    total = max(1, (len(results) + size - 1) // size)
    for n in range(1, total + 1):
        q = dict(query)
        if n > 1:
            q["page"] = str(n)

        def link(m):
            if m < 1 or m > total:
                return None
            lq = dict(query)
            lq["page"] = str(m)
            return BASE + "/" + path + "/?" + "&".join(k + "=" + lq[k] for k in sorted(lq))

        body = {
            "count": len(results),
            "next": link(n + 1),
            "previous": link(n - 1),
            "results": results[(n - 1) * size:n * size],
            "page_size": size,
            "current_page_number": n,
            "total_pages": total,
        }
        name = path.replace("/", "_")
        if q:
            name += "@" + "&".join(k + "=" + q[k] for k in sorted(q))
        write(name + ".json", body)


def resolve(events, overrides):
    """Who is on call, in stretches, from (start, end, level, people) events
    and (start, end, people) overrides."""
    edges = {SPAN[0], SPAN[1]}
    for e in events + overrides:
        for t in e[:2]:
            if SPAN[0] < t < SPAN[1]:
                edges.add(t)
    edges = sorted(edges)
    out = []
    for a, b in zip(edges, edges[1:]):
        people = None
        for o in overrides:
            if o[0] <= a < o[1]:
                people = set(o[2])
        if people is None:
            live = [e for e in events if e[0] <= a < e[1]]
            top = max((e[2] for e in live), default=None)
            people = set()
            for e in live:
                if e[2] == top:
                    people |= set(e[3])
        out.append((a, b, people))
    return out


def final_shifts(sched_id, events, overrides):
    """The final shifts answer: one stretch per person, joined while the
    person stays on call."""
    stretches = resolve(events, overrides)
    per_user = {}
    for a, b, people in stretches:
        for p in people:
            runs = per_user.setdefault(p, [])
            if runs and runs[-1][1] == a:
                runs[-1][1] = b
            else:
                runs.append([a, b])
    results = []
    for uid, runs in per_user.items():
        for a, b in runs:
            if b <= WINDOW[0] or a >= WINDOW[1]:
                continue
            results.append({
                "user_pk": uid,
                "user_email": PEOPLE[uid][2],
                "user_username": PEOPLE[uid][1],
                "shift_start": stamp(a),
                "shift_end": stamp(b),
            })
    results.sort(key=lambda r: (r["shift_start"], r["user_username"]))
    query = {"start_date": "2026-12-07", "end_date": "2027-01-03"}
    pages("schedules/" + sched_id + "/final_shifts", query, results, 50)
    return stretches


def platform_events():
    ev = []
    # OROTATION0001, level 0: weekly from Mon 2026-11-30 09:00 Berlin
    # (08:00Z), a week each, turns [alice, bob] then [carol].
    turns = [[ID["alice"], ID["bob"]], [ID["carol"]]]
    for k in range(6):
        a = z(2026, 11, 30, 8) + timedelta(weeks=k)
        ev.append((a, a + timedelta(weeks=1), 0, turns[k % 2]))
    # OWEEKDAYS001, level 1: dave, weekly on MO..FR from 10:00 Berlin
    # (09:00Z) for 8 hours, from Mon 2026-11-30.
    d = z(2026, 11, 30, 9)
    while d < SPAN[1]:
        if d.weekday() < 5:
            ev.append((d, d + timedelta(hours=8), 1, [ID["dave"]]))
        d += timedelta(days=1)
    # OWEEKEND0001, level 2: weekly from Sat 2026-12-05 00:00 Berlin
    # (Fri 23:00Z) for 48 hours, turns erin then frank, until
    # 2026-12-26T12:00 Berlin: the turn begun on Sat 26 Dec runs its full
    # 48 hours; none begins after it.
    for k, who in enumerate(["erin", "frank", "erin", "frank"]):
        a = z(2026, 12, 4, 23) + timedelta(weeks=k)
        ev.append((a, a + timedelta(hours=48), 2, [ID[who]]))
    # OXMAS0000001, level 3: a single event, grace, 2026-12-24 18:00 Berlin
    # (17:00Z) for 6 hours.
    ev.append((z(2026, 12, 24, 17), z(2026, 12, 24, 23), 3, [ID["grace"]]))
    overrides = [
        # OOVERRIDE001: bob, 2026-12-16 12:00 Berlin for 6 hours.
        (z(2026, 12, 16, 11), z(2026, 12, 16, 17), [ID["bob"]]),
        # OOVERRIDE002: erin and frank, 2026-12-30 12:00 Berlin for 2 hours.
        (z(2026, 12, 30, 11), z(2026, 12, 30, 13), [ID["erin"], ID["frank"]]),
    ]
    return ev, overrides


def monthly_events():
    # OMONTHLY0001, level 0, UTC: monthly from 2026-11-01 00:00, 30 days a
    # turn, henry then ivan: Nov 1 to Dec 1 henry, Dec 1 to Dec 31 ivan,
    # nobody on Dec 31 (a 31-day month), Jan 1 to Jan 31 henry.
    return [
        (z(2026, 11, 1), z(2026, 12, 1), 0, [ID["henry"]]),
        (z(2026, 12, 1), z(2026, 12, 31), 0, [ID["ivan"]]),
        (z(2027, 1, 1), z(2027, 1, 31), 0, [ID["henry"]]),
    ], []


def shift(id_, name, type_, level, start, duration, **kw):
    s = {
        "id": id_, "team_id": None, "name": name, "type": type_, "time_zone": None,
        "level": level, "start": start, "duration": duration,
    }
    s.update(kw)
    return s


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    write("klaxon-import.json", {
        "source": "grafana-oncall", "savedAt": "2026-12-07T00:00:00Z",
        "window": {"from": stamp(WINDOW[0]), "to": stamp(WINDOW[1])},
    })
    users = []
    for uid, username, email, slack in USERS:
        users.append({
            "id": uid, "email": email,
            "slack": [{"user_id": slack, "team_id": "T01EXAMPLE"}] if slack else None,
            "username": username, "role": "user", "is_phone_number_verified": True,
            "timezone": "Europe/Berlin", "teams": [],
        })
    pages("users", {}, users, 5)

    def rule(i, uid, pos, type_, important=False, duration=None):
        r = {"id": "N%s%02d" % (uid[1:6], i), "user_id": uid, "position": pos, "important": important, "type": type_}
        if duration is not None:
            r["duration"] = duration
        return r

    a, b, c, d, f, g = ID["alice"], ID["bob"], ID["carol"], ID["dave"], ID["frank"], ID["grace"]
    rules = [
        rule(1, a, 0, "notify_by_slack"), rule(2, a, 1, "wait", duration=300), rule(3, a, 2, "notify_by_email"),
        rule(4, a, 3, "wait", duration=600), rule(5, a, 4, "notify_by_phone_call"),
        rule(6, a, 0, "notify_by_sms", True), rule(7, a, 1, "notify_by_slack", True),
        rule(1, b, 0, "notify_by_email"),
        rule(1, c, 0, "notify_by_slack"), rule(2, c, 1, "wait", duration=900), rule(3, c, 2, "notify_by_mobile_app"),
        rule(1, d, 0, "notify_by_email"), rule(2, d, 1, "wait", duration=1800), rule(3, d, 2, "notify_by_email"),
        rule(1, f, 0, "notify_by_email"),
        rule(1, g, 0, "wait", duration=60), rule(2, g, 1, "notify_by_email"),
        rule(1, ID["henry"], 0, "notify_by_email"),
        rule(1, ID["ivan"], 0, "notify_by_email"),
    ]
    pages("personal_notification_rules", {}, rules, 50)

    schedules = [
        {"id": "SPLATFORM0001", "team_id": None, "name": "Platform primary", "type": "web",
         "time_zone": "Europe/Berlin", "on_call_now": [],
         "shifts": ["OROTATION0001", "OWEEKDAYS001", "OWEEKEND0001", "OXMAS0000001", "OOVERRIDE001", "OOVERRIDE002", "OOVERRIDE000"],
         "slack": {"channel_id": None, "user_group_id": None}, "ical_url_overrides": None},
        {"id": "SLEGACYICAL01", "team_id": None, "name": "Legacy calendar", "type": "ical",
         "time_zone": "Europe/Berlin", "on_call_now": [], "shifts": [],
         "ical_url_primary": "https://calendar.example.com/platform-oncall.ics", "ical_url_overrides": None,
         "slack": {"channel_id": None, "user_group_id": None}},
        {"id": "SMONTHLY00001", "team_id": None, "name": "Database monthly", "type": "web",
         "time_zone": "UTC", "on_call_now": [], "shifts": ["OMONTHLY0001"],
         "slack": {"channel_id": None, "user_group_id": None}, "ical_url_overrides": None},
    ]
    pages("schedules", {}, schedules, 50)

    shifts = [
        shift("OROTATION0001", "Follow the sun", "rolling_users", 0, "2026-11-30T09:00:00", 604800,
              frequency="weekly", interval=1, until=None, week_start="MO", by_day=None, by_month=None, by_monthday=None,
              rolling_users=[[a, b], [c]], start_rotation_from_user_index=0),
        shift("OWEEKDAYS001", "Office hours", "recurrent_event", 1, "2026-11-30T10:00:00", 28800,
              frequency="weekly", interval=1, until=None, week_start="MO", by_day=["MO", "TU", "WE", "TH", "FR"],
              by_month=None, by_monthday=None, users=[d]),
        shift("OWEEKEND0001", "Weekends", "rolling_users", 2, "2026-12-05T00:00:00", 172800,
              frequency="weekly", interval=1, until="2026-12-26T12:00:00", week_start="MO", by_day=None,
              by_month=None, by_monthday=None, rolling_users=[[ID["erin"]], [f]], start_rotation_from_user_index=0),
        shift("OXMAS0000001", "Christmas Eve", "single_event", 3, "2026-12-24T18:00:00", 21600, users=[g]),
        shift("OOVERRIDE000", "Swap in November", "override", 0, "2026-11-20T12:00:00", 3600, users=[b]),
        shift("OOVERRIDE001", "Bob covers dave", "override", 0, "2026-12-16T12:00:00", 21600, users=[b]),
        shift("OOVERRIDE002", "Release pairing", "override", 0, "2026-12-30T12:00:00", 7200, users=[ID["erin"], f]),
        shift("OMONTHLY0001", "Monthly DBA", "rolling_users", 0, "2026-11-01T00:00:00", 2592000,
              frequency="monthly", interval=1, until=None, week_start="MO", by_day=None, by_month=None, by_monthday=None,
              rolling_users=[[ID["henry"]], [ID["ivan"]]], start_rotation_from_user_index=0),
        shift("OORPHAN00001", "Old rotation", "rolling_users", 0, "2025-01-06T09:00:00", 604800,
              frequency="weekly", interval=1, until=None, week_start="MO", by_day=None, by_month=None, by_monthday=None,
              rolling_users=[[a]], start_rotation_from_user_index=0),
    ]
    pages("on_call_shifts", {}, shifts, 50)

    ev, ov = platform_events()
    final_shifts("SPLATFORM0001", ev, ov)
    ev, ov = monthly_events()
    final_shifts("SMONTHLY00001", ev, ov)

    def step(id_, chain, pos, type_, **kw):
        s = {"id": id_, "escalation_chain_id": chain, "position": pos, "type": type_, "important": False}
        s.update(kw)
        return s

    chains = [
        {"id": "FCRITICAL0001", "team_id": None, "name": "Platform critical"},
        {"id": "FDATABASE0001", "team_id": None, "name": "Database"},
        {"id": "FLEGACY000001", "team_id": None, "name": "Legacy calendar"},
        {"id": "FLOWPRIO00001", "team_id": None, "name": "Low priority"},
    ]
    pages("escalation_chains", {}, chains, 50)
    steps = {
        "FCRITICAL0001": [
            step("ECRIT01", "FCRITICAL0001", 0, "notify_on_call_from_schedule", notify_on_call_from_schedule="SPLATFORM0001"),
            step("ECRIT02", "FCRITICAL0001", 1, "wait", duration=300),
            step("ECRIT03", "FCRITICAL0001", 2, "notify_persons", persons_to_notify=[a, d]),
            step("ECRIT04", "FCRITICAL0001", 3, "trigger_webhook", action_to_trigger="KWEBHOOKSTATUS"),
            step("ECRIT05", "FCRITICAL0001", 4, "wait", duration=900),
            step("ECRIT06", "FCRITICAL0001", 5, "notify_person_next_each_time", persons_to_notify_next_each_time=[b, c]),
            step("ECRIT07", "FCRITICAL0001", 6, "wait", duration=1800),
            step("ECRIT08", "FCRITICAL0001", 7, "repeat_escalation"),
        ],
        "FDATABASE0001": [
            step("EDB01", "FDATABASE0001", 0, "notify_on_call_from_schedule", notify_on_call_from_schedule="SMONTHLY00001"),
            step("EDB02", "FDATABASE0001", 1, "wait", duration=900),
            step("EDB03", "FDATABASE0001", 2, "notify_if_time_from_to", notify_if_time_from="09:00:00Z", notify_if_time_to="17:00:00Z"),
            step("EDB04", "FDATABASE0001", 3, "notify_persons", persons_to_notify=[ID["henry"], ID["ivan"]]),
            step("EDB05", "FDATABASE0001", 4, "notify_user_group", group_to_notify="GDBAS000001"),
            step("EDB06", "FDATABASE0001", 5, "declare_incident", severity="critical"),
            step("EDB07", "FDATABASE0001", 6, "resolve"),
        ],
        "FLEGACY000001": [
            step("ELEG01", "FLEGACY000001", 0, "notify_on_call_from_schedule", notify_on_call_from_schedule="SLEGACYICAL01"),
        ],
        "FLOWPRIO00001": [
            step("ELOW01", "FLOWPRIO00001", 0, "notify_persons", persons_to_notify=[b]),
            step("ELOW02", "FLOWPRIO00001", 1, "wait", duration=3600),
            step("ELOW03", "FLOWPRIO00001", 2, "notify_on_call_from_schedule", notify_on_call_from_schedule="SPLATFORM0001"),
        ],
    }
    for chain, s in steps.items():
        pages("escalation_policies", {"escalation_chain_id": chain}, s, 50)

    integrations = [
        {"id": "CALERTMGR0001", "name": "Prometheus production", "description_short": None,
         "link": "https://oncall.example.com/integrations/v1/alertmanager/Kjq8xBBmvJ6aTP0pQzXG7kXoT/",
         "incidents_count": 0, "type": "alertmanager", "default_route": {"id": "RDEFAULT00001", "escalation_chain_id": "FLOWPRIO00001"},
         "templates": {}, "maintenance_mode": None, "maintenance_started_at": None, "maintenance_end_at": None},
        {"id": "CGRAFANA00001", "name": "Grafana alerts", "description_short": None,
         "link": "https://oncall.example.com/integrations/v1/grafana_alerting/Pq3mZ8cW0sLbR2vHyTn5aDe9K/",
         "incidents_count": 0, "type": "grafana_alerting", "default_route": {"id": "RGRAFDEF00001", "escalation_chain_id": "FLOWPRIO00001"},
         "templates": {}, "maintenance_mode": None, "maintenance_started_at": None, "maintenance_end_at": None},
    ]
    pages("integrations", {}, integrations, 50)

    def rt(id_, integ, pos, chain, type_, expr, last=False):
        return {"id": id_, "integration_id": integ, "escalation_chain_id": chain, "routing_regex": expr,
                "routing_type": type_, "position": pos, "is_the_last_route": last, "slack": {"channel_id": None, "enabled": True}}

    pages("routes", {"integration_id": "CALERTMGR0001"}, [
        rt("RCRITICAL0001", "CALERTMGR0001", 0, "FCRITICAL0001", "jinja2", '{{ payload.commonLabels.severity == "critical" }}'),
        rt("RREGEX0000001", "CALERTMGR0001", 1, "FDATABASE0001", "regex", '"team":\\s*"(db|database)"'),
        rt("RDEFAULT00001", "CALERTMGR0001", 2, "FLOWPRIO00001", "jinja2", None, True),
    ], 50)
    pages("routes", {"integration_id": "CGRAFANA00001"}, [
        rt("RGRAFTEAM0001", "CGRAFANA00001", 0, "FDATABASE0001", "jinja2", '{{ payload.commonLabels.team == "db" }}'),
        rt("RGRAFDEF00001", "CGRAFANA00001", 1, "FLOWPRIO00001", "jinja2", None, True),
    ], 50)


if __name__ == "__main__":
    main()
