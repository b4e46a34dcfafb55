/*
 * A test peer for quicc's --peer-streams: a QUIC client or server (OpenSSL 3.5, blocking
 * calls) that carries a pipe the way quicc does (see core/pipe_streams.hpp) and, besides it,
 * opens one bidirectional and one unidirectional stream with known bytes, then reports how
 * quicc answered them. quicc itself opens only the pipe's stream, so it cannot test this.
 *
 *   stream_opener connect HOST PORT WAIT_MS fin|open|reset
 *   stream_opener listen PORT CERT KEY WAIT_MS fin|open|reset
 *
 * ALPN "quicc"; a client does not verify the server. stdin: the pipe's bytes to send;
 * stdout: the pipe's bytes received. "fin": the extra streams end with a FIN; "open": they
 * stay open, so that a STOP_SENDING can show; "reset": they are reset with code 9 after their
 * bytes (which may or may not arrive first). Report lines on stderr, after waiting at most
 * WAIT_MS for quicc's answer:
 *   report: bidi id=N read=fin|reset:CODE|open write=ok|stopped:CODE
 *   report: uni id=N write=ok|stopped:CODE
 *   report: pipe crossed=0|1
 * Exit 0 once the pipe is done, 1 on any failure.
 */
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Hostile on purpose: ESC [ 2 J clears a terminal, and a NUL ends C strings. */
static const char extra_bidi[] = "bidi extra \x1b[2J\0 end\n";
static const char extra_uni[] = "uni extra \x1b[2J\0 end\n";
static const uint64_t code_crossed = 0x4; /* quicc's stream_code_crossed */
static const uint64_t code_extra_reset = 0x9;

static void die(const char *what)
{
    fprintf(stderr, "stream_opener: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

static int udp_socket(const char *host, const char *port, int listen, BIO_ADDR **peer)
{
    struct addrinfo hints = {0}, *ai;
    int fd;

    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = listen ? AI_PASSIVE : 0;
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        die("cannot resolve the address");
    fd = BIO_socket(ai->ai_family, SOCK_DGRAM, 0, 0);
    if (fd < 0 || (listen ? bind(fd, ai->ai_addr, ai->ai_addrlen)
                          : connect(fd, ai->ai_addr, ai->ai_addrlen)) != 0)
        die("cannot set up the UDP socket");
    if (!BIO_socket_nbio(fd, 1))
        die("cannot make the socket non-blocking");
    if (peer != NULL) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ai->ai_addr;
        *peer = BIO_ADDR_new();
        BIO_ADDR_rawmake(*peer, AF_INET, &sin->sin_addr, sizeof sin->sin_addr, sin->sin_port);
    }
    freeaddrinfo(ai);
    return fd;
}

static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *out_len,
                       const unsigned char *in, unsigned int in_len, void *arg)
{
    static const unsigned char ours[] = "\x05quicc";

    (void)ssl;
    (void)arg;
    if (SSL_select_next_proto((unsigned char **)out, out_len, ours, sizeof ours - 1, in, in_len)
        == OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_OK;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

static SSL *connect_to(const char *host, const char *port)
{
    SSL_CTX *ctx = SSL_CTX_new(OSSL_QUIC_client_method());
    BIO_ADDR *peer = NULL;
    SSL *conn;
    int fd = udp_socket(host, port, 0, &peer);

    if (ctx == NULL || (conn = SSL_new(ctx)) == NULL)
        die("cannot create the connection");
    SSL_set_verify(conn, SSL_VERIFY_NONE, NULL);
    if (!SSL_set_fd(conn, fd) || !SSL_set1_initial_peer_addr(conn, peer)
        || SSL_set_alpn_protos(conn, (const unsigned char *)"\x05quicc", 6) != 0
        || !SSL_set_default_stream_mode(conn, SSL_DEFAULT_STREAM_MODE_NONE)
        || !SSL_set_incoming_stream_policy(conn, SSL_INCOMING_STREAM_POLICY_ACCEPT, 0))
        die("cannot configure the connection");
    if (SSL_connect(conn) != 1)
        die("handshake failed");
    BIO_ADDR_free(peer);
    SSL_CTX_free(ctx);
    return conn;
}

static SSL *accept_one(const char *port, const char *cert, const char *key)
{
    SSL_CTX *ctx = SSL_CTX_new(OSSL_QUIC_server_method());
    SSL *listener, *conn;
    int fd = udp_socket("127.0.0.1", port, 1, NULL);

    if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, cert) <= 0
        || SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) <= 0)
        die("cannot load the certificate");
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL);
    if ((listener = SSL_new_listener(ctx, 0)) == NULL || !SSL_set_fd(listener, fd)
        || !SSL_listen(listener))
        die("cannot listen");
    fprintf(stderr, "stream_opener: listening\n");
    if ((conn = SSL_accept_connection(listener, 0)) == NULL)
        die("cannot accept a connection");
    SSL_set_default_stream_mode(conn, SSL_DEFAULT_STREAM_MODE_NONE);
    SSL_set_incoming_stream_policy(conn, SSL_INCOMING_STREAM_POLICY_ACCEPT, 0);
    /* The listener is kept (not freed): the connection uses its socket. */
    SSL_CTX_free(ctx);
    return conn;
}

