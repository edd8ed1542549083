#!/usr/bin/env node
// A Herald receiver in Node.js, no packages: verifies each notification's signature (Standard
// Webhooks), handles each webhook-id once, and prints what arrived. It serves one endpoint; run one
// per endpoint (one event goes under the same webhook-id to every endpoint it is for).
//
//   HERALD_WEBHOOK_SECRET=whsec_... node receiver.js [port]     # old and new while rotating: comma-separated
//   node receiver.js --self-test                                 # checks the documented test vector
'use strict';
const crypto = require('node:crypto');
const http = require('node:http');

const TOLERANCE_SECONDS = 5 * 60;
const MAX_BODY_BYTES = 1024 * 1024;
// Handled ids remembered, the oldest forgotten first. A captured request can be sent again only
// while its timestamp is within the tolerance, so forgetting is safe unless more than this many
// notifications arrive in 5 minutes; a retry of an id forgotten is handled again.
const MAX_SEEN = 100_000;

// The HMAC key: the standard base64 after the whsec_ prefix, at least 16 bytes (a placeholder such
// as whsec_... decodes to nothing, and a key anyone knows would let forgeries through).
function keyOf(secret) {
  const encoded = secret.trim().replace(/^whsec_/, '');
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(encoded) ? Buffer.from(encoded, 'base64') : Buffer.alloc(0);
  if (key.length < 16) throw new Error(`not an endpoint secret (whsec_ and the base64 of its key): ${secret.slice(0, 10)}...`);
  return key;
}

// v1, then the base64 of HMAC-SHA256 over "{id}.{timestamp}.{body}" (the raw body bytes).
function sign(secret, webhookId, timestamp, body) {
  const mac = crypto.createHmac('sha256', keyOf(secret));
  mac.update(`${webhookId}.${timestamp}.`);
  mac.update(body);
  return 'v1,' + mac.digest('base64');
}

