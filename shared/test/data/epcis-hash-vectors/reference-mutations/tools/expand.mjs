import jsonld from 'jsonld';
import { readFileSync } from 'node:fs';
// REF_DIR: the reference implementation's epcis_event_hash_generator folder (it ships both contexts).
const REF = process.env.REF_DIR;
const ctxFiles = {
  'https://gs1.github.io/EPCIS/epcis-context.jsonld': `${REF}/14b10c9d3e92d35f577bfc610fe5ec15aa2941124987919389d7cd9998516861.jsonld`,
  'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld': `${REF}/e532647e8eb371379b8b0e8602d8981c8566bc60f7351f22c76a5bc865962008.jsonld`,
};
const documentLoader = async (url) => {
  if (ctxFiles[url]) return { contextUrl: null, documentUrl: url, document: JSON.parse(readFileSync(ctxFiles[url], 'utf8')) };
  throw new Error('no network: ' + url);
};
const input = JSON.parse(readFileSync(0, 'utf8'));
try {
  const out = await jsonld.expand(input, { documentLoader });
  process.stdout.write(JSON.stringify(out));
} catch (e) { process.stderr.write(String(e && e.message)); process.exit(3); }
