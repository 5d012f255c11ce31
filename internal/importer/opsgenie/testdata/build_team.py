#!/usr/bin/env python3
"""Writes testdata/team: Opsgenie REST API v2 answers for one team, as the
API reference documents them, with each schedule's final timeline for the
four weeks from 2026-12-07T00:00:00Z worked out from Opsgenie's documented
rotation semantics (turns of `length` units from startDate, restrictions
on the schedule's clock, overrides in place of the rotation's people,
rotations adding up). Nothing here uses Klaxon's code.

Run from this directory: python3 build_team.py
"""
import json
import zlib
import os
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

OUT = "team"
UTC = timezone.utc
FROM = datetime(2026, 12, 7, tzinfo=UTC)
TO = datetime(2027, 1, 4, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)


def iso(t):
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write(name, data, **extra):
    body = {"data": data}
    body.update(extra)
    body["took"] = 0.012
    body["requestId"] = "6d4c6a2e-%08x-4c1e-9b7a-3f0c2b1a0e9d" % zlib.crc32(name.encode())
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(body, f, indent=2, ensure_ascii=False)
        f.write("\n")


def uid(n):
    return "4d2c7a10-0a1b-4c2d-8e3f-00000000000%d" % n


ALICE, BOB, CAROL, DAVE, ZOE = (
    {"id": uid(1), "username": "alice@example.com", "fullName": "Alice"},
    {"id": uid(2), "username": "bob@example.com", "fullName": "Bob"},
    {"id": uid(3), "username": "carol@example.com", "fullName": "Carol"},
    {"id": uid(4), "username": "dave@example.com", "fullName": "Dave"},
    {"id": uid(5), "username": "zoe@example.com", "fullName": "Zoë Müller"},
)
USERS = [ALICE, BOB, CAROL, DAVE, ZOE]


def user_entry(u):
    return dict(u, role={"id": "User", "name": "User"}, timeZone="Europe/Berlin", locale="en_US",
                verified=True, blocked=False, createdAt="2024-03-01T09:00:00.000Z",
                userAddress={"country": "", "state": "", "city": "", "line": "", "zipCode": ""})


def participant(u):
    return {"type": "user", "id": u["id"], "username": u["username"]}


def recipient(u):
    return {"type": "user", "id": u["id"], "name": u["username"]}


# --- users, two pages -------------------------------------------------------
BASE = "https://api.opsgenie.com/v2/users"
write("users@limit=100&offset=0.json", [user_entry(u) for u in USERS[:3]], totalCount=5,
      paging={"next": BASE + "?limit=100&offset=3&order=asc&sort=username",
              "first": BASE + "?limit=100&offset=0&order=asc&sort=username",
              "last": BASE + "?limit=100&offset=3&order=asc&sort=username"})
write("users@limit=100&offset=3.json", [user_entry(u) for u in USERS[3:]], totalCount=5,
      paging={"prev": BASE + "?limit=100&offset=0&order=asc&sort=username",
              "first": BASE + "?limit=100&offset=0&order=asc&sort=username",
              "last": BASE + "?limit=100&offset=3&order=asc&sort=username"})


def contact(cid, method, to, enabled=True):
    return {"id": cid, "method": method, "to": to, "status": {"enabled": enabled}, "applyOrder": 0}


def minutes(n):
    return {"timeAmount": n, "timeUnit": "minutes"}


def step(sid, method, to, after):
    return {"id": sid, "sendAfter": minutes(after), "contact": {"method": method, "to": to}, "enabled": True}


def rules(u, summaries, details):
    write("users_%s_notification-rules.json" % u["id"], summaries)
    for d in details:
        write("users_%s_notification-rules_%s.json" % (u["id"], d["id"]), d)


def summary(rid, name, action, order, enabled=True):
    return {"id": rid, "name": name, "actionType": action, "order": order, "enabled": enabled}


def detail(rid, name, order, crit, steps):
    return {"id": rid, "name": name, "actionType": "create-alert", "order": order, "enabled": True,
            "notificationTime": [], "criteria": crit, "steps": steps}


def prio(p, negate=False):
    return {"field": "priority", "not": negate, "operation": "equals", "expectedValue": p}


