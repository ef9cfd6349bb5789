import type { ObjectMetadata } from '../../src/store/types.ts';

/** An App Context record with every optional field null, a fixed `updated` and an eTag named after the id. */
export function objectRecord(id: string, overrides: Partial<ObjectMetadata> = {}): ObjectMetadata {
  return {
    id,
    name: `name of ${id}`,
    externalId: null,
    profileUrl: null,
    email: null,
    description: null,
    status: null,
    type: null,
    custom: null,
    updated: '2024-01-02T03:04:05.678Z',
    eTag: `etag-${id}`,
    ...overrides,
  };
}
