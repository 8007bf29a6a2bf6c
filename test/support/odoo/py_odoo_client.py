"""Talks to a (fake) Odoo with Python's own xmlrpc.client, as Odoo's documentation does, and prints
what it got as JSON: the fake's wire format checked by an implementation this project did not write."""
import json
import sys
import xmlrpc.client

url, db, login, key = sys.argv[1:5]
common = xmlrpc.client.ServerProxy(url + "/xmlrpc/2/common")
models = xmlrpc.client.ServerProxy(url + "/xmlrpc/2/object")
out = {"version": common.version()}
uid = common.authenticate(db, login, key, {})
out["uid"] = uid
out["refused"] = common.authenticate(db, login, "wrong", {})
pid = models.execute_kw(db, uid, key, "res.partner", "create", [{"name": "Acme & <Sons>", "is_company": True, "ref": "r1"}])
models.execute_kw(db, uid, key, "res.partner", "create", [{"name": "Jane", "parent_id": pid, "function": "CEO"}])
out["rows"] = models.execute_kw(db, uid, key, "res.partner", "search_read", [[["ref", "=", "r1"]]], {"fields": ["name", "is_company", "company_type"]})
out["children"] = models.execute_kw(db, uid, key, "res.partner", "search_read", [[["parent_id", "=", pid]]], {"fields": ["name", "parent_id", "function"]})
faults = []
for call in (
    lambda: models.execute_kw(db, uid, key, "res.partner", "create", [{"name": "X", "autopost_bills": "ask"}]),
    lambda: models.execute_kw(db, uid, "bad", "res.partner", "search", [[]]),
    lambda: models.execute_kw(db, uid, key, "res.partner", "write", [[99999], {"name": "X"}]),
    lambda: common.authenticate("nodb", login, key, {}),
):
    try:
        call()
        faults.append(None)
    except xmlrpc.client.Fault as fault:
        faults.append({"code": fault.faultCode, "last": fault.faultString.strip().splitlines()[-1]})
out["faults"] = faults
print(json.dumps(out))
