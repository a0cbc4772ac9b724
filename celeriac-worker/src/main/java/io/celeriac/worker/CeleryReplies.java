package io.celeriac.worker;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.config.Secrets;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.PythonRepr;
import io.celeriac.protocol.TaskMessage;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * The pieces of Celery 5.2's remote-control replies, key for key and type for type as a Python
 * worker sends them (checked against replies captured from one, in
 * {@code src/test/resources/celery-replies/}), so that {@code celery inspect}, Python code reading
 * {@code stats()['pool']['max-concurrency']} and Flower read a Celeriac worker as they read their own.
 */
final class CeleryReplies {
    private CeleryReplies() {
    }

    /**
     * Celery's request dict ({@code Request.info()}): the ten keys of {@code active},
     * {@code reserved}, {@code scheduled[].request} and {@code query_task}. With {@code safe}, args
     * and kwargs are their Python reprs.
     */
    static ObjectNode request(TaskMessage m, String queue, String hostname, boolean redelivered, Instant started,
                              boolean acknowledged, Long workerPid, boolean safe) {
        ObjectNode o = Json.NODES.objectNode();
        o.put("id", m.id());
        o.put("name", m.task());
        if (safe) {
            o.put("args", PythonRepr.args(m.args()));
            o.put("kwargs", PythonRepr.kwargs(m.kwargs()));
        } else {
            o.set("args", m.args());
            o.set("kwargs", m.kwargs());
        }
        o.put("type", m.task());
        o.put("hostname", hostname);
        if (started == null) {
            o.putNull("time_start");
        } else {
            o.put("time_start", started.toEpochMilli() / 1000.0);
        }
        o.put("acknowledged", acknowledged);
        ObjectNode di = o.putObject("delivery_info");
        di.put("exchange", "");
        di.put("routing_key", queue);
        di.put("priority", m.priority());
        if (redelivered) {
            di.put("redelivered", true);
        } else {
            di.putNull("redelivered");
        }
        if (workerPid == null) {
            o.putNull("worker_pid");
        } else {
            o.put("worker_pid", workerPid);
        }
        return o;
    }

    /** {@code stats()['broker']}: kombu's {@code Connection.info()} of the broker URL, without the password. */
    static ObjectNode broker(String url) {
        ObjectNode o = Json.NODES.objectNode();
        String scheme = url.contains(":") ? url.substring(0, url.indexOf(':')) : url;
        String host = "localhost";
        Integer port = null;
        String user = null;
        String vhost = "/";
        boolean ssl = scheme.endsWith("s") && !scheme.equals("redis-sentinels") && !scheme.equals("sqlite");
        try {
            if (url.startsWith("sqlite:") || url.startsWith("memory:")) {
                vhost = url.substring(url.indexOf(':') + 1).replaceFirst("^//", "");
            } else {
                // a sentinel URL lists several hosts: the first one stands for them
                URI u = new URI(url.replaceFirst("^([a-z-]+://(?:[^@/]*@)?[^,/?]+)(?:,[^/?]*)?", "$1"));
                if (u.getHost() != null) {
                    host = u.getHost();
                }
                port = u.getPort() < 0 ? null : u.getPort();
                if (u.getUserInfo() != null && u.getUserInfo().contains(":") && !u.getUserInfo().startsWith(":")) {
                    user = u.getUserInfo().substring(0, u.getUserInfo().indexOf(':'));
                }
                String path = u.getPath() == null ? "" : u.getPath().replaceFirst("^/", "");
                vhost = scheme.startsWith("redis") ? (path.isEmpty() ? "0" : path) : (path.isEmpty() ? "/" : path);
            }
        } catch (Exception unparsable) {
            vhost = Secrets.redact(url);
        }
        if (port == null) {
            port = switch (scheme) {
                case "redis", "rediss" -> 6379;
                case "redis-sentinel" -> 26379;
                case "postgresql", "postgres" -> 5432;
                case "amqp" -> 5672;
                case "amqps" -> 5671;
                default -> 0;
            };
        }
        o.put("hostname", host);
        if (user == null) {
            o.putNull("userid");
        } else {
            o.put("userid", user);
        }
        o.put("virtual_host", vhost);
        o.put("port", port);
        o.put("insist", false);
        o.put("ssl", ssl);
        o.put("transport", scheme.equals("rediss") ? "rediss" : scheme.replace("redis-sentinel", "sentinel"));
        o.put("connect_timeout", 4);
        o.putObject("transport_options");
        o.putNull("login_method");
        o.putNull("uri_prefix");
        o.put("heartbeat", 120.0);
        o.put("failover_strategy", "round-robin");
        o.putArray("alternates");
        return o;
    }

