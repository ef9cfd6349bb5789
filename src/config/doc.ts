import { z } from 'zod';
import { ConfigSchema } from './schema.ts';

const snake = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/** The part of a JSON Schema node (as zod renders the config schema) the table reads. */
interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  default?: unknown;
  description?: string;
  enum?: string[];
  anyOf?: SchemaNode[];
  const?: unknown;
}

/** docs/config.md, rendered from the schema's defaults and descriptions. */
export function renderConfigDoc(): string {
  const rows: string[] = [];
  const json = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as SchemaNode;
  const walk = (node: SchemaNode, path: string[]): void => {
    for (const [key, prop] of Object.entries(node.properties ?? {})) {
      const p = [...path, key];
      if (prop.type === 'object' && prop.properties) {
        walk(prop, p);
        continue;
      }
      const env = prop.type === 'array' ? '(file only)' : `\`PARLEY_${p.map(snake).join('_')}\``;
      const def = prop.default === undefined ? '' : `\`${JSON.stringify(prop.default)}\``;
      const variant = (v: SchemaNode): string => (v.const !== undefined ? `\`${String(v.const)}\`` : (v.type ?? 'any'));
      const type = prop.enum
        ? prop.enum.map((e) => `\`${e}\``).join(' \\| ')
        : Array.isArray(prop.anyOf)
          ? prop.anyOf.map(variant).join(' \\| ')
          : (prop.type ?? 'any');
      rows.push(`| \`${p.join('.')}\` | ${env} | ${type} | ${def} | ${(prop.description ?? '').replace(/\|/g, '\\|')} |`);
    }
  };
  walk(json, []);
  return [
    '# Configuration',
    '',
    'Generated from `src/config/schema.ts` by `npx tsx scripts/gen-config-doc.ts`; a test fails when it is stale.',
    '',
    'Precedence: defaults < JSON file (`PARLEY_CONFIG`) < environment. Short names: `PORT`, `PARLEY_DATA_DIR`,',
    '`PARLEY_PUBLISH_KEY`, `PARLEY_SUBSCRIBE_KEY`, `PARLEY_SECRET_KEY` (one keyset), `PARLEY_STORE` (= store.kind),',
    '`PARLEY_REDIS_URL` (= redis.url, and selects the redis engine).',
    'Unknown keys and bad values stop start-up (exit code 78) with every problem listed.',
    '',
    '| path | env | type | default | meaning |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
