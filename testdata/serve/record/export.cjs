// Copies the recorded requests into testdata/serve: <case>.http.json (method, target, headers) + <case>.body,
// and <case>.payload.json: the JSON the SDK encoded, decoded here with Node (zlib, Buffer, lz-string).
const fs = require('node:fs'); const path = require('node:path'); const zlib = require('node:zlib');
const LZString = require('lz-string');
const dst = process.argv[2];
const cases = [
  ['posthog-node-5.70.0/batch-gzip', 'node-gzip/001'],
  ['posthog-node-5.70.0/batch-plain', 'node-plain/001'],
  ['posthog-node-5.70.0/immediate-gzip', 'node-immediate/001'],
  ['posthog-node-5.70.0/halving-1-of-8', 'node-413/001'],
  ['posthog-node-5.70.0/halving-2-of-4', 'node-413/002'],
  ['posthog-node-5.70.0/halving-3-of-4', 'node-413/003'],
  ['posthog-js-1.449.2/e-gzip-1', 'js-gzip/001'], ['posthog-js-1.449.2/e-gzip-2', 'js-gzip/002'],
  ['posthog-js-1.449.2/e-json-1', 'js-plain/001'], ['posthog-js-1.449.2/e-json-2', 'js-plain/002'],
  ['posthog-js-1.449.2/e-base64-1', 'js-base64/001'], ['posthog-js-1.449.2/e-base64-2', 'js-base64/002'],
  ['posthog-js-1.449.2/e-beacon-base64-1', 'js-beacon/001'], ['posthog-js-1.449.2/e-beacon-base64-2', 'js-beacon/002'],
  ['posthog-js-1.30.0/e-lz64-1', 'js130-lz64/002'], ['posthog-js-1.30.0/e-lz64-2', 'js130-lz64/004'],
  ['posthog-js-1.30.0/e-gzip-js-1', 'js130-gzip/002'], ['posthog-js-1.30.0/e-gzip-js-2', 'js130-gzip/004'],
  ['posthog-js-1.30.0/e-base64-1', 'js130-base64/002'], ['posthog-js-1.30.0/e-base64-2', 'js130-base64/004'],
];
const keep = ['content-type', 'content-encoding', 'user-agent', 'origin'];
for (const [name, src] of cases) {
  const meta = JSON.parse(fs.readFileSync(`out/${src}.meta.json`));
  const body = fs.readFileSync(`out/${src}.body`);
  const headers = {}; for (const k of keep) if (meta.headers[k]) headers[k] = meta.headers[k];
  fs.mkdirSync(path.dirname(path.join(dst, name)), { recursive: true });
  fs.writeFileSync(path.join(dst, name + '.http.json'), JSON.stringify({ method: meta.method, target: meta.url, headers }, null, 2) + '\n');
  fs.writeFileSync(path.join(dst, name + '.body'), body);
  let text;
  if (body[0] === 0x1f && body[1] === 0x8b) text = zlib.gunzipSync(body).toString('utf8');
  else if ((meta.headers['content-type'] || '').includes('form')) {
    const form = new URLSearchParams(body.toString('latin1'));
    const data = form.get('data');
    const comp = form.get('compression') || new URL(meta.url, 'http://x').searchParams.get('compression');
    text = comp === 'lz64' ? LZString.decompressFromBase64(data) : Buffer.from(data, 'base64').toString('utf8');
  } else text = body.toString('utf8');
  fs.writeFileSync(path.join(dst, name + '.payload.json'), JSON.stringify(JSON.parse(text), null, 1) + '\n');
}
// lz-string cases: compressToBase64 of assorted strings, by the reference implementation.
const inputs = ['', 'a', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'hello, i am a 猫', '{"event":"x","properties":{"n":1}}',
  'emoji 🚀 and surrogates 𝄞 and NUL \u0000 inside', 'ab'.repeat(5000),
  // A batch as an SDK would send it (its big integer written by hand: JSON.stringify cannot).
  '{"api_key":"phc_test_project_key","sent_at":"2026-12-01T10:00:00.000Z","batch":[{"event":"lz_event","distinct_id":"user_lz","uuid":"0190f3c4-8b2a-7d4e-9f10-3c5a7b9d1e2f","timestamp":"2026-12-01T09:59:59.000Z","properties":{"n":12345678901234567890,"f":1.0,"s":"héllo 猫 🚀","nested":{"a":[1,2.5]},"$groups":{"organization":"org_lz"}}}]}',
  Array.from({ length: 3000 }, (_, i) => String.fromCharCode(32 + (i * 7919) % 20000)).join('')];
fs.mkdirSync(path.join(dst, 'lzstring'), { recursive: true });
fs.writeFileSync(path.join(dst, 'lzstring/cases.json'), JSON.stringify(inputs.map((s) => ({ text: s, base64: LZString.compressToBase64(s) })), null, 1) + '\n');
