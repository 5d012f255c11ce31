#!/usr/bin/env python3
"""Writes the PagerDuty fixtures: the API's answers, as PagerDuty's REST API
v2 reference documents them, and each schedule's final_schedule over the
fixture's four weeks.

The final schedules are computed here, minute by minute, from PagerDuty's
documented semantics alone (see README.md), not from Klaxon's code:

- an override puts its user on call in place of everyone;
- otherwise the first layer, in the order the API lists them (the layer
  that wins first), that has someone on call at the instant decides;
- a layer has someone on call at t when start <= t < end and t lies in one
  of its restrictions (none: always), read on the schedule's wall clock;
- that someone is users[k mod n], k = floor((wall(t) - wall(rotation_virtual_start))
  / rotation_turn_length_seconds), wall() being the local time on the
  schedule's clock: turns hand off at the layer's local handoff time.

Run it from this directory: python3 gen_fixtures.py
"""

import json
import os
import urllib.parse
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

SINCE = datetime(2026, 12, 7, tzinfo=timezone.utc)
UNTIL = SINCE + timedelta(weeks=4)
# Overrides are read a year ahead of the window's start.
OVERRIDES_UNTIL = SINCE + timedelta(days=365)
POLICIES_QUERY = {"include[]": ["escalation_rule_assignment_strategies"], "limit": ["100"], "offset": ["0"]}
API = "https://api.pagerduty.com"
WEB = "https://acme.pagerduty.com"


def file_name(path, query):
    """importer.FileName: how the answer to GET path?query is saved."""
    name = path.strip("/").replace("/", "_")
    if query:
        pairs = []
        for k in sorted(query):
            for v in query[k]:
                pairs.append(urllib.parse.quote_plus(k) + "=" + urllib.parse.quote_plus(v))
        name += "@" + "&".join(pairs)
    ok = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@=&,")
    return "".join(c if c in ok else "-" for c in name) + ".json"


def write(d, path, query, body):
    with open(os.path.join(d, file_name(path, query)), "w") as f:
        json.dump(body, f, indent=2, ensure_ascii=False)
        f.write("\n")


def ref(kind, id_, summary, path):
    return {"id": id_, "type": kind + "_reference", "summary": summary,
            "self": f"{API}/{path}/{id_}", "html_url": f"{WEB}/{path}/{id_}"}


def uref(u):
    return ref("user", u["id"], u["name"], "users")


def rfc(t, tz):
    return t.astimezone(tz).isoformat()


def parse(s):
    return datetime.fromisoformat(s)


def covers(layer, t, tz):
    start = parse(layer["start"])
    if t < start:
        return False
    if layer.get("end") and t >= parse(layer["end"]):
        return False
    rs = layer.get("restrictions") or []
    if not rs:
        return True
    loc = t.astimezone(tz)
    sod = loc.hour * 3600 + loc.minute * 60 + loc.second
    sow = loc.weekday() * 86400 + sod  # Monday 00:00 is 0
    for r in rs:
        h, m, s = (int(x) for x in r["start_time_of_day"].split(":"))
        rsod = h * 3600 + m * 60 + s
        if r["type"] == "daily_restriction":
            if (sod - rsod) % 86400 < r["duration_seconds"]:
                return True
        else:
            rsow = (r["start_day_of_week"] - 1) * 86400 + rsod
            if (sow - rsow) % (7 * 86400) < r["duration_seconds"]:
                return True
    return False


def wall(t, tz):
    """t's local time in tz, without a zone: what the schedule's clock shows."""
    return t.astimezone(tz).replace(tzinfo=None)


def who(layer, t, tz):
    # Turns hand off at the layer's local handoff time: counted on the
    # schedule's wall clock, not in elapsed seconds.
    virtual = parse(layer["rotation_virtual_start"])
    k = int((wall(t, tz) - wall(virtual, tz)).total_seconds()) // layer["rotation_turn_length_seconds"]
    users = layer["users"]
    return users[k % len(users)]["user"]


