// Validates Kubernetes manifests against the API's OpenAPI schemas (kubernetes-models), without a cluster:
//   cd "$(mktemp -d)" && npm install kubernetes-models@4.5.1 js-yaml@5.5.0 && cp DROVER/deploy/kubernetes/validate.mjs . \
//     && node validate.mjs DROVER/deploy/kubernetes/*.yaml
// Exit 0 when every document is valid. It checks types and required fields, not unknown field names.
import fs from 'node:fs';
import * as yaml from 'js-yaml';
import * as models from 'kubernetes-models';
let failed = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of yaml.loadAll(fs.readFileSync(file, 'utf8'))) {
    const [group, version] = doc.apiVersion.includes('/') ? doc.apiVersion.split('/') : ['', doc.apiVersion];
    const ns = group === '' ? models : models[group === 'apps' ? 'apps' : group];
    const Kind = (ns[version] || {})[doc.kind];
    if (!Kind) { console.log(`${file}: no schema for ${doc.apiVersion} ${doc.kind}`); failed++; continue; }
    try { new Kind(doc).validate(); console.log(`${file}: ${doc.kind} ${doc.metadata.name} valid`); }
    catch (e) { console.log(`${file}: ${doc.kind}: ${e.message}`); failed++; }
  }
}
process.exit(failed ? 1 : 0);
