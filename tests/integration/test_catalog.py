# SPDX-License-Identifier: MIT
"""Catalog entries over HTTP on a 3-node cluster: lifecycle, conflicts,
visibility, listing and paging, history hash chains, follower redirects."""
from cluster import appends_nothing, wait_for


def _world(c):
    """Orgs dept, dept2 (province) and a city authority cityA; principals
    prov (dept provider), prov2 (dept2 provider), cons (dept2 consumer),
    ca (cityA authority), rev2 (a second provincial authority).
    Returns (leader, tokens by principal id)."""
    lead = c.leader()
    tok = {"admin": c.token}
    for oid, parent, level, auth in (("dept", "authority", "province", False),
                                     ("dept2", "authority", "province", False),
                                     ("cityA", "authority", "city", True)):
        r = lead.req("POST", "/v1/orgs",
                     {"id": oid, "name": oid, "level": level,
                      "kind": "agency", "parent": parent, "authority": auth},
                     token=c.token)
        assert r.status == 201, r
    for pid, org, roles in (("prov", "dept", ["provider"]),
                            ("prov2", "dept2", ["provider"]),
                            ("cons", "dept2", ["consumer"]),
                            ("ca", "cityA", ["authority"]),
                            ("rev2", "authority", ["authority"])):
        r = lead.req("POST", "/v1/principals",
                     {"id": pid, "org": org, "roles": roles}, token=c.token)
        assert r.status == 201, r
        tok[pid] = r.json["token"]
    return lead, tok


def _entry(eid, title=None, provider="dept", share="unconditional",
           open_="unconditional", theme="roads", keywords=("k",),
           fields=None, scope="province"):
    return {"id": eid, "title": title or eid, "description": "about " + eid,
            "provider": provider, "theme": theme, "keywords": list(keywords),
            "fields": fields or [{"name": "a", "type": "string",
                                  "required": True, "description": "A"}],
            "share": dict({"class": share, "conditions": ""},
                          **({"basis": "art. 18"} if share == "none" else {})),
            "open": {"class": open_, "conditions": ""},
            "update_frequency": "daily", "security_level": 2,
            "scope": scope}


def _publish(lead, tok, eid, **kw):
    r = lead.req("POST", "/v1/catalog", _entry(eid, **kw), token=tok["prov"])
    assert r.status == 201, r
    r = lead.req("POST", "/v1/catalog/%s/submit" % eid, token=tok["prov"])
    assert r.status == 200, r
    r = lead.req("POST", "/v1/catalog/%s/review" % eid,
                 {"decision": "approve"}, token=tok["admin"])
    assert r.status == 200 and r.json["status"] == "published", r
    return r