def final_schedule(sched, overrides, tz):
    """Who PagerDuty puts on call, minute by minute, joined into entries."""
    entries = []
    t = SINCE
    step = timedelta(minutes=1)
    while t < UNTIL:
        person = None
        for o in overrides:
            if parse(o["start"]) <= t < parse(o["end"]):
                person = o["user"]
        if person is None:
            for layer in sched["schedule_layers"]:
                if covers(layer, t, tz):
                    person = who(layer, t, tz)
                    break
        if entries and entries[-1][2] is not None and person is not None and entries[-1][2]["id"] == person["id"] and entries[-1][1] == t:
            entries[-1][1] = t + step
        elif entries and entries[-1][2] is None and person is None and entries[-1][1] == t:
            entries[-1][1] = t + step
        else:
            entries.append([t, t + step, person])
        t += step
    return [{"start": rfc(a, tz), "end": rfc(b, tz), "user": p} for a, b, p in entries if p is not None]


def schedule_answers(d, sched, overrides):
    tz = ZoneInfo(sched["time_zone"])
    since, until = SINCE.strftime("%Y-%m-%dT%H:%M:%SZ"), UNTIL.strftime("%Y-%m-%dT%H:%M:%SZ")
    full = dict(sched)
    full["final_schedule"] = {"name": "Final Schedule",
                              "rendered_schedule_entries": final_schedule(sched, overrides, tz),
                              "rendered_coverage_percentage": None}
    # Rendered entries are cut at the range asked for, as without overflow=true.
    full["overrides_subschedule"] = {"name": "Overrides", "rendered_schedule_entries": [
        {"start": rfc(max(parse(o["start"]), SINCE), tz), "end": rfc(min(parse(o["end"]), UNTIL), tz), "user": o["user"]}
        for o in overrides if parse(o["start"]) < UNTIL and parse(o["end"]) > SINCE]}
    write(d, "schedules/" + sched["id"], {"since": [since], "until": [until], "time_zone": [sched["time_zone"]]},
          {"schedule": full})
    write(d, f"schedules/{sched['id']}/overrides", {"since": [since], "until": [OVERRIDES_UNTIL.strftime("%Y-%m-%dT%H:%M:%SZ")]},
          {"overrides": overrides})


def summary(sched):
    keys = ("id", "type", "summary", "self", "html_url", "name", "time_zone", "description", "escalation_policies", "users", "teams")
    return {k: sched[k] for k in keys if k in sched}


def listing(key, items, offset, more):
    return {key: items, "limit": 100, "offset": offset, "more": more, "total": None}


def manifest(d):
    with open(os.path.join(d, "klaxon-import.json"), "w") as f:
        json.dump({"source": "pagerduty", "savedAt": "2026-12-07T00:00:00Z",
                   "window": {"from": "2026-12-07T00:00:00Z", "to": "2027-01-04T00:00:00Z"}}, f, indent=2)
        f.write("\n")


def contact(user, id_, kind, label, address, **extra):
    cm = {"id": id_, "type": kind, "summary": label, "self": f"{API}/users/{user}/contact_methods/{id_}",
          "html_url": None, "label": label, "address": address}
    cm.update(extra)
    return cm


def rule(user, id_, delay, cm, urgency):
    return {"id": id_, "type": "assignment_notification_rule", "summary": f"{delay} minutes: channel {cm['id']}",
            "self": f"{API}/users/{user}/notification_rules/{id_}", "html_url": None,
            "start_delay_in_minutes": delay, "urgency": urgency,
            "contact_method": {"id": cm["id"], "type": cm["type"] + "_reference", "summary": cm["label"],
                               "self": cm["self"], "html_url": None}}


def person(id_, name, email, contacts, rules):
    return {"id": id_, "type": "user", "summary": name, "self": f"{API}/users/{id_}", "html_url": f"{WEB}/users/{id_}",
            "name": name, "email": email, "time_zone": "Europe/Berlin", "color": "green", "role": "user",
            "avatar_url": "https://secure.gravatar.com/avatar/0.png", "description": None, "invitation_sent": False,
            "job_title": "Engineer", "teams": [], "contact_methods": contacts, "notification_rules": rules}


