import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mayPublish, maySubscribe, type MqttIdentity } from '../../gateway/broker/acl.ts';
import { hashPassword, verifyPassword } from '../../gateway/broker/passwords.ts';
import { topicMatches } from '../../gateway/broker/topics.ts';
import { DiskQueue } from '../../gateway/bridge/queue.ts';
import { parseCommand } from '../../gateway/sinks/mqtt/commands.ts';
import { parseMqttProfile } from '../../drivers/mqtt/profile.ts';

const P = 'gatehouse/v1/v';
const device: MqttIdentity = { username: 'g1', role: 'device', device: 'g1' };
const platform: MqttIdentity = { username: 'town', role: 'platform' };
const reader: MqttIdentity = { username: 'r', role: 'reader' };

describe('role rules', () => {
  it('device: publishes under its own prefix except cmd; subscribes only to its own cmd', () => {
    expect(mayPublish(device, P, `${P}/g1/raw`)).toBe(true);
    expect(mayPublish(device, P, `${P}/g2/raw`)).toBe(false);
    expect(mayPublish(device, P, `${P}/g1/cmd`)).toBe(false);
    expect(mayPublish(device, P, `${P}/g1/cmd/result`)).toBe(false);
    expect(maySubscribe(device, P, `${P}/g1/cmd`)).toBe(true);
    expect(maySubscribe(device, P, `${P}/+/cmd`)).toBe(false);
  });
  it('platform publishes only cmd; reader never publishes and reads only under the prefix', () => {
    expect(mayPublish(platform, P, `${P}/g1/cmd`)).toBe(true);
    expect(mayPublish(platform, P, `${P}/g1/state`)).toBe(false);
    expect(mayPublish(platform, P, `${P}/a/b/cmd`)).toBe(false);
    expect(mayPublish(reader, P, `${P}/g1/raw`)).toBe(false);
    expect(maySubscribe(reader, P, `${P}/#`)).toBe(true);
    expect(maySubscribe(reader, P, '#')).toBe(false);
    expect(maySubscribe(reader, P, 'gatehouse/v1/+/g1/state')).toBe(false);
  });
  it('wildcards never match $ topics [MQTT-4.7.2-1]', () => {
    expect(topicMatches('#', '$SYS/x')).toBe(false);
    expect(topicMatches('+/x', '$SYS/x')).toBe(false);
    expect(topicMatches('$SYS/#', '$SYS/x')).toBe(true);
    expect(topicMatches('a/+/c', 'a/b/c')).toBe(true);
    expect(topicMatches('a/#', 'a')).toBe(true);
  });
});

it('scrypt hashes verify the right password only and differ per salt', async () => {
  const h = await hashPassword('s3cret');
  expect(h).toMatch(/^scrypt\$16384\$8\$1\$[^$]+\$[^$]+$/);
  expect(await verifyPassword('s3cret', h)).toBe(true);
  expect(await verifyPassword('S3cret', h)).toBe(false);
  expect(await hashPassword('s3cret')).not.toBe(h);
  expect(await verifyPassword('x', 'scrypt$bad')).toBe(false);
});

it('a command payload is checked against CommandRequestSchema and errors name the field', () => {
  expect(parseCommand(Buffer.from('{"requestId":"a","action":"open","reason":"r"}')).ok).toBe(true);
  expect(parseCommand(Buffer.from('{"requestId":"a","action":"open"}'))).toMatchObject({
    ok: false,
    requestId: 'a',
  });
  expect(parseCommand(Buffer.from('{"requestId":"a","action":"jump","reason":"r"}'))).toMatchObject({
    ok: false,
    field: 'action',
  });
  expect(parseCommand(Buffer.from('not json'))).toMatchObject({ ok: false, message: /not JSON/ });
});

it('an MQTT profile naming a field that is not canonical is refused with file and field', () => {
  const bad = 'name: x\nkind: barrier\nfields:\n  arm_speed: { path: a }\n';
  expect(() => parseMqttProfile(bad, 'x.yaml')).toThrow(
    /x\.yaml:4:3: fields\.arm_speed: not a canonical barrier field/,
  );
});

it('the disk queue keeps undelivered messages across reopen and truncates once all is delivered', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-queue-'));
  try {
    let q = new DiskQueue(dir, 1 << 20);
    for (let i = 0; i < 5; i++) q.append({ topic: `t/${i}`, payload: Buffer.from(`m${i}`), retain: i === 0 });
    const first = q.read(q.start, 2);
    expect(first.map((e) => e.topic)).toEqual(['t/0', 't/1']);
    expect(first[0]!.retain).toBe(true);
    q.commit(first[1]!.end);
    q.close();
    q = new DiskQueue(dir, 1 << 20);
    expect(q.read(q.start, 10).map((e) => e.payload.toString())).toEqual(['m2', 'm3', 'm4']);
    expect(q.append({ topic: 'big', payload: Buffer.alloc(2 << 20), retain: false })).toBe(false); // full
    q.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
