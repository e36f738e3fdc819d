/**
 * The deployment files are copied into real infrastructure, and no Docker engine or cluster
 * runs here: each is parsed and checked against the app itself (its config schema, ports,
 * health routes and drain window) and against what docs/deploying.md promises. The load-balancer
 * configs are also run for real, in `load-balancers.e2e-spec.ts`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { loadConfig } from '../src/config/app-config.js';
import { ENV_SCHEMA } from '../src/config/config.schema.js';

const text = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
const exists = (path: string): boolean => existsSync(new URL(`../${path}`, import.meta.url));

const DEFAULTS = (() => {
  const loaded = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32) });
  if (!loaded.ok) throw new Error('default config does not load');
  return loaded.config;
})();
/** A proxy idle timeout must be above a heartbeat round: ping interval + ping timeout. */
const HEARTBEAT_S = (DEFAULTS.ws.pingIntervalMs + DEFAULTS.ws.pingTimeoutMs) / 1000;
const SECRET_PLACEHOLDER = 'a-placeholder-secret-of-at-least-32-characters';

/** An env as a platform would give it, secrets filled in: the app must accept it. */
function expectAppAccepts(env: Record<string, string>): void {
  for (const key of Object.keys(env)) expect(Object.keys(ENV_SCHEMA)).toContain(key);
  const loaded = loadConfig({
    JWT_SECRET: SECRET_PLACEHOLDER,
    REDIS_URL: 'redis://redis:6379',
    ...env,
  });
  expect(loaded.ok ? [] : loaded.issues).toEqual([]);
}

/**
 * Keys each platform documents for these files (fly.toml reference, Render Blueprint spec,
 * Railway config-as-code reference): an invented or misspelled key is ignored by the
 * platform without a word, so the test refuses it.
 */
const KNOWN_KEYS = {
  fly: [
    'app',
    'primary_region',
    'kill_signal',
    'kill_timeout',
    'swap_size_mb',
    'console_command',
    'build',
    'deploy',
    'env',
    'http_service',
    'services',
    'checks',
    'mounts',
    'processes',
    'statics',
    'metrics',
    'vm',
    'restart',
    'experimental',
  ],
  flyHttpService: [
    'internal_port',
    'force_https',
    'auto_stop_machines',
    'auto_start_machines',
    'min_machines_running',
    'processes',
    'concurrency',
    'checks',
    'tls_options',
    'http_options',
  ],
  flyConcurrency: ['type', 'soft_limit', 'hard_limit'],
  flyCheck: [
    'grace_period',
    'interval',
    'timeout',
    'method',
    'path',
    'protocol',
    'tls_skip_verify',
    'headers',
  ],
  flyVm: ['size', 'memory', 'cpus', 'cpu_kind', 'gpus', 'gpu_kind', 'processes'],
  renderService: [
    'type',
    'name',
    'runtime',
    'plan',
    'region',
    'numInstances',
    'scaling',
    'dockerfilePath',
    'dockerContext',
    'dockerCommand',
    'healthCheckPath',
    'maxShutdownDelaySeconds',
    'envVars',
    'autoDeploy',
    'branch',
    'rootDir',
    'disk',
    'domains',
    'preDeployCommand',
    'buildFilter',
    'repo',
    'previews',
    'ipAllowList',
    'maxmemoryPolicy',
  ],
  renderEnvVar: [
    'key',
    'value',
    'generateValue',
    'fromService',
    'fromDatabase',
    'sync',
    'fromGroup',
  ],
  railway: ['$schema', 'build', 'deploy', 'environments'],
  railwayBuild: ['builder', 'dockerfilePath', 'buildCommand', 'watchPatterns', 'railpackVersion'],
  railwayDeploy: [
    'startCommand',
    'preDeployCommand',
    'numReplicas',
    'healthcheckPath',
    'healthcheckTimeout',
    'restartPolicyType',
    'restartPolicyMaxRetries',
    'overlapSeconds',
    'drainingSeconds',
    'cronSchedule',
    'sleepApplication',
    'region',
    'multiRegionConfig',
    'runtime',
    'limitOverride',
    'requiredMountPath',
  ],
};

function expectOnlyKeys(object: object, known: readonly string[]): void {
  expect(Object.keys(object).filter((key) => !known.includes(key))).toEqual([]);
}

