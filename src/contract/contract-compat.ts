/**
 * Which differences between two AsyncAPI documents of this app break clients: a removed
 * channel, event or field, a field newly required of clients or no longer always sent, and a
 * type that accepts or carries fewer values than before. Adding is never breaking. Pure: two
 * documents in, a list of breaking changes out (docs/contract-compatibility.md).
 */

type Schema = Readonly<Record<string, unknown>>;
interface Message {
  readonly name?: string;
  readonly payload?: Schema;
}
interface Channel {
  readonly address?: string;
  readonly messages?: Readonly<Record<string, Message>>;
}
interface Operation {
  readonly action?: string;
  readonly messages?: readonly { readonly $ref: string }[];
  readonly reply?: { readonly messages?: readonly { readonly $ref: string }[] };
}
export interface ContractDocument {
  readonly info: { readonly version: string };
  readonly channels?: Readonly<Record<string, Channel>>;
  readonly operations?: Readonly<Record<string, Operation>>;
}

/** `input`: what clients send (a narrower schema refuses them); `output`: what they receive. */
type Direction = 'input' | 'output';

export function breakingChanges(baseline: ContractDocument, current: ContractDocument): string[] {
  const found: string[] = [];
  const currentChannels = byAddress(current);
  const inputs = inputMessages(baseline);
  for (const [key, channel] of Object.entries(baseline.channels ?? {})) {
    const address = channel.address ?? key;
    const now = currentChannels.get(address);
    if (!now) {
      found.push(`${address}: channel removed`);
      continue;
    }
    const nowMessages = new Map(Object.values(now.messages ?? {}).map((m) => [m.name, m]));
    for (const [messageKey, message] of Object.entries(channel.messages ?? {})) {
      const where = `${address} ${message.name ?? messageKey}`;
      const next = nowMessages.get(message.name);
      if (!next) {
        found.push(`${where}: removed`);
        continue;
      }
      const direction = inputs.has(`${key}/${messageKey}`) ? 'input' : 'output';
      compareSchemas(
        message.payload ?? {},
        next.payload ?? {},
        direction,
        `${where}: payload`,
        found,
      );
    }
  }
  return found;
}

/** Breaking changes are allowed when package.json's major version passed the baseline's. */
export function compatibilityVerdict(
  baseline: ContractDocument,
  current: ContractDocument,
  packageVersion: string,
): { readonly breaking: readonly string[]; readonly allowed: boolean } {
  const breaking = breakingChanges(baseline, current);
  return {
    breaking,
    allowed: breaking.length === 0 || majorOf(packageVersion) > majorOf(baseline.info.version),
  };
}

export function majorOf(version: string): number {
  const major = /^v?(\d+)\./.exec(version)?.[1];
  if (major === undefined) throw new Error(`not a semantic version: ${version}`);
  return Number(major);
}

function byAddress(document: ContractDocument): Map<string, Channel> {
  return new Map(
    Object.entries(document.channels ?? {}).map(([key, channel]) => [
      channel.address ?? key,
      channel,
    ]),
  );
}

/** `channelKey/messageKey` of every message a client sends (a `receive` operation's own). */
function inputMessages(document: ContractDocument): Set<string> {
  const inputs = new Set<string>();
  for (const operation of Object.values(document.operations ?? {})) {
    if (operation.action !== 'receive') continue;
    for (const { $ref } of operation.messages ?? []) {
      const match = /^#\/channels\/([^/]+)\/messages\/([^/]+)$/.exec($ref);
      if (match) inputs.add(`${unescape(match[1])}/${unescape(match[2])}`);
    }
  }
  return inputs;
}