def test_catalog_lifecycle_over_http(c):
    """Create, submit, reject, edit, resubmit, approve, edit, retire; the
    answers carry the entry object, ETag and the fact's metadata."""
    lead, tok = _world(c)
    r = lead.req("POST", "/v1/catalog", _entry("roads"), token=tok["prov"])
    assert r.status == 201, r
    e = r.json
    assert e["status"] == "draft" and e["version"] == 1
    assert r.headers["etag"] == '"1"'
    for k in ("id", "title", "description", "provider", "theme", "keywords",
              "fields", "share", "open", "update_frequency", "security_level",
              "scope", "status", "version", "revision", "updated_at", "hash"):
        assert k in e, k
    assert len(e["hash"]) == 64 and e["updated_at"].endswith("Z")
    assert e["fields"][0] == {"name": "a", "type": "string", "required": True,
                              "description": "A"}
    r = lead.req("POST", "/v1/catalog/roads/submit", token=tok["prov"])
    assert r.status == 200 and r.json["status"] == "submitted", r
    # The provider's own org cannot review; a rejection needs a reason.
    r = lead.req("POST", "/v1/catalog/roads/review", {"decision": "approve"},
                 token=tok["prov"])
    assert r.status == 403, r
    r = lead.req("POST", "/v1/catalog/roads/review", {"decision": "reject"},
                 token=tok["admin"])
    assert r.status == 400 and r.json["error"]["field"] == "reason", r
    r = lead.req("POST", "/v1/catalog/roads/review",
                 {"decision": "reject", "reason": "describe the fields"},
                 token=tok["admin"])
    assert r.status == 200 and r.json["status"] == "rejected", r
    assert r.json["reason"] == "describe the fields"
    # Edit the rejected entry (If-Match required), resubmit, approve.
    body = _entry("roads", fields=[{"name": "a", "type": "string",
                                    "required": True, "description": "Road"}])
    r = lead.req("PUT", "/v1/catalog/roads", body, token=tok["prov"])
    assert r.status == 400 and "If-Match" in r.json["error"]["message"], r
    r = lead.req("PUT", "/v1/catalog/roads", body, token=tok["prov"],
                 headers={"If-Match": '"3"'})
    assert r.status == 200 and r.json["status"] == "draft", r
    assert r.json["version"] == 4 and r.headers["etag"] == '"4"'
    lead.req("POST", "/v1/catalog/roads/submit", token=tok["prov"])
    r = lead.req("POST", "/v1/catalog/roads/review", {"decision": "approve"},
                 token=tok["rev2"])
    assert r.status == 200 and r.json["status"] == "published", r
    # A title change keeps it published; a field change goes to review.
    body["title"] = "Roads of the province"
    r = lead.req("PUT", "/v1/catalog/roads", body, token=tok["prov"],
                 headers={"If-Match": '"6"'})
    assert r.status == 200 and r.json["status"] == "published", r
    body["fields"].append({"name": "km", "type": "number"})
    r = lead.req("PUT", "/v1/catalog/roads", body, token=tok["prov"],
                 headers={"If-Match": '"7"'})
    assert r.status == 200 and r.json["status"] == "submitted", r
    assert r.json["fields"][1] == {"name": "km", "type": "number",
                                   "required": False, "description": ""}
    # Others still see the published version 7 meanwhile.
    r = lead.req("GET", "/v1/catalog/roads", token=tok["cons"])
    assert r.status == 200 and r.json["version"] == 7, r
    assert r.json["status"] == "published" and r.headers["etag"] == '"7"'
    r = lead.req("GET", "/v1/catalog/roads", token=tok["prov"])
    assert r.json["version"] == 8 and r.json["status"] == "submitted", r
    r = lead.req("POST", "/v1/catalog/roads/review", {"decision": "approve"},
                 token=tok["admin"])
    assert r.status == 200 and r.json["version"] == 9, r
    # Retire (reason required); retired is final.
    r = lead.req("POST", "/v1/catalog/roads/retire", {}, token=tok["prov"])
    assert r.status == 400, r
    r = lead.req("POST", "/v1/catalog/roads/retire", {"reason": "merged"},
                 token=tok["prov"])
    assert r.status == 200 and r.json["status"] == "retired", r
    r = lead.req("POST", "/v1/catalog/roads/retire", {"reason": "again"},
                 token=tok["admin"])
    assert r.status == 409 and r.json["error"]["code"] == "conflict", r
    # Every replica holds the same entry.
    c.converged()
    for x in c.nodes:
        r = x.req("GET", "/v1/catalog/roads?consistency=stale",
                  token=tok["prov"])
        assert r.status == 200 and r.json["version"] == 10, r


