package io.celeriac.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.celeriac.ConfigException;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Which URL each of the three stores is opened from. */
class BackendsTest {

    @Test
    void coordinationFollowsTheResultBackendThenTheBroker() {
        Config brokerOnly = Config.builder().set(Settings.BROKER_URL, "memory://b").build();
        assertThat(Backends.coordinationUrl(brokerOnly)).isEqualTo("memory://b");
        Config withResults = brokerOnly.toBuilder().set(Settings.RESULT_BACKEND, "memory://r").build();
        assertThat(Backends.coordinationUrl(withResults)).isEqualTo("memory://r");
        Config own = withResults.toBuilder().set(Settings.COORDINATION_URL, "memory://c").build();
        assertThat(Backends.coordinationUrl(own)).isEqualTo("memory://c");
    }

    @Test
    void openCoordinationUsesItsOwnUrl() {
        String name = "backends-" + UUID.randomUUID();
        Config c = Config.builder().set(Settings.BROKER_URL, "memory://" + name + "-b")
                .set(Settings.COORDINATION_URL, "memory://" + name + "-c").build();
        try (Coordination opened = Backends.openCoordination(c);
             Coordination same = new InMemoryBackend().openCoordination("memory://" + name + "-c", c);
             Coordination brokers = new InMemoryBackend().openCoordination("memory://" + name + "-b", c)) {
            opened.revoke("t1", false, Instant.now().plusSeconds(60));
            assertThat(same.revocations(Instant.EPOCH)).extracting(Revocation::taskId).containsExactly("t1");
            assertThat(brokers.revocations(Instant.EPOCH)).isEmpty();
        } finally {
            InMemoryBackend.drop("memory://" + name + "-b");
            InMemoryBackend.drop("memory://" + name + "-c");
        }
    }

    @Test
    void aBadCoordinationUrlNamesItsSetting() {
        Config c = Config.builder().set(Settings.BROKER_URL, "memory://x").set(Settings.COORDINATION_URL, "nosuch://h").build();
        assertThatThrownBy(() -> Backends.checkUrls(c)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("coordination_url 'nosuch://h': no broker module for scheme 'nosuch'");
    }
}
