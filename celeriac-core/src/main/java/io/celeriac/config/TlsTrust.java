package io.celeriac.config;

import io.celeriac.ConfigException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * Which certificates a TLS connection to a broker trusts (the {@code ssl_ca_certs} and
 * {@code ssl_cert_reqs} options of Celery's {@code rediss://} and {@code amqps://} URLs), written once.
 */
public final class TlsTrust {
    private TlsTrust() {
    }

    /**
     * A TLS context trusting the CA certificates in the PEM file {@code caCerts} (null: the JVM's
     * own trust store); with {@code verify} false, any certificate (Celery's
     * {@code ssl_cert_reqs=none}: encrypted, not authenticated).
     *
     * @param caCerts a PEM file of CA certificates, or null
     * @param verify  whether the server's certificate is checked
     * @return the context
     * @throws ConfigException when the file cannot be read or holds no certificate
     */
    public static SSLContext context(String caCerts, boolean verify) {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            if (!verify) {
                ctx.init(null, new TrustManager[] {new X509TrustManager() {
                    @Override
                    public void checkClientTrusted(X509Certificate[] chain, String authType) {
                    }

                    @Override
                    public void checkServerTrusted(X509Certificate[] chain, String authType) {
                    }

                    @Override
                    public X509Certificate[] getAcceptedIssuers() {
                        return new X509Certificate[0];
                    }
                }}, null);
                return ctx;
            }
            if (caCerts == null) {
                ctx.init(null, null, null);
                return ctx;
            }
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            try (InputStream in = Files.newInputStream(Path.of(caCerts))) {
                int i = 0;
                for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    trust.setCertificateEntry("ca-" + i++, c);
                }
                if (i == 0) {
                    throw new ConfigException("ssl_ca_certs '" + caCerts + "' holds no PEM certificate");
                }
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (IOException e) {
            throw new ConfigException("ssl_ca_certs '" + caCerts + "' cannot be read: " + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw new ConfigException("ssl_ca_certs '" + caCerts + "' is not a PEM certificate file: " + e.getMessage());
        }
    }
}
