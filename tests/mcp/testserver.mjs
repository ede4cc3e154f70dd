// A deliberately odd MCP server over stdio for tests/mcp/tst_mcp: the edge cases the reference
// servers do not show. Plain node, no packages. Options: --version V answers initialize with
// protocol version V. It writes a line that is not JSON before anything else, lists its tools in
// pages of two, and reports on stderr what the client sent that tests want to see.
import * as readline from "node:readline";

const args = process.argv.slice(2);
const versionArg = args.indexOf("--version");
const forcedVersion = versionArg >= 0 ? args[versionArg + 1] : null;

const send = (message) => process.stdout.write(JSON.stringify(message) + "\n");
const text = (t) => ({ content: [{ type: "text", text: t }] });

const tools = ["hang", "die", "grow", "ping", "mixed"].map((name) => ({
    name,
    description: `the ${name} tool`,
    inputSchema: { type: "object" },
}));
const pageSize = 2;
const waiting = new Map(); // our requests to the client: id -> callback

process.stdout.write("this line is not JSON\n");
console.error(`testserver: started pid ${process.pid}`);

const handlers = {
    hang: () => undefined, // never answers
    die: () => process.exit(3),
    grow: () => {
        tools.push({ name: `extra${tools.length}`, description: "added", inputSchema: { type: "object" } });
        send({ jsonrpc: "2.0", method: "notifications/tools/list_changed" });
        return text("grown");
    },
    ping: (id) => {
        // Asks the client two things: a ping (it must answer) and sampling (it has no such method).
        const answers = [];
        const done = (answer) => {
            answers.push(answer);
            if (answers.length === 2) send({ jsonrpc: "2.0", id, result: text(JSON.stringify(answers)) });
        };
        waiting.set("p1", done);
        waiting.set("s1", done);
        send({ jsonrpc: "2.0", id: "p1", method: "ping" });
        send({ jsonrpc: "2.0", id: "s1", method: "sampling/createMessage", params: { messages: [], maxTokens: 1 } });
        return undefined;
    },
    mixed: () => ({
        content: [
            { type: "text", text: "first" },
            { type: "image", data: Buffer.from("12345").toString("base64"), mimeType: "image/png" },
            { type: "resource_link", uri: "file:///tmp/x.txt", name: "x" },
            { type: "resource", resource: { uri: "file:///tmp/y.txt", text: "inside" } },
            { type: "text", text: "last" },
        ],
        isError: true,
    }),
};

readline.createInterface({ input: process.stdin }).on("line", (line) => {
    const message = JSON.parse(line);
    if (message.method === undefined) { // an answer to our request
        const callback = waiting.get(message.id);
        waiting.delete(message.id);
        if (callback) callback(message.error ? { error: message.error.code } : { result: message.result });
        return;
    }
    if (message.method === "notifications/cancelled") {
        console.error(`testserver: cancelled ${message.params.requestId} (${message.params.reason})`);
        return;
    }
    if (message.id === undefined) return; // other notifications
    switch (message.method) {
    case "initialize":
        send({ jsonrpc: "2.0", id: message.id, result: {
            protocolVersion: forcedVersion ?? message.params.protocolVersion,
            capabilities: { tools: { listChanged: true } },
            serverInfo: { name: "testserver", version: "1" } } });
        return;
    case "tools/list": {
        const start = message.params?.cursor ? Number(message.params.cursor) : 0;
        const result = { tools: tools.slice(start, start + pageSize) };
        if (start + pageSize < tools.length) result.nextCursor = String(start + pageSize);
        send({ jsonrpc: "2.0", id: message.id, result });
        return;
    }
    case "tools/call": {
        const handler = handlers[message.params.name];
        if (!handler) {
            send({ jsonrpc: "2.0", id: message.id, error: { code: -32602, message: `no tool ${message.params.name}` } });
            return;
        }
        const result = handler(message.id);
        if (result !== undefined) send({ jsonrpc: "2.0", id: message.id, result });
        return;
    }
    default:
        send({ jsonrpc: "2.0", id: message.id, error: { code: -32601, message: "Method not found" } });
    }
});
