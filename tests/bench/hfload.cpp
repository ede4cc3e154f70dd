// hfload: a load generator for Holdfast's API and for the seed gist's FastAPI app (the peer).
//
// One thread, one epoll loop, one keep-alive HTTP/1.1 connection per simulated client, an
// incremental response parser (Content-Length and chunked bodies) and an incremental SSE parser.
// It samples the server's CPU time and RSS from /proc and reports its own CPU time, so a reader
// can check that the server, not this program, was the bottleneck.
//
// Adapters:
//   holdfast  POST /v1/sessions, then per turn POST …/turns and GET …/turns/T/events (SSE) until
//             the terminal event (which Holdfast sends only after the answer is saved).
//   peer      GET /{sid}/{tid}/{prompt}, poll GET /{sid}/{tid}/chunks every --poll-ms until K
//             chunks, then GET /{sid} every --poll-ms until the answer is in the saved total.
//
// Modes (--mode):
//   turns     C clients x N turns each (W1 fan-in, W2 paced); latencies from the turn's start.
//   history   one client on an existing session: R loads (GET session, window 30), then N turns.
//   sessions  C clients creating --sessions-per-client sessions of one turn each (W4 memory).
//   idle      C clients each open one event stream and hold it (W4 idle streams).
// Several servers (--url, repeated or comma-separated; workload R: instances sharing one Redis):
// client i talks to server i mod n; --pid takes every server's PID and sums their CPU and RSS.
// Output: a human-readable block, then one line "JSON {...}".
//
// Over 600 lines: a self-contained tool (one file to read next to its report), not a library.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <sstream>
#include <string>
#include <vector>

namespace {

double nowMs()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

double selfCpuSeconds()
{
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// utime + stime of a process, all threads, in seconds; -1 if unreadable.
double procCpuSecondsOf(int pid)
{
    if (pid <= 0)
        return -1;
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const auto close = s.rfind(')');
    if (close == std::string::npos)
        return -1;
    std::istringstream in(s.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && in >> field; ++i) {
        if (i == 14)
            utime = std::stoull(field);
        if (i == 15)
            stime = std::stoull(field);
    }
    return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

// VmRSS in MiB; -1 if unreadable.
double procRssMbOf(int pid)
{
    if (pid <= 0)
        return -1;
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("VmRSS:", 0) == 0)
            return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
    }
    return -1;
}

// Summed over several processes; -1 if any is unreadable.
double procCpuSeconds(const std::vector<int> &pids)
{
    double sum = pids.empty() ? -1 : 0;
    for (int pid : pids) {
        const double v = procCpuSecondsOf(pid);
        if (v < 0)
            return -1;
        sum += v;
    }
    return sum;
}

double procRssMb(const std::vector<int> &pids)
{
    double sum = pids.empty() ? -1 : 0;
    for (int pid : pids) {
        const double v = procRssMbOf(pid);
        if (v < 0)
            return -1;
        sum += v;
    }
    return sum;
}

std::vector<std::string> splitList(const std::string &s)
{
    std::vector<std::string> out;
    std::string item;
    std::istringstream in(s);
    while (std::getline(in, item, ','))
        if (!item.empty())
            out.push_back(item);
    return out;
}

double percentile(std::vector<double> v, double q)
{
    if (v.empty())
        return NAN;
    std::sort(v.begin(), v.end());
    const auto rank = size_t(std::ceil(q * double(v.size())));
    return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

long long findInt(const std::string &body, const char *key)
{
    const auto at = body.find(key);
    if (at == std::string::npos)
        return -1;
    return std::strtoll(body.c_str() + at + std::strlen(key), nullptr, 10);
}

size_t countOf(const std::string &s, const char *needle)
{
    size_t n = 0;
    for (size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 1))
        ++n;
    return n;
}

struct Options
{
    std::string target = "holdfast"; // or "peer"
    std::string host = "127.0.0.1";
    int port = 0;
    std::vector<std::string> urls; // "http://HOST:PORT", one per server; default host:port
    std::vector<int> pids;
    std::string mode = "turns";
    int clients = 10;
    int turns = 10;
    int chunks = 20;
    double pollMs = 5;
    double idealMs = 0; // W2: the model's ideal time to the last chunk
    int gets = 50;
    int window = 30; // history mode: GET session ?window=W (the peer always reads 30)
    int sessionsPerClient = 1;
    std::string session;      // history mode: an existing session
    std::string prefix = "b"; // session ids: PREFIX-c<client>-s<n>
    double holdSeconds = 2;   // idle mode: how long to hold the streams once all are open
    double rampMs = 0;        // client i starts at rampMs * i / C (0: all at once)
    double timeoutSeconds = 600;
    int connectBurst = 64; // connections being opened at once
    std::string label;
};

class Loop;

// One keep-alive HTTP/1.1 connection with an incremental response parser.
class Conn
{
public:
    using BodyFn = std::function<void(const char *, size_t)>;
    using DoneFn = std::function<void(int status, std::string &body)>;

