package io.celeriac.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.celeriac.ConfigException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The one redaction: what {@link Secrets} masks, and what it leaves alone. */
@Tag("unit")
class SecretsTest {
    @Test
    void thePasswordInAUrlsUserInfoIsMaskedAndTheUserKept() {
        assertThat(Secrets.redact("redis://:hunter2@redis.example:6379/0")).isEqualTo("redis://:***@redis.example:6379/0");
        assertThat(Secrets.redact("postgresql://celeriac:s3cret@db:5432/q")).isEqualTo("postgresql://celeriac:***@db:5432/q");
        assertThat(Secrets.redact("redis-sentinel://:pw@h1:26379,h2:26379/0?master=m"))
                .isEqualTo("redis-sentinel://:***@h1:26379,h2:26379/0?master=m");
        // unescaped '@' and '/' in a password: everything up to the last '@' goes
        assertThat(Secrets.redact("redis://:p@ss/w0rd@host/0")).isEqualTo("redis://:***@host/0");
        // within a sentence, as in an error message; twice is the same as once
        String msg = "'postgresql://u:topsecret@db/x': cannot connect (timeout)";
        assertThat(Secrets.redact(msg)).isEqualTo("'postgresql://u:***@db/x': cannot connect (timeout)");
        assertThat(Secrets.redact(Secrets.redact(msg))).isEqualTo(Secrets.redact(msg));
    }

    @Test
    void parametersWhoseNamesSaySecretAreMasked() {
        assertThat(Secrets.redact("postgresql://db/q?user=a&password=pw1&sslpassword=pw2&sslmode=require"))
                .isEqualTo("postgresql://db/q?user=a&password=***&sslpassword=***&sslmode=require");
        assertThat(Secrets.redact("jdbc:sqlserver://h;user=a;password=pw3;db=x")).isEqualTo("jdbc:sqlserver://h;user=a;password=***;db=x");
        assertThat(Secrets.redact("https://api.example/v1?api_key=k1&access_token=t1&client_secret=s1&sig=x1&page=2"))
                .isEqualTo("https://api.example/v1?api_key=***&access_token=***&client_secret=***&sig=***&page=2");
        assertThat(Secrets.redact("connecting with password=pw4 now")).isEqualTo("connecting with password=*** now");
        // kombu's own words stay
        assertThat(Secrets.redact("amqp://h/?routing_key=celery")).isEqualTo("amqp://h/?routing_key=celery");
        // nothing secret: unchanged
        for (String plain : List.of("sqlite:celeriac.db", "redis://localhost:6379/0", "memory://x", "5m", "celery,high", "")) {
            assertThat(Secrets.redact(plain)).isEqualTo(plain);
        }
        assertThat(Secrets.redact((String) null)).isNull();
    }

    @Test
    void webhookUrlsKeepOnlySchemeHostAndPort() {
        assertThat(Secrets.redactWebhook("https://alerts.example.com:8443/hook/abc123?token=x")).isEqualTo("https://alerts.example.com:8443/***");
        assertThat(Secrets.redactWebhook("http://alerts.example.com/")).isEqualTo("http://alerts.example.com");
        assertThat(Secrets.redactWebhook("https://u:p@alerts.example.com/x")).isEqualTo("https://alerts.example.com/***");
        assertThat(Secrets.redactWebhook("not a url")).isEqualTo("***");
        // by a setting's name
        assertThat(Secrets.redact("alert_webhook_url", "https://alerts.example.com/hook/abc123")).isEqualTo("https://alerts.example.com/***");
        // well-known webhook hosts, wherever they appear in text
        assertThat(Secrets.redact("POST https://hooks.slack.com/services/T000/B000/XXXXSECRET failed"))
                .isEqualTo("POST https://hooks.slack.com/*** failed");
        assertThat(Secrets.redact("https://discord.com/api/webhooks/123/tok-en")).isEqualTo("https://discord.com/***");
        assertThat(Secrets.redact("https://acme.webhook.office.com/webhookb2/abc/IncomingWebhook/def"))
                .isEqualTo("https://acme.webhook.office.com/***");
        assertThat(Secrets.redact("https://api.telegram.org/bot123:AAH/sendMessage")).isEqualTo("https://api.telegram.org/***");
    }

