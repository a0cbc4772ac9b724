package io.celeriac.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** docs/SETTINGS.md is generated from the table; this fails when the two drift apart. */
@Tag("unit")
class SettingsDocumentedTest {
    @Test
    void theSettingsReferenceIsTheTableRendered() throws IOException {
        Path doc = Path.of("..", "docs", "SETTINGS.md");
        assertThat(Files.readString(doc))
                .as("docs/SETTINGS.md is out of date; regenerate it with: ./celeriac settings --markdown > docs/SETTINGS.md")
                .isEqualTo(SettingsReference.markdown());
    }
}
