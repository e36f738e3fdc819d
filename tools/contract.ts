import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { generateContractDocument } from '../src/contract/contract-document.js';

/**
 * `npm run contract`: writes docs/asyncapi.json from the code (what `GET /asyncapi.json`
 * serves). `npm run contract -- --release` also makes it the baseline that later changes are
 * checked against (docs/contract-compatibility.md): run it when you release.
 */

// Run from dist-tools/tools/.
const DOCS = new URL('../../docs/', import.meta.url);
const targets = [
  'asyncapi.json',
  ...(process.argv.includes('--release') ? ['asyncapi.baseline.json'] : []),
];

const document = await generateContractDocument();
for (const name of targets) {
  const path = fileURLToPath(new URL(name, DOCS));
  const options = (await resolveConfig(path)) ?? {};
  await writeFile(path, await format(JSON.stringify(document), { ...options, filepath: path }));
  process.stdout.write(`wrote ${path}\n`);
}