    Conn(Loop *loop, int id) : m_loop(loop), m_id(id) {}
    ~Conn() { closeFd(); }

    bool connected() const { return m_fd >= 0 && m_connected; }
    bool busy() const { return m_inFlight; }
    void open();
    // Sends a request; onBody gets decoded body bytes as they arrive (when set, the body is not
    // collected), onDone the status and the collected body.
    void request(const std::string &method, const std::string &path, const std::string &body,
                 BodyFn onBody, DoneFn onDone);
    void onEvent(uint32_t events);
    std::function<void()> onConnected;
    std::function<void(const std::string &)> onError;

private:
    enum class P { Head, Body, ChunkSize, ChunkData, ChunkCrlf, Trailer, UntilClose };
    void closeFd();
    void flush();
    void parse();
    void finish();
    void deliver(const char *data, size_t n);
    void fail(const std::string &why);
    void updateInterest();
    const auto &server() const;

    Loop *m_loop;
    int m_id;
    int m_fd = -1;
    bool m_connected = false;
    bool m_inFlight = false;
    bool m_gotBytes = false;
    int m_retries = 0;
    std::string m_out;
    size_t m_outPos = 0;
    std::string m_lastRequest;
    std::string m_in;
    size_t m_inPos = 0;
    P m_p = P::Head;
    int m_status = 0;
    long long m_remaining = 0;
    bool m_closeAfter = false;
    std::string m_body;
    BodyFn m_onBody;
    DoneFn m_onDone;
    bool m_wantWrite = false;
};

class Loop
{
public:
    explicit Loop(const Options &o) : opts(o)
    {
        m_epoll = epoll_create1(EPOLL_CLOEXEC);
        for (const std::string &url : o.urls) {
            std::string rest = url.rfind("http://", 0) == 0 ? url.substr(7) : url;
            rest = rest.substr(0, rest.find('/'));
            const auto colon = rest.rfind(':');
            Server server;
            server.hostHeader = rest;
            server.addr.sin_family = AF_INET;
            server.addr.sin_port = htons(uint16_t(std::atoi(rest.c_str() + colon + 1)));
            inet_pton(AF_INET, rest.substr(0, colon).c_str(), &server.addr.sin_addr);
            servers.push_back(server);
        }
    }
    ~Loop() { close(m_epoll); }

