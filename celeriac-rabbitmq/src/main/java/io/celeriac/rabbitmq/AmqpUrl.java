package io.celeriac.rabbitmq;

import io.celeriac.ConfigException;
import io.celeriac.config.Secrets;
import io.celeriac.config.TlsTrust;
import com.rabbitmq.client.ConnectionFactory;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * A broker URL as kombu reads it: {@code amqp://user:password@host:port/vhost}, {@code pyamqp://}
 * the same, {@code amqps://} with TLS ({@code ?ssl_ca_certs=/path/ca.pem} to trust a CA file, else
 * the JVM's trust store; {@code ssl_cert_reqs=none}: any certificate). The vhost is the path without its first slash, URL-decoded: {@code //}
 * and {@code /%2F} are {@code /}; none is {@code /} too.
 */
final class AmqpUrl {
    final String url;
    final boolean tls;
    final String host;
    final int port;
    final String user;
    final String password;
    final String vhost;
    final String caCerts;
    final boolean verify;

    private AmqpUrl(String url, boolean tls, String host, int port, String user, String password, String vhost, String caCerts,
                    boolean verify) {
        this.url = url;
        this.tls = tls;
        this.host = host;
        this.port = port;
        this.user = user;
        this.password = password;
        this.vhost = vhost;
        this.caCerts = caCerts;
        this.verify = verify;
    }

    static AmqpUrl parse(String url) {
        String shown = Secrets.redact(url);
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new ConfigException("broker_url '" + shown + "' is not a URL: " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        boolean tls = switch (scheme) {
            case "amqp", "pyamqp" -> false;
            case "amqps" -> true;
            default -> throw new ConfigException("broker_url '" + shown + "': expected amqp://, amqps:// or pyamqp://");
        };
        String host = uri.getHost() == null || uri.getHost().isEmpty() ? "localhost" : uri.getHost();
        int port = uri.getPort() > 0 ? uri.getPort() : tls ? 5671 : 5672;
        String user = "guest";
        String password = "guest";
        String info = uri.getRawUserInfo();
        if (info != null && !info.isEmpty()) {
            int colon = info.indexOf(':');
            user = decode(colon < 0 ? info : info.substring(0, colon));
            if (colon >= 0) {
                password = decode(info.substring(colon + 1));
            }
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        String vhost = path.length() <= 1 ? "/" : decode(path.substring(1));
        String caCerts = null;
        boolean verify = true;
        if (uri.getRawQuery() != null) {
            for (String kv : uri.getRawQuery().split("&")) {
                if (kv.isEmpty()) {
                    continue;
                }
                int eq = kv.indexOf('=');
                String k = decode(eq < 0 ? kv : kv.substring(0, eq));
                String v = eq < 0 ? "" : decode(kv.substring(eq + 1));
                switch (k) {
                    case "ssl_ca_certs" -> caCerts = v;
                    case "ssl_cert_reqs" -> verify = switch (v.toLowerCase(java.util.Locale.ROOT)) {
                        case "required", "cert_required" -> true;
                        case "none", "cert_none" -> false;
                        default -> throw new ConfigException("broker_url '" + shown + "': ssl_cert_reqs must be required or none, got '"
                                + v + "'");
                    };
                    default -> throw new ConfigException("broker_url '" + shown + "': unknown option '" + k
                            + "' (known: ssl_ca_certs, ssl_cert_reqs)");
                }
            }
        }
        if ((caCerts != null || !verify) && !tls) {
            throw new ConfigException("broker_url '" + shown + "': ssl_ca_certs and ssl_cert_reqs need amqps://");
        }
        return new AmqpUrl(url, tls, host, port, user, password, vhost, caCerts, verify);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** The URL without its password. */
    String describe() {
        String scheme = url.substring(0, url.indexOf(':'));
        return scheme + "://" + user + "@" + host + ":" + port + "/"
                + (vhost.equals("/") ? "/" : java.net.URLEncoder.encode(vhost, StandardCharsets.UTF_8));
    }

    /** A factory for this URL (recovery is set by the caller). */
    ConnectionFactory factory() {
        ConnectionFactory f = new ConnectionFactory();
        f.setHost(host);
        f.setPort(port);
        f.setUsername(user);
        f.setPassword(password);
        f.setVirtualHost(vhost);
        if (tls) {
            f.useSslProtocol(TlsTrust.context(caCerts, verify));
            if (verify) {
                f.enableHostnameVerification();
            }
        }
        return f;
    }
}
