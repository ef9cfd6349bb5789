import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { addressKey, ClientLimits, clientAddress } from '../../../src/protocol/client-limits.ts';
import { ConfigError, loadConfig } from '../../../src/config/load.ts';

test('addressKey: IPv4 as is, IPv4-mapped IPv6 as its IPv4, IPv6 by its /64', () => {
  assert.equal(addressKey('10.1.2.3'), '10.1.2.3');
  assert.equal(addressKey('::ffff:10.1.2.3'), '10.1.2.3');
  assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(addressKey('2001:0db8:0001:0002:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
  assert.equal(addressKey('2001:db8:1:2::7%eth0'), '2001:db8:1:2::/64');
  assert.notEqual(addressKey('2001:db8:1:3::1'), addressKey('2001:db8:1:2::1'));
  assert.equal(addressKey('::1'), '0:0:0:0::/64');
  assert.equal(addressKey('2001:db8::'), '2001:db8:0:0::/64');
  assert.equal(addressKey('64:ff9b::1.2.3.4'), '64:ff9b:0:0::/64');
  assert.equal(addressKey(undefined), 'unknown');
});

test('clientAddress: the socket peer; with trustProxy the last valid X-Forwarded-For hop', () => {
  const req = (xff: string | undefined) =>
    ({ headers: xff === undefined ? {} : { 'x-forwarded-for': xff }, socket: { remoteAddress: '127.0.0.1' } }) as unknown as IncomingMessage;
  assert.equal(clientAddress(req('1.1.1.1, 2.2.2.2'), false), '127.0.0.1');
  assert.equal(clientAddress(req('1.1.1.1, 2.2.2.2'), true), '2.2.2.2');
  assert.equal(clientAddress(req(' 2001:db8::5 '), true), '2001:db8::5');
  assert.equal(clientAddress(req('1.1.1.1, not-an-address'), true), '127.0.0.1');
  assert.equal(clientAddress(req(undefined), true), '127.0.0.1');
});

test('long-poll slots: per address and in total, released once however often release is called', () => {
  const limits = new ClientLimits({
    maxConnections: 10,
    maxConnectionsPerAddress: 10,
    maxLongPolls: 3,
    maxLongPollsPerAddress: 2,
    trustProxy: false,
    onRefusal: () => {},
  });
  const a1 = limits.acquireLongPoll('10.0.0.1');
  limits.acquireLongPoll('10.0.0.1');
  assert.throws(
    () => limits.acquireLongPoll('::ffff:10.0.0.1'),
    (err: any) => err.code === 'TOO_MANY_REQUESTS' && err.details.cap === 'maxLongPollsPerAddress',
  );
  limits.acquireLongPoll('10.0.0.2');
  assert.throws(
    () => limits.acquireLongPoll('10.0.0.3'),
    (err: any) => err.details.cap === 'maxLongPolls',
  );
  a1();
  a1();
  assert.equal(limits.openLongPolls, 2);
  limits.acquireLongPoll('10.0.0.3');
  assert.throws(
    () => limits.acquireLongPoll('10.0.0.4'),
    (err: any) => err.details.cap === 'maxLongPolls',
  );
});

test('config: a per-address cap above its total, or a subscription cap above the node cap, is refused naming both', () => {
  assert.throws(
    () =>
      loadConfig({
        env: {},
        overrides: {
          limits: {
            maxConnections: 10,
            maxConnectionsPerAddress: 11,
            maxLongPolls: 5,
            maxLongPollsPerAddress: 6,
            maxSubscribedChannelsPerNode: 100,
            maxChannelsPerSubscription: 101,
          },
        },
      }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const text = err.issues.join('\n');
      assert.match(text, /limits\.maxConnectionsPerAddress \(11\) is larger than limits\.maxConnections \(10\)/);
      assert.match(text, /limits\.maxLongPollsPerAddress \(6\) is larger than limits\.maxLongPolls \(5\)/);
      assert.match(text, /limits\.maxChannelsPerSubscription \(101\) is larger than limits\.maxSubscribedChannelsPerNode \(100\)/);
      return true;
    },
  );
  const env = loadConfig({ env: { PARLEY_LIMITS_BODY_IDLE_TIMEOUT_MS: '250', PARLEY_LIMITS_TRUST_PROXY: 'true' } });
  assert.equal(env.limits.bodyIdleTimeoutMs, 250);
  assert.equal(env.limits.trustProxy, true);
});