static SSL *open_stream(SSL *conn, int uni, const char *bytes, size_t n, int fin)
{
    SSL *s = SSL_new_stream(conn, uni ? SSL_STREAM_FLAG_UNI : 0);
    size_t written;

    if (s == NULL || !SSL_write_ex2(s, bytes, n, fin ? SSL_WRITE_FLAG_CONCLUDE : 0, &written))
        die("cannot write a stream");
    return s;
}

static void reset(SSL *s, uint64_t code)
{
    SSL_STREAM_RESET_ARGS args = {code};

    SSL_stream_reset(s, &args, sizeof args);
}

/* Waits until quicc has answered the extra streams: with "fin", the FIN (or reset) it sends on
   the bidirectional one; else, the resets and STOP_SENDINGs of a rejection (at most WAIT_MS:
   an ignored stream gets no answer). */
static void await_answers(SSL *bidi, SSL *uni, int fin, long wait_ms)
{
    SSL_POLL_ITEM items[2];
    struct timeval tv = {wait_ms / 1000, (wait_ms % 1000) * 1000};
    unsigned char c;
    size_t n;
    int got_bidi = 0, got_uni = 0;

    if (fin) {
        /* A blocking read ends with quicc's FIN or reset. (SSL_poll's R event cannot be
           used: OpenSSL 3.5 reports it before the FIN arrives.) */
        while (SSL_read_ex(bidi, &c, 1, &n))
            ;
        return;
    }
    memset(items, 0, sizeof items);
    items[0].desc = SSL_as_poll_descriptor(bidi);
    items[0].events = SSL_POLL_EVENT_ER | SSL_POLL_EVENT_EW;
    items[1].desc = SSL_as_poll_descriptor(uni);
    items[1].events = SSL_POLL_EVENT_EW;
    while (!(got_bidi && got_uni) && SSL_poll(items, 2, sizeof items[0], &tv, 0, &n) == 1
           && n > 0) {
        /* Level-triggered: once a stream has answered, stop asking about it. */
        /* The bidirectional stream is answered once both the reset (ER) and the STOP_SENDING
           (EW) came: they may arrive apart. */
        if (items[0].revents != 0) {
            items[0].events &= ~items[0].revents;
            got_bidi = (items[0].events & (SSL_POLL_EVENT_ER | SSL_POLL_EVENT_EW)) == 0;
        }
        if (items[1].revents != 0) {
            got_uni = 1;
            items[1].events = 0;
        }
    }
}

static const char *write_state(SSL *s, char *buf, size_t len)
{
    uint64_t code = 0;
    int state = SSL_get_stream_write_state(s);

    /* OpenSSL answers a STOP_SENDING by resetting the sending part with its code (RFC 9000
       3.5): the state then says "reset locally". */
    if (state == SSL_STREAM_STATE_RESET_REMOTE || state == SSL_STREAM_STATE_RESET_LOCAL) {
        SSL_get_stream_write_error_code(s, &code);
        snprintf(buf, len, "stopped:%llu", (unsigned long long)code);
        return buf;
    }
    return state == SSL_STREAM_STATE_OK || state == SSL_STREAM_STATE_FINISHED ? "ok" : "other";
}

static void report(SSL *bidi, SSL *uni)
{
    char rbuf[64], wbuf[64], ubuf[64];
    const char *read = "open";
    uint64_t code = 0;

    if (SSL_get_stream_read_state(bidi) == SSL_STREAM_STATE_RESET_REMOTE) {
        SSL_get_stream_read_error_code(bidi, &code);
        snprintf(rbuf, sizeof rbuf, "reset:%llu", (unsigned long long)code);
        read = rbuf;
    } else if (SSL_get_stream_read_state(bidi) == SSL_STREAM_STATE_FINISHED) {
        read = "fin";
    }
    ERR_clear_error();
    fprintf(stderr, "report: bidi id=%llu read=%s write=%s\n",
            (unsigned long long)SSL_get_stream_id(bidi), read, write_state(bidi, wbuf, sizeof wbuf));
    fprintf(stderr, "report: uni id=%llu write=%s\n", (unsigned long long)SSL_get_stream_id(uni),
            write_state(uni, ubuf, sizeof ubuf));
}