const seconds = (value: string | number): number => {
  if (typeof value === 'number') return value;
  const match = /^(\d+)(ms|s|m)?$/.exec(value);
  if (!match) throw new Error(`not a duration: ${value}`);
  const n = Number(match[1]);
  return match[2] === 'ms' ? n / 1000 : match[2] === 'm' ? n * 60 : n;
};

describe('docker/Dockerfile', () => {
  // Instructions with their continuation lines joined, comments dropped.
  const instructions = text('docker/Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
  const stages: (typeof instructions)[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') stages.push([]);
    stages.at(-1)?.push(instruction);
  }
  const runtime = stages.at(-1)!;
  const args = (keyword: string, stage = runtime) =>
    stage.filter((i) => i.keyword === keyword).map((i) => i.args);

  it('is multi-stage on a Node LTS slim image: install with npm ci, build, prune dev dependencies', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(instructions[0]).toEqual({ keyword: 'ARG', args: 'NODE_IMAGE=node:22-slim' });
    const build = stages[0].map((i) => i.args).join('\n');
    expect(build).toMatch(/npm ci\b/);
    expect(build).toMatch(/npm run build/);
    expect(build).toMatch(/npm prune --omit=dev/);
  });

  it('runs as a non-root user, under tini, with the exec-form CMD so SIGTERM reaches node', () => {
    expect(args('USER')).toEqual(['node']);
    expect(args('ENTRYPOINT')).toEqual(['["/usr/bin/tini", "--"]']);
    expect(JSON.parse(args('CMD')[0])).toEqual(['node', 'dist/main.js']);
    expect(args('STOPSIGNAL')).toEqual(['SIGTERM']);
  });

  it('checks liveness on /health, on the port it exposes, and bakes in no .env', () => {
    expect(args('HEALTHCHECK')[0]).toMatch(/'\/health'\)/);
    expect(args('EXPOSE')).toEqual(['3000']);
    expect(args('ENV').join(' ')).toMatch(/PORT=3000/);
    const copied = [...args('COPY', runtime), ...stages.flatMap((s) => args('COPY', s))];
    expect(copied.join('\n')).not.toMatch(/\.env/);
  });

  it('.dockerignore lets in exactly what the Dockerfile copies from the context, no secrets', () => {
    const ignore = text('.dockerignore');
    // The same rules where BuildKit looks (beside the Dockerfile) and the classic builder does.
    const rules = (file: string) => file.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(rules(text('docker/Dockerfile.dockerignore'))).toEqual(rules(ignore));
    expect(rules(ignore)[0]).toBe('**');
    const allowed = rules(ignore)
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).replace(/\/\*\*$/, ''));
    const fromContext = stages
      .flatMap((stage) => args('COPY', stage))
      .filter((a) => !a.startsWith('--from'))
      .flatMap((a) => a.split(/\s+/).slice(0, -1));
    expect(fromContext.length).toBeGreaterThan(0);
    for (const source of fromContext) {
      expect(allowed).toContain(source);
      expect(exists(source)).toBe(true);
    }
    expect(allowed.some((path) => path.includes('.env'))).toBe(false);
  });
});

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  stop_grace_period?: string;
  healthcheck?: { test: string[] };
  volumes?: string[];
  ports?: string[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
}

