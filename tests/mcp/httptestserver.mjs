// A deliberately odd MCP server over Streamable HTTP for tests/mcp/tst_mcp: the edge cases the
// reference servers do not show. Plain node, no packages. It listens on a free port of 127.0.0.1
// and prints "listening PORT" on stdout. Each path is one behaviour:
//   /headers  tools/call answers with the request's headers (what the client sent)
//   /expire   the session ends after initialize: every later request is 404
//   /resume   tools/call's event stream closes after a priming event (id, retry: 100); the
//             answer comes through GET with Last-Event-ID (SEP-1699)
//   /error    every request is HTTP 500 with a JSON-RPC error body
//   /accepted tools/call is answered 202 with no body (as if it were a notification)
//   /drop     tools/call's connection is closed without an answer
//   /hang     tools/call is never answered
//   /count    tools/call answers {"dropped": calls that reached /drop (a retrying client would
//             have sent one twice), "hangClosed": /hang calls whose connection the client closed}
import * as http from "node:http";

const result = (id, value) => ({ jsonrpc: "2.0", id, result: value });
const text = (t) => ({ content: [{ type: "text", text: t }] });
const initialized = (id, version) =>
    result(id, {
        protocolVersion: version ?? "2025-06-18",
        capabilities: { tools: {} },
        serverInfo: { name: "httptestserver", version: "1.0.0" },
    });
const json = (res, status, body, headers = {}) => {
    res.writeHead(status, { "Content-Type": "application/json", ...headers });
    res.end(JSON.stringify(body));
};
let dropped = 0;
let hangClosed = 0;
let pendingCall = null; // /resume: the tools/call whose answer waits for the GET

const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (d) => (raw += d));
    req.on("end", () => {
        const path = req.url;
        const message = raw ? JSON.parse(raw) : {};
        const isRequest = message.method !== undefined && message.id !== undefined;
        if (path === "/error") {
            json(res, 500, { jsonrpc: "2.0", id: null, error: { code: -32603, message: "boom" } });
            return;
        }
        if (req.method === "DELETE") {
            res.writeHead(200).end();
            return;
        }
        if (req.method === "GET") {
            if (path === "/resume" && req.headers["last-event-id"] === "e1" && pendingCall !== null) {
                res.writeHead(200, { "Content-Type": "text/event-stream" });
                res.write(`id: e2\ndata: ${JSON.stringify(result(pendingCall, text("resumed")))}\n\n`);
                pendingCall = null;
                return; // stays open, as a GET stream may
            }
            res.writeHead(405).end();
            return;
        }
        if (message.method === "initialize") {
            json(res, 200, initialized(message.id, message.params?.protocolVersion), {
                "Mcp-Session-Id": "session-1",
            });
            return;
        }
        if (path === "/expire") {
            res.writeHead(404).end();
            return;
        }
        if (!isRequest) {
            res.writeHead(202).end();
            return;
        }
        if (message.method === "tools/list") {
            json(res, 200, result(message.id, { tools: [{ name: "t", inputSchema: { type: "object" } }] }));
        } else if (message.method === "tools/call" && path === "/headers") {
            json(res, 200, result(message.id, text(JSON.stringify(req.headers))));
        } else if (message.method === "tools/call" && path === "/accepted") {
            res.writeHead(202).end();
        } else if (message.method === "tools/call" && path === "/drop") {
            dropped += 1;
            req.socket.destroy();
        } else if (message.method === "tools/call" && path === "/count") {
            json(res, 200, result(message.id, text(JSON.stringify({ dropped, hangClosed }))));
        } else if (message.method === "tools/call" && path === "/hang") {
            res.writeHead(200, { "Content-Type": "text/event-stream" });
            res.write(": waiting\n\n");
            res.on("close", () => (hangClosed += 1));
        } else if (message.method === "tools/call" && path === "/resume") {
            pendingCall = message.id;
            res.writeHead(200, { "Content-Type": "text/event-stream" });
            res.write("id: e1\nretry: 100\ndata: \n\n");
            setTimeout(() => res.end(), 20);
        } else {
            json(res, 200, { jsonrpc: "2.0", id: message.id, error: { code: -32601, message: "no such method" } });
        }
    });
});
server.listen(0, "127.0.0.1", () => console.log(`listening ${server.address().port}`));