def test_catalog_conflicts_and_validation(c):
    """Duplicates, stale If-Match, wrong states and bad bodies answer 409 and
    400 (naming the field); a 400 before proposing creates nothing."""
    lead, tok = _world(c)
    r = lead.req("POST", "/v1/catalog", _entry("w1", title="Water Quality"),
                 token=tok["prov"])
    assert r.status == 201, r
    r = lead.req("POST", "/v1/catalog", _entry("w1"), token=tok["prov"])
    assert r.status == 409, r
    r = lead.req("POST", "/v1/catalog", _entry("w2", title=" water QUALITY"),
                 token=tok["prov"])
    assert r.status == 409 and "w1" in r.json["error"]["message"], r
    r = lead.req("POST", "/v1/catalog",
                 _entry("w3", title="Water Quality", provider="dept2"),
                 token=tok["prov2"])
    assert r.status == 201, r
    # Stale If-Match: 409 with the current version.
    body = _entry("w1", title="Water quality 2")
    r = lead.req("PUT", "/v1/catalog/w1", body, token=tok["prov"],
                 headers={"If-Match": '"1"'})
    assert r.status == 200 and r.json["version"] == 2, r
    r = lead.req("PUT", "/v1/catalog/w1", body, token=tok["prov"],
                 headers={"If-Match": '"1"'})
    assert r.status == 409, r
    assert r.json["error"]["code"] == "conflict"
    assert r.json["error"]["current_version"] == 2
    # Provider never changes.
    r = lead.req("PUT", "/v1/catalog/w1", _entry("w1", provider="dept2"),
                 token=tok["prov"], headers={"If-Match": '"2"'})
    assert r.status == 400, r
    # Wrong workflow states.
    r = lead.req("POST", "/v1/catalog/w1/review", {"decision": "approve"},
                 token=tok["admin"])
    assert r.status == 409, r
    # Another org's provider: 404 for a draft it cannot see.
    r = lead.req("POST", "/v1/catalog/w1/submit", token=tok["prov2"])
    assert r.status == 404, r
    r = lead.req("POST", "/v1/catalog", _entry("w9", provider="dept"),
                 token=tok["cons"])
    assert r.status == 403, r
    # Syntax errors name the field and append nothing.
    cases = [
        (dict(_entry("x1"), open={"class": "unconditional"},
              share={"class": "none", "basis": "art. 18"}), "open.class"),
        (dict(_entry("x1"), open={"class": "none"},
              share={"class": "none"}), "share.basis"),
        (dict(_entry("x1"), security_level=7), "security_level"),
        (dict(_entry("x1"), update_frequency="hourly"), "update_frequency"),
        (dict(_entry("x1"), scope="town:x"), "scope"),
        (dict(_entry("x1"), fields=[{"name": "a", "type": "string"},
                                    {"name": "a", "type": "date"}]),
         "fields[1].name"),
        (dict(_entry("x1"), fields=[{"name": "a", "type": "text"}]),
         "fields[0].type"),
        (dict(_entry("x1"), id="bad id"), "id"),
    ]

    def refused():
        for b, field in cases:
            r = lead.req("POST", "/v1/catalog", b, token=tok["prov"])
            assert r.status == 400, (field, r)
            assert r.json["error"]["field"] == field, (field, r)
        r = lead.req("POST", "/v1/catalog", b'{"id": ', token=tok["prov"])
        assert r.status == 400, r
    appends_nothing(lead, refused)
    # Unknown provider org: decided in apply, still a 400.
    r = lead.req("POST", "/v1/catalog", _entry("x2", provider="nope"),
                 token=tok["prov"])
    assert r.status == 400 and "provider" in r.json["error"]["message"], r
    # DELETE is never allowed.
    r = lead.req("DELETE", "/v1/catalog/w1", token=tok["admin"])
    assert r.status == 405 and r.json["error"]["code"] == "immutable", r