describe('docker/compose.yml', () => {
  const compose = parseYaml(text('docker/compose.yml')) as {
    services: Record<string, ComposeService>;
  };
  const { services } = compose;
  const apps = Object.keys(services).filter((name) => /^app-\d+$/.test(name));
  const nginxConf = text('docker/nginx.conf');
  const haproxyCfg = text('docker/haproxy.cfg');

  it('runs Redis 7 with a health check, and three app replicas that wait for it', () => {
    expect(services.redis.image).toMatch(/^redis:7/);
    expect(services.redis.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(apps).toEqual(['app-1', 'app-2', 'app-3']);
    for (const app of apps) {
      expect(services[app].depends_on).toEqual({ redis: { condition: 'service_healthy' } });
      expect(services[app].build).toEqual({ context: '..', dockerfile: 'docker/Dockerfile' });
      expect(services[app].environment?.REDIS_URL).toBe('redis://redis:6379');
    }
  });

  it('gives each instance a stop grace period above SHUTDOWN_DRAIN_MS + 5 s', () => {
    for (const app of apps) {
      const env = services[app].environment!;
      const drainS = Number(env.SHUTDOWN_DRAIN_MS) / 1000;
      expect(seconds(services[app].stop_grace_period!)).toBeGreaterThanOrEqual(drainS + 5);
    }
  });

  it("passes an environment the app's config accepts (secrets required, never defaulted)", () => {
    const env = services['app-1'].environment!;
    expect(env.JWT_SECRET).toMatch(/^\$\{JWT_SECRET:\?/);
    const resolved = Object.fromEntries(
      Object.entries(env).map(([key, value]) => [
        key,
        // Compose's `${VAR:-default}`: the default; `${VAR:?message}`: a required value.
        value
          .replace(/\$\{\w+:-([^}]*)\}/g, '$1')
          .replace(/\$\{\w+:\?[^}]*\}/g, SECRET_PLACEHOLDER),
      ]),
    );
    expectAppAccepts(resolved);
  });

  it('puts nginx in front with docker/nginx.conf, whose upstream lists exactly the app services', () => {
    expect(services.nginx.volumes).toContain('./nginx.conf:/etc/nginx/nginx.conf:ro');
    // `resolve` on upstream servers needs nginx 1.27.3 or later.
    expect(services.nginx.image).toMatch(/^nginx:1\.(2[89]|[3-9]\d)/);
    expect(nginxConf).toMatch(/^\s*resolver 127\.0\.0\.11 /m);
    expect(services.nginx.ports).toEqual(['8080:80']);
    expect(nginxConf).toMatch(/^\s*listen 80;/m);
    const upstream = [...nginxConf.matchAll(/^\s*server (app-\d+):3000 .* resolve;$/gm)].map(
      (m) => m[1],
    );
    expect(upstream).toEqual(apps);
    expect(Object.keys(services.nginx.depends_on!)).toEqual(apps);
  });

  it('nginx: sticky, WebSocket upgrades, timeouts above the heartbeat, retries off a draining instance', () => {
    expect(nginxConf).toMatch(/^\s*hash \$remote_addr consistent;/m);
    expect(nginxConf).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(nginxConf).toMatch(/proxy_set_header Connection \$connection_upgrade;/);
    expect(nginxConf).toMatch(/proxy_http_version 1\.1;/);
    // The port stays in Host: the app's same-origin check compares it with Origin.
    expect(nginxConf).toMatch(/proxy_set_header Host \$http_host;/);
    const timeout = /proxy_read_timeout (\d+)s;/.exec(nginxConf);
    expect(Number(timeout?.[1])).toBeGreaterThan(HEARTBEAT_S);
    expect(nginxConf).toMatch(/proxy_next_upstream error timeout http_503 non_idempotent;/);
    // No query strings (tokens) in the access log.
    expect(nginxConf).not.toMatch(/log_format[^;]*\$(request|request_uri|args)\b/);
  });

  it('offers HAProxy (profile) with docker/haproxy.cfg: cookie + source stickiness, readiness checks', () => {
    const haproxy = services.haproxy;
    expect(haproxy.profiles).toEqual(['haproxy']);
    expect(haproxy.volumes).toContain('./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro');
    expect(haproxy.ports).toEqual(['8081:8080']);
    expect(haproxyCfg).toMatch(/^\s*bind :8080$/m);
    const servers = [
      ...haproxyCfg.matchAll(/^\s*server (app-\d+) (app-\d+):3000 cookie (app-\d+)$/gm),
    ];
    expect(servers.map((m) => m[1])).toEqual(apps);
    expect(servers.every((m) => m[1] === m[2] && m[2] === m[3])).toBe(true);
    expect(haproxyCfg).toMatch(/^\s*cookie io_lb insert indirect nocache/m);
    expect(haproxyCfg).toMatch(/^\s*balance source$/m);
    expect(haproxyCfg).toMatch(/http-check send meth GET uri \/health\/ready/);
    for (const name of ['tunnel', 'client', 'server']) {
      const match = new RegExp(`timeout ${name} (\\d+)s`).exec(haproxyCfg);
      expect(Number(match?.[1])).toBeGreaterThan(HEARTBEAT_S);
    }
  });

  it('compose.test.yml runs the smoke check through each balancer and on every instance', () => {
    const test = parseYaml(text('docker/compose.test.yml')) as {
      services: Record<string, ComposeService>;
    };
    const direct = `--direct=${apps.map((app) => `http://${app}:3000`).join(',')}`;
    expect(test.services.smoke.command).toEqual(
      expect.arrayContaining(['dist/cli/smoke.js', '--url=http://nginx', direct]),
    );
    expect(test.services['smoke-haproxy'].command).toEqual(
      expect.arrayContaining(['--url=http://haproxy:8080', direct]),
    );
    expect(exists('src/cli/smoke.ts')).toBe(true);
  });
});