function same(a, b) {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

// Why a request is not Herald's, or null when it is: a recent timestamp and one of its signatures
// made with one of the secrets. The reasons are the receiver kit's, so a stale clock is not
// mistaken for a wrong secret.
function refusal(secrets, headers, body, now = Date.now() / 1000) {
  const missing = ['webhook-id', 'webhook-timestamp', 'webhook-signature'].filter((name) => !headers[name]);
  if (missing.length > 0) return `missing ${missing.join(', ')}`;
  const webhookId = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  // Plain digits, as Herald writes them: a sign, a fraction or a leading zero is refused, as the
  // receiver kit refuses it (the signed text and the time it is read as could disagree).
  if (!/^(0|[1-9][0-9]{0,11})$/.test(timestamp)) return 'webhook-timestamp is not unix seconds';
  const skew = Math.floor(now) - Number(timestamp);
  if (skew > TOLERANCE_SECONDS) return `timestamp too old: ${skew} s behind this machine's clock (tolerance ${TOLERANCE_SECONDS} s)`;
  if (-skew > TOLERANCE_SECONDS) return `timestamp too new: ${-skew} s ahead of this machine's clock (tolerance ${TOLERANCE_SECONDS} s)`;
  // During a rotation's grace there is one signature per secret, space-separated, newest first.
  const given = headers['webhook-signature'].split(' ');
  const signed = secrets.some((secret) => {
    const expected = sign(secret, webhookId, timestamp, body);
    return given.some((s) => same(expected, s));
  });
  return signed ? null : 'no signature matches the configured secrets';
}

// Whether a request is Herald's (see refusal).
function verify(secrets, headers, body, now) {
  return refusal(secrets, headers, body, now) === null;
}

// The body's JSON object, or null for a body that is not one (not JSON, or an array, a string, a
// number, null).
function readable(body) {
  let event;
  try {
    event = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  return event !== null && typeof event === 'object' && !Array.isArray(event) ? event : null;
}

// A Set keeps the order ids were noted in, so the oldest goes first.
const seen = new Set();

// Notes an id handled, forgetting the oldest past MAX_SEEN.
function remember(webhookId) {
  seen.add(webhookId);
  if (seen.size > MAX_SEEN) seen.delete(seen.values().next().value);
}

function selfTest() {
  const assert = require('node:assert');
  const secret = 'whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
  const body = Buffer.from('{"id":"evt_01jzq0r5d7f2m3k4n5p6q7r8s9","event_type":"PAYMENT_ORDER.CLOSED","entity_type":"PAYMENT_ORDER","entity_id":"GxGO5tTQpx"}');
  const headers = {
    'webhook-id': 'evt_01jzq0r5d7f2m3k4n5p6q7r8s9',
    'webhook-timestamp': '1767225600',
    'webhook-signature': 'v1,EqT05f7lOJAVOlrLkx/VKj4tIJmN+lpmlkCLYkclr34=',
  };
  assert.strictEqual(sign(secret, headers['webhook-id'], headers['webhook-timestamp'], body), headers['webhook-signature']);
  assert.ok(verify([secret], headers, body, 1767225600));
  assert.ok(!verify([secret], headers, Buffer.concat([body, Buffer.from(' ')]), 1767225600));
  assert.ok(!verify([secret], headers, body, 1767225600 + TOLERANCE_SECONDS + 1));
  assert.strictEqual(refusal([secret], headers, body, 1767225600 + 412), "timestamp too old: 412 s behind this machine's clock (tolerance 300 s)");
  assert.strictEqual(refusal([secret], headers, body, 1767225600 - 412), "timestamp too new: 412 s ahead of this machine's clock (tolerance 300 s)");
  assert.strictEqual(refusal([secret], headers, Buffer.concat([body, Buffer.from(' ')]), 1767225600), 'no signature matches the configured secrets');
  assert.strictEqual(refusal([secret], { ...headers, 'webhook-signature': '' }, body, 1767225600), 'missing webhook-signature');
  for (const placeholder of ['whsec_...', 'whsec_xxx', 'changeme']) {
    assert.throws(() => keyOf(placeholder), `${placeholder} was taken as a secret`);
  }
  for (let n = 0; n <= MAX_SEEN; n++) remember(`evt_${n}`);
  assert.ok(!seen.has('evt_0') && seen.has('evt_1') && seen.size === MAX_SEEN, 'handled ids are not bounded');
  console.log('self-test passed');
}

if (process.argv[2] === '--self-test') {
  selfTest();
  process.exit(0);
}
const secrets = (process.env.HERALD_WEBHOOK_SECRET || '').split(',').filter((s) => s.trim());
if (secrets.length === 0) {
  console.error("set HERALD_WEBHOOK_SECRET to the endpoint's secret (whsec_...)");
  process.exit(1);
}
try {
  secrets.forEach(keyOf);
} catch (e) {
  console.error(`HERALD_WEBHOOK_SECRET: ${e.message}`);
  process.exit(1);
}
const given = process.argv[2] || '4000';
const port = /^[0-9]{1,5}$/.test(given) ? Number(given) : 0;
if (port < 1 || port > 65535) {
  console.error(`the port is a number from 1 to 65535, not '${given}'`);
  process.exit(1);
}
const server = http.createServer((req, res) => {
  // The raw bytes as they arrived (a body parsed and written again no longer matches its
  // signature), read whole within a bound before they are checked.
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      res.writeHead(413, { Connection: 'close' }).end();
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    try {
      const body = Buffer.concat(chunks);
      const webhookId = req.headers['webhook-id'];
      const attempt = req.headers['webhook-attempt'];
      const reason = refusal(secrets, req.headers, body);
      if (reason !== null) {
        console.log(`rejected ${webhookId}: ${reason}`);
        res.writeHead(401).end();
        return;
      }
      // JSON.parse reads numbers as binary doubles: an amount of 12.50 reads as 12.5, and one past
      // 15 significant digits (Herald takes 28) loses some. Handle amounts with a decimal library
      // fed their text from the raw body, not with these Numbers.
      const event = readable(body);
      // transaction: status; point: state; thin and tests: event_type; operator events: type.
      const what = event === null ? undefined : event.event_type || event.status || event.state || event.type;
      if (webhookId.startsWith('evt_test_') && what !== 'HERALD.TEST') {
        // An example an endpoint's test sent: about an entity that does not exist. Told by the
        // signed id, not by the webhook-test header beside it, which is outside the signature.
        console.log(`example ${webhookId} ${what} verified (not handled)`);
        res.writeHead(200).end();
        return;
      }
      // Told apart by the webhook-id alone. The path and query are not signed: keyed on them, a
      // captured request sent again to /webhooks?r=1 or /x would be handled again.
      if (seen.has(webhookId)) {
        console.log(`duplicate ${webhookId} attempt=${attempt} (handled already)`);
      } else {
        // Your handling goes here; the id is noted once it has succeeded.
        // Signed, so Herald's, yet not a JSON object (Herald sends none such): handled and
        // acknowledged as the receiver kit hands it over (an OtherEvent), not failed with a 500 that
        // Herald would retry for days with the same body.
        console.log(event === null ? `verified ${webhookId} attempt=${attempt} (not a JSON object)` : `verified ${webhookId} attempt=${attempt} ${what}`);
        remember(webhookId);
      }
      // 200 whatever the format: the transaction format counts only 200 as received.
      res.writeHead(200).end();
    } catch (e) {
      // Not handled: Herald tries again.
      console.error(`failed: ${e.message}`);
      res.writeHead(500).end();
    }
  });
});
server.on('error', (e) => {
  console.error(`cannot listen on 127.0.0.1:${port}: ${e.code === 'EADDRINUSE' ? 'the address is in use (another process holds it? give another port)' : e.message}`);
  process.exit(1);
});
server.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}`));
