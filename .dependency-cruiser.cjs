/**
 * The import rules of `src/`, checked by `npm run lint` (dependency-cruiser).
 *
 * Each folder may import only the folders listed for it (and itself). The table reads as the
 * architecture: platform at the top, the socket server in the middle, features at the bottom.
 * Infrastructure never imports a feature; features never import each other (the demo shows
 * them off, so it may); no cycle between folders or modules; src/ never imports tools/,
 * bench/ or test/.
 */
const PLATFORM = ['common', 'config', 'logging'];

/** @type {Record<string, string[]>} folder -> what it may import */
const MAY_IMPORT = {
  // Framework internals, and helpers with no dependency of their own.
  compat: [],
  common: [],
  config: ['common'],
  logging: ['common', 'config'],
  metrics: [...PLATFORM],
  auth: [...PLATFORM],
  cluster: [...PLATFORM, 'compat', 'metrics'],
  health: [...PLATFORM, 'cluster', 'metrics'],
  gateway: [...PLATFORM, 'auth', 'cluster', 'compat', 'metrics'],
  'socket-server': [...PLATFORM, 'auth', 'compat', 'gateway', 'health', 'metrics'],
  lifecycle: [...PLATFORM, 'cluster', 'health', 'socket-server'],
  // Features: they build on all of the above.
  chat: [...PLATFORM, 'auth', 'cluster', 'events', 'gateway', 'health', 'metrics'],
  notifications: [...PLATFORM, 'cluster', 'gateway', 'metrics'],
  demo: [...PLATFORM, 'auth', 'notifications'],
  // The service API: what the rest of the backend asks of the features.
  api: [...PLATFORM, 'chat', 'cluster', 'compat', 'gateway', 'notifications'],
  // The Socket.IO admin UI: instruments the socket server when turned on.
  admin: [...PLATFORM, 'cluster', 'compat', 'gateway', 'socket-server'],
  // Room and user lifecycle events, in process and as signed webhooks.
  events: [...PLATFORM, 'cluster'],
  cli: [...PLATFORM, 'auth', 'chat', 'cluster', 'gateway', 'notifications'],
  // The AsyncAPI document, read from every gateway's decorators; no feature imports it.
  contract: [...PLATFORM, 'auth', 'compat', 'gateway', 'socket-server'],
};

/** @type {import('dependency-cruiser').IForbiddenRuleType[]} */
const folderRules = Object.entries(MAY_IMPORT).map(([folder, allowed]) => ({
  name: `${folder}-imports`,
  severity: 'error',
  comment: `src/${folder}/ may import only ${allowed.length ? allowed.join(', ') : 'packages'}`,
  from: { path: `^src/${folder}/` },
  to: {
    path: '^src/',
    pathNot: `^src/(${[folder, ...allowed].join('|')})/`,
  },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...folderRules,
    {
      name: 'no-folder-cycle',
      severity: 'error',
      comment: 'Folders depend on each other one way only',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-module-cycle',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'src-stands-alone',
      severity: 'error',
      comment:
        'The app never imports development tools, the bench or the tests (specs may use test/support)',
      from: { path: '^src/', pathNot: '[.]spec[.]ts$' },
      to: { path: '^(tools|bench|test)/' },
    },
    {
      name: 'known-folders-only',
      severity: 'error',
      comment: 'A new folder under src/ gets its line in MAY_IMPORT above',
      from: {
        path: '^src/[^/]+/',
        pathNot: `^src/(${Object.keys(MAY_IMPORT).join('|')})/`,
      },
      to: { path: '^src/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/demo/client/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