    void watch(int fd, uint32_t events, Conn *c, bool add)
    {
        epoll_event ev{};
        ev.events = events;
        ev.data.ptr = c;
        epoll_ctl(m_epoll, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
    }
    void at(double whenMs, std::function<void()> fn)
    {
        m_timers.push({whenMs, m_seq++, std::move(fn)});
    }
    void stop() { m_stop = true; }

    // Runs until stop(), the deadline, or nothing is left to do.
    void run(double deadlineMs, const std::function<void()> &onTick)
    {
        m_stop = false;
        epoll_event events[512];
        double nextTick = nowMs();
        while (!m_stop) {
            double now = nowMs();
            if (now >= deadlineMs) {
                timedOut = true;
                break;
            }
            if (now >= nextTick) {
                onTick();
                nextTick = now + 100;
            }
            double wake = std::min(deadlineMs, nextTick);
            if (!m_timers.empty())
                wake = std::min(wake, m_timers.top().when);
            const int timeout = int(std::max(0.0, std::ceil(wake - now)));
            const int n = epoll_wait(m_epoll, events, 512, timeout);
            for (int i = 0; i < n; ++i)
                static_cast<Conn *>(events[i].data.ptr)->onEvent(events[i].events);
            now = nowMs();
            while (!m_timers.empty() && m_timers.top().when <= now) {
                auto fn = m_timers.top().fn;
                m_timers.pop();
                fn();
            }
        }
    }

    struct Server
    {
        sockaddr_in addr{};
        std::string hostHeader;
    };
    const Options &opts;
    std::vector<Server> servers; // client i talks to servers[i % size]
    bool timedOut = false;

private:
    struct Timer
    {
        double when;
        unsigned long long seq;
        std::function<void()> fn;
        bool operator>(const Timer &o) const
        {
            return when != o.when ? when > o.when : seq > o.seq;
        }
    };
    int m_epoll;
    bool m_stop = false;
    unsigned long long m_seq = 0;
    std::priority_queue<Timer, std::vector<Timer>, std::greater<>> m_timers;
};

const auto &Conn::server() const
{
    return m_loop->servers[size_t(m_id) % m_loop->servers.size()];
}

void Conn::open()
{
    closeFd();
    m_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    m_connected = false;
    const sockaddr_in &addr = server().addr;
    const int r = connect(m_fd, reinterpret_cast<const sockaddr *>(&addr), sizeof addr);
    if (r < 0 && errno != EINPROGRESS) {
        fail(std::string("connect: ") + std::strerror(errno));
        return;
    }
    m_wantWrite = true;
    m_loop->watch(m_fd, EPOLLIN | EPOLLOUT, this, true);
}

void Conn::closeFd()
{
    if (m_fd >= 0)
        close(m_fd);
    m_fd = -1;
    m_connected = false;
}

void Conn::updateInterest()
{
    const bool want = !m_connected || m_outPos < m_out.size();
    if (want != m_wantWrite) {
        m_wantWrite = want;
        m_loop->watch(m_fd, EPOLLIN | (want ? EPOLLOUT : 0u), this, false);
    }
}

void Conn::request(const std::string &method, const std::string &path, const std::string &body,
                   BodyFn onBody, DoneFn onDone)
{
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: " + server().hostHeader +
                      "\r\nConnection: keep-alive\r\nAccept: */*\r\n";
    if (!body.empty() || method == "POST")
        req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\n";
    req += "\r\n";
    req += body;
    m_lastRequest = req;
    m_onBody = std::move(onBody);
    m_onDone = std::move(onDone);
    m_inFlight = true;
    m_gotBytes = false;
    m_retries = 0;
    m_p = P::Head;
    m_body.clear();
    m_out = req;
    m_outPos = 0;
    if (m_fd < 0) {
        open();
        return;
    }
    if (m_connected)
        flush();
}

void Conn::flush()
{
    while (m_outPos < m_out.size()) {
        const ssize_t n =
            send(m_fd, m_out.data() + m_outPos, m_out.size() - m_outPos, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            fail(std::string("send: ") + std::strerror(errno));
            return;
        }
        m_outPos += size_t(n);
    }
    updateInterest();
}

void Conn::fail(const std::string &why)
{
    // A keep-alive connection the server closed before answering: reconnect and resend once.
    if (m_inFlight && !m_gotBytes && m_retries == 0 && m_connected) {
        ++m_retries;
        const std::string req = m_lastRequest;
        closeFd();
        m_out = req;
        m_outPos = 0;
        m_in.clear();
        m_inPos = 0;
        open();
        return;
    }
    closeFd();
    m_in.clear();
    m_inPos = 0;
    if (m_inFlight) {
        m_inFlight = false;
        if (onError)
            onError(why);
    }
}

void Conn::onEvent(uint32_t events)
{
    if (m_fd < 0)
        return;
    if (!m_connected && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(m_fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            m_connected = false;
            m_retries = 1;
            fail(std::string("connect: ") + std::strerror(err));
            return;
        }
        m_connected = true;
        if (onConnected && !m_inFlight)
            onConnected();
    }
    if (events & EPOLLOUT) {
        flush();
        if (m_fd < 0)
            return;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        char buf[65536];
        for (;;) {
            const ssize_t n = recv(m_fd, buf, sizeof buf, 0);
            if (n > 0) {
                m_gotBytes = true;
                m_in.append(buf, size_t(n));
                parse();
                if (m_fd < 0)
                    return;
                if (size_t(n) < sizeof buf)
                    break;
                continue;
            }
            if (n == 0) {
                if (m_inFlight && m_p == P::UntilClose) {
                    finish();
                    closeFd();
                } else {
                    fail("connection closed by the server");
                }
                return;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            fail(std::string("recv: ") + std::strerror(errno));
            return;
        }
    }
}

void Conn::deliver(const char *data, size_t n)
{
    if (m_onBody)
        m_onBody(data, n);
    else
        m_body.append(data, n);
}

void Conn::finish()
{
    m_inFlight = false;
    m_p = P::Head;
    auto done = std::move(m_onDone);
    m_onBody = nullptr;
    const bool closeAfter = m_closeAfter;
    std::string body;
    body.swap(m_body);
    if (closeAfter)
        closeFd();
    if (done)
        done(m_status, body);
}

void Conn::parse()
{
    for (;;) {
        const char *base = m_in.data() + m_inPos;
        const size_t avail = m_in.size() - m_inPos;
        if (!m_inFlight) {
            m_in.clear();
            m_inPos = 0;
            return;
        }
        if (m_p == P::Head) {
            const std::string_view view(base, avail);
            const auto end = view.find("\r\n\r\n");
            if (end == std::string_view::npos)
                break;
            const std::string head(base, end);
            m_inPos += end + 4;
            m_status = std::atoi(head.c_str() + 9);
            std::string lower = head;
            std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
            m_closeAfter = lower.find("\r\nconnection: close") != std::string::npos;
            const auto cl = lower.find("\r\ncontent-length:");
            if (lower.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
                m_p = P::ChunkSize;
            } else if (cl != std::string::npos) {
                m_remaining = std::strtoll(lower.c_str() + cl + 17, nullptr, 10);
                m_p = P::Body;
            } else if (m_status == 204 || m_status == 304) {
                m_remaining = 0;
                m_p = P::Body;
            } else {
                m_p = P::UntilClose;
            }
            if (m_onBody)
                m_onBody(base, 0); // the head has arrived: a stream is open
            continue;
        }
        if (m_p == P::Body) {
            const size_t take = std::min(avail, size_t(m_remaining));
            deliver(base, take);
            m_inPos += take;
            m_remaining -= (long long)take;
            if (m_remaining > 0)
                break;
            finish();
            if (m_fd < 0)
                return;
            continue;
        }
        if (m_p == P::UntilClose) {
            deliver(base, avail);
            m_inPos += avail;
            break;
        }
        if (m_p == P::ChunkSize || m_p == P::Trailer || m_p == P::ChunkCrlf) {
            const std::string_view view(base, avail);
            const auto eol = view.find("\r\n");
            if (eol == std::string_view::npos)
                break;
            m_inPos += eol + 2;
            if (m_p == P::ChunkCrlf) {
                m_p = P::ChunkSize;
            } else if (m_p == P::ChunkSize) {
                m_remaining = std::strtoll(std::string(base, eol).c_str(), nullptr, 16);
                m_p = m_remaining == 0 ? P::Trailer : P::ChunkData;
            } else if (eol == 0) { // the blank line that ends the trailer
                finish();
                if (m_fd < 0)
                    return;
            }
            continue;
        }
        if (m_p == P::ChunkData) {
            if (avail == 0)
                break;
            const size_t take = std::min(avail, size_t(m_remaining));
            deliver(base, take);
            m_inPos += take;
            m_remaining -= (long long)take;
            if (m_remaining == 0)
                m_p = P::ChunkCrlf;
            continue;
        }
    }
    if (m_inPos > 65536 || m_inPos == m_in.size()) {
        m_in.erase(0, m_inPos);
        m_inPos = 0;
    }
}

struct Stats
{
    std::vector<double> firstChunk, lastChunk, saved, post, gets;
    double getFirst = NAN;
    long long turnsDone = 0, chunks = 0, errors = 0, sessionsDone = 0, streamsOpen = 0;
    std::vector<std::string> errorSamples;
    void error(const std::string &e)
    {
        ++errors;
        if (errorSamples.size() < 5)
            errorSamples.push_back(e);
    }
};

// One simulated user: its own connection, its own session(s), turns one after the other.
class Client
{
public:
    Client(Loop *loop, Stats *stats, int index, std::function<void()> onFinished)
        : m_loop(loop), o(loop->opts), m_stats(stats), m_index(index), m_conn(loop, index),
          m_onFinished(std::move(onFinished))
    {
        m_conn.onError = [this](const std::string &e) { fail("connection: " + e); };
    }
    Conn &conn() { return m_conn; }
    bool finished() const { return m_finished; }

    void start()
    {
        if (o.mode == "history") {
            m_sid = o.session;
            m_gotTotal = -1;
            doGet();
            return;
        }
        newSession();
    }

private:
    bool holdfast() const { return o.target == "holdfast"; }

    void newSession()
    {
        m_sid = o.prefix + "-c" + std::to_string(m_index) + "-s" + std::to_string(m_sessionNo++);
        m_turn = 0;
        m_baseTotal = 0;
        if (!holdfast()) {
            nextTurn();
            return;
        }
        m_conn.request("POST", "/v1/sessions", "{\"id\":\"" + m_sid + "\"}", nullptr,
                       [this](int status, std::string &body) {
                           if (status != 201)
                               return fail("create session: HTTP " + std::to_string(status) + " " +
                                           body.substr(0, 200));
                           nextTurn();
                       });
    }

    // history mode: R loads of the session before the turns.
    void doGet()
    {
        const double t0 = nowMs();
        const std::string path =
            holdfast() ? "/v1/sessions/" + m_sid + "?window=" + std::to_string(o.window)
                       : "/" + m_sid;
        m_conn.request("GET", path, {}, nullptr, [this, t0](int status, std::string &body) {
            if (status != 200)
                return fail("load session: HTTP " + std::to_string(status));
            const double ms = nowMs() - t0;
            if (std::isnan(m_stats->getFirst))
                m_stats->getFirst = ms;
            else
                m_stats->gets.push_back(ms);
            m_baseTotal = findInt(body, "\"total\":");
            if (++m_getsDone <= o.gets)
                return doGet();
            m_turn = 0;
            nextTurn();
        });
    }

    void nextTurn()
    {
        if (m_turn >= o.turns) {
            ++m_stats->sessionsDone;
            if (o.mode == "sessions" && m_sessionNo < o.sessionsPerClient)
                return newSession();
            return finish();
        }
        ++m_turn;
        m_seen = 0;
        m_firstAt = m_lastAt = NAN;
        m_sse.clear();
        m_t0 = nowMs();
        const std::string prompt = "benchmark prompt " + std::to_string(m_turn);
        if (holdfast()) {
            m_conn.request("POST", "/v1/sessions/" + m_sid + "/turns",
                           "{\"prompt\":\"" + prompt + "\"}", nullptr,
                           [this](int status, std::string &body) {
                               if (status != 202)
                                   return fail("start turn: HTTP " + std::to_string(status) + " " +
                                               body.substr(0, 200));
                               m_stats->post.push_back(nowMs() - m_t0);
                               m_tid = findInt(body, "\"id\":");
                               openEvents();
                           });
        } else {
            // The gist keys chunks by task id + seq: space the turns' task ids apart.
            m_tid = (m_turn - 1) * 1000;
            std::string p = prompt;
            std::replace(p.begin(), p.end(), ' ', '_');
            m_conn.request("GET", "/" + m_sid + "/" + std::to_string(m_tid) + "/" + p, {}, nullptr,
                           [this](int status, std::string &) {
                               if (status != 200)
                                   return fail("start turn: HTTP " + std::to_string(status));
                               m_stats->post.push_back(nowMs() - m_t0);
                               poll();
                           });
        }
    }

    // holdfast: the turn's event stream, parsed as it arrives.
    void openEvents()
    {
        const std::string path =
            "/v1/sessions/" + m_sid + "/turns/" + std::to_string(m_tid) + "/events";
        m_terminal.clear();
        m_conn.request(
            "GET", path, {},
            [this](const char *data, size_t n) {
                if (!m_streamCounted) {
                    m_streamCounted = true;
                    ++m_stats->streamsOpen;
                }
                m_sse.append(data, n);
                size_t start = 0;
                for (size_t end; (end = m_sse.find("\n\n", start)) != std::string::npos;
                     start = end + 2)
                    onSseEvent(std::string_view(m_sse).substr(start, end - start));
                m_sse.erase(0, start);
            },
            [this](int status, std::string &) {
                if (m_streamCounted) {
                    m_streamCounted = false;
                    --m_stats->streamsOpen;
                }
                if (status != 200)
                    return fail("events: HTTP " + std::to_string(status));
                if (m_terminal != "done")
                    return fail("events: stream ended with '" + m_terminal + "'");
                turnEnded(nowMs());
            });
    }

    void onSseEvent(std::string_view ev)
    {
        if (ev.find("event: chunk") != std::string_view::npos) {
            chunkSeen(nowMs(), 1);
        } else if (ev.find("event: done") != std::string_view::npos) {
            m_terminal =
                ev.find("\"state\":\"done\"") != std::string_view::npos ? "done" : std::string(ev);
        } else if (ev.find("event: error") != std::string_view::npos) {
            m_terminal = std::string(ev);
        }
    }

    void chunkSeen(double at, int n)
    {
        if (m_seen == 0)
            m_firstAt = at;
        m_seen += n;
        m_lastAt = at;
        m_stats->chunks += n;
    }

    // peer: poll the cached chunks, then the saved session.
    void poll()
    {
        const double sent = nowMs();
        m_conn.request("GET", "/" + m_sid + "/" + std::to_string(m_tid) + "/chunks", {}, nullptr,
                       [this, sent](int status, std::string &body) {
                           if (status != 200)
                               return fail("chunks: HTTP " + std::to_string(status));
                           const int have = int(countOf(body, "\"resp"));
                           if (have > m_seen)
                               chunkSeen(nowMs(), have - m_seen);
                           if (m_seen >= o.chunks)
                               return confirm();
                           m_loop->at(std::max(nowMs(), sent + o.pollMs), [this] { poll(); });
                       });
    }

    void confirm()
    {
        const double sent = nowMs();
        m_conn.request("GET", "/" + m_sid, {}, nullptr,
                       [this, sent](int status, std::string &body) {
                           if (status != 200)
                               return fail("session: HTTP " + std::to_string(status));
                           if (findInt(body, "\"total\":") >= m_baseTotal + 2LL * m_turn)
                               return turnEnded(nowMs());
                           m_loop->at(std::max(nowMs(), sent + o.pollMs), [this] { confirm(); });
                       });
    }

    void turnEnded(double at)
    {
        if (o.mode == "idle")
            return finish();
        ++m_stats->turnsDone;
        if (m_seen > 0) {
            m_stats->firstChunk.push_back(m_firstAt - m_t0);
            m_stats->lastChunk.push_back(m_lastAt - m_t0);
        }
        m_stats->saved.push_back(at - m_t0);
        nextTurn();
    }

    void fail(const std::string &why)
    {
        m_stats->error(m_sid + ": " + why);
        finish();
    }

    void finish()
    {
        if (m_finished)
            return;
        m_finished = true;
        m_onFinished();
    }

    Loop *m_loop;
    const Options &o;
    Stats *m_stats;
    int m_index;
    Conn m_conn;
    std::function<void()> m_onFinished;
    bool m_finished = false;
    std::string m_sid;
    int m_sessionNo = 0;
    int m_turn = 0;
    long long m_tid = 0;
    long long m_baseTotal = 0;
    long long m_gotTotal = 0;
    int m_getsDone = 0;
    int m_seen = 0;
    double m_t0 = 0, m_firstAt = NAN, m_lastAt = NAN;
    std::string m_sse, m_terminal;
    bool m_streamCounted = false;
};

std::string num(double v, int decimals = 2)
{
    if (std::isnan(v) || std::isinf(v))
        return "null";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

// The 0th to 100th percentiles as a JSON array (null when there are no values): a lateness
// distribution for the report's chart, whatever the number of turns.
std::string percentiles(const std::vector<double> &v)
{
    if (v.empty())
        return "null";
    std::string out = "[";
    for (int q = 0; q <= 100; ++q)
        out += (q ? "," : "") + num(percentile(v, q / 100.0), 3);
    return out + "]";
}

void usage()
{
    std::fputs(
        "usage: hfload --target holdfast|peer (--port PORT [--host 127.0.0.1] | --url "
        "http://HOST:PORT[,...]...)\n"
        "              [--pid SERVER_PID[,...]]\n"
        "              [--mode turns|history|sessions|idle] [--clients C] [--turns N] [--chunks "
        "K]\n"
        "              [--poll-ms 5] [--ideal-ms MS] [--gets R] [--window 30] [--session SID]\n"
        "              [--sessions-per-client M] [--prefix P] [--hold-s S] [--timeout-s S] "
        "[--label L]\n"
        "              [--ramp-ms R]   (client i starts R*i/C ms after the first; default 0)\n",
        stderr);
}

} // namespace

int main(int argc, char **argv)
{
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                usage();
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--target")
            o.target = next();
        else if (a == "--host")
            o.host = next();
        else if (a == "--port")
            o.port = std::stoi(next());
        else if (a == "--url")
            for (const std::string &u : splitList(next()))
                o.urls.push_back(u);
        else if (a == "--pid")
            for (const std::string &p : splitList(next()))
                o.pids.push_back(std::stoi(p));
        else if (a == "--mode")
            o.mode = next();
        else if (a == "--clients")
            o.clients = std::stoi(next());
        else if (a == "--turns")
            o.turns = std::stoi(next());
        else if (a == "--chunks")
            o.chunks = std::stoi(next());
        else if (a == "--poll-ms")
            o.pollMs = std::stod(next());
        else if (a == "--ideal-ms")
            o.idealMs = std::stod(next());
        else if (a == "--window")
            o.window = std::stoi(next());
        else if (a == "--gets")
            o.gets = std::stoi(next());
        else if (a == "--session")
            o.session = next();
        else if (a == "--sessions-per-client")
            o.sessionsPerClient = std::stoi(next());
        else if (a == "--prefix")
            o.prefix = next();
        else if (a == "--hold-s")
            o.holdSeconds = std::stod(next());
        else if (a == "--ramp-ms")
            o.rampMs = std::stod(next());
        else if (a == "--timeout-s")
            o.timeoutSeconds = std::stod(next());
        else if (a == "--label")
            o.label = next();
        else if (a == "--help") {
            usage();
            return 0;
        } else {
            std::fprintf(stderr, "hfload: unknown option %s\n", a.c_str());
            usage();
            return 2;
        }
    }
    if (o.urls.empty() && o.port > 0)
        o.urls.push_back(o.host + ":" + std::to_string(o.port));
    if (o.urls.empty() || (o.target != "holdfast" && o.target != "peer")) {
        usage();
        return 2;
    }
    if (o.mode == "history") {
        o.clients = 1;
        if (o.session.empty()) {
            std::fputs("hfload: --mode history needs --session\n", stderr);
            return 2;
        }
    }
    if (o.mode == "idle")
        o.turns = 1;
    if (o.mode != "sessions")
        o.sessionsPerClient = 1;

    Loop loop(o);
    Stats stats;
    int finished = 0;
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < o.clients; ++i) {
        clients.push_back(std::make_unique<Client>(&loop, &stats, i, [&] {
            if (++finished == o.clients && o.mode != "idle")
                loop.stop();
        }));
    }

