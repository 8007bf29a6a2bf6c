"""A stand-in for Odoo's /xmlrpc/2 endpoints built on Python's own xmlrpc.server.

It checks the wire format of lead-enrich's Odoo client against an XML-RPC implementation this
project did not write (Odoo itself marshals with Python's xmlrpc.client). It prints its port on
the first line of stdout and serves until killed.
"""
import sys
import traceback
import xmlrpc.client
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

DB = "demo"
LOGIN = "bot@example.com"
KEY = "py-secret-key-123"
UID = 7


def fault_from(exc_type, text, code=1):
    """Raises exc_type(text) and turns it into a Fault whose string is its real traceback."""
    try:
        raise exc_type(text)
    except exc_type:
        raise xmlrpc.client.Fault(code, traceback.format_exc())


def check_db(db):
    if db != DB:
        fault_from(RuntimeError, 'connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: '
                                 'FATAL:  database "%s" does not exist' % db)


def version():
    return {"server_version": "18.0", "server_version_info": [18, 0, 0, "final", 0, ""],
            "server_serie": "18.0", "protocol_version": 1}


def authenticate(db, login, password, env):
    check_db(db)
    return UID if (login, password) == (LOGIN, KEY) else False


def execute_kw(db, uid, password, model, method, args, kwargs=None):
    check_db(db)
    if uid != UID or password != KEY:
        raise xmlrpc.client.Fault(3, "Access Denied")
    if model != "res.partner":
        fault_from(KeyError, model)
    if method == "create":
        vals = args[0]
        for key in vals:
            if key == "autopost_bills":
                fault_from(ValueError, "Invalid field %r on model %r" % (key, model))
        if not vals.get("name"):
            raise xmlrpc.client.Fault(2, "Contacts require a name")
        return 42
    if method == "write":
        raise xmlrpc.client.Fault(4, "You are not allowed to modify 'Contact' (res.partner) records.\n\n"
                                     "This operation is allowed for the following groups:\n\t- Contact Creation")
    if method == "search_read":
        return [{"id": 42, "name": "Ünïcode & <Co>", "is_company": True, "parent_id": False,
                 "credit": 1.5, "ref": "lead-enrich:1:2", "echo": [args, kwargs or {}]}]
    fault_from(AttributeError, "The method '%s' does not exist on the model '%s'" % (method, model))


class Handler(SimpleXMLRPCRequestHandler):
    rpc_paths = ("/xmlrpc/2/common", "/xmlrpc/2/object")


server = SimpleXMLRPCServer(("127.0.0.1", 0), requestHandler=Handler, logRequests=False, allow_none=False)
server.register_function(version)
server.register_function(authenticate)
server.register_function(execute_kw)
print(server.server_address[1], flush=True)
sys.stdout.flush()
server.serve_forever()
