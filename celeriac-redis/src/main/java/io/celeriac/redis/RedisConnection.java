package io.celeriac.redis;

import io.celeriac.BrokerException;
import io.celeriac.ConfigException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.JedisPubSub;
import redis.clients.jedis.JedisSentineled;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.exceptions.JedisNoScriptException;

/**
 * One Redis server as this JVM uses it: a connection pool, the Lua scripts, and one subscriber
 * connection shared by everything that waits (workers for new messages on {@code celeriac.wake},
 * clients for results on {@code celery-task-meta-<id>}). Shared by every broker, result store and
 * coordination opened on the same URL; the subscriber reconnects by itself when Redis comes back.
 */
final class RedisConnection {
    private static final Logger log = LoggerFactory.getLogger("celeriac.redis");
    private static final Map<String, RedisConnection> OPEN = new ConcurrentHashMap<>();
    static final String WAKE = "celeriac.wake";

    final String url;
    final String safeUrl;
    final int db;
    private final UnifiedJedis client;
    private final Map<String, String> shas = new ConcurrentHashMap<>();
    private int refs;

    // pub/sub
    private final Map<String, CopyOnWriteArrayList<Consumer<String>>> listeners = new ConcurrentHashMap<>();
    private final Set<String> subscribed = ConcurrentHashMap.newKeySet();
    private final Object subscriberLock = new Object();
    private volatile Subscriber pubsub;
    private volatile boolean closed;
    private Thread subscriberThread;

    private RedisConnection(String url) {
        this.url = url;
        this.safeUrl = io.celeriac.config.Secrets.redact(url);
        ParsedUrl p = parse(url);
        this.db = p.db;
        this.client = p.open();
    }

    static RedisConnection acquire(String url) {
        synchronized (OPEN) {
            RedisConnection c = OPEN.computeIfAbsent(url, RedisConnection::new);
            c.refs++;
            return c;
        }
    }

    void release() {
        synchronized (OPEN) {
            if (--refs > 0) {
                return;
            }
            OPEN.remove(url);
        }
        closed = true;
        Subscriber s = pubsub;
        if (s != null && s.isSubscribed()) {
            try {
                s.unsubscribe();
            } catch (RuntimeException ignored) {
                // the connection is going away anyway
            }
        }
        client.close();
    }

    UnifiedJedis client() {
        return client;
    }

    /** Runs a Lua script by its SHA, loading it first (and again after a Redis restart). */
    Object script(String name, List<String> keys, List<String> args) {
        String sha = shas.computeIfAbsent(name, n -> client.scriptLoad(source(n)));
        try {
            return client.evalsha(sha, keys, args);
        } catch (JedisNoScriptException e) {
            sha = client.scriptLoad(source(name));
            shas.put(name, sha);
            return client.evalsha(sha, keys, args);
        }
    }

    /**
     * The scripts that stand alone; the task history's (history_*) are loaded after history_lib.lua, and
     * every other one after lib.lua: the functions each kind shares.
     */
    private static final Set<String> STANDALONE = Set.of("lock", "unlock", "route_direct", "chord_part", "increment");

    private static String source(String name) {
        String body = resource(name);
        if (name.startsWith("history_")) {
            return resource("history_lib") + "\n" + body;
        }
        return STANDALONE.contains(name) ? body : resource("lib") + "\n" + body;
    }

    private static String resource(String name) {
        try (InputStream in = RedisConnection.class.getResourceAsStream(name + ".lua")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("script " + name + ".lua missing from the jar", e);
        }
    }

