// Writes docs/config.md from the zod schema (single source); test/unit/config.test.ts fails when it is stale.
import { writeFileSync } from 'node:fs';
import { renderConfigDoc } from '../src/config/doc.ts';

writeFileSync(new URL('../docs/config.md', import.meta.url), renderConfigDoc());
