// Writes docs/access-matrix.md from src/access/enforcement.ts; test/unit/access/enforcement.test.ts fails when it is stale.
import { writeFileSync } from 'node:fs';
import { renderAccessMatrixDoc } from '../src/access/matrix-doc.ts';

writeFileSync(new URL('../docs/access-matrix.md', import.meta.url), renderAccessMatrixDoc());
