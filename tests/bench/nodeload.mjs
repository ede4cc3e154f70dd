#!/usr/bin/env node
// nodeload: a second, independent load generator for W1 against Holdfast, so that no figure of
// docs/benchmarks.md depends on hfload's habits alone. It shares no code with hfload: Node's own
// HTTP client (its llhttp parser, its keep-alive agent, its way of writing requests), one agent of
// one socket per simulated client, written from API.md rather than from hfload's adapter.
//
//   node tests/bench/nodeload.mjs --url http://127.0.0.1:PORT --pid PID --clients 100 --turns 20
//
// Each client creates a session (POST /v1/sessions), then runs N turns one after the other:
// POST …/turns, then GET …/turns/T/events (Server-Sent Events) read to the terminal event, which
// Holdfast sends only after the answer is saved. Every connection is opened (GET /healthz) before
// the clock starts, as hfload does, so both measure the same thing: turns, not TCP handshakes.
// Reports turns/s, chunk latencies and the server's CPU per turn (utime + stime from
// /proc/PID/stat over the workload) and its own CPU, then one line "JSON {…}" with hfload's names.
// Only Node's built-in modules: the benchmark needs nothing from npm.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';

function parseArgs(argv) {
    const o = {
        url: '', pids: [], clients: 10, turns: 10, chunks: 20, label: '', prefix: 'n',
        timeoutS: 600,
    };
    for (let i = 2; i < argv.length; ++i) {
        const a = argv[i];
        const next = () => {
            if (i + 1 >= argv.length) usage(2);
            return argv[++i];
        };
        if (a === '--url') o.url = next();
        else if (a === '--pid') o.pids = next().split(',').filter(Boolean).map(Number);
        else if (a === '--clients') o.clients = Number(next());
        else if (a === '--turns') o.turns = Number(next());
        else if (a === '--chunks') o.chunks = Number(next());
        else if (a === '--label') o.label = next();
        else if (a === '--prefix') o.prefix = next();
        else if (a === '--timeout-s') o.timeoutS = Number(next());
        else if (a === '--help') usage(0);
        else {
            process.stderr.write(`nodeload: unknown option ${a}\n`);
            usage(2);
        }
    }
    if (!o.url) usage(2);
    return o;
}

function usage(code) {
    process.stderr.write('usage: nodeload.mjs --url http://HOST:PORT [--pid SERVER_PID[,…]] ' +
        '[--clients C] [--turns N] [--chunks K] [--prefix P] [--label L] [--timeout-s S]\n');
    process.exit(code);
}

// Clock ticks per second for /proc/PID/stat; getconf asks the C library, once.
let clkTck = 100;
try {
    clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
} catch {
    // 100 on every Linux this runs on
}

// utime + stime of the processes, in seconds; null if one is unreadable.
function serverCpuS(pids) {
    if (pids.length === 0) return null;
    let sum = 0;
    for (const pid of pids) {
        try {
            const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
            const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
            sum += (Number(f[11]) + Number(f[12])) / clkTck; // fields 14 and 15 of stat(5)
        } catch {
            return null;
        }
    }
    return sum;
}

function serverRssMb(pids) {
    if (pids.length === 0) return null;
    let sum = 0;
    for (const pid of pids) {
        try {
            const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
            sum += Number(m[1]) / 1024;
        } catch {
            return null;
        }
    }
    return sum;
}

function percentile(values, q) {
    if (values.length === 0) return null;
    const v = [...values].sort((a, b) => a - b);
    const rank = Math.ceil(q * v.length);
    return v[Math.min(v.length - 1, rank === 0 ? 0 : rank - 1)];
}

const now = () => performance.now();

// One request; resolves with {status, body} (the whole body), or, when onData is given, feeds it
// each decoded piece as it arrives and resolves with {status} at the end of the response.
function request(agent, base, method, path, body, onData) {
    return new Promise((resolve, reject) => {
        const headers = { Accept: '*/*' };
        let data = null;
        if (body !== undefined) {
            data = Buffer.from(JSON.stringify(body));
            headers['Content-Type'] = 'application/json';
            headers['Content-Length'] = data.length;
        }
        const req = http.request({ host: base.hostname, port: base.port, method, path, agent, headers },
            (res) => {
                res.setEncoding('utf8');
                let text = '';
                res.on('data', (piece) => (onData ? onData(piece) : (text += piece)));
                res.on('end', () => resolve({ status: res.statusCode, body: text }));
                res.on('error', reject);
            });
        req.on('error', reject);
        req.end(data);
    });
}

