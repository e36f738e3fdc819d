// Copies the AsyncAPI viewer (the React component's standalone bundle and its style sheet)
// into dist/vendor/asyncapi, where /docs/events serves it. It is a devDependency: the image
// keeps the 3 MB bundle and drops the package's ~200 dependencies.
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const from = dirname(
  createRequire(import.meta.url).resolve('@asyncapi/react-component/package.json'),
);
const to = join('dist', 'vendor', 'asyncapi');
mkdirSync(to, { recursive: true });
copyFileSync(join(from, 'browser', 'standalone', 'index.js'), join(to, 'index.js'));
copyFileSync(join(from, 'styles', 'default.min.css'), join(to, 'default.min.css'));