def simple_person(id_, name, email):
    cm = contact(id_, id_ + "E", "email_contact_method", "Work", email)
    return person(id_, name, email, [cm], [rule(id_, id_ + "R", 0, cm, "high")])


def layer(id_, name, start, virtual, turn, users, restrictions=(), end=None):
    return {"id": id_, "name": name, "start": start, "end": end, "rotation_virtual_start": virtual,
            "rotation_turn_length_seconds": turn, "users": [{"user": uref(u)} for u in users],
            "restrictions": list(restrictions)}


def daily(start, seconds):
    return {"type": "daily_restriction", "start_time_of_day": start, "duration_seconds": seconds}


def weekly(day, start, seconds):
    return {"type": "weekly_restriction", "start_time_of_day": start, "duration_seconds": seconds, "start_day_of_week": day}


def sched(id_, name, tz, layers, users):
    return {"id": id_, "type": "schedule", "summary": name, "self": f"{API}/schedules/{id_}",
            "html_url": f"{WEB}/schedules/{id_}", "name": name, "time_zone": tz, "description": "",
            "escalation_policies": [], "users": [uref(u) for u in users], "teams": [], "schedule_layers": layers}


def override(id_, start, end, u):
    return {"id": id_, "start": start, "end": end, "user": uref(u)}


