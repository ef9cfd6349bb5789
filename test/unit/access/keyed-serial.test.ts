import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyedSerial } from '../../../src/access/keyed-serial.ts';

/** A task that records its start and end and finishes when the test says so. */
function gate(log: string[], name: string): { task: () => Promise<string>; open: () => void; fail: () => void } {
  let open = (): void => {};
  let fail = (): void => {};
  const done = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = () => reject(new Error(`${name} failed`));
  });
  return {
    task: async () => {
      log.push(`start ${name}`);
      await done;
      log.push(`end ${name}`);
      return name;
    },
    open,
    fail,
  };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('tasks of one key run one after another, a failure does not stop the next; other keys do not wait', async () => {
  const serial = new KeyedSerial();
  const log: string[] = [];
  const a1 = gate(log, 'a1');
  const a2 = gate(log, 'a2');
  const a3 = gate(log, 'a3');
  const b1 = gate(log, 'b1');
  const r1 = serial.run('a', a1.task);
  const r2 = serial.run('a', a2.task);
  const r3 = serial.run('a', a3.task);
  const rb = serial.run('b', b1.task);
  await turn();
  assert.deepEqual(log, ['start a1', 'start b1'], 'a2 waits for a1; b1 does not');
  a1.fail();
  await assert.rejects(r1, /a1 failed/);
  await turn();
  assert.deepEqual(log, ['start a1', 'start b1', 'start a2'], 'a1 failing lets a2 start');
  b1.open();
  assert.equal(await rb, 'b1');
  a2.open();
  assert.equal(await r2, 'a2');
  await turn();
  assert.equal(log.at(-1), 'start a3');
  a3.open();
  assert.equal(await r3, 'a3');
});