/* Copies a stream to stdout up to its FIN; 0 if it was reset with `code_crossed` instead. */
static int drain(SSL *s)
{
    unsigned char buf[16384];
    size_t n;
    uint64_t code = 0;

    while (SSL_read_ex(s, buf, sizeof buf, &n))
        fwrite(buf, 1, n, stdout);
    if (SSL_get_stream_read_state(s) == SSL_STREAM_STATE_FINISHED)
        return 1;
    if (SSL_get_stream_read_state(s) == SSL_STREAM_STATE_RESET_REMOTE
        && SSL_get_stream_read_error_code(s, &code) && code == code_crossed) {
        ERR_clear_error();
        return 0;
    }
    die("the pipe's stream failed");
    return 1;
}

int main(int argc, char **argv)
{
    int listen = argc == 7 && strcmp(argv[1], "listen") == 0;
    int connect = argc == 6 && strcmp(argv[1], "connect") == 0;
    static char input[1 << 20];
    size_t input_len;
    SSL *conn, *own, *theirs = NULL, *bidi, *uni;
    int fin, resets, crossed;

    if (!listen && !connect) {
        fprintf(stderr, "usage: stream_opener connect HOST PORT WAIT_MS fin|open|reset\n"
                        "       stream_opener listen PORT CERT KEY WAIT_MS fin|open|reset\n");
        return 2;
    }
    fin = strcmp(argv[argc - 1], "fin") == 0;
    resets = strcmp(argv[argc - 1], "reset") == 0;
    input_len = fread(input, 1, sizeof input, stdin);
    conn = connect ? connect_to(argv[2], argv[3]) : accept_one(argv[2], argv[3], argv[4]);

    /* The pipe. A server meets a client that speaks first: it takes the client's stream for
       what it receives and sends on its own (crossed streams, as quicc does). */
    if (listen && (theirs = SSL_accept_stream(conn, 0)) == NULL)
        die("no stream from the client");
    own = open_stream(conn, 0, input, input_len, 0);
    if (theirs != NULL)
        reset(theirs, code_crossed);

    /* The extra streams, the unidirectional one first, and quicc's answer to them. */
    uni = open_stream(conn, 1, extra_uni, sizeof extra_uni - 1, fin);
    bidi = open_stream(conn, 0, extra_bidi, sizeof extra_bidi - 1, fin);
    if (resets) {
        reset(uni, code_extra_reset);
        reset(bidi, code_extra_reset);
    }
    /* A reset stream is answered as one that ended: with quicc's FIN (accept). */
    await_answers(bidi, uni, fin || resets, atol(argv[argc - 2]));
    report(bidi, uni);

    /* The rest of the pipe: our FIN, and what quicc sends up to its FIN. A server reads the
       client's stream to its FIN first: a quicc client that has our FIN closes at once, and
       OpenSSL 3.5 then fails the reads of what was still unread (seen in CI). A listening
       quicc may have opened its own stream too (crossed): it then resets its half of ours. */
    crossed = theirs != NULL;
    if (listen)
        drain(theirs);
    if (!SSL_stream_conclude(own, 0))
        die("cannot end the pipe's stream");
    if (theirs == NULL && !drain(own)) {
        if ((theirs = SSL_accept_stream(conn, 0)) == NULL)
            die("no stream from the listener");
        reset(theirs, code_crossed);
        crossed = 1;
    }
    if (theirs != NULL && !listen)
        drain(theirs);
    fflush(stdout);
    fprintf(stderr, "report: pipe crossed=%d\n", crossed);
    /* A client closes (quicc's listener leaves it to the client); a server waits for it. A
       client first lets its ACK of quicc's last data go out (OpenSSL delays ACKs up to 25 ms,
       and a CONNECTION_CLOSE overtaking it leaves quicc's data unacknowledged: exit 15, seen in
       CI), as quicc's own client does. */
    if (!listen)
        for (int i = 0; i < 10; ++i) {
            SSL_handle_events(conn);
            usleep(10 * 1000);
        }
    while (SSL_shutdown(conn) == 0)
        ;
    return 0;
}