    // Phase 1: open every connection, a burst at a time (not measured).
    int connected = 0, opening = 0, next = 0;
    std::function<void()> openMore = [&] {
        while (opening < o.connectBurst && next < o.clients) {
            ++opening;
            clients[size_t(next++)]->conn().open();
        }
    };
    for (auto &c : clients) {
        c->conn().onConnected = [&] {
            --opening;
            if (++connected == o.clients)
                loop.stop();
            else
                openMore();
        };
    }
    openMore();
    const double connectStart = nowMs();
    loop.run(connectStart + 60000, [] {});
    if (connected < o.clients) {
        std::fprintf(stderr, "hfload: only %d of %d connections opened\n", connected, o.clients);
        return 1;
    }
    for (auto &c : clients)
        c->conn().onConnected = nullptr;

    // Phase 2: the workload, all clients at once.
    const double rssStart = procRssMb(o.pids);
    double rssPeak = rssStart;
    double rssAllOpen = NAN;
    const double cpu0 = procCpuSeconds(o.pids), self0 = selfCpuSeconds(), t0 = nowMs();
    double holdUntil = NAN;
    for (size_t i = 0; i < clients.size(); ++i) {
        Client *c = clients[i].get();
        if (o.rampMs <= 0 || i == 0)
            c->start();
        else
            loop.at(t0 + o.rampMs * double(i) / double(clients.size()), [c] { c->start(); });
    }
    loop.run(t0 + o.timeoutSeconds * 1000, [&] {
        rssPeak = std::max(rssPeak, procRssMb(o.pids));
        if (o.mode == "idle" && std::isnan(holdUntil) && stats.streamsOpen >= o.clients) {
            holdUntil = nowMs() + o.holdSeconds * 1000;
        }
        if (o.mode == "idle" && !std::isnan(holdUntil) && nowMs() >= holdUntil) {
            rssAllOpen = procRssMb(o.pids);
            loop.stop();
        }
        if (o.mode == "idle" && finished == o.clients)
            loop.stop();
    });
    const double wall = (nowMs() - t0) / 1000;
    const double cpu1 = procCpuSeconds(o.pids), self1 = selfCpuSeconds();
    const double rssEnd = procRssMb(o.pids);
    rssPeak = std::max(rssPeak, rssEnd);
    if (loop.timedOut)
        stats.error("timed out after " + num(o.timeoutSeconds, 0) + " s");

