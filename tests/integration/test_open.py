# SPDX-License-Identifier: MIT
"""Open data (articles 22-23) over HTTP on a 3-node cluster: the whole
workflow (a citizen files an open request for a conditionally open entry,
the provider org decides, the citizen then reads that entry and no other,
each read audited with the request's id before it is answered), the public
reading unconditionally open data without a token and never `none` data,
who sees and who decides which request, working-day due dates checked
against a reference written here, a calendar PUT recomputing a pending
request's due date, overdue requests once ledger time has passed their
due date, and calendars carried by genesis from --holidays (and a bad
file refused at start with exit status 2)."""
import datetime
import json
import os
import subprocess

from cluster import (BUILD, appends_nothing, create_orgs, create_principals,
                     free_ports, wait_for)

SH = datetime.timezone(datetime.timedelta(hours=8))
DAY = datetime.timedelta(days=1)
FIELDS = [{"name": "name", "type": "string", "required": True}]


# ---- the world ----------------------------------------------------------

def _world(c):
    """Orgs dept (the provider), dept2, cityA (a city authority);
    principals prov, prov_b (dept providers), dcons (dept consumer), prov2
    (dept2 provider), ca (cityA authority), cit, cit2 (citizens). Returns
    (leader, tokens)."""
    lead = c.leader()
    tok = {"admin": c.token, None: None}
    create_orgs(lead, c.token, (("dept", "province", False),
                                ("dept2", "province", False),
                                ("cityA", "city", True)))
    create_principals(lead, c.token, (("prov", "dept", ["provider"]),
                                      ("prov_b", "dept", ["provider"]),
                                      ("dcons", "dept", ["consumer"]),
                                      ("prov2", "dept2", ["provider"]),
                                      ("ca", "cityA", ["authority"]),
                                      ("cit", None, None),
                                      ("cit2", None, None)), tok)
    return lead, tok


def _publish(lead, tok, eid, share, open_, key="k1"):
    """Entry `eid` of dept with the classes, published, with one record."""
    body = {"id": eid, "title": eid, "provider": "dept", "fields": FIELDS,
            "share": {"class": share, "basis": "art. 18"},
            "open": {"class": open_}, "update_frequency": "daily",
            "security_level": 2, "scope": "province"}
    r = lead.req("POST", "/v1/catalog", body, token=tok["prov"])
    assert r.status == 201, r
    r = lead.req("POST", "/v1/catalog/%s/submit" % eid, token=tok["prov"])
    assert r.status == 200, r
    r = lead.req("POST", "/v1/catalog/%s/review" % eid,
                 {"decision": "approve", "override_duplicate": True,
                  "reason": "one schema on purpose"}, token=tok["admin"])
    assert r.status == 200 and r.json["status"] == "published", r
    r = lead.req("PUT", "/v1/catalog/%s/records/%s" % (eid, key),
                 {"name": "record of " + eid}, token=tok["prov"])
    assert r.status == 201, r


def _request(entry):
    return {"entry": entry, "applicant": "Zhang San",
            "data_type": "registration records",
            "description": "my own registration", "purpose": "a loan"}


def _file(node, token, entry):
    return node.req("POST", "/v1/open-requests", _request(entry), token=token)


def _file_ok(node, token, entry):
    r = _file(node, token, entry)
    assert r.status == 201, r
    return r.json


def _facts(node, token, since):
    """Every fact after revision `since`, through GET /v1/ledger/facts."""
    out, frm = [], since + 1
    while True:
        r = node.req("GET", "/v1/ledger/facts?from=%d&limit=1000" % frm,
                     token=token)
        assert r.status == 200, r
        out.extend(r.json["items"])
        if r.json["next"] is None:
            return out
        frm = int(r.json["next"])


def _revision(node):
    return node.status()["revision"]


# ---- the reference: working days in Shanghai ----------------------------

def _parse(iso):
    return datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc)


