#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# How backup.snap was made: with provcat-node 0.1.0 (a build of commit
# e7bea79) as N, in an empty directory. Not run by the tests.
set -e
N=${N:?set N to a provcat-node 0.1.0}
$N --id 1 --data-dir d1 --peer 127.0.0.1:17001 --client 127.0.0.1:18001 --cluster 1=127.0.0.1:17001 --initial-cluster-state new --admin-token-file admin.token > node.log 2>&1 &
echo $! > pid
for i in $(seq 50); do curl -sf http://127.0.0.1:18001/readyz >/dev/null && break; sleep 0.2; done
T=$(cat admin.token)
U=http://127.0.0.1:18001
H="Authorization: Bearer $T"
curl -sf -X POST -H "$H" $U/v1/orgs -d '{"id":"dept","name":"Department of Records","level":"province","kind":"agency"}' >/dev/null
curl -sf -X POST -H "$H" $U/v1/principals -d '{"id":"prov","org":"dept","roles":["provider"]}' > prov.json
P=$(python3 -c 'import json;print(json.load(open("prov.json"))["token"])')
echo "$P" > prov.token
HP="Authorization: Bearer $P"
curl -sf -X POST -H "$HP" $U/v1/catalog -d '{"id":"licences","title":"Business licences","provider":"dept","fields":[{"name":"name","type":"string","required":true},{"name":"year","type":"integer"}],"share":{"class":"unconditional"},"open":{"class":"unconditional"},"update_frequency":"daily","security_level":1,"scope":"province"}' >/dev/null
curl -sf -X POST -H "$HP" $U/v1/catalog/licences/submit >/dev/null
curl -sf -X POST -H "$H" $U/v1/catalog/licences/review -d '{"decision":"approve","reason":"ok"}' >/dev/null
for k in a1 a2 a3; do curl -sf -X PUT -H "$HP" $U/v1/catalog/licences/records/$k -d "{\"name\":\"Shop $k\",\"year\":2020}" >/dev/null; done
curl -sf -X PUT -H "$HP" -H 'If-Match: "1"' $U/v1/catalog/licences/records/a1 -d '{"name":"Shop a1 renamed","year":2021}' >/dev/null
curl -sf -X POST -H "$HP" $U/v1/catalog/licences/records/a3/retire -d '{"reason":"closed"}' >/dev/null
curl -sf -D backup.headers -H "$H" $U/v1/backup -o backup.snap
kill $(cat pid); wait || true
grep -i x-provcat-backup backup.headers
ls -la backup.snap