interface K8sObject {
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}

describe('deploy/k8s', () => {
  const files = readdirSync(new URL('../deploy/k8s', import.meta.url)).filter((f) =>
    f.endsWith('.yaml'),
  );
  const objects = files
    .filter((file) => file !== 'kustomization.yaml')
    .flatMap((file) =>
      parseAllDocuments(text(`deploy/k8s/${file}`)).map((doc) => doc.toJS() as K8sObject),
    );
  const byKind = (kind: string) => {
    const found = objects.filter((o) => o.kind === kind);
    expect(found).toHaveLength(1);
    return found[0];
  };
  /* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-explicit-any */
  const deployment = byKind('Deployment') as any;
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const env: Record<string, string> = Object.fromEntries(
    (container.env as { name: string; value?: string }[]).map((e) => [
      e.name,
      e.value ?? SECRET_PLACEHOLDER,
    ]),
  );

  it('kustomization lists every manifest', () => {
    const kustomization = parseYaml(text('deploy/k8s/kustomization.yaml')) as {
      resources: string[];
    };
    expect([...kustomization.resources].sort()).toEqual(
      files.filter((f) => f !== 'kustomization.yaml').sort(),
    );
  });

  it("the Deployment's probes are the app's routes on the port it listens on", () => {
    const port = container.ports[0];
    expect(port.containerPort).toBe(Number(env.PORT));
    expect(container.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: port.name });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health/live', port: port.name });
    expect(deployment.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expectAppAccepts(
      Object.fromEntries(
        Object.entries(env).map(([k, v]) => [k, k === 'REDIS_URL' ? 'redis://r:6379' : v]),
      ),
    );
  });

  it('the grace period covers preStop + SHUTDOWN_DRAIN_MS + 5 s, and readiness reacts within it', () => {
    const preStopS = Number(container.lifecycle.preStop.exec.command[1]);
    const drainS = Number(env.SHUTDOWN_DRAIN_MS) / 1000;
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStopS + drainS + 5);
    const probe = container.readinessProbe;
    expect(probe.periodSeconds * probe.failureThreshold).toBeLessThan(drainS / 4);
  });

  it('runs as non-root with a read-only root filesystem and resource requests', () => {
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(container.resources.requests).toEqual(
      expect.objectContaining({ cpu: expect.any(String) }),
    );
  });

  it('Service, Ingress, HPA and PDB all point at the Deployment and its pods', () => {
    const labels = deployment.spec.template.metadata.labels;
    expect(deployment.spec.selector.matchLabels).toEqual(labels);
    const service = byKind('Service') as any;
    expect(service.spec.selector).toEqual(labels);
    expect(service.spec.ports[0].targetPort).toBe(container.ports[0].name);
    const ingress = byKind('Ingress') as any;
    const backend = ingress.spec.rules[0].http.paths[0].backend.service;
    expect(backend).toEqual({
      name: service.metadata.name,
      port: { name: service.spec.ports[0].name },
    });
    const hpa = byKind('HorizontalPodAutoscaler') as any;
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: deployment.metadata.name,
    });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    const pdb = byKind('PodDisruptionBudget') as any;
    expect(pdb.spec.selector.matchLabels).toEqual(labels);
  });

  it('the Ingress is sticky by cookie, with timeouts above the heartbeat and retries off a draining pod', () => {
    const annotations = byKind('Ingress').metadata.annotations!;
    const key = (name: string) => annotations[`nginx.ingress.kubernetes.io/${name}`];
    expect(key('affinity')).toBe('cookie');
    expect(Number(key('proxy-read-timeout'))).toBeGreaterThan(HEARTBEAT_S);
    expect(Number(key('proxy-send-timeout'))).toBeGreaterThan(HEARTBEAT_S);
    expect(key('proxy-next-upstream')).toBe('error timeout http_503 non_idempotent');
  });
  /* eslint-enable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-explicit-any */
});