    /** {@code stats()['rusage']}: getrusage of this process, read from /proc where the JVM does not give it. */
    static ObjectNode rusage() {
        long[] stat = procStat();
        ObjectNode o = Json.NODES.objectNode();
        o.put("utime", stat[0] / 100.0); // clock ticks: USER_HZ is 100 on Linux
        o.put("stime", stat[1] / 100.0);
        o.put("maxrss", Math.max(0, statusKib("VmHWM:")));
        o.put("ixrss", 0);
        o.put("idrss", 0);
        o.put("isrss", 0);
        o.put("minflt", stat[2]);
        o.put("majflt", stat[3]);
        o.put("nswap", 0);
        o.put("inblock", 0);
        o.put("oublock", 0);
        o.put("msgsnd", 0);
        o.put("msgrcv", 0);
        o.put("nsignals", 0);
        o.put("nvcsw", Math.max(0, statusKib("voluntary_ctxt_switches:")));
        o.put("nivcsw", Math.max(0, statusKib("nonvoluntary_ctxt_switches:")));
        return o;
    }

    /** utime, stime, minflt, majflt of /proc/self/stat (zeros where there is no /proc). */
    private static long[] procStat() {
        try {
            String s = Files.readString(Path.of("/proc/self/stat"));
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
            // after "pid (comm) ": state=0 … minflt=7, majflt=9, utime=11, stime=12
            return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12]), Long.parseLong(f[7]), Long.parseLong(f[9])};
        } catch (Exception notLinux) {
            long cpu = ProcessHandle.current().info().totalCpuDuration().map(d -> d.toMillis() / 10).orElse(0L);
            return new long[] {cpu, 0, 0, 0};
        }
    }

    /** A number from /proc/self/status (kB values as kB), or -1. */
    private static long statusKib(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
                }
            }
        } catch (Exception notLinux) {
            // not available here
        }
        return -1;
    }

    /** One entry of {@code active_queues}: kombu's {@code Queue.as_dict(recurse=True)} for a direct queue. */
    static ObjectNode queue(String name) {
        ObjectNode q = Json.NODES.objectNode();
        q.put("name", name);
        ObjectNode ex = q.putObject("exchange");
        ex.put("name", name);
        ex.put("type", "direct");
        ex.putNull("arguments");
        ex.put("durable", true);
        ex.put("passive", false);
        ex.put("auto_delete", false);
        ex.putNull("delivery_mode");
        ex.put("no_declare", false);
        q.put("routing_key", name);
        q.putNull("queue_arguments");
        q.putNull("binding_arguments");
        q.putNull("consumer_arguments");
        q.put("durable", true);
        q.put("exclusive", false);
        q.put("auto_delete", false);
        q.put("no_ack", false);
        q.putNull("alias");
        q.putArray("bindings");
        q.putNull("no_declare");
        q.putNull("expires");
        q.putNull("message_ttl");
        q.putNull("max_length");
        q.putNull("max_length_bytes");
        q.putNull("max_priority");
        return q;
    }

    /** {@code report}'s text: Celery's bug-report layout with Celeriac's versions and the non-default settings. */
    static String report(String version, String brokerUrl, String resultUrl, java.util.Map<String, String> settings) {
        StringBuilder b = new StringBuilder();
        b.append("\nsoftware -> celeriac:").append(version).append(" java:").append(System.getProperty("java.version"))
                .append(" (").append(System.getProperty("java.vm.name")).append(")\n");
        b.append("platform -> system:").append(System.getProperty("os.name")).append(" arch:")
                .append(System.getProperty("os.arch")).append(" kernel version:").append(System.getProperty("os.version")).append('\n');
        b.append("loader   -> io.celeriac.CeleriacApp (ServiceLoader)\n");
        b.append("settings -> transport:").append(scheme(brokerUrl)).append(" results:").append(Secrets.redact(resultUrl)).append("\n\n");
        settings.forEach((k, v) -> b.append(k).append(": ").append(Secrets.redact(k, v)).append('\n'));
        return b.toString();
    }

    private static String scheme(String url) {
        return url.contains(":") ? url.substring(0, url.indexOf(':')) : url;
    }

    /** {@code memsample}: the resident size now, as Celery's {@code "45.25MB"}. */
    static String memsample() {
        long kib = ChildProcess.rssKib(ProcessHandle.current().pid());
        return String.format(java.util.Locale.ROOT, "%.2fMB", Math.max(0, kib) / 1024.0);
    }

    static ArrayNode array(List<String> items) {
        ArrayNode a = Json.NODES.arrayNode();
        items.forEach(a::add);
        return a;
    }
}
