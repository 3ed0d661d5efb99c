#!/usr/bin/env bun
/**
 * A webhook receiver that discards what it gets, for bench/pg-http.ts: answers every POST 204
 * after reading its body, counts requests, events (NDJSON lines) and bytes. Prints `PORT=<n>` on
 * standard output once listening; `GET /counts` returns the counts as JSON.
 */
let requests = 0;
let events = 0;
let bytes = 0;

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  idleTimeout: 60,
  maxRequestBodySize: 1 << 30,
  async fetch(req) {
    if (req.method === 'GET') return Response.json({ requests, events, bytes });
    const body = new Uint8Array(await req.arrayBuffer());
    requests++;
    bytes += body.length;
    for (let i = body.indexOf(0x0a); i >= 0; i = body.indexOf(0x0a, i + 1)) events++;
    return new Response(null, { status: 204 });
  },
});
process.stdout.write(`PORT=${server.port}\n`);
