import sys, json, glob, os, logging
logging.disable(logging.CRITICAL)
# PYSTUB: folder with stub pyld/ (jsonld.expand runs expand.mjs) and lxml/; REF_ROOT: the reference's checkout.
sys.path[:0] = [os.environ['PYSTUB'], os.environ['REF_ROOT']]
from epcis_event_hash_generator.__main__ import epcis_hash_from_file
import epcis_event_hash_generator.json_to_py as j
out = {}
for f in sorted(glob.glob(os.environ.get('CASES', 'cases') + '/*.jsonld')):
    j._namespaces.clear()
    try:
        h, p = epcis_hash_from_file(f, 'sha256')
        out[os.path.basename(f)] = [h[0] if h else None, p[0] if p else None]
    except Exception as e:
        out[os.path.basename(f)] = ['ERR ' + repr(e)[:100], None]
json.dump(out, open('ref.json', 'w'))
