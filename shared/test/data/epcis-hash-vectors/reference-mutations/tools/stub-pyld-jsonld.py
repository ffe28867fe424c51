# Stub of pyld.jsonld for ref.py: put it at $PYSTUB/pyld/jsonld.py (with an empty __init__.py, and an empty
# $PYSTUB/lxml/{__init__,etree}.py). expand() hands the document to expand.mjs (jsonld.js) and returns its result.
import json, os, subprocess
class JsonLdError(Exception):
    def __init__(self, *a, **k): super().__init__(*a)
def set_document_loader(loader): pass
def requests_document_loader(**kw): return None
def expand(obj, options=None):
    r = subprocess.run(['node', os.environ['EXPAND_MJS']], input=json.dumps(obj), capture_output=True, text=True)
    if r.returncode != 0: raise JsonLdError(r.stderr)
    return json.loads(r.stdout)