    /** Runs a Redis call, turning Jedis's exceptions into {@link BrokerException}s that name what failed. */
    <T> T call(String what, Function<UnifiedJedis, T> op) {
        try {
            return op.apply(client);
        } catch (JedisConnectionException e) {
            throw new BrokerException(safeUrl + ": " + what + ": Redis unreachable (" + rootMessage(e) + ")", true, e);
        } catch (JedisDataException e) {
            boolean busy = e.getMessage() != null && (e.getMessage().startsWith("LOADING") || e.getMessage().startsWith("BUSY")
                    || e.getMessage().startsWith("MASTERDOWN") || e.getMessage().startsWith("READONLY"));
            throw new BrokerException(safeUrl + ": " + what + ": " + e.getMessage(), busy, e);
        } catch (JedisException e) {
            throw new BrokerException(safeUrl + ": " + what + ": " + rootMessage(e), true, e);
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    // --- pub/sub -----------------------------------------------------------------------------------

    /** Calls {@code listener} with each message on {@code channel} until {@link #unlisten}; once however often it is added. */
    void listen(String channel, Consumer<String> listener) {
        listeners.computeIfAbsent(channel, c -> new CopyOnWriteArrayList<>()).addIfAbsent(listener);
        ensureSubscriber();
        synchronized (subscriberLock) {
            if (subscribed.add(channel)) {
                subscribe(channel, false);
            }
        }
    }

    /**
     * Sends (P)SUBSCRIBE for {@code name} if the subscriber is up (else it subscribes when it is), first
     * forgetting a confirmation left from an earlier subscription whose UNSUBSCRIBE may still be on its way:
     * a waiter then waits for this one's. Under {@code subscriberLock}.
     */
    private void subscribe(String name, boolean pattern) {
        Subscriber s = pubsub;
        if (s == null) {
            return;
        }
        s.confirmed.remove(pattern ? PATTERN + name : name);
        if (s.isSubscribed()) {
            if (pattern) {
                s.psubscribe(name);
            } else {
                s.subscribe(name);
            }
        }
    }

    /** Pattern subscriptions (PSUBSCRIBE), e.g. Celery's events {@code /0.celeryev/*}; changed under {@code subscriberLock}. */
    private final Map<String, CopyOnWriteArrayList<Consumer<String>>> patternListeners = new ConcurrentHashMap<>();

    /** Calls {@code listener} with each message on a channel matching {@code pattern} until {@link #unlistenPattern}. */
    void listenPattern(String pattern, Consumer<String> listener) {
        ensureSubscriber();
        synchronized (subscriberLock) {
            CopyOnWriteArrayList<Consumer<String>> l = patternListeners.computeIfAbsent(pattern, p -> new CopyOnWriteArrayList<>());
            boolean first = l.isEmpty();
            l.addIfAbsent(listener);
            if (first) {
                subscribe(pattern, true);
            }
        }
    }

    void unlistenPattern(String pattern, Consumer<String> listener) {
        synchronized (subscriberLock) {
            List<Consumer<String>> l = patternListeners.get(pattern);
            if (l != null && l.remove(listener) && l.isEmpty()) {
                patternListeners.remove(pattern);
                Subscriber s = pubsub;
                if (s != null && s.isSubscribed()) {
                    s.punsubscribe(pattern);
                }
            }
        }
    }

    /** Waits (briefly) until the subscription to {@code channel} is in place on the server. */
    boolean awaitSubscribed(String channel, long millis) throws InterruptedException {
        return awaitConfirmed(channel, millis);
    }

    /**
     * Waits (briefly) until the pattern subscription to {@code pattern} is in place on the server: a
     * message published after this returns true is heard (pub/sub keeps nothing for a listener not yet there).
     */
    boolean awaitPatternSubscribed(String pattern, long millis) throws InterruptedException {
        return awaitConfirmed(PATTERN + pattern, millis);
    }

    private boolean awaitConfirmed(String key, long millis) throws InterruptedException {
        long end = System.nanoTime() + millis * 1_000_000;
        while (System.nanoTime() < end) {
            Subscriber s = pubsub;
            if (s != null && s.confirmed.contains(key)) {
                return true;
            }
            synchronized (subscriberLock) {
                subscriberLock.wait(1);
            }
        }
        return false;
    }

    void unlisten(String channel, Consumer<String> listener) {
        List<Consumer<String>> l = listeners.get(channel);
        if (l == null) {
            return;
        }
        l.remove(listener);
        if (l.isEmpty() && !channel.equals(WAKE)) {
            listeners.remove(channel);
            synchronized (subscriberLock) {
                if (subscribed.remove(channel)) {
                    Subscriber s = pubsub;
                    if (s != null && s.isSubscribed()) {
                        s.unsubscribe(channel);
                    }
                }
            }
        }
    }

    private void ensureSubscriber() {
        synchronized (subscriberLock) {
            if (subscriberThread != null) {
                return;
            }
            subscribed.add(WAKE);
            subscriberThread = new Thread(this::subscribeLoop, "celeriac-redis-subscriber");
            subscriberThread.setDaemon(true);
            subscriberThread.start();
        }
    }

    private void subscribeLoop() {
        long backoff = 0;
        boolean failing = false;
        while (!closed) {
            Subscriber s = new Subscriber();
            String[] channels;
            synchronized (subscriberLock) {
                pubsub = s;
                channels = subscribed.toArray(String[]::new);
            }
            try {
                client.subscribe(s, channels); // blocks until unsubscribed or the connection drops
                return;
            } catch (RuntimeException e) {
                if (closed) {
                    return;
                }
                if (!failing) {
                    log.debug("{}: subscriber connection lost ({}); reconnecting with back-off", safeUrl, rootMessage(e));
                    failing = true;
                }
            }
            // waiters may have missed messages while the connection was down: let them look again
            listeners.values().forEach(l -> l.forEach(c -> c.accept(null)));
            backoff = backoff == 0 ? 100 : Math.min(backoff * 2, 5000);
            try {
                Thread.sleep(backoff);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Marks a pattern among the confirmed subscriptions (a channel name never starts with a NUL). */
    private static final String PATTERN = "\0pattern:";

    private final class Subscriber extends JedisPubSub {
        final Set<String> confirmed = ConcurrentHashMap.newKeySet();

        @Override
        public void onSubscribe(String channel, int count) {
            confirmed.add(channel);
            synchronized (subscriberLock) {
                subscriberLock.notifyAll();
            }
            if (channel.equals(WAKE)) {
                // (re)connected: anything published meanwhile is looked for now
                listeners.getOrDefault(WAKE, new CopyOnWriteArrayList<>()).forEach(c -> c.accept(null));
                synchronized (subscriberLock) { // one writer at a time on the connection (listenPattern writes too)
                    if (!patternListeners.isEmpty()) {
                        psubscribe(patternListeners.keySet().toArray(String[]::new));
                    }
                }
            }
        }

        @Override
        public void onUnsubscribe(String channel, int count) {
            confirmed.remove(channel);
        }

        @Override
        public void onPSubscribe(String pattern, int count) {
            confirmed.add(PATTERN + pattern);
            synchronized (subscriberLock) {
                subscriberLock.notifyAll();
            }
        }

        @Override
        public void onPUnsubscribe(String pattern, int count) {
            confirmed.remove(PATTERN + pattern);
        }

        @Override
        public void onPMessage(String pattern, String channel, String message) {
            List<Consumer<String>> l = patternListeners.get(pattern);
            if (l != null) {
                l.forEach(c -> c.accept(message));
            }
        }

        @Override
        public void onMessage(String channel, String message) {
            List<Consumer<String>> l = listeners.get(channel);
            if (l != null) {
                l.forEach(c -> c.accept(message));
            }
        }
    }

    // --- URLs --------------------------------------------------------------------------------------

    private record ParsedUrl(String scheme, String host, int port, String password, String user, int db, boolean ssl,
                             String master, Set<HostAndPort> sentinels, String caCerts, boolean verify) {
        UnifiedJedis open() {
            DefaultJedisClientConfig.Builder b = DefaultJedisClientConfig.builder().user(user).password(password).database(db).ssl(ssl)
                    .clientName("celeriac").connectionTimeoutMillis(5000).socketTimeoutMillis(10_000);
            if (ssl) {
                b.sslSocketFactory(io.celeriac.config.TlsTrust.context(caCerts, verify).getSocketFactory());
                if (verify) { // the server's certificate must name the host we asked for
                    javax.net.ssl.SSLParameters params = new javax.net.ssl.SSLParameters();
                    params.setEndpointIdentificationAlgorithm("HTTPS");
                    b.sslParameters(params);
                }
            }
            JedisClientConfig cfg = b.build();
            if (sentinels != null) {
                return new JedisSentineled(master, cfg, sentinels, DefaultJedisClientConfig.builder().ssl(ssl).build());
            }
            return new JedisPooled(new HostAndPort(host, port), cfg);
        }
    }

    /**
     * {@code redis://[[user]:password@]host[:port][/db]}, {@code rediss://…} (TLS), or
     * {@code redis-sentinel://[:password@]host:port[,host:port…][/db]?master=NAME}.
     */
    static ParsedUrl parse(String url) {
        try {
            if (url.startsWith("redis-sentinel://")) {
                String rest = url.substring("redis-sentinel://".length());
                String password = null;
                int at = rest.lastIndexOf('@');
                if (at >= 0) {
                    String cred = rest.substring(0, at);
                    password = cred.contains(":") ? cred.substring(cred.indexOf(':') + 1) : cred;
                    rest = rest.substring(at + 1);
                }
                String query = "";
                int q = rest.indexOf('?');
                if (q >= 0) {
                    query = rest.substring(q + 1);
                    rest = rest.substring(0, q);
                }
                int db = 0;
                int slash = rest.indexOf('/');
                if (slash >= 0) {
                    String d = rest.substring(slash + 1);
                    db = d.isEmpty() ? 0 : Integer.parseInt(d);
                    rest = rest.substring(0, slash);
                }
                String master = null;
                for (String kv : query.split("&")) {
                    if (kv.startsWith("master=")) {
                        master = kv.substring("master=".length());
                    }
                }
                if (master == null || master.isBlank()) {
                    throw new ConfigException("'" + url + "': a sentinel URL needs ?master=NAME");
                }
                Set<HostAndPort> sentinels = new HashSet<>();
                for (String hp : rest.split(",")) {
                    String[] parts = hp.split(":");
                    sentinels.add(new HostAndPort(parts[0], parts.length > 1 ? Integer.parseInt(parts[1]) : 26379));
                }
                return new ParsedUrl("redis-sentinel", null, 0, password, null, db, false, master, sentinels, null, true);
            }
            URI u = new URI(url);
            if (u.getHost() == null) {
                throw new ConfigException("'" + url + "': no host; expected redis://host:port/db");
            }
            String user = null;
            String password = null;
            if (u.getRawUserInfo() != null) {
                String ui = java.net.URLDecoder.decode(u.getRawUserInfo(), StandardCharsets.UTF_8);
                int colon = ui.indexOf(':');
                if (colon >= 0) {
                    user = colon == 0 ? null : ui.substring(0, colon);
                    password = ui.substring(colon + 1);
                } else {
                    password = ui;
                }
            }
            String path = u.getPath() == null ? "" : u.getPath().replace("/", "");
            int db = path.isEmpty() ? 0 : Integer.parseInt(path);
            // TLS options as in Celery's rediss:// URLs: ?ssl_cert_reqs=required|none&ssl_ca_certs=/path/ca.pem
            String caCerts = null;
            boolean verify = true;
            if (u.getRawQuery() != null) {
                for (String kv : u.getRawQuery().split("&")) {
                    int eq = kv.indexOf('=');
                    String k = eq < 0 ? kv : kv.substring(0, eq);
                    String v = eq < 0 ? "" : java.net.URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
                    switch (k) {
                        case "ssl_ca_certs" -> caCerts = v;
                        case "ssl_cert_reqs" -> {
                            switch (v.toLowerCase(java.util.Locale.ROOT)) {
                                case "required", "cert_required" -> verify = true;
                                case "none", "cert_none" -> verify = false;
                                default -> throw new ConfigException("'" + url + "': ssl_cert_reqs must be required or none, got '" + v + "'");
                            }
                        }
                        default -> throw new ConfigException("'" + url + "': unknown option '" + k
                                + "' (known: ssl_cert_reqs, ssl_ca_certs)");
                    }
                }
            }
            return new ParsedUrl(u.getScheme(), u.getHost(), u.getPort() < 0 ? 6379 : u.getPort(), password, user, db,
                    "rediss".equals(u.getScheme()), null, null, caCerts, verify);
        } catch (URISyntaxException | NumberFormatException e) {
            throw new ConfigException("'" + url + "' is not a Redis URL (redis://[:password@]host:port/db): " + e.getMessage());
        }
    }
}