def test_catalog_visibility_and_listing(c):
    """The public sees published entries that are open; principals see
    published ones; the provider and authority see drafts. Filters and
    paging cover every entry exactly once."""
    lead, tok = _world(c)
    _publish(lead, tok, "open1", theme="env", keywords=["Air", "quality"])
    _publish(lead, tok, "closed1", share="conditional", open_="none",
             theme="env")
    _publish(lead, tok, "cond1", share="conditional", open_="conditional",
             theme="health")
    r = lead.req("POST", "/v1/catalog", _entry("draft1"), token=tok["prov"])
    assert r.status == 201, r
    # GET one entry.
    assert lead.req("GET", "/v1/catalog/open1").status == 200
    assert lead.req("GET", "/v1/catalog/closed1").status == 404
    assert lead.req("GET", "/v1/catalog/closed1",
                    token=tok["cons"]).status == 200
    assert lead.req("GET", "/v1/catalog/draft1",
                    token=tok["cons"]).status == 404
    assert lead.req("GET", "/v1/catalog/draft1",
                    token=tok["prov"]).status == 200
    assert lead.req("GET", "/v1/catalog/draft1",
                    token=tok["admin"]).status == 200
    assert lead.req("GET", "/v1/catalog/draft1").status == 404
    assert lead.req("GET", "/v1/catalog/nope").status == 404
    assert lead.req("GET", "/v1/catalog/bad%20id").status == 400
    r = lead.req("GET", "/v1/catalog/open1", token="pct_bogus")
    assert r.status == 401, r

    def ids(path, token=None):
        r = lead.req("GET", path, token=token)
        assert r.status == 200, r
        return [e["id"] for e in r.json["items"]]
    assert ids("/v1/catalog") == ["cond1", "open1"]
    assert ids("/v1/catalog", tok["cons"]) == ["closed1", "cond1", "open1"]
    assert ids("/v1/catalog", tok["prov"]) == ["closed1", "cond1", "draft1",
                                              "open1"]
    assert ids("/v1/catalog?status=draft", tok["admin"]) == ["draft1"]
    assert ids("/v1/catalog?theme=env", tok["cons"]) == ["closed1", "open1"]
    assert ids("/v1/catalog?open=none", tok["cons"]) == ["closed1"]
    assert ids("/v1/catalog?share=conditional") == ["cond1"]
    assert ids("/v1/catalog?provider=dept2", tok["cons"]) == []
    assert ids("/v1/catalog?q=AIR") == ["open1"]
    assert ids("/v1/catalog?q=about%20cond") == ["cond1"]
    r = lead.req("GET", "/v1/catalog?status=bogus")
    assert r.status == 400 and r.json["error"]["field"] == "status", r
    r = lead.req("GET", "/v1/catalog?limit=0")
    assert r.status == 400, r
    # Paging: 12 more published entries, pages of 5, each id once.
    for i in range(12):
        _publish(lead, tok, "p%02d" % i)
    seen, after, pages = [], None, 0
    while True:
        path = "/v1/catalog?limit=5" + ("&after=" + after if after else "")
        r = lead.req("GET", path)
        assert r.status == 200, r
        pages += 1
        seen += [e["id"] for e in r.json["items"]]
        after = r.json["next"]
        if after is None:
            break
        assert len(r.json["items"]) == 5
    assert pages == 3
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 14


def test_catalog_history_chain(c):
    """History lists every version oldest first; each prev_hash is the
    previous version's hash; outsiders see only published versions."""
    lead, tok = _world(c)
    _publish(lead, tok, "h1")
    body = _entry("h1", title="H one")
    r = lead.req("PUT", "/v1/catalog/h1", body, token=tok["prov"],
                 headers={"If-Match": '"3"'})
    assert r.status == 200, r
    r = lead.req("GET", "/v1/catalog/h1/history", token=tok["prov"])
    assert r.status == 200, r
    items = r.json["items"]
    assert [v["version"] for v in items] == [1, 2, 3, 4]
    assert [v["status"] for v in items] == ["draft", "submitted", "published",
                                            "published"]
    assert "prev_hash" not in items[0]
    for a, b in zip(items, items[1:]):
        assert b["prev_hash"] == a["hash"], (a, b)
        assert b["revision"] > a["revision"]
    assert items[0]["author"] == "prov" and items[2]["author"] == "admin"
    assert r.json["next"] is None
    cur = lead.req("GET", "/v1/catalog/h1", token=tok["prov"]).json
    assert cur["hash"] == items[-1]["hash"]
    r = lead.req("GET", "/v1/catalog/h1/history")
    assert [v["version"] for v in r.json["items"]] == [3, 4], r
    r = lead.req("GET", "/v1/catalog/h1/history?limit=2", token=tok["prov"])
    assert [v["version"] for v in r.json["items"]] == [1, 2]
    assert r.json["next"] == "2"
    r = lead.req("GET", "/v1/catalog/h1/history?after=2", token=tok["prov"])
    assert [v["version"] for v in r.json["items"]] == [3, 4]
    # The same chain on every replica.
    c.converged()
    for x in c.nodes:
        r = x.req("GET", "/v1/catalog/h1/history?consistency=stale",
                  token=tok["prov"])
        assert [v["hash"] for v in r.json["items"]] == \
            [v["hash"] for v in items]


