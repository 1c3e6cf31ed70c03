# SPDX-License-Identifier: MIT
"""Preconditions hold for every value, over HTTP: each If-Match (PUT,
retire, correct of a record; PUT of a catalog entry) and each batch
"if_version" is either honoured exactly (409 with current_version, nothing
written) or refused with 400 before anything is proposed (no fact
appended); none is dropped so that the write goes through."""
import http.client

from cluster import appends_nothing
from test_records import _p, _publish, _world

# Values a version can be spelled as, and what the edge makes of them:
# None = refused with 400, else the version it names.
BOUNDARY = [
    ("9007199254740991", 9007199254740991),  # 2^53 - 1: the largest
    ("9007199254740992", None),  # 2^53
    ("9007199254740993", None),
    ("9223372036854775807", None),  # 2^63 - 1
    ("9999999999999999999", None),  # 19 digits
    ("18446744073709551615", None),  # 2^64 - 1
    ("18446744073709551616", None),  # 2^64
    ("99999999999999999999", None),  # 20 digits
    ("0", None),
    ("01", None),
    ("0002", None),
    ("+2", None),
    ("-2", None),
    ("2 ", None),  # inside the quotes
    (" 2", None),
    ("2 2", None),
    ("2.0", None),
    ("2e0", None),
    ("", None),
]


def _raw(node, method, path, headers, body, token):
    """A request whose headers may repeat (a list of pairs)."""
    host, port = node.client.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.putrequest(method, path)
        conn.putheader("Authorization", "Bearer " + token)
        conn.putheader("Content-Type", "application/json")
        data = body.encode()
        conn.putheader("Content-Length", str(len(data)))
        for k, v in headers:
            conn.putheader(k, v)
        conn.endheaders(data)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def _version(lead, tok, key):
    r = lead.req("GET", _p("e", key), token=tok["prov"])
    assert r.status == 200, r
    return r.json["version"]


def _entry(lead, tok):
    r = lead.req("GET", "/v1/catalog/e", token=tok["prov"])
    assert r.status == 200, r
    return r.json


def test_precond_if_match_every_value(c):
    """If-Match over the boundary values, quoted and bare, on PUT, retire
    and correct of a record and PUT of an entry."""
    lead, tok = _world(c)
    _publish(lead, tok, "e")
    r = lead.req("PUT", _p("e", "k"), {"name": "v1"}, token=tok["prov"])
    assert r.status == 201, r
    entry = _entry(lead, tok)
    ebody = {k: entry[k] for k in (
        "id", "title", "description", "provider", "theme", "keywords",
        "fields", "share", "open", "update_frequency", "security_level",
        "scope")}
    routes = [
        ("PUT", _p("e", "k"), {"name": "lost update"}),
        ("POST", _p("e", "k", "/retire"), {"reason": "lost update"}),
        ("POST", _p("e", "k", "/correct"),
         {"value": {"name": "lost update"}, "reason": "lost update"}),
        ("PUT", "/v1/catalog/e", dict(ebody, title="lost update")),
    ]
    for text, want in BOUNDARY:
        for header in ('"%s"' % text, text):
            if header == text and text.strip() != text:
                # Spaces around a bare value are the header's, not the
                # value's (RFC 9110 OWS): " 2" is version 2.
                want = 2
            for method, path, body in routes:
                def act():
                    return lead.req(method, path, body, token=tok["prov"],
                                    headers={"If-Match": header})
                if want is None:
                    # Refused at the edge: nothing proposed, nothing added.
                    r = appends_nothing(lead, act)
                    assert r.status == 400, (header, path, r)
                    assert r.json["error"]["field"] == "If-Match", r
                else:
                    r = act()
                    assert r.status == 409, (header, path, r)
                    assert r.json["error"]["current_version"] in (
                        1, entry["version"]), r
    # Nothing went through: the record and the entry are as they were.
    assert _version(lead, tok, "k") == 1
    after = _entry(lead, tok)
    assert after["version"] == entry["version"]
    assert after["title"] == "e"
    # The current version itself is honoured (header OWS is not part of
    # the value), and then stale.
    r = lead.req("PUT", _p("e", "k"), {"name": "v2"}, token=tok["prov"],
                 headers={"If-Match": ' "1" '})
    assert r.status == 200 and r.json["version"] == 2, r
    r = lead.req("PUT", _p("e", "k"), {"name": "v3"}, token=tok["prov"],
                 headers={"If-Match": '"1"'})
    assert r.status == 409 and r.json["error"]["current_version"] == 2, r