    const double serverCpu = cpu0 >= 0 ? cpu1 - cpu0 : NAN;
    const double clientCpu = self1 - self0;
    std::vector<double> late;
    for (double v : stats.lastChunk)
        late.push_back(v - o.idealMs);

    std::ostringstream h, j;
    h << "hfload " << o.label << " target=" << o.target << " servers=" << o.urls.size()
      << " mode=" << o.mode << " C=" << o.clients << " N=" << o.turns << " K=" << o.chunks << "\n";
    h << "  wall " << num(wall, 2) << " s, turns " << stats.turnsDone << ", errors " << stats.errors
      << ", turns/s " << num(stats.turnsDone / wall, 1) << ", chunks/s "
      << num(stats.chunks / wall, 0) << "\n";
    h << "  first chunk ms p50 " << num(percentile(stats.firstChunk, .5)) << " p99 "
      << num(percentile(stats.firstChunk, .99)) << "; last chunk ms p50 "
      << num(percentile(stats.lastChunk, .5)) << " p99 " << num(percentile(stats.lastChunk, .99))
      << "; saved ms p50 " << num(percentile(stats.saved, .5)) << " p99 "
      << num(percentile(stats.saved, .99)) << "\n";
    if (o.mode != "history")
        h << "  start turn (POST answered) ms p50 " << num(percentile(stats.post, .5)) << " p99 "
          << num(percentile(stats.post, .99)) << "\n";
    if (o.idealMs > 0)
        h << "  lateness ms (last chunk - " << num(o.idealMs, 0) << ") p50 "
          << num(percentile(late, .5)) << " p90 " << num(percentile(late, .9)) << " p99 "
          << num(percentile(late, .99)) << " max " << num(percentile(late, 1)) << "\n";
    if (o.mode == "history")
        h << "  load (GET session) ms: first " << num(stats.getFirst, 3) << ", p50 "
          << num(percentile(stats.gets, .5), 3) << ", p99 " << num(percentile(stats.gets, .99), 3)
          << "; start turn ms p50 " << num(percentile(stats.post, .5), 3) << "; saved ms p50 "
          << num(percentile(stats.saved, .5), 3) << "\n";
    h << "  server: cpu " << num(serverCpu, 2) << " s (" << num(100 * serverCpu / wall, 0) << "%), "
      << num(stats.turnsDone ? 1000 * serverCpu / double(stats.turnsDone) : NAN, 3)
      << " ms/turn, rss peak " << num(rssPeak, 1) << " MiB, end " << num(rssEnd, 1) << " MiB";
    if (o.mode == "idle")
        h << ", with " << stats.streamsOpen << " streams open " << num(rssAllOpen, 1) << " MiB";
    h << "\n  hfload itself: cpu " << num(clientCpu, 2) << " s (" << num(100 * clientCpu / wall, 0)
      << "%)\n";
    for (const auto &e : stats.errorSamples)
        h << "  error: " << e << "\n";