function unescape(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

function compareSchemas(
  before: Schema,
  after: Schema,
  direction: Direction,
  where: string,
  found: string[],
): void {
  const narrowed = (what: string): void => void found.push(`${where}: ${what}`);
  const lost = lostTypes(before, after);
  if (lost.length) narrowed(`type narrowed (no longer ${lost.join(', ')})`);
  const lostValues = lostEnumValues(before, after);
  if (lostValues) narrowed(`values no longer allowed: ${lostValues}`);
  for (const [bound, tighter] of BOUNDS) {
    const was = before[bound];
    const now = after[bound];
    if (typeof now === 'number' && (typeof was !== 'number' || tighter(was, now)))
      narrowed(`${bound} tightened (${typeof was === 'number' ? was : 'none'} -> ${now})`);
  }
  if (typeof after['pattern'] === 'string' && after['pattern'] !== before['pattern'])
    narrowed(
      `pattern changed (${JSON.stringify(before['pattern'] ?? null)} -> ${after['pattern']})`,
    );

  const wasRequired = new Set(stringsOf(before['required']));
  const nowRequired = new Set(stringsOf(after['required']));
  const beforeProperties = objectOf(before['properties']);
  const afterProperties = objectOf(after['properties']);
  for (const [name, schema] of Object.entries(beforeProperties)) {
    const next = afterProperties[name];
    if (!next) {
      found.push(`${where}.${name}: field removed`);
      continue;
    }
    if (direction === 'output' && wasRequired.has(name) && !nowRequired.has(name))
      found.push(`${where}.${name}: no longer always sent`);
    compareSchemas(schema, next, direction, `${where}.${name}`, found);
  }
  if (direction === 'input')
    for (const name of nowRequired)
      if (!wasRequired.has(name)) found.push(`${where}.${name}: newly required`);

  if (isSchema(before['items']) && isSchema(after['items']))
    compareSchemas(before['items'], after['items'], direction, `${where}[]`, found);
  for (const keyword of ['oneOf', 'anyOf', 'allOf'] as const) {
    const was = schemasOf(before[keyword]);
    const now = schemasOf(after[keyword]);
    if (keyword !== 'allOf' && now.length < was.length)
      narrowed(`${keyword} lost ${was.length - now.length} of its ${was.length} choices`);
    was.forEach((schema, i) => {
      const next = now[i];
      if (next) compareSchemas(schema, next, direction, `${where}(${keyword} ${i})`, found);
    });
  }
}

/** Bounds whose tightening refuses what was accepted: a larger minimum, a smaller maximum. */
const BOUNDS: readonly [string, (was: number, now: number) => boolean][] = [
  ['minimum', (was, now) => now > was],
  ['exclusiveMinimum', (was, now) => now > was],
  ['minLength', (was, now) => now > was],
  ['minItems', (was, now) => now > was],
  ['maximum', (was, now) => now < was],
  ['exclusiveMaximum', (was, now) => now < was],
  ['maxLength', (was, now) => now < was],
  ['maxItems', (was, now) => now < was],
];

/** JSON types the schema allowed before and no longer does (`integer` lies within `number`). */
function lostTypes(before: Schema, after: Schema): string[] {
  const was = typesOf(before);
  const now = typesOf(after);
  if (!now) return [];
  if (!was) return ['any type'];
  return [...was].filter((type) => !now.has(type) && !(type === 'integer' && now.has('number')));
}

function typesOf(schema: Schema): Set<string> | undefined {
  const type = schema['type'];
  if (typeof type === 'string') return new Set([type]);
  if (Array.isArray(type)) return new Set(stringsOf(type));
  return undefined;
}

/** Values an `enum` or `const` allowed before that the new schema does not. */
function lostEnumValues(before: Schema, after: Schema): string | undefined {
  const now = allowedValues(after);
  if (!now) return undefined;
  const was = allowedValues(before);
  const lost = was
    ? was.filter((value) => !now.some((other) => JSON.stringify(other) === JSON.stringify(value)))
    : [];
  if (!was) return `any value but ${now.map((value) => JSON.stringify(value)).join(', ')}`;
  return lost.length ? lost.map((value) => JSON.stringify(value)).join(', ') : undefined;
}

function allowedValues(schema: Schema): unknown[] | undefined {
  if (Array.isArray(schema['enum'])) return schema['enum'] as unknown[];
  if ('const' in schema) return [schema['const']];
  return undefined;
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectOf(value: unknown): Readonly<Record<string, Schema>> {
  return isSchema(value) ? (value as Record<string, Schema>) : {};
}

function schemasOf(value: unknown): Schema[] {
  return Array.isArray(value) ? value.filter(isSchema) : [];
}

function stringsOf(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((item): item is string => typeof item === 'string')
    : [];
}