def test_catalog_follower_redirect_and_idempotency(c):
    """Writes and linearizable reads on a follower redirect to the leader;
    an Idempotency-Key replays a creation."""
    lead, tok = _world(c)
    fol = [x for x in c.nodes if x is not lead][0]
    wait_for(lambda: ((fol.status() or {}).get("leader") or {})
             .get("client_url") == lead.url, 10, "leader URL on follower")
    r = fol.req("POST", "/v1/catalog", _entry("f1"), token=tok["prov"])
    assert r.status == 307, r
    assert r.headers["location"] == lead.url + "/v1/catalog"
    assert r.json["error"]["code"] == "not_leader"
    r = fol.req("GET", "/v1/catalog", token=tok["prov"])
    assert r.status == 307, r
    h = {"Idempotency-Key": "cat-1"}
    r1 = lead.req("POST", "/v1/catalog", _entry("f1"), token=tok["prov"],
                  headers=h)
    assert r1.status == 201, r1
    r2 = lead.req("POST", "/v1/catalog", _entry("f1"), token=tok["prov"],
                  headers=h)
    assert r2.status == 201 and r2.headers.get("idempotent-replayed") == "true"
    assert r2.json["hash"] == r1.json["hash"]
    r = fol.req("GET", "/v1/catalog/f1?consistency=stale&min_revision=%d" %
                r1.json["revision"], token=tok["prov"])
    assert r.status == 200 and r.json["version"] == 1, r


def test_catalog_possible_duplicate_needs_override(c):
    """Another department's entry with the same title is flagged for the
    reviewer; approving it needs override_duplicate and a reason."""
    lead, tok = _world(c)
    _publish(lead, tok, "parks", title="City Parks")
    r = lead.req("POST", "/v1/catalog",
                 _entry("parks2", title="city parks ", provider="dept2"),
                 token=tok["prov2"])
    assert r.status == 201, r
    r = lead.req("POST", "/v1/catalog/parks2/submit", token=tok["prov2"])
    assert r.status == 200, r
    r = lead.req("GET", "/v1/catalog/parks2", token=tok["admin"])
    assert r.status == 200 and r.json["possible_duplicate_of"] == ["parks"], r
    r = lead.req("POST", "/v1/catalog/parks2/review", {"decision": "approve"},
                 token=tok["admin"])
    assert r.status == 409 and "override_duplicate" in \
        r.json["error"]["message"], r
    r = lead.req("POST", "/v1/catalog/parks2/review",
                 {"decision": "approve", "override_duplicate": "yes"},
                 token=tok["admin"])
    assert r.status == 400 and \
        r.json["error"]["field"] == "override_duplicate", r
    r = lead.req("POST", "/v1/catalog/parks2/review",
                 {"decision": "approve", "override_duplicate": True,
                  "reason": "district parks, kept by dept2"},
                 token=tok["admin"])
    assert r.status == 200 and r.json["status"] == "published", r
    assert r.json["override_duplicate"] is True
    assert r.json["reason"] == "district parks, kept by dept2"


TESTS = [
    (test_catalog_lifecycle_over_http, {}),
    (test_catalog_conflicts_and_validation, {}),
    (test_catalog_visibility_and_listing, {}),
    (test_catalog_history_chain, {}),
    (test_catalog_follower_redirect_and_idempotency, {}),
    (test_catalog_possible_duplicate_needs_override, {}),
]