# Alice: P1/P2 by SMS then voice, everything else by mail then the app; two
# rules for other events.
write("users_%s_contacts.json" % uid(1), [
    contact("c-a-mail", "email", "alice@example.com"),
    contact("c-a-sms", "sms", "49-15100000001"),
    contact("c-a-voice", "voice", "49-15100000001"),
    contact("c-a-app", "mobile", "Alice's Pixel"),
])
rules(ALICE, [
    summary("r-a-urgent", "Urgent", "create-alert", 0),
    summary("r-a-default", "Default", "create-alert", 1),
    summary("r-a-ack", "Acknowledged", "acknowledged-alert", 2),
    summary("r-a-shift", "On-call starts", "schedule-start", 3),
], [
    detail("r-a-urgent", "Urgent", 0, {"type": "match-any-condition", "conditions": [prio("P1"), prio("P2")]},
           [step("s-a-1", "sms", "49-15100000001", 0), step("s-a-2", "voice", "49-15100000001", 5)]),
    detail("r-a-default", "Default", 1, {"type": "match-all"},
           [step("s-a-3", "email", "alice@example.com", 0), step("s-a-4", "mobile", "Alice's Pixel", 1)]),
])
# Bob: mail at once, SMS after 3 minutes, for every alert.
write("users_%s_contacts.json" % uid(2), [
    contact("c-b-mail", "email", "bob@example.com"),
    contact("c-b-sms", "sms", "49-15100000002"),
])
rules(BOB, [summary("r-b-all", "Everything", "create-alert", 0)], [
    detail("r-b-all", "Everything", 0, {"type": "match-all"},
           [step("s-b-1", "email", "bob@example.com", 0), step("s-b-2", "sms", "49-15100000002", 3)]),
])
# Carol: every alert but P5.
write("users_%s_contacts.json" % uid(3), [contact("c-c-mail", "email", "carol@example.com")])
rules(CAROL, [summary("r-c-nop5", "All but P5", "create-alert", 0)], [
    detail("r-c-nop5", "All but P5", 0, {"type": "match-all-conditions", "conditions": [prio("P5", True)]},
           [step("s-c-1", "email", "carol@example.com", 0)]),
])
# Dave: his voice contact is disabled; an old rule is disabled.
write("users_%s_contacts.json" % uid(4), [
    contact("c-d-mail", "email", "dave@example.com"),
    contact("c-d-voice", "voice", "49-15100000004", enabled=False),
])
rules(DAVE, [summary("r-d-default", "Default", "create-alert", 0),
             summary("r-d-old", "Old", "create-alert", 1, enabled=False)], [
    detail("r-d-default", "Default", 0, {"type": "match-all"},
           [step("s-d-1", "email", "dave@example.com", 0), step("s-d-2", "voice", "49-15100000004", 10)]),
])
# Zoë: only alerts tagged database.
write("users_%s_contacts.json" % uid(5), [contact("c-z-mail", "email", "zoe@example.com")])
rules(ZOE, [summary("r-z-db", "Database alerts", "create-alert", 0)], [
    detail("r-z-db", "Database alerts", 0,
           {"type": "match-all-conditions", "conditions": [
               {"field": "tags", "not": False, "operation": "contains", "expectedValue": "database"}]},
           [step("s-z-1", "email", "zoe@example.com", 0)]),
])

# --- schedules --------------------------------------------------------------
S1, S2, S3, S4, S5 = ("0b5e1c52-7d3a-4f0e-a1c4-00000000000%d" % n for n in (1, 2, 3, 4, 5))
R = {k: "9e7a3f11-2c4b-4d5e-b6f7-0000000000%s" % k for k in ("11", "12", "21", "22", "31", "32", "41", "51", "52")}


def rot(rid, name, typ, length, start, parts, end=None, restriction=None):
    r = {"id": R[rid], "name": name, "startDate": iso(start), "type": typ, "length": length,
         "participants": parts}
    if end:
        r["endDate"] = iso(end)
    if restriction:
        r["timeRestriction"] = restriction
    return r


def owner():
    return {"id": "7a1b2c3d-0000-4000-8000-000000000001", "name": "payments"}