    j << "JSON {\"label\":\"" << o.label << "\",\"target\":\"" << o.target << "\",\"mode\":\""
      << o.mode << "\",\"servers\":" << o.urls.size() << ",\"clients\":" << o.clients
      << ",\"turns_per_client\":" << o.turns << ",\"chunks\":" << o.chunks
      << ",\"wall_s\":" << num(wall, 3) << ",\"turns\":" << stats.turnsDone
      << ",\"sessions\":" << stats.sessionsDone << ",\"errors\":" << stats.errors
      << ",\"turns_per_s\":" << num(stats.turnsDone / wall, 2)
      << ",\"chunks_per_s\":" << num(stats.chunks / wall, 1)
      << ",\"first_p50_ms\":" << num(percentile(stats.firstChunk, .5), 3)
      << ",\"first_p99_ms\":" << num(percentile(stats.firstChunk, .99), 3)
      << ",\"last_p50_ms\":" << num(percentile(stats.lastChunk, .5), 3)
      << ",\"last_p99_ms\":" << num(percentile(stats.lastChunk, .99), 3)
      << ",\"saved_p50_ms\":" << num(percentile(stats.saved, .5), 3)
      << ",\"saved_p99_ms\":" << num(percentile(stats.saved, .99), 3)
      << ",\"late_p50_ms\":" << num(o.idealMs > 0 ? percentile(late, .5) : NAN, 3)
      << ",\"late_p99_ms\":" << num(o.idealMs > 0 ? percentile(late, .99) : NAN, 3)
      << ",\"late_p90_ms\":" << num(o.idealMs > 0 ? percentile(late, .9) : NAN, 3)
      << ",\"late_max_ms\":" << num(o.idealMs > 0 ? percentile(late, 1) : NAN, 3)
      << ",\"late_pcts_ms\":" << percentiles(o.idealMs > 0 ? late : std::vector<double>{})
      << ",\"start_p50_ms\":" << num(percentile(stats.post, .5), 3)
      << ",\"get_first_ms\":" << num(stats.getFirst, 3)
      << ",\"get_p50_ms\":" << num(percentile(stats.gets, .5), 3)
      << ",\"get_p99_ms\":" << num(percentile(stats.gets, .99), 3)
      << ",\"server_cpu_s\":" << num(serverCpu, 3)
      << ",\"server_cpu_pct\":" << num(100 * serverCpu / wall, 1) << ",\"server_cpu_ms_per_turn\":"
      << num(stats.turnsDone ? 1000 * serverCpu / double(stats.turnsDone) : NAN, 4)
      << ",\"server_rss_start_mb\":" << num(rssStart, 1)
      << ",\"server_rss_peak_mb\":" << num(rssPeak, 1)
      << ",\"server_rss_end_mb\":" << num(rssEnd, 1) << ",\"streams_open\":" << stats.streamsOpen
      << ",\"rss_streams_open_mb\":" << num(rssAllOpen, 1)
      << ",\"client_cpu_s\":" << num(clientCpu, 3)
      << ",\"client_cpu_pct\":" << num(100 * clientCpu / wall, 1) << "}\n";
    std::fputs(h.str().c_str(), stdout);
    std::fputs(j.str().c_str(), stdout);
    return stats.errors > 0 ? 1 : 0;
}
