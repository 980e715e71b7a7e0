import { PostHog } from 'posthog-node';
import { startRecorder } from './recorder.mjs';

async function scenario(name, opts, fn) {
  const { server, url } = await startRecorder(`out/${name}`);
  const client = new PostHog('phc_test_project_key', { host: url, flushInterval: 0, ...opts });
  await fn(client);
  await client.shutdown();
  server.close();
}

const props = {
  plan: 'pro', seats: 42, ratio: 0.25, big: 9007199254740991, negative: -7, zero: 0,
  exp: 1e21, flag: true, nothing: null, tags: ['a', 'b', 3],
  nested: { depth: { n: 1, s: 'x' }, list: [{ k: 1 }] }, unicode: 'héllo ✓ 猫', emoji: '🚀',
};

await scenario('node-gzip', { flushAt: 20 }, async (c) => {
  c.capture({ distinctId: 'user_1', event: 'query_failed', properties: { ...props, sqlstate: '42P01' }, groups: { organization: 'org_42', company: 'acme' } });
  c.capture({ distinctId: 'user_2', event: 'explicit_uuid_and_time', uuid: '0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f', timestamp: new Date('2026-11-28T10:15:03.123Z'), properties: { n: 1 } });
  c.capture({ distinctId: 'user_3', event: 'no_properties' });
  c.identify({ distinctId: 'user_1', properties: { $set: { email_domain: 'example.com', age: 33 }, $set_once: { first_seen: '2026-01-01' } } });
  c.groupIdentify({ groupType: 'organization', groupKey: 'org_42', properties: { name: 'Acme', employees: 120 } });
  c.alias({ distinctId: 'user_1', alias: 'anon_1' });
  for (let i = 0; i < 14; i++) c.capture({ distinctId: `user_${i % 3}`, event: 'query_initiated', properties: { i, trace_id: `t${i}` }, groups: { organization: `org_${i % 2}` } });
});

await scenario('node-plain', { flushAt: 5, disableCompression: true }, async (c) => {
  for (let i = 0; i < 5; i++) c.capture({ distinctId: 'user_p', event: 'plain_event', properties: { i, ...props } });
});

await scenario('node-immediate', {}, async (c) => {
  await c.captureImmediate({ distinctId: 'user_i', event: 'immediate_event', properties: { i: 1 } });
});

// 413 on the first batch: posthog-node halves the batch.
{
  const { server, url } = await startRecorder('out/node-413', { status: (req, n) => (n === 1 ? 413 : 200) });
  const c = new PostHog('phc_test_project_key', { host: url, flushInterval: 0, flushAt: 8 });
  for (let i = 0; i < 8; i++) c.capture({ distinctId: 'u', event: 'halved', properties: { i } });
  await c.shutdown();
  server.close();
}