def team(d):
    os.makedirs(d, exist_ok=True)
    a_mail = contact("PALICE1", "PAC1", "email_contact_method", "Work", "alice@example.com")
    a_sms = contact("PALICE1", "PAC2", "sms_contact_method", "Mobile", "15112345678", country_code=49)
    a_phone = contact("PALICE1", "PAC3", "phone_contact_method", "Mobile", "15112345678", country_code=49)
    alice = person("PALICE1", "Alice Doe", "alice@example.com", [a_mail, a_sms, a_phone], [
        rule("PALICE1", "PAR1", 0, a_mail, "high"), rule("PALICE1", "PAR2", 5, a_sms, "high"),
        rule("PALICE1", "PAR3", 10, a_phone, "high"), rule("PALICE1", "PAR4", 0, a_mail, "low")])
    b_mail = contact("PBOB002", "PBC1", "email_contact_method", "Work", "bob@example.com")
    b_push = contact("PBOB002", "PBC2", "push_notification_contact_method", "Pixel 8", "dGhpcyBpcyBhIGRldmljZQ",
                     device_type="android", sounds=[], created_at="2026-01-12T10:00:00+01:00")
    bob = person("PBOB002", "Bob Müller", "bob@example.com", [b_mail, b_push], [
        rule("PBOB002", "PBR1", 0, b_push, "high"), rule("PBOB002", "PBR2", 3, b_mail, "high"),
        rule("PBOB002", "PBR3", 0, b_mail, "low")])
    carol = simple_person("PCAROL3", "Carol Nakamura", "carol@example.com")
    d_mail = contact("PDAVE04", "PDC1", "email_contact_method", "Work", "dave@example.com")
    d_phone = contact("PDAVE04", "PDC2", "phone_contact_method", "Desk", "2125550100", country_code=1)
    dave = person("PDAVE04", "Dave O'Brien", "dave@example.com", [d_mail, d_phone], [
        rule("PDAVE04", "PDR1", 0, d_mail, "high"), rule("PDAVE04", "PDR2", 15, d_phone, "high")])
    erin = simple_person("PERIN05", "Erin Smith", "erin@example.com")
    frank = simple_person("PFRANK6", "Frank Zhang", "frank@example.com")
    # Gina was deleted: schedules still name her, /users does not list her.
    gina = {"id": "PGINA07", "name": "Gina Former"}

    write(d, "users", {"include[]": ["contact_methods", "notification_rules"], "limit": ["100"], "offset": ["0"]},
          listing("users", [alice, bob, carol], 0, True))
    write(d, "users", {"include[]": ["contact_methods", "notification_rules"], "limit": ["100"], "offset": ["3"]},
          listing("users", [dave, erin, frank], 3, False))

    # Daily rotation, business hours in Berlin, with overrides.
    payments = sched("PDAILY1", "Payments Primary", "Europe/Berlin", [
        layer("PL1A", "Business Hours", "2026-11-02T08:00:00+01:00", "2026-11-02T08:00:00+01:00", 86400,
              [alice, bob, carol], [daily("08:00:00", 36000)]),
    ], [alice, bob, carol])
    payments_ov = [
        override("PO1A", "2026-12-06T21:00:00+01:00", "2026-12-07T09:00:00+01:00", frank),
        override("PO1B", "2026-12-10T09:00:00+01:00", "2026-12-10T13:00:00+01:00", dave),
        override("PO1C", "2026-12-24T00:00:00+01:00", "2026-12-27T00:00:00+01:00", erin),
        # Planned beyond the four weeks: imported, not verified.
        override("PO1D", "2027-02-01T00:00:00+01:00", "2027-02-03T00:00:00+01:00", alice),
    ]
    # Weekly rotation in New York: weekends (Fri 18:00 to Mon 09:00) and
    # Wednesday office hours; the deleted Gina still has a turn.
    platform = sched("PWEEKL2", "Platform Secondary", "America/New_York", [
        layer("PL2A", "Weekends and Wednesdays", "2026-11-02T09:00:00-05:00", "2026-11-02T09:00:00-05:00", 604800,
              [dave, erin, frank, gina], [weekly(5, "18:00:00", 226800), weekly(3, "09:00:00", 28800)]),
    ], [dave, erin, frank, gina])
    # Two night layers over a weekly base: the old one was removed at
    # 2026-12-18 20:00 (it has an end), the new one starts then, in the
    # middle of its 08:00 turn; an older layer ended before the window.
    database = sched("PLAYER3", "Database", "UTC", [
        layer("PL3C", "New Nights", "2026-12-18T20:00:00Z", "2026-12-01T08:00:00Z", 86400,
              [erin, frank, alice], [daily("20:00:00", 36000)]),
        layer("PL3B", "Old Nights", "2026-11-30T20:00:00Z", "2026-11-30T20:00:00Z", 86400,
              [carol, dave], [daily("20:00:00", 36000)], end="2026-12-18T20:00:00Z"),
        layer("PL3A", "Weekly", "2026-11-30T00:00:00Z", "2026-11-30T00:00:00Z", 604800, [alice, bob]),
        layer("PL3D", "Retired", "2026-10-01T00:00:00Z", "2026-10-01T00:00:00Z", 86400, [bob],
              end="2026-11-15T00:00:00Z"),
    ], [erin, frank, alice, carol, dave, bob])
    # A weekly rotation begun in summer: in December it still hands off at
    # 09:00 New York time, now 14:00Z, an hour later than turns of a fixed
    # 604800 seconds would.
    support = sched("PSUMMR5", "Support Weekly", "America/New_York", [
        layer("PL5A", "Summer Start", "2026-07-06T09:00:00-04:00", "2026-07-06T09:00:00-04:00", 604800,
              [erin, frank, carol]),
    ], [erin, frank, carol])
    write(d, "schedules", {"limit": ["100"], "offset": ["0"]},
          listing("schedules", [summary(s) for s in (payments, platform, database, support)], 0, False))
    for s, ov in ((payments, payments_ov), (platform, []), (database, []), (support, [])):
        schedule_answers(d, s, ov)

    sch = lambda s: ref("schedule", s["id"], s["name"], "schedules")
    policies = [
        {"id": "PEPPAY1", "type": "escalation_policy", "summary": "Payments", "name": "Payments",
         "self": f"{API}/escalation_policies/PEPPAY1", "html_url": f"{WEB}/escalation_policies/PEPPAY1",
         "on_call_handoff_notifications": "if_has_services", "num_loops": 2, "teams": [], "services": [], "description": "",
         "escalation_rules": [
             {"id": "PR1A", "escalation_delay_in_minutes": 10, "targets": [sch(payments)]},
             {"id": "PR1B", "escalation_delay_in_minutes": 15, "targets": [sch(platform), uref(dave)]},
             {"id": "PR1C", "escalation_delay_in_minutes": 30, "targets": [uref(carol)]},
         ]},
        {"id": "PEPDB02", "type": "escalation_policy", "summary": "Database", "name": "Database",
         "self": f"{API}/escalation_policies/PEPDB02", "html_url": f"{WEB}/escalation_policies/PEPDB02",
         "on_call_handoff_notifications": "if_has_services", "num_loops": 12, "teams": [], "services": [], "description": "",
         "escalation_rules": [
             {"id": "PR2A", "escalation_delay_in_minutes": 5, "targets": [uref(alice), uref(bob)],
              "escalation_rule_assignment_strategy": {"type": "round_robin"}},
             {"id": "PR2B", "escalation_delay_in_minutes": 20, "targets": [sch(database)],
              "escalation_rule_assignment_strategy": {"type": "assign_to_everyone"}},
         ]},
        {"id": "PEPLEG3", "type": "escalation_policy", "summary": "Legacy Ops", "name": "Legacy Ops",
         "self": f"{API}/escalation_policies/PEPLEG3", "html_url": f"{WEB}/escalation_policies/PEPLEG3",
         "on_call_handoff_notifications": "if_has_services", "num_loops": 0, "teams": [], "services": [], "description": "",
         "escalation_rules": [
             {"id": "PR3A", "escalation_delay_in_minutes": 10,
              "targets": [uref(gina), {"id": "PV3SCH9", "type": "schedule_v3_reference", "summary": "Flexible Rotation",
                                       "self": f"{API}/schedules/PV3SCH9", "html_url": None}]},
         ]},
    ]
    write(d, "escalation_policies", POLICIES_QUERY, listing("escalation_policies", policies, 0, False))
    manifest(d)