async function main() {
    const o = parseArgs(process.argv);
    const base = new URL(o.url);
    const stats = { turns: 0, chunks: 0, errors: 0, samples: [], first: [], last: [], saved: [] };
    const fail = (why) => {
        ++stats.errors;
        if (stats.samples.length < 5) stats.samples.push(why);
    };
    // One agent of one keep-alive socket per client; connections are counted, so that a client
    // that reconnected during the workload (and so measured more than turns) shows in the JSON.
    let connections = 0;
    const agents = Array.from({ length: o.clients }, () => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        const create = agent.createConnection.bind(agent);
        agent.createConnection = (...args) => {
            ++connections;
            return create(...args);
        };
        return agent;
    });

    // Phase 1 (not measured): every client's connection, a burst of 64 at a time.
    for (let i = 0; i < o.clients; i += 64) {
        await Promise.all(agents.slice(i, i + 64).map((agent) =>
            request(agent, base, 'GET', '/healthz').then((r) => {
                if (r.status !== 200) throw new Error(`healthz: HTTP ${r.status}`);
            })));
    }

    // One turn: its POST, then its event stream to the terminal event.
    async function turn(agent, sid, n) {
        const t0 = now();
        const post = await request(agent, base, 'POST', `/v1/sessions/${sid}/turns`,
            { prompt: `benchmark prompt ${n}` });
        if (post.status !== 202) return fail(`${sid}: start turn: HTTP ${post.status} ${post.body.slice(0, 200)}`);
        const tid = JSON.parse(post.body).id;
        let buffer = '', seen = 0, firstAt = null, lastAt = null, terminal = null;
        const events = await request(agent, base, 'GET', `/v1/sessions/${sid}/turns/${tid}/events`,
            undefined, (piece) => {
                buffer += piece;
                let end;
                while ((end = buffer.indexOf('\n\n')) >= 0) {
                    const ev = buffer.slice(0, end);
                    buffer = buffer.slice(end + 2);
                    const name = /^event: (\w+)$/m.exec(ev)?.[1];
                    if (name === 'chunk') {
                        lastAt = now();
                        if (seen++ === 0) firstAt = lastAt;
                    } else if (name === 'done' || name === 'error') {
                        const data = /^data: (.*)$/m.exec(ev)?.[1] ?? '{}';
                        terminal = JSON.parse(data).state ?? name;
                    }
                }
            });
        const end = now();
        if (events.status !== 200) return fail(`${sid}: events: HTTP ${events.status}`);
        if (terminal !== 'done') return fail(`${sid}: events: stream ended with '${terminal}'`);
        if (seen !== o.chunks) return fail(`${sid}: ${seen} chunks, expected ${o.chunks}`);
        ++stats.turns;
        stats.chunks += seen;
        stats.first.push(firstAt - t0);
        stats.last.push(lastAt - t0);
        stats.saved.push(end - t0);
    }

    async function client(i) {
        const agent = agents[i];
        const sid = `${o.prefix}-c${i}`;
        try {
            const made = await request(agent, base, 'POST', '/v1/sessions', { id: sid });
            if (made.status !== 201) return fail(`${sid}: create session: HTTP ${made.status} ${made.body.slice(0, 200)}`);
            for (let n = 1; n <= o.turns; ++n) {
                const before = stats.errors;
                await turn(agent, sid, n);
                if (stats.errors !== before) return; // a failed turn ends this client, as in hfload
            }
        } catch (e) {
            fail(`${sid}: ${e.message}`);
        }
    }

    // Phase 2: the workload, all clients at once.
    const rssStart = serverRssMb(o.pids);
    let rssPeak = rssStart;
    const sampler = setInterval(() => {
        const r = serverRssMb(o.pids);
        if (r !== null) rssPeak = Math.max(rssPeak ?? 0, r);
    }, 100);
    const cpu0 = serverCpuS(o.pids), self0 = process.cpuUsage(), t0 = now(), connected = connections;
    let timedOut = false;
    const timer = new Promise((resolve) => setTimeout(() => {
        timedOut = true;
        resolve();
    }, o.timeoutS * 1000).unref());
    await Promise.race([Promise.all(agents.map((_, i) => client(i))), timer]);
    const wall = (now() - t0) / 1000;
    const cpu1 = serverCpuS(o.pids), self1 = process.cpuUsage(self0);
    clearInterval(sampler);
    const rssEnd = serverRssMb(o.pids);
    if (rssEnd !== null) rssPeak = Math.max(rssPeak ?? 0, rssEnd);
    if (timedOut) fail(`timed out after ${o.timeoutS} s`);

    const serverCpu = cpu0 === null || cpu1 === null ? null : cpu1 - cpu0;
    const clientCpu = (self1.user + self1.system) / 1e6;
    const r = (v, d) => (v === null || !Number.isFinite(v) ? null : Number(v.toFixed(d)));
    const result = {
        label: o.label, client: 'nodeload', target: 'holdfast', mode: 'turns', clients: o.clients,
        turns_per_client: o.turns, chunks: o.chunks, wall_s: r(wall, 3), turns: stats.turns,
        errors: stats.errors, turns_per_s: r(stats.turns / wall, 2), chunks_per_s: r(stats.chunks / wall, 1),
        first_p50_ms: r(percentile(stats.first, 0.5), 3), first_p99_ms: r(percentile(stats.first, 0.99), 3),
        last_p50_ms: r(percentile(stats.last, 0.5), 3), last_p99_ms: r(percentile(stats.last, 0.99), 3),
        saved_p50_ms: r(percentile(stats.saved, 0.5), 3), saved_p99_ms: r(percentile(stats.saved, 0.99), 3),
        server_cpu_s: r(serverCpu, 3), server_cpu_pct: r(serverCpu === null ? null : 100 * serverCpu / wall, 1),
        server_cpu_ms_per_turn: r(serverCpu === null || !stats.turns ? null : 1000 * serverCpu / stats.turns, 4),
        server_rss_start_mb: r(rssStart, 1), server_rss_peak_mb: r(rssPeak, 1), server_rss_end_mb: r(rssEnd, 1),
        client_cpu_s: r(clientCpu, 3), client_cpu_pct: r(100 * clientCpu / wall, 1),
        reconnects: connections - connected,
    };
    const f = (v, unit = '') => (v === null ? 'n/a' : `${v}${unit}`);
    process.stdout.write(
        `nodeload ${o.label} C=${o.clients} N=${o.turns} K=${o.chunks}\n` +
        `  wall ${f(result.wall_s, ' s')}, turns ${stats.turns}, errors ${stats.errors}, turns/s ${f(result.turns_per_s)}\n` +
        `  first chunk ms p50 ${f(result.first_p50_ms)} p99 ${f(result.first_p99_ms)}; last chunk ms p50 ` +
        `${f(result.last_p50_ms)} p99 ${f(result.last_p99_ms)}; saved ms p99 ${f(result.saved_p99_ms)}\n` +
        `  server: cpu ${f(result.server_cpu_s, ' s')} (${f(result.server_cpu_pct, '%')}), ` +
        `${f(result.server_cpu_ms_per_turn)} ms/turn, rss peak ${f(result.server_rss_peak_mb)} MiB\n` +
        `  nodeload itself: cpu ${f(result.client_cpu_s, ' s')} (${f(result.client_cpu_pct, '%')}); ` +
        `connections opened during the workload: ${result.reconnects}\n` +
        stats.samples.map((e) => `  error: ${e}\n`).join('') +
        `JSON ${JSON.stringify(result)}\n`);
    for (const agent of agents) agent.destroy();
    process.exitCode = stats.errors > 0 ? 1 : 0;
}

main().catch((e) => {
    process.stderr.write(`nodeload: ${e.stack ?? e}\n`);
    process.exit(1);
});