def _iso(t):
    t = t.astimezone(datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def _working(d, cals):
    cal = cals.get(d.year)
    if cal is not None and d.isoformat() in cal.get("holidays", ()):
        return False
    if cal is not None and d.isoformat() in cal.get("workdays", ()):
        return True
    return d.weekday() < 5


def _due(submitted_at, cals):
    """(due, due_at, provisional) of a request received at `submitted_at`
    (RFC 3339) under calendars {year: {"holidays": [...], "workdays":
    [...]}}: the 10th working day after the Shanghai day of receipt."""
    d = _parse(submitted_at).astimezone(SH).date()
    n, provisional = 0, False
    while n < 10:
        d += DAY
        provisional = provisional or d.year not in cals
        n += _working(d, cals)
    end = datetime.datetime.combine(d + DAY, datetime.time(0), SH)
    return d.isoformat(), _iso(end - datetime.timedelta(milliseconds=1)), \
        provisional


def _check_due(req, cals):
    due, due_at, prov = _due(req["submitted_at"], cals)
    assert (req["due"], req["due_at"], req["calendar_provisional"]) == \
        (due, due_at, prov), (req, due, due_at, prov)


def _ledger_time(r):
    return _parse(r.headers["x-provcat-time"])


# ---- moving ledger time: the one place that uses the clock test hook -----

def _clock(offset_ms):
    """The environment that shifts a node's wall clock by `offset_ms`
    (PROVCAT_TEST_CLOCK_OFFSET_MS, a test hook; keep its use here)."""
    return {"PROVCAT_TEST_CLOCK_OFFSET_MS": str(offset_ms)}


def _restart_all(c, offset_ms=0):
    """Stop every node and start them all again with their clocks shifted
    by `offset_ms`. After a full restart no node has seen a live entry, so
    a leader whose clock is now far ahead of ledger time stamps the next
    fact with it: ledger time jumps forward (docs/node.md, ledger time)."""
    for x in c.nodes:
        assert x.stop() == 0
    c.start_all(env=_clock(offset_ms))
    return c.wait_ready()


def _when_ready(fn, what):
    """Retry `fn` while a restarted node answers 503 (it cannot judge
    tokens until it has replayed the principals)."""
    out = []

    def once():
        r = fn()
        if r.status == 503:
            return None
        out.append(r)
        return True
    wait_for(once, 20, what)
    return out[0]


# ---- tests --------------------------------------------------------------

def test_open_public_classes(c):
    """Unconditionally open data is for anyone without a token; `none` is
    never for the public (the entry itself is invisible); conditionally
    open records need an approved request; a bad token is 401, never the
    public."""
    lead, tok = _world(c)
    _publish(lead, tok, "pub", "unconditional", "unconditional")
    _publish(lead, tok, "cond", "conditional", "conditional")
    _publish(lead, tok, "shut", "unconditional", "none")
    _publish(lead, tok, "closed", "none", "none")
    follower = next(x for x in c.nodes if x is not lead)
    c.converged()
    for node in (lead, follower):
        r = node.req("GET", "/v1/catalog/pub/records/k1?consistency=stale")
        assert r.status == 200 and r.json["value"] == {"name": "record of pub"}
        r = node.req("GET", "/v1/catalog/pub/records?consistency=stale")
        assert r.status == 200 and [i["key"] for i in r.json["items"]] == \
            ["k1"], r
        for eid in ("shut", "closed"):
            for path in ("/v1/catalog/%s", "/v1/catalog/%s/records/k1",
                         "/v1/catalog/%s/records", "/v1/catalog/%s/history"):
                r = node.req("GET", path % eid + "?consistency=stale")
                assert r.status == 404, (path, eid, r)
        r = node.req("GET", "/v1/catalog/cond/records/k1?consistency=stale")
        assert r.status == 403, r
        r = node.req("GET", "/v1/catalog/cond/records/nokey?consistency=stale")
        assert r.status == 403, r  # keys cannot be probed
    r = lead.req("GET", "/v1/catalog?open=none")
    assert r.status == 200 and r.json["items"] == [], r
    r = lead.req("GET", "/v1/catalog/closed/records/k1",
                 token="pct_not-a-token")
    assert r.status == 401, r
    # The public files nothing.
    r = _file(lead, None, "cond")
    assert r.status == 401, r


def test_open_workflow(c):
    """A citizen files an open request for a conditionally open entry; only
    a provider of the entry's org decides (404 for those who may not see
    the request, 403 for those who may, 409 once decided, each refusal a
    rejection fact); approval lets that citizen read that entry's records,
    each read answered only once its audit event, naming the request, is
    in the ledger; not another entry, not another citizen."""
    lead, tok = _world(c)
    for eid in ("cond", "cond2"):
        _publish(lead, tok, eid, "conditional", "conditional")
    _publish(lead, tok, "pub", "unconditional", "unconditional")
    _publish(lead, tok, "closed", "none", "none")

    # Filing.
    for entry, want in (("pub", 409), ("closed", 409), ("nope", 404)):
        r = _file(lead, tok["cit"], entry)
        assert r.status == want, (entry, r)
    bad = dict(_request("cond"), purpose="  ")
    r = lead.req("POST", "/v1/open-requests", bad, token=tok["cit"])
    assert r.status == 400 and r.json["error"]["field"] == "purpose", r
    r = lead.req("POST", "/v1/open-requests", dict(_request("cond"), days=3),
                 token=tok["cit"])
    assert r.status == 400 and r.json["error"]["field"] == "days", r
    req = _file_ok(lead, tok["cit"], "cond")
    rid = req["id"]
    assert rid == "or-%d" % req["revision"]
    assert req["status"] == "pending" and req["requester"] == "cit"
    assert req["org"] is None and req["provider"] == "dept"
    assert req["applicant"] == "Zhang San" and req["overdue"] is False
    _check_due(req, {})  # no calendar set: Mon-Fri, provisional

    # Who sees it.
    r = lead.req("GET", "/v1/open-requests", token=tok["cit"])
    assert r.status == 200 and [i["id"] for i in r.json["items"]] == [rid]
    assert r.json["next"] is None
    for who in ("prov", "dcons", "admin"):
        r = lead.req("GET", "/v1/open-requests/" + rid, token=tok[who])
        assert r.status == 200 and r.json["due"] == req["due"], (who, r)
    for who in ("cit2", "prov2", "ca"):
        r = lead.req("GET", "/v1/open-requests/" + rid, token=tok[who])
        assert r.status == 404, (who, r)
        r = lead.req("GET", "/v1/open-requests", token=tok[who])
        assert r.status == 200 and r.json["items"] == [], (who, r)
    r = lead.req("GET", "/v1/open-requests")
    assert r.status == 401, r
    r = lead.req("GET", "/v1/open-requests/x1", token=tok["cit"])
    assert r.status == 400, r

    # Not readable before approval.
    r = lead.req("GET", "/v1/catalog/cond/records/k1", token=tok["cit"])
    assert r.status == 403, r

    # Decisions: wrong principals, then the provider, then out of turn.
    before = _revision(lead)
    path = "/v1/open-requests/%s/decide" % rid
    approve = {"decision": "approve", "reason": "granted for the loan"}
    for who, want in (("cit2", 404), ("prov2", 404), ("ca", 404),
                      ("cit", 403), ("dcons", 403), ("admin", 403)):
        r = lead.req("POST", path, approve, token=tok[who])
        assert r.status == want, (who, r)
    r = lead.req("POST", path, {"decision": "reject"}, token=tok["prov"])
    assert r.status == 400 and r.json["error"]["field"] == "reason", r
    r = lead.req("POST", "/v1/open-requests/or-999999/decide", approve,
                 token=tok["prov"])
    assert r.status == 404, r
    r = lead.req("POST", path, approve, token=tok["prov"])
    assert r.status == 200, r
    assert r.json["status"] == "approved" and r.json["decided_by"] == "prov"
    assert r.json["answered_late"] is False and r.json["version"] == 2
    r = lead.req("POST", path, {"decision": "reject", "reason": "changed"},
                 token=tok["prov_b"])
    assert r.status == 409, r
    refused = [f for f in _facts(lead, c.token, before)
               if f["kind"] == "rejection"]
    assert [(f["principal"], f["payload"]["status"]) for f in refused] == [
        ("cit2", 404), ("prov2", 404), ("ca", 404), ("cit", 403),
        ("dcons", 403), ("admin", 403), ("prov", 404), ("prov_b", 409)], \
        refused
    assert all(f["payload"]["command"] == "open.decide" for f in refused)

    # Reads through the approved request: answered once audited.
    for path, action in (("/v1/catalog/cond/records/k1", "record.read"),
                         ("/v1/catalog/cond/records/k1/history",
                          "record.history"),
                         ("/v1/catalog/cond/records", "record.list")):
        before = _revision(lead)
        r = lead.req("GET", path, token=tok["cit"])
        assert r.status == 200, (path, r)
        # An audit fact's events, decoded by /v1/ledger/facts (encoding 2
        # keeps them in the fact's document; encoding 1 in the payload).
        events = [e for f in _facts(lead, c.token, before)
                  if f["kind"] == "audit"
                  for e in f.get("events", f["payload"].get("events"))]
        mine = [e for e in events if e["principal"] == "cit"]
        assert len(mine) == 1 and mine[0]["action"] == action, events
        assert mine[0]["open_request"] == rid and mine[0]["entry"] == "cond"
    r = lead.req("GET", "/v1/catalog/cond/records/k1", token=tok["cit"])
    assert r.json["value"] == {"name": "record of cond"}, r
    # Only that entry, only that citizen; audited reads stay on the leader.
    for who, eid in (("cit", "cond2"), ("cit2", "cond")):
        r = lead.req("GET", "/v1/catalog/%s/records/k1" % eid,
                     token=tok[who])
        assert r.status == 403, (who, eid, r)
    follower = next(x for x in c.nodes if x is not lead)
    c.converged()
    r = follower.req("GET", "/v1/catalog/cond/records/k1?consistency=stale",
                     token=tok["cit"])
    assert r.status == 307 and r.headers["location"].startswith(lead.url), r

    # A rejection keeps its reason and grants nothing.
    other = _file_ok(lead, tok["cit"], "cond2")
    r = lead.req("POST", "/v1/open-requests/%s/decide" % other["id"],
                 {"decision": "reject", "reason": "not your data"},
                 token=tok["prov_b"])
    assert r.status == 200 and r.json["status"] == "rejected", r
    assert r.json["reason"] == "not your data"
    r = lead.req("GET", "/v1/catalog/cond2/records/k1", token=tok["cit"])
    assert r.status == 403, r

    # Filters.
    def ids(q, who="prov"):
        r = lead.req("GET", "/v1/open-requests" + q, token=tok[who])
        assert r.status == 200, (q, r)
        return [i["id"] for i in r.json["items"]]
    assert ids("?status=approved") == [rid]
    assert ids("?status=rejected") == [other["id"]]
    assert ids("?status=pending") == []
    assert ids("?entry=cond2") == [other["id"]]
    assert ids("?overdue=true") == []
    assert ids("?overdue=false") == [rid, other["id"]]
    assert ids("?limit=1") == [rid]
    r = lead.req("GET", "/v1/open-requests?limit=1", token=tok["prov"])
    assert r.json["next"] == rid, r
    assert ids("?after=" + rid) == [other["id"]]
    for q, field in (("?status=open", "status"), ("?overdue=yes", "overdue"),
                     ("?after=x", "after"), ("?limit=0", "limit")):
        r = lead.req("GET", "/v1/open-requests" + q, token=tok["prov"])
        assert r.status == 400 and r.json["error"]["field"] == field, (q, r)

    # History is never deleted.
    for path in ("/v1/open-requests/" + rid, "/v1/open-requests",
                 "/v1/calendar/2027"):
        r = lead.req("DELETE", path, token=c.token)
        assert r.status == 405 and r.json["error"]["code"] == "immutable", r

    # Every replica holds the same requests.
    st = c.converged()
    for x in c.nodes:
        r = x.req("GET", "/v1/open-requests/%s?consistency=stale" % rid,
                  token=tok["cit"])
        assert r.status == 200 and r.json["status"] == "approved", r
        assert r.headers["x-provcat-revision"] == str(st["revision"])


def test_open_calendar_recomputes(c):
    """PUT /v1/calendar/{year} (the provincial authority only) recomputes
    the due date of a pending request whose due date consulted that year:
    holidays push it back, a make-up working Saturday brings it forward,
    and with every year it consulted set it is no longer provisional; a
    decided request keeps the due date it was decided under. GET
    /v1/calendar/{year} needs no token."""
    lead, tok = _world(c)
    _publish(lead, tok, "cond", "conditional", "conditional")
    r = lead.req("GET", "/v1/calendar/2031")
    assert r.status == 200, r
    assert r.json == {"year": 2031, "holidays": [], "workdays": [],
                      "calendar_provisional": True, "version": 0}, r.json
    for year in ("31", "99999", "x"):
        r = lead.req("GET", "/v1/calendar/" + year)
        assert r.status == 400, r
    before = _revision(lead)
    for who in ("prov", "ca", "cit"):
        r = lead.req("PUT", "/v1/calendar/2031", {"holidays": []},
                     token=tok[who])
        assert r.status == 403, (who, r)
    assert [f["payload"]["status"] for f in _facts(lead, c.token, before)
            if f["kind"] == "rejection"] == [403, 403, 403]

    def refused():
        for body, field in (({"workdays": ["2031-01-06"]}, "workdays[0]"),
                            ({"holidays": ["2030-12-31"]}, "holidays[0]"),
                            ({"holidays": ["2031-02-29"]}, "holidays[0]"),
                            ({"holiday": []}, None)):
            r = lead.req("PUT", "/v1/calendar/2031", body, token=c.token)
            assert r.status == 400, (body, r)
            assert r.json["error"].get("field") == field, (body, r)
        r = lead.req("PUT", "/v1/calendar/2031", {}, token=None)
        assert r.status == 401, r
    appends_nothing(lead, refused)  # syntax and tokens: nothing appended

    pending = _file_ok(lead, tok["cit"], "cond")
    decided = _file_ok(lead, tok["cit2"], "cond")
    r = lead.req("POST", "/v1/open-requests/%s/decide" % decided["id"],
                 {"decision": "approve", "reason": ""}, token=tok["prov"])
    assert r.status == 200, r
    _check_due(pending, {})

    # Holidays on the first three working days after receipt, a make-up
    # working day on the first Saturday after it, in whichever years.
    day = _parse(pending["submitted_at"]).astimezone(SH).date()
    hol, work, d = [], [], day
    while len(hol) < 3 or not work:
        d += DAY
        if d.weekday() < 5 and len(hol) < 3:
            hol.append(d)
        elif d.weekday() == 5 and not work:
            work.append(d)
    first = (day + DAY).year
    cals = {y: {"holidays": sorted(x.isoformat() for x in hol if x.year == y),
                "workdays": sorted(x.isoformat() for x in work
                                   if x.year == y)}
            for y in (first, first + 1)}
    for y in sorted(cals):
        body = dict(cals[y])
        body["holidays"] = list(reversed(body["holidays"]))  # any order
        r = lead.req("PUT", "/v1/calendar/%d" % y, body, token=c.token)
        assert r.status == 200, r
        assert r.json["holidays"] == cals[y]["holidays"], r
        assert r.json["calendar_provisional"] is False and r.json["year"] == y
    r = lead.req("GET", "/v1/open-requests/" + pending["id"],
                 token=tok["cit"])
    assert r.status == 200, r
    _check_due(r.json, cals)
    assert r.json["calendar_provisional"] is False
    assert r.json["due"] != pending["due"], (r.json, pending)
    r = lead.req("GET", "/v1/open-requests/" + decided["id"],
                 token=tok["cit2"])
    assert (r.json["due"], r.json["calendar_provisional"]) == \
        (decided["due"], True), r.json

    # Changed again: an empty calendar for the first year.
    r = lead.req("PUT", "/v1/calendar/%d" % first, {}, token=c.token)
    assert r.status == 200 and r.json["version"] == 2, r
    cals[first] = {"holidays": [], "workdays": []}
    st = c.converged()
    for x in c.nodes:
        r = x.req("GET", "/v1/open-requests/%s?consistency=stale"
                  % pending["id"], token=tok["cit"])
        assert r.status == 200, r
        _check_due(r.json, cals)
        r = x.req("GET", "/v1/calendar/%d?consistency=stale" % first)
        assert r.status == 200 and r.json["version"] == 2, r
        assert r.headers["etag"] == '"2"'
    assert st["revision"] > 0


def test_open_overdue(c):
    """overdue=true lists the pending requests whose due date ledger time
    has passed: the cluster runs with its clocks 30 days back while
    requests are filed, then all its nodes restart with true clocks, so
    ledger time jumps past the due dates. A decision then is late."""
    c.start_all(env=_clock(-30 * 86400 * 1000))
    lead, tok = _world(c)
    _publish(lead, tok, "cond", "conditional", "conditional")
    late = _file_ok(lead, tok["cit"], "cond")
    early = _file_ok(lead, tok["cit2"], "cond")
    r = lead.req("POST", "/v1/open-requests/%s/decide" % early["id"],
                 {"decision": "approve", "reason": "ok"}, token=tok["prov"])
    assert r.status == 200 and r.json["answered_late"] is False, r
    r = lead.req("GET", "/v1/open-requests?overdue=true", token=tok["prov"])
    assert r.status == 200 and r.json["items"] == [], r

    lead = _restart_all(c)
    r = _when_ready(lambda: lead.req("POST", "/v1/orgs",
                                     {"id": "later", "name": "later",
                                      "level": "province", "kind": "agency",
                                      "parent": "authority"},
                                     token=c.token,
                                     headers={"Idempotency-Key": "later-1"}),
                    "a write after the restart")
    assert r.status == 201, r
    assert _ledger_time(r) > _parse(late["due_at"]), (r.headers, late)

    def ids(q, who):
        r = lead.req("GET", "/v1/open-requests" + q, token=tok[who])
        assert r.status == 200, r
        return [(i["id"], i["overdue"]) for i in r.json["items"]]
    for who in ("prov", "admin"):
        assert ids("?overdue=true", who) == [(late["id"], True)]
        assert ids("?overdue=false", who) == [(early["id"], False)]
    assert ids("?overdue=true", "cit") == [(late["id"], True)]
    assert ids("?overdue=true", "cit2") == []
    r = lead.req("GET", "/v1/open-requests/" + late["id"], token=tok["cit"])
    assert r.json["overdue"] is True and r.json["status"] == "pending", r
    r = lead.req("POST", "/v1/open-requests/%s/decide" % late["id"],
                 {"decision": "reject", "reason": "too late to find it"},
                 token=tok["prov_b"])
    assert r.status == 200 and r.json["answered_late"] is True, r
    assert ids("?overdue=true", "prov") == []
    c.converged()


def _holiday_file(c, name, content):
    path = os.path.join(c.dir, name)
    with open(path, "w") as f:
        f.write(content if isinstance(content, str) else json.dumps(content))
    return path


def test_open_holidays_at_genesis(c):
    """--holidays FILE: the founders' calendars travel in genesis (one
    calendar fact per year, by `system`) and due dates follow them from
    the first request; a bad file stops the node at start with exit status
    2 and a message naming the place, before it touches its data dir."""
    today = datetime.datetime.now(SH).date()
    hol, work, d = [], [], today
    while len(hol) < 2 or not work:
        d += DAY
        if d.weekday() < 5 and len(hol) < 2:
            hol.append(d)
        elif d.weekday() == 6 and not work:
            work.append(d)
    years = range(today.year, today.year + 3)
    cals = {y: {"holidays": [x.isoformat() for x in hol if x.year == y],
                "workdays": [x.isoformat() for x in work if x.year == y]}
            for y in years}
    path = _holiday_file(c, "holidays.json",
                         {str(y): cals[y] for y in reversed(years)})
    c.extra += ["--holidays", path]
    c.start_all()
    lead, tok = _world(c)
    facts = _facts(lead, c.token, 0)
    assert [f["kind"] for f in facts[:6]] == [
        "cluster", "org", "principal", "calendar", "calendar", "calendar"]
    for f, y in zip(facts[3:6], years):
        assert f["id"] == str(y) and f["principal"] == "system", f
        assert f["payload"] == cals[y], f
    r = lead.req("GET", "/v1/calendar/%d" % today.year)
    assert r.status == 200 and r.json["holidays"] == cals[today.year][
        "holidays"] and r.json["calendar_provisional"] is False, r
    _publish(lead, tok, "cond", "conditional", "conditional")
    req = _file_ok(lead, tok["cit"], "cond")
    _check_due(req, cals)
    assert req["calendar_provisional"] is False

    # Bad files: exit 2 with a precise reason; the data dir untouched.
    pp, cp = free_ports(2)
    weekday = next(today + i * DAY for i in range(1, 8)
                   if (today + i * DAY).weekday() == 0)
    cases = [
        ("missing.json", None, "No such file or directory"),
        ("bad.json", '{"2027": {"holidays": [}', "malformed JSON"),
        ("list.json", "[]", "must be a JSON object of 1-100 years"),
        ("year.json", {"27": {}}, '"27": a key must be a year'),
        ("monday.json", {str(weekday.year): {"workdays": [
            weekday.isoformat()]}},
         '"%d".workdays[0]: workdays[0]: %s is a Monday' % (
             weekday.year, weekday.isoformat())),
        ("other.json", {"2030": {"holidays": ["2031-01-01"]}},
         '"2030".holidays[0]: holidays[0]: 2031-01-01 is not in 2030'),
    ]
    for name, content, want in cases:
        p = os.path.join(c.dir, name) if content is None else \
            _holiday_file(c, name, content)
        ddir = os.path.join(c.dir, "never-" + name)
        x = subprocess.run(
            [os.path.abspath(os.path.join(BUILD, "provcat-node")), "--id", "9",
             "--data-dir", ddir, "--peer", "127.0.0.1:%d" % pp,
             "--client", "127.0.0.1:%d" % cp, "--holidays", p],
            capture_output=True, timeout=30)
        err = x.stderr.decode()
        assert x.returncode == 2, (name, x.returncode, err)
        assert ("provcat-node: --holidays '%s': " % p) in err, (name, err)
        assert want in err, (name, want, err)
        assert not os.path.exists(ddir), name


TESTS = [
    (test_open_public_classes, {}),
    (test_open_workflow, {}),
    (test_open_calendar_recomputes, {}),
    (test_open_overdue, {"start": False}),
    (test_open_holidays_at_genesis, {"start": False}),
]