def approximated(d):
    os.makedirs(d, exist_ok=True)
    bob = simple_person("PBOB002", "Bob Müller", "bob@example.com")
    carol = simple_person("PCAROL3", "Carol Nakamura", "carol@example.com")
    dave = simple_person("PDAVE04", "Dave O'Brien", "dave@example.com")
    # Two people of one name, and one whose name has no Latin letters.
    alex1 = simple_person("PALEX01", "Alex Kim", "alex.kim@example.com")
    alex2 = simple_person("PALEX02", "Alex Kim", "alex.kim2@example.com")
    lei = simple_person("PLILEI8", "李雷", "lei@example.com")
    w_app = contact("PLILEI8", "PLW1", "whatsapp_contact_method", "WhatsApp", "13800138000", country_code=86)
    lei["contact_methods"].append(w_app)
    lei["notification_rules"].append(rule("PLILEI8", "PLWR", 2, w_app, "high"))
    write(d, "users", {"include[]": ["contact_methods", "notification_rules"], "limit": ["100"], "offset": ["0"]},
          listing("users", [alex1, alex2, bob, carol, dave, lei], 0, False))
    # A relay of 30-minute turns at lunch on Wednesdays over a weekly desk:
    # Klaxon's shortest shift is an hour, so the relay is left out.
    lunch = sched("PLUNCH4", "Lunch Desk", "UTC", [
        layer("PL4B", "Lunch Relay", "2026-11-30T00:00:00Z", "2026-11-30T00:00:00Z", 1800, [carol, dave],
              [weekly(3, "12:00:00", 3600)]),
        layer("PL4A", "Desk", "2026-11-30T00:00:00Z", "2026-11-30T00:00:00Z", 604800, [bob]),
    ], [carol, dave, bob])
    write(d, "schedules", {"limit": ["100"], "offset": ["0"]}, listing("schedules", [summary(lunch)], 0, False))
    schedule_answers(d, lunch, [])
    write(d, "escalation_policies", POLICIES_QUERY, listing("escalation_policies", [], 0, False))
    manifest(d)


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    team(os.path.join(here, "team"))
    approximated(os.path.join(here, "approximated"))