describe('deploy/paas', () => {
  it('fly.toml: WebSocket only, the port, readiness check, kill timeout above the drain, connection limits', () => {
    const fly = parseToml(text('deploy/paas/fly.toml')) as {
      kill_signal: string;
      kill_timeout: string;
      env: Record<string, string>;
      http_service: {
        internal_port: number;
        auto_stop_machines: string;
        concurrency: { type: string; hard_limit: number };
        checks: { path: string }[];
      };
    };
    expect(fly.env.WS_TRANSPORTS).toBe('websocket');
    expect(fly.http_service.internal_port).toBe(Number(fly.env.PORT));
    expect(fly.http_service.checks[0].path).toBe('/health/ready');
    expect(fly.kill_signal).toBe('SIGTERM');
    expect(seconds(fly.kill_timeout)).toBeGreaterThanOrEqual(
      Number(fly.env.SHUTDOWN_DRAIN_MS) / 1000 + 5,
    );
    expect(fly.http_service.concurrency.type).toBe('connections');
    expect(fly.http_service.concurrency.hard_limit).toBeGreaterThan(1000);
    expect(fly.http_service.auto_stop_machines).toBe('off');
    expectAppAccepts(fly.env);
    expectOnlyKeys(fly, KNOWN_KEYS.fly);
    expectOnlyKeys(fly.http_service, KNOWN_KEYS.flyHttpService);
    expectOnlyKeys(fly.http_service.concurrency, KNOWN_KEYS.flyConcurrency);
    for (const check of fly.http_service.checks) expectOnlyKeys(check, KNOWN_KEYS.flyCheck);
    for (const vm of (fly as unknown as { vm: object[] }).vm) expectOnlyKeys(vm, KNOWN_KEYS.flyVm);
  });

  it('render.yaml: WebSocket only, readiness check, shutdown delay above the drain, the Dockerfile', () => {
    const render = parseYaml(text('deploy/paas/render.yaml')) as {
      services: {
        type: string;
        healthCheckPath?: string;
        maxShutdownDelaySeconds?: number;
        dockerfilePath?: string;
        envVars?: { key: string; value?: string }[];
      }[];
    };
    const web = render.services.find((s) => s.type === 'web')!;
    const env = Object.fromEntries(
      web.envVars!.map(({ key, value }) => [key, value ?? SECRET_PLACEHOLDER]),
    );
    expect(env.WS_TRANSPORTS).toBe('websocket');
    expect(web.healthCheckPath).toBe('/health/ready');
    expect(web.maxShutdownDelaySeconds).toBeGreaterThanOrEqual(
      Number(env.SHUTDOWN_DRAIN_MS) / 1000 + 5,
    );
    expect(exists(web.dockerfilePath!)).toBe(true);
    expectAppAccepts({ ...env, REDIS_URL: 'redis://render:6379' });
    for (const service of render.services) expectOnlyKeys(service, KNOWN_KEYS.renderService);
    for (const envVar of web.envVars!) expectOnlyKeys(envVar, KNOWN_KEYS.renderEnvVar);
  });

  it('railway.json: readiness check, draining time above the default drain, the Dockerfile', () => {
    const railway = JSON.parse(text('deploy/paas/railway.json')) as {
      build: { dockerfilePath: string };
      deploy: { healthcheckPath: string; drainingSeconds: number };
    };
    expect(exists(railway.build.dockerfilePath)).toBe(true);
    expect(railway.deploy.healthcheckPath).toBe('/health/ready');
    expect(railway.deploy.drainingSeconds).toBeGreaterThanOrEqual(
      DEFAULTS.shutdown.drainMs / 1000 + 5,
    );
    expectOnlyKeys(railway, KNOWN_KEYS.railway);
    expectOnlyKeys(railway.build, KNOWN_KEYS.railwayBuild);
    expectOnlyKeys(railway.deploy, KNOWN_KEYS.railwayDeploy);
  });
});