def test_precond_headers_refused_where_not_honoured(c):
    """A precondition header a route does not honour, or given twice, or
    both at once, is 400: never silently ignored."""
    lead, tok = _world(c)
    _publish(lead, tok, "e")
    r = lead.req("PUT", _p("e", "k"), {"name": "v1"}, token=tok["prov"])
    assert r.status == 201, r
    batch = '{"records":[{"key":"k","value":{"name":"x"}}]}'
    cases = [
        # the batch has per-item if_version, not If-Match
        ("POST", "/v1/catalog/e/records:batch", [("If-Match", '"1"')], batch,
         "If-Match"),
        # retire and correct take If-Match only
        ("POST", _p("e", "k", "/retire"), [("If-None-Match", "*")],
         '{"reason":"r"}', "If-None-Match"),
        # workflow writes take none
        ("POST", "/v1/catalog/e/submit", [("If-Match", '"3"')], "",
         "If-Match"),
        # twice, even the same value
        ("PUT", _p("e", "k"), [("If-Match", '"1"'), ("If-Match", '"1"')],
         '{"name":"x"}', "If-Match"),
        ("PUT", _p("e", "k"), [("If-Match", '"1"'), ("If-None-Match", "*")],
         '{"name":"x"}', "If-None-Match"),
        ("PUT", _p("e", "k"),
         [("If-Unmodified-Since", "Tue, 01 Jan 2030 00:00:00 GMT")],
         '{"name":"x"}', "If-Unmodified-Since"),
    ]
    for method, path, headers, body, field in cases:
        def act():
            return _raw(lead, method, path, headers, body, tok["prov"])
        status, raw = appends_nothing(lead, act)
        assert status == 400, (path, headers, raw)
        assert ('"field":"%s"' % field).encode() in raw.replace(b" ", b""), \
            raw
    assert _version(lead, tok, "k") == 1
    # A read ignores them: a cache's conditional GET is served.
    status, raw = _raw(lead, "GET", _p("e", "k"),
                       [("If-None-Match", '"1"'), ("If-Match", "junk")], "",
                       tok["prov"])
    assert status == 200, raw


def test_precond_batch_if_version_every_value(c):
    """A batch item's if_version over the boundary values, as the literal
    it is written as."""
    lead, tok = _world(c)
    _publish(lead, tok, "e")
    r = lead.req("PUT", _p("e", "k"), {"name": "v1"}, token=tok["prov"])
    assert r.status == 201, r
    path = "/v1/catalog/e/records:batch"
    values = [(t, w) for t, w in BOUNDARY if t.strip() == t and t] + [
        ("1.0", None), ("1e0", None), ("-0", None), ('"1"', None),
        ("null", None), ("9007199254740990.6", None)]
    for text, want in values:
        body = ('{"records":[{"key":"new","value":{"name":"n"}},'
                '{"key":"k","value":{"name":"x"},"if_version":%s}]}' % text)

        def act():
            return lead.req("POST", path, body, token=tok["prov"])
        if want is None and text != "0":
            r = appends_nothing(lead, act)
            assert r.status == 400, (text, r)
            # The item named, or the body not JSON at all ("01", "+2").
            assert (r.json["error"].get("index") == 1 and
                    r.json["error"]["field"] == "if_version") or \
                r.json["error"]["message"].startswith("malformed JSON"), r
        else:
            r = act()
            # 0: "the key must not exist"; 2^53 - 1: not current
            assert r.status == 409, (text, r)
            assert r.json["error"]["current_version"] == 1, r
    # JSON whitespace around the literal is not part of it.
    r = lead.req("POST", path,
                 '{"records":[{"key":"k","value":{"name":"v2"},'
                 '"if_version": 1 }]}', token=tok["prov"])
    assert r.status == 200, r
    assert _version(lead, tok, "k") == 2
    r = lead.req("GET", _p("e", "new"), token=tok["prov"])
    assert r.status == 404, r  # all or nothing: never written


TESTS = [
    (test_precond_if_match_every_value, {}),
    (test_precond_headers_refused_where_not_honoured, {}),
    (test_precond_batch_if_version_every_value, {}),
]
