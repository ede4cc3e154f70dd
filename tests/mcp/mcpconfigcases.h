#pragma once

// tst_mcp's mcp.json cases: the notations of the READMEs and apps people copy from, and the
// mistakes each must name (json, servers: -1 for an error, error: a part of its message).

#include <QTest>

namespace holdfast::test {

inline void addConfigCases()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<int>("servers"); // -1: an error
    QTest::addColumn<QString>("error");

    QTest::addRow("readme stdio") << QByteArray(R"({"mcpServers": {"files": {"command": "npx",
        "args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/notes"]}}})")
                                  << 1 << QString();
    QTest::addRow("env") << QByteArray(R"({"mcpServers": {"gh": {"command": "gh-mcp",
        "env": {"TOKEN": "x"}}}})")
                         << 1 << QString();
    QTest::addRow("http") << QByteArray(R"({"mcpServers": {"remote": {"url":
        "https://example.com/mcp", "headers": {"Authorization": "Bearer x"}}}})")
                          << 1 << QString();
    QTest::addRow("type stdio (Cursor)") << QByteArray(R"({"mcpServers": {"a": {"type": "stdio",
        "command": "a"}}})") << 1 << QString();
    QTest::addRow("type http (Claude)") << QByteArray(R"({"mcpServers": {"a": {"type": "http",
        "url": "http://localhost:1/mcp"}}})")
                                        << 1 << QString();
    QTest::addRow("type streamable-http") << QByteArray(R"({"mcpServers": {"a": {"type":
        "streamable-http", "url": "http://localhost:1/mcp"}}})")
                                          << 1 << QString();
    QTest::addRow("transport key") << QByteArray(R"({"mcpServers": {"a": {"transport": "stdio",
        "command": "a"}}})") << 1 << QString();
    QTest::addRow("unknown keys ignored") << QByteArray(R"({"mcpServers": {"a": {"command": "a",
        "alwaysAllow": [], "autoApprove": ["x"], "disabled": false, "timeout": 60}}})")
                                          << 1 << QString();
    QTest::addRow("disabled entry") << QByteArray(R"({"mcpServers": {"a": {"command": "a"},
        "b": {"command": "b", "disabled": true}}})")
                                    << 1 << QString();
    QTest::addRow("several") << QByteArray(R"({"mcpServers": {"b": {"command": "b"},
        "a": {"url": "https://a.example/mcp"}}})")
                             << 2 << QString();
    QTest::addRow("empty file") << QByteArray("  \n") << 0 << QString();
    QTest::addRow("no servers") << QByteArray("{}") << 0 << QString();

    QTest::addRow("not json") << QByteArray("{\"mcpServers\": ") << -1 << "not JSON";
    QTest::addRow("array") << QByteArray("[]") << -1 << "must be an object";
    QTest::addRow("mcpServers array")
        << QByteArray(R"({"mcpServers": []})") << -1 << "\"mcpServers\" must be an object";
    QTest::addRow("entry not object")
        << QByteArray(R"({"mcpServers": {"a": "npx"}})") << -1 << "server \"a\": must be an object";
    QTest::addRow("neither") << QByteArray(R"({"mcpServers": {"a": {"args": []}}})") << -1
                             << "server \"a\": needs \"command\"";
    QTest::addRow("both") << QByteArray(R"({"mcpServers": {"a": {"command": "x",
        "url": "https://x.example"}}})")
                          << -1 << "both \"command\"";
    QTest::addRow("args not strings") << QByteArray(R"({"mcpServers": {"a": {"command": "x",
        "args": [1]}}})") << -1 << "\"args\" must be an array of strings";
    QTest::addRow("env not strings") << QByteArray(R"({"mcpServers": {"a": {"command": "x",
        "env": {"N": 1}}}})") << -1 << "the value of \"N\" must be a string";
    QTest::addRow("headers not object") << QByteArray(R"({"mcpServers": {"a": {"url":
        "https://x.example", "headers": []}}})")
                                        << -1 << "\"headers\" must be an object";
    QTest::addRow("slash in name") << QByteArray(R"({"mcpServers": {"a/b": {"command": "x"}}})")
                                   << -1 << "server \"a/b\": a server name may not contain '/'";
    QTest::addRow("star name") << QByteArray(R"({"mcpServers": {"*": {"command": "x"}}})") << -1
                               << "server \"*\"";
    QTest::addRow("empty name") << QByteArray(R"({"mcpServers": {"": {"command": "x"}}})") << -1
                                << "empty name";
    QTest::addRow("empty command") << QByteArray(R"({"mcpServers": {"a": {"command": " "}}})") << -1
                                   << "\"command\" must be a non-empty string";
    QTest::addRow("ftp url") << QByteArray(R"({"mcpServers": {"a": {"url": "ftp://x/y"}}})") << -1
                             << "http:// or https://";
    QTest::addRow("type sse") << QByteArray(R"({"mcpServers": {"a": {"type": "sse",
        "url": "https://x.example/sse"}}})")
                              << -1 << "is not supported";
    QTest::addRow("type unknown") << QByteArray(R"({"mcpServers": {"a": {"type": "ws",
        "url": "https://x.example"}}})")
                                  << -1 << "\"type\" must be \"stdio\" or \"http\"";
    QTest::addRow("http type with command") << QByteArray(R"({"mcpServers": {"a": {"type":
        "http", "command": "x"}}})") << -1 << "is of type http";
}

} // namespace holdfast::test
