# SPDX-License-Identifier: MIT
"""The idempotency map's size in /metrics: every replica remembers the
same keys (expiry after 24 h of ledger time is tested in
tests/unit/test_idem.c, where ledger time can be moved)."""
from cluster import metric, wait_for


def test_idem_keys_metric(c):
    """provcat_idempotency_keys counts the keys in use, the same on every
    node; a replay adds none."""
    lead = c.leader()
    c.converged()
    base = metric(lead, "provcat_idempotency_keys")
    for i in range(3):
        r = lead.req("POST", "/v1/orgs",
                     {"id": "idem%d" % i, "name": "n", "level": "province",
                      "kind": "agency", "parent": "authority"},
                     token=c.token, headers={"Idempotency-Key": "k-%d" % i})
        assert r.status == 201, r
    r = lead.req("POST", "/v1/orgs",
                 {"id": "idem0", "name": "n", "level": "province",
                  "kind": "agency", "parent": "authority"},
                 token=c.token, headers={"Idempotency-Key": "k-0"})
    assert r.status == 201 and r.headers.get("idempotent-replayed") == \
        "true", r
    c.converged()
    for x in c.nodes:
        wait_for(lambda: metric(x, "provcat_idempotency_keys") == base + 3,
                 10, "node %d to count 3 keys" % x.id)


TESTS = [
    (test_idem_keys_metric, {}),
]
