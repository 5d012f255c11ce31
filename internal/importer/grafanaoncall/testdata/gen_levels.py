#!/usr/bin/env python3
"""Writes the "levels" fixture: two shifts of one level over a daily
rotation, in America/New_York (UTC-5 all through the window). Grafana OnCall
puts everyone of overlapping shifts of the highest level on call, and only
them; Klaxon adds the second shift of a level to the layers below, so where
that shift alone of its level has someone, the rotation's person stays on
call beside it. The test asserts exactly those stretches.

The events are written out by hand; gen_team.py resolves and pages them.
Run it from this directory: python3 gen_levels.py
"""
import os
from datetime import timedelta

import gen_team as g

g.OUT = "levels"
ID = g.ID


def events():
    ev = []
    # OSUPPORT0001, level 0: daily from Mon 2026-12-07 08:00 New York
    # (13:00Z) for 9 hours, alice then bob, a day each.
    turns = [[ID["alice"]], [ID["bob"]]]
    for k in range(-2, 31):
        a = g.z(2026, 12, 7, 13) + timedelta(days=k)
        if k >= 0:
            ev.append((a, a + timedelta(hours=9), 0, turns[k % 2]))
    # OSATURDAY001, level 1: carol, weekly on SA from 10:00 New York
    # (15:00Z) for 4 hours, from Sat 2026-12-12.
    # OSATURDAY002, level 1: dave, weekly on SA from 12:00 New York
    # (17:00Z) for 4 hours, from Sat 2026-12-12.
    for w in range(4):
        sat = g.z(2026, 12, 12) + timedelta(weeks=w)
        ev.append((sat + timedelta(hours=15), sat + timedelta(hours=19), 1, [ID["carol"]]))
        ev.append((sat + timedelta(hours=17), sat + timedelta(hours=21), 1, [ID["dave"]]))
    return ev


def main():
    os.makedirs(g.OUT, exist_ok=True)
    for f in os.listdir(g.OUT):
        os.remove(os.path.join(g.OUT, f))
    g.write("klaxon-import.json", {
        "source": "grafana-oncall", "savedAt": "2026-12-07T00:00:00Z",
        "window": {"from": g.stamp(g.WINDOW[0]), "to": g.stamp(g.WINDOW[1])},
    })
    users = [{"id": uid, "email": email, "slack": None, "username": name, "role": "user",
              "is_phone_number_verified": False, "timezone": "America/New_York", "teams": []}
             for uid, name, email, _ in g.USERS if name in ("alice", "bob", "carol", "dave")]
    g.pages("users", {}, users, 50)
    g.pages("personal_notification_rules", {}, [
        {"id": "N" + u["id"][1:6], "user_id": u["id"], "position": 0, "important": False, "type": "notify_by_email"} for u in users
    ], 50)
    g.pages("schedules", {}, [
        {"id": "SSUPPORT00001", "team_id": None, "name": "Support", "type": "web", "time_zone": "America/New_York",
         "on_call_now": [], "shifts": ["OSUPPORT0001", "OSATURDAY001", "OSATURDAY002"],
         "slack": {"channel_id": None, "user_group_id": None}, "ical_url_overrides": None},
    ], 50)
    common = {"team_id": None, "time_zone": None, "interval": 1, "until": None, "week_start": "MO", "by_month": None, "by_monthday": None}
    g.pages("on_call_shifts", {}, [
        dict(common, id="OSUPPORT0001", name="Daytime", type="rolling_users", level=0, start="2026-12-07T08:00:00",
             duration=32400, frequency="daily", by_day=None, rolling_users=[[ID["alice"]], [ID["bob"]]], start_rotation_from_user_index=0),
        dict(common, id="OSATURDAY001", name="Saturday morning", type="recurrent_event", level=1, start="2026-12-12T10:00:00",
             duration=14400, frequency="weekly", by_day=["SA"], users=[ID["carol"]]),
        dict(common, id="OSATURDAY002", name="Saturday noon", type="recurrent_event", level=1, start="2026-12-12T12:00:00",
             duration=14400, frequency="weekly", by_day=["SA"], users=[ID["dave"]]),
    ], 50)
    g.final_shifts("SSUPPORT00001", events(), [])
    g.pages("escalation_chains", {}, [], 50)
    g.pages("integrations", {}, [], 50)


if __name__ == "__main__":
    main()
