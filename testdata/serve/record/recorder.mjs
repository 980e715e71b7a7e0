// A recording server on 127.0.0.1: every request saved as <dir>/<n>.meta.json + <n>.body.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

export function startRecorder(dir, { flagsBody = '{}', status = () => 200 } = {}) {
  fs.mkdirSync(dir, { recursive: true });
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const i = String(++n).padStart(3, '0');
      fs.writeFileSync(path.join(dir, `${i}.meta.json`), JSON.stringify({ method: req.method, url: req.url, headers: req.headers }, null, 2));
      fs.writeFileSync(path.join(dir, `${i}.body`), body);
      const cors = {
        'Access-Control-Allow-Origin': req.headers.origin || '*',
        'Access-Control-Allow-Credentials': 'true',
        'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] || '*',
        'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
      };
      if (req.method === 'OPTIONS') { res.writeHead(204, cors); res.end(); return; }
      if (/flags|decide|config/.test(req.url)) { res.writeHead(200, { ...cors, 'Content-Type': 'application/json' }); res.end(flagsBody); return; }
      const code = status(req, n);
      res.writeHead(code, { ...cors, 'Content-Type': 'application/json' });
      res.end(code === 200 ? '{"status":1}' : '{"error":"x"}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}` })));
}