T = lambda *a: datetime(*a, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
TIME_OF_DAY_9_17 = {"type": "time-of-day", "restriction": {"startHour": 9, "startMin": 0, "endHour": 17, "endMin": 0}}
FRIDAY_EVENING_TO_MONDAY = {"type": "weekday-and-time-of-day", "restrictions": [
    {"startDay": "friday", "startHour": 18, "startMin": 0, "endDay": "monday", "endHour": 9, "endMin": 0}]}
schedules = [
    {"id": S1, "name": "Payments Primary", "description": "", "timezone": "Europe/Berlin", "enabled": True,
     "ownerTeam": owner(), "rotations": [
         rot("11", "Weekly", "weekly", 1, T(2026, 11, 30, 8), [participant(ALICE), participant(BOB)]),
         rot("12", "Office hours", "daily", 1, T(2026, 12, 1, 8), [participant(CAROL), participant(DAVE)],
             restriction=TIME_OF_DAY_9_17),
     ]},
    {"id": S2, "name": "Payments Weekend", "description": "", "timezone": "Europe/Berlin", "enabled": True,
     "ownerTeam": owner(), "rotations": [
         rot("21", "Weekend", "weekly", 1, T(2026, 11, 27, 17), [participant(DAVE), participant(ZOE)],
             restriction=FRIDAY_EVENING_TO_MONDAY),
         rot("22", "Night watch", "hourly", 8, T(2026, 12, 7), [participant(ALICE), participant(BOB), participant(CAROL)],
             end=T(2026, 12, 21)),
     ]},
    {"id": S3, "name": "Platform", "description": "", "timezone": "UTC", "enabled": True,
     "ownerTeam": owner(), "rotations": [
         rot("31", "Daily", "daily", 1, T(2026, 12, 1), [participant(BOB), participant(CAROL)]),
         rot("32", "SRE team", "weekly", 1, T(2026, 12, 19), [{"type": "team", "id": "7a1b2c3d-0000-4000-8000-000000000002", "name": "SRE"}],
             end=T(2026, 12, 20)),
     ]},
    # Support: both rotations hand over at noon in Berlin, inside their
    # restriction windows, so a turn spans two windows.
    {"id": S5, "name": "Support", "description": "", "timezone": "Europe/Berlin", "enabled": True,
     "ownerTeam": owner(), "rotations": [
         rot("51", "Support days", "daily", 1, T(2026, 12, 1, 11), [participant(CAROL), participant(DAVE), participant(ZOE)],
             restriction=TIME_OF_DAY_9_17),
         rot("52", "Support weekend", "weekly", 1, T(2026, 11, 28, 11), [participant(ALICE), participant(BOB)],
             restriction=FRIDAY_EVENING_TO_MONDAY),
     ]},
    {"id": S4, "name": "Follow the Sun", "description": "", "timezone": "Mars/Olympus_Mons", "enabled": True,
     "ownerTeam": owner(), "rotations": [
         rot("41", "Everyone", "weekly", 1, T(2026, 11, 30), [participant(ALICE)]),
     ]},
]
write("schedules@expand=rotation.json", schedules, expandable=["rotation"])

O1 = {"parent": {"id": S1, "name": "Payments Primary", "enabled": True}, "alias": "christmas-cover",
      "user": participant(ZOE), "startDate": iso(T(2026, 12, 24, 17)), "endDate": iso(T(2026, 12, 27, 8)),
      "rotations": []}
O2 = {"parent": {"id": S2, "name": "Payments Weekend", "enabled": True}, "alias": "dentist",
      "user": participant(CAROL), "startDate": iso(T(2026, 12, 12, 10)), "endDate": iso(T(2026, 12, 12, 14)),
      "rotations": [{"id": R["21"], "name": "Weekend"}]}
write("schedules_%s_overrides.json" % S1, [O1])
write("schedules_%s_overrides.json" % S2, [O2])
write("schedules_%s_overrides.json" % S3, [])
write("schedules_%s_overrides.json" % S4, [])
write("schedules_%s_overrides.json" % S5, [])


# --- final timelines ----------------------------------------------------------
def turns(start, length, people, until=None):
    """Opsgenie's turns: people[i % n] from start + i*length."""
    i = 0
    while True:
        a, b = start + i * length, start + (i + 1) * length
        if until and b > until:
            b = until
        if a >= TO or (until and a >= until):
            return
        if b > FROM:
            yield a, b, people[i % len(people)]
        i += 1


def local(d, h, m):
    """The instant the clocks of Berlin show d h:m."""
    return datetime.combine(d, time(h, m), tzinfo=BERLIN).astimezone(UTC)


def windows(restriction):
    """The restriction's windows, as instants, around the four weeks: a
    time-of-day window every day, a weekday window from its start day to
    the next time its end day's time comes, both on Berlin's clock."""
    out = []
    d = (FROM - 2 * WEEK).date()
    while d < (TO + 2 * WEEK).date():
        if restriction["type"] == "time-of-day":
            r = restriction["restriction"]
            a, b = local(d, r["startHour"], r["startMin"]), local(d, r["endHour"], r["endMin"])
            if b <= a:
                b = local(d + DAY, r["endHour"], r["endMin"])
            out.append((a, b))
        else:
            for r in restriction["restrictions"]:
                if DAYS[d.weekday()] != r["startDay"]:
                    continue
                a = local(d, r["startHour"], r["startMin"])
                days = (DAYS.index(r["endDay"]) - d.weekday()) % 7
                b = local(d + days * DAY, r["endHour"], r["endMin"])
                if b <= a:
                    b = local(d + (days + 7) * DAY, r["endHour"], r["endMin"])
                out.append((a, b))
        d += DAY
    return out


def restricted(turn_list, restriction):
    """Each turn keeps its person, on call only within the restriction's
    windows: a turn that spans two windows is on call in both."""
    out = []
    ws = windows(restriction)
    for a, b, who in turn_list:
        for wa, wb in ws:
            if max(a, wa) < min(b, wb):
                out.append((max(a, wa), min(b, wb), recipient(who), "default"))
    out.sort(key=lambda p: p[0])
    return out


def clip(periods):
    out = []
    for a, b, who, typ in periods:
        a, b = max(a, FROM), min(b, TO)
        if a < b:
            out.append((a, b, who, typ))
    return out


def override(periods, start, end, who):
    """Puts who in place of the rotation's people in [start, end) where the
    rotation has someone, as Opsgenie's final timeline shows an override."""
    out = []
    for a, b, p, typ in periods:
        if b <= start or a >= end:
            out.append((a, b, p, typ))
            continue
        if a < start:
            out.append((a, start, p, typ))
        out.append((max(a, start), min(b, end), who, "override"))
        if b > end:
            out.append((end, b, p, typ))
    return out


def timeline(sid, name, rotations):
    data = {"parent": {"id": sid, "name": name, "enabled": True}, "startDate": iso(FROM), "endDate": iso(TO),
            "finalTimeline": {"rotations": [
                {"id": R[rid], "name": rname, "order": float(i + 1), "periods": [
                    {"startDate": iso(a), "endDate": iso(b), "type": typ, "recipient": who}
                    for a, b, who, typ in clip(periods)]}
                for i, (rid, rname, periods) in enumerate(rotations)]}}
    write("schedules_%s_timeline@date=2026-12-07T00-3A00-3A00Z&interval=4&intervalUnit=weeks.json" % sid, data,
          expandable=["base", "forwarding", "override"])


# Payments Primary. Weekly: Alice and Bob hand over on Mondays 08:00Z
# (09:00 in Berlin). Office hours: Carol and Dave take days in turn from
# 2026-12-01 08:00Z, on call only 09:00-17:00 Berlin (08:00-16:00Z).
weekly = [(a, b, recipient(p), "default") for a, b, p in turns(T(2026, 11, 30, 8), WEEK, [ALICE, BOB])]
office = restricted(turns(T(2026, 12, 1, 8), DAY, [CAROL, DAVE]), TIME_OF_DAY_9_17)
weekly = override(weekly, T(2026, 12, 24, 17), T(2026, 12, 27, 8), recipient(ZOE))
office = override(office, T(2026, 12, 24, 17), T(2026, 12, 27, 8), recipient(ZOE))
timeline(S1, "Payments Primary", [("11", "Weekly", weekly), ("12", "Office hours", office)])

# Payments Weekend. Weekend: Dave and Zoë take weeks in turn from Friday
# 2026-11-27 17:00Z, on call only Friday 18:00 to Monday 09:00 Berlin
# (Friday 17:00Z to Monday 08:00Z): each turn starts when a window opens. Night
# watch: eight-hour turns of Alice, Bob, Carol from 2026-12-07 00:00Z,
# ended 2026-12-21 00:00Z. The dentist override puts Carol in place of the
# weekend rotation on Saturday 12 December 10:00-14:00Z.
weekend = restricted(turns(T(2026, 11, 27, 17), WEEK, [DAVE, ZOE]), FRIDAY_EVENING_TO_MONDAY)
weekend = override(weekend, T(2026, 12, 12, 10), T(2026, 12, 12, 14), recipient(CAROL))
night = [(a, b, recipient(p), "default")
         for a, b, p in turns(T(2026, 12, 7), 8 * HOUR, [ALICE, BOB, CAROL], until=T(2026, 12, 21))]
timeline(S2, "Payments Weekend", [("21", "Weekend", weekend), ("22", "Night watch", night)])

# Platform (UTC). Daily: Bob and Carol take days in turn from 2026-12-01.
# SRE team: the team is on call 2026-12-19 for one day.
daily = [(a, b, recipient(p), "default") for a, b, p in turns(T(2026, 12, 1), DAY, [BOB, CAROL])]
sre = [(T(2026, 12, 19), T(2026, 12, 20), {"type": "team", "id": "7a1b2c3d-0000-4000-8000-000000000002", "name": "SRE"},
        "default")]
timeline(S3, "Platform", [("31", "Daily", daily), ("32", "SRE team", sre)])

# Support (Berlin). Support days: Carol, Dave and Zoë take days in turn
# from 2026-12-01 12:00 Berlin (11:00Z), on call only 09:00-17:00 Berlin:
# a turn is the afternoon of its first day and the morning of the next.
# Support weekend: Alice and Bob take weeks in turn from Saturday
# 2026-11-28 12:00 Berlin, on call only Friday 18:00 to Monday 09:00
# Berlin: a turn is the rest of one weekend and the start of the next.
days = restricted(turns(T(2026, 12, 1, 11), DAY, [CAROL, DAVE, ZOE]), TIME_OF_DAY_9_17)
sweekend = restricted(turns(T(2026, 11, 28, 11), WEEK, [ALICE, BOB]), FRIDAY_EVENING_TO_MONDAY)
timeline(S5, "Support", [("51", "Support days", days), ("52", "Support weekend", sweekend)])

# --- escalations --------------------------------------------------------------
E1, E2, E3 = ("c3d4e5f6-1a2b-4c3d-9e8f-00000000000%d" % n for n in (1, 2, 3))


def sched(sid, name):
    return {"type": "schedule", "id": sid, "name": name}


def rule(cond, notify, delay, rcp):
    return {"condition": cond, "notifyType": notify, "delay": minutes(delay), "recipient": rcp}


write("escalations.json", [
    {"id": E1, "name": "Payments Escalation", "description": "", "ownerTeam": owner(), "rules": [
        rule("if-not-acked", "default", 0, sched(S1, "Payments Primary")),
        rule("if-not-acked", "default", 5, {"type": "user", "id": DAVE["id"], "username": DAVE["username"]}),
        rule("if-not-acked", "default", 15, sched(S2, "Payments Weekend")),
    ], "repeat": {"waitInterval": 10, "count": 2, "resetRecipientStates": False, "closeAlertAfterAll": False}},
    {"id": E2, "name": "Platform Escalation", "description": "", "ownerTeam": owner(), "rules": [
        rule("if-not-closed", "next", 0, sched(S3, "Platform")),
        rule("if-not-closed", "default", 0, {"type": "user", "id": ALICE["id"], "username": ALICE["username"]}),
        rule("if-not-closed", "default", 10, {"type": "team", "id": "7a1b2c3d-0000-4000-8000-000000000002", "name": "SRE"}),
    ], "repeat": {"waitInterval": 5, "count": 15, "resetRecipientStates": True, "closeAlertAfterAll": True}},
    {"id": E3, "name": "Follow the Sun Escalation", "description": "", "ownerTeam": owner(), "rules": [
        rule("if-not-acked", "default", 0, sched(S4, "Follow the Sun")),
    ]},
])

with open(os.path.join(OUT, "klaxon-import.json"), "w") as f:
    json.dump({"source": "opsgenie", "savedAt": "2026-12-06T18:00:00Z",
               "window": {"from": iso(FROM), "to": iso(TO)}}, f, indent=2)
    f.write("\n")
