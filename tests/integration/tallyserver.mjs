// An MCP server over stdio for tests/integration/tst_crash: its one tool, "count", appends a line
// to the file named by its first argument as soon as it is called (so a test can count how many
// times the tool ran, even across a crash of its host), then answers after `ms` milliseconds
// (argument, default 0). Plain node, no packages; it exits when its host closes stdin (or dies).
import * as fs from "node:fs";
import * as readline from "node:readline";

const tallyFile = process.argv[2];
const send = (message) => process.stdout.write(JSON.stringify(message) + "\n");

const input = readline.createInterface({ input: process.stdin });
input.on("close", () => process.exit(0));
input.on("line", (line) => {
    const message = JSON.parse(line);
    if (message.id === undefined || message.method === undefined) return; // notifications
    switch (message.method) {
    case "initialize":
        send({ jsonrpc: "2.0", id: message.id, result: {
            protocolVersion: message.params.protocolVersion,
            capabilities: { tools: {} },
            serverInfo: { name: "tally", version: "1" } } });
        return;
    case "tools/list":
        send({ jsonrpc: "2.0", id: message.id, result: { tools: [{
            name: "count",
            description: "Counts its calls in a file, then answers after `ms` milliseconds.",
            inputSchema: { type: "object", properties: { ms: { type: "number" } } } }] } });
        return;
    case "tools/call": {
        fs.appendFileSync(tallyFile, `${process.pid} ${JSON.stringify(message.params.arguments)}\n`);
        const ms = Number(message.params.arguments?.ms ?? 0);
        setTimeout(() => send({ jsonrpc: "2.0", id: message.id,
            result: { content: [{ type: "text", text: "counted" }] } }), ms);
        return;
    }
    default:
        send({ jsonrpc: "2.0", id: message.id, error: { code: -32601, message: "Method not found" } });
    }
});
