// node js-scenario.cjs <dir holding node_modules/posthog-js> <scenario name> <flags/decide answer JSON> [config JSON]
// Run from the scratch folder holding node_modules/jsdom and recorder.mjs; writes out/<scenario>/.
const path = require('node:path');
const { JSDOM } = require(path.join(process.cwd(), 'node_modules/jsdom'));
(async () => {
  const [pkgDir, name, flagsBody, extra] = process.argv.slice(2);
  const { startRecorder } = await import(path.join(process.cwd(), 'recorder.mjs'));
  const { server, url } = await startRecorder(path.join(process.cwd(), 'out', name), { flagsBody });
  const dom = new JSDOM('<!doctype html><html><head></head><body></body></html>', { url: 'http://app.example.test/page', pretendToBeVisual: true });
  globalThis.self = dom.window;
  if (process.env.DOMBLOB) globalThis.Blob = dom.window.Blob;
  for (const k of ['window', 'document', 'navigator', 'location', 'localStorage', 'sessionStorage', 'XMLHttpRequest', 'screen', 'history', 'HTMLElement', 'Node', 'Element']) {
    try { globalThis[k] = dom.window[k]; } catch (e) {}
  }
  if (process.env.BEACON) {
    // What a browser's navigator.sendBeacon sends: a POST of the Blob with its type.
    dom.window.navigator.sendBeacon = (u, blob) => { blob.arrayBuffer().then((b) => fetch(u, { method: 'POST', body: Buffer.from(b), headers: { 'Content-Type': blob.type } })); return true; };
    globalThis.navigator = dom.window.navigator;
  }
  const posthog = require(path.resolve(pkgDir, 'node_modules/posthog-js')).default || require(path.resolve(pkgDir, 'node_modules/posthog-js'));
  const cfg = Object.assign({ api_host: url, autocapture: false, capture_pageview: false, capture_pageleave: false, disable_session_recording: true, persistence: 'memory', request_batching: true, advanced_disable_feature_flags: true }, JSON.parse(extra || '{}'));
  posthog.init('phc_test_project_key', cfg);
  await new Promise((r) => setTimeout(r, 500));
  if (process.env.COMPRESSION) posthog.compression = process.env.COMPRESSION; // as remote config's supportedCompression sets it
  posthog.group('organization', 'org_42', { name: 'Acme' });
  posthog.capture('signed_up', { plan: 'pro', seats: 42, ratio: 0.25, big: 9007199254740991, nested: { a: [1, 'two', { three: 3 }] }, unicode: 'héllo 猫 🚀' });
  posthog.identify('user_7', { email_domain: 'example.com' }, { first_seen: '2026-01-01' });
  posthog.capture('clicked_button', { button: 'buy' });
  await new Promise((r) => setTimeout(r, 4000)); // the request queue flushes every 3 s
  server.close();
  dom.window.close();
  process.exit(0);
})();