    @Test
    void settingsVariablesAndKeysNamedAsSecretsAreMaskedWhole() {
        assertThat(Secrets.redact("db_password", "plain")).isEqualTo("***");
        assertThat(Secrets.redact("API_TOKEN", "abc")).isEqualTo("***");
        assertThat(Secrets.redact("aws_secret_access_key", "abc")).isEqualTo("***");
        assertThat(Secrets.redact("db_password", "")).isEmpty(); // unset is shown as unset
        assertThat(Secrets.redact("broker_url", "redis://:pw@h/0")).isEqualTo("redis://:***@h/0");
        assertThat(Secrets.redact("dashboard_auth", "bearer:s3cret-token-0123456789")).isEqualTo("bearer:***");
        assertThat(Secrets.redact("dashboard_auth", "basic:ops:pbkdf2-sha256$600000$c2FsdA$aGFzaA")).isEqualTo("basic:ops:***");
        assertThat(Secrets.redact("dashboard_auth", "garbage")).isEqualTo("***");
        Object tree = Secrets.redactValue("programs", Map.of("worker", Map.of("environment",
                Map.of("DB_PASSWORD", "pw", "PIN_SECRET", 1234, "LEVEL", "INFO", "DSN", "postgresql://a:pw@h/db"),
                "command", List.of("run", "--password=pw"))));
        assertThat(tree.toString()).doesNotContain("pw@", "=pw", "1234").contains("LEVEL=INFO", "postgresql://a:***@h/db");
        // a mapping under a secret-looking name is looked into, not masked whole
        assertThat(Secrets.redactValue("refresh-tokens", Map.of("task", "refresh"))).isEqualTo(Map.of("task", "refresh"));
    }

    @Test
    void noSettingOfTheTableIsMaskedByItsNameAlone() {
        // A setting whose every value would show as *** would hide configuration for nothing.
        assertThat(Settings.all()).noneMatch(s -> Secrets.isSecretName(s.name()));
    }

    @Test
    void configDescribeShowsEveryValueRedacted() {
        Config c = ConfigLoader.load(null, java.nio.file.Path.of("."), Map.of(), Map.of(
                "broker_url", "redis://:brokerpw@h:6379/0",
                "result_backend", "postgresql://u:resultpw@h/db?sslpassword=sslpw",
                "health_check_jdbc_url", "jdbc:postgresql://h/db?user=a&password=jdbcpw",
                "alert_webhook_url", "https://alerts.example.com/hook/webhooktoken",
                "programs", "{\"w\": {\"kind\": \"worker\", \"environment\": {\"API_KEY\": \"envkey\"}}}"));
        String shown = c.describe().toString();
        assertThat(shown).doesNotContain("brokerpw", "resultpw", "sslpw", "jdbcpw", "webhooktoken", "envkey")
                .contains("redis://:***@h:6379/0", "https://alerts.example.com/***", "\"API_KEY\":\"***\"");
        // the values themselves are untouched
        assertThat(c.get(Settings.BROKER_URL)).isEqualTo("redis://:brokerpw@h:6379/0");
    }

    @Test
    void aPortOutOfRangeInAnyUrlSettingIsRejected() {
        for (String name : List.of("broker_url", "result_backend", "health_check_jdbc_url", "alert_webhook_url")) {
            assertThatThrownBy(() -> Config.builder().setRaw(name, "redis://localhost:70000/0", "command line"))
                    .isInstanceOf(ConfigException.class)
                    .hasMessage("setting '" + name + "': port 70000 out of range 1–65535 (from command line)");
        }
        assertThatThrownBy(() -> Config.builder().setRaw("broker_url", "redis-sentinel://h1:26379,h2:0/0", "x"))
                .hasMessageContaining("port 0 out of range 1–65535");
        assertThatThrownBy(() -> Config.builder().setRaw("broker_url", "redis://[::1]:123456/0", "x"))
                .hasMessageContaining("port 123456 out of range 1–65535");
        assertThatThrownBy(() -> Config.builder().setRaw("health_check_jdbc_url", "jdbc:postgresql://h:54x2/db", "x"))
                .hasMessageContaining("port '54x2' is not a number");
        // a password that looks like a port is not one, and is not said
        Config.builder().setRaw("broker_url", "redis://:99999/x@h:6379/0", "x");
        for (String ok : List.of("sqlite:celeriac.db", "redis://[::1]:6379/0", "redis://h/0", "postgresql://u:p@h:65535/db", "")) {
            Config.builder().setRaw("broker_url", ok, "x");
        }
    }

    @Test
    void aDurationBeyondTheMaximumIsRejectedNotClamped() {
        assertThatThrownBy(() -> Config.builder().setRaw("task_time_limit", "99999999999999999999d", "command line"))
                .hasMessage("setting 'task_time_limit': '99999999999999999999d' is out of range (max 3650d) (from command line)");
        assertThatThrownBy(() -> Config.builder().setRaw("result_expires", 1e30, "config file"))
                .hasMessageContaining("is out of range (max 3650d)");
        assertThatThrownBy(() -> Config.builder().setRaw("result_expires", Double.POSITIVE_INFINITY, "config file"))
                .hasMessageContaining("is out of range (max 3650d)");
        assertThatThrownBy(() -> Config.builder().setRaw("task_time_limit", Double.NaN, "config file"))
                .hasMessageContaining("is not a valid value");
        assertThat(Config.builder().setRaw("task_time_limit", "3650d", "x").build().get(Settings.TASK_TIME_LIMIT))
                .isEqualTo(ValueType.MAX_DURATION);
    }
}
