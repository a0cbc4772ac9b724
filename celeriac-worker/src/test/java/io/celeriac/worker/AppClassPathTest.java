package io.celeriac.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarOutputStream;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which class path entries a child loads per generation, on real directories and jars. */
class AppClassPathTest {
    @TempDir
    Path dir;

    private Path jar(String name, String... entries) throws Exception {
        Path p = dir.resolve(name);
        try (OutputStream out = Files.newOutputStream(p); JarOutputStream jar = new JarOutputStream(out)) {
            for (String e : entries) {
                jar.putNextEntry(new ZipEntry(e));
                jar.write(1);
                jar.closeEntry();
            }
        }
        return p;
    }

    private static String path(Path... entries) {
        return String.join(File.pathSeparator, java.util.Arrays.stream(entries).map(Path::toString).toList());
    }

    @Test
    void theJarListingTheAppIsLoadedPerGenerationAndEverythingElseStaysShared() throws Exception {
        Path celeriac = jar("celeriac.jar", AppClassPath.CELERIAC_MARK, "io/celeriac/TaskContext.class");
        Path app = jar("app.jar", AppClassPath.SERVICES, "com/example/App.class");
        Path lib = jar("lib.jar", "com/example/lib/Util.class");
        AppClassPath split = AppClassPath.of(path(celeriac, app, lib), "");
        assertThat(split.splits()).isTrue();
        assertThat(split.app()).containsExactly(app.toString());
        assertThat(split.shared()).containsExactly(celeriac.toString(), lib.toString());
        assertThat(split.sharedPath()).isEqualTo(path(celeriac, lib));
    }

    @Test
    void aNamedAppIsFoundByItsClassFileInADirectoryToo() throws Exception {
        Path celeriac = jar("celeriac.jar", AppClassPath.CELERIAC_MARK);
        Path classes = Files.createDirectories(dir.resolve("classes/com/example")).getParent().getParent();
        Files.writeString(classes.resolve("com/example/App.class"), "x");
        AppClassPath split = AppClassPath.of(path(celeriac, classes), "com.example.App");
        assertThat(split.app()).containsExactly(classes.toString());
        assertThat(split.shared()).containsExactly(celeriac.toString());
    }

    @Test
    void anAppInOneJarWithCeleriacCannotBeSplitAndSaysWhy() throws Exception {
        Path fat = jar("all.jar", AppClassPath.CELERIAC_MARK, AppClassPath.SERVICES);
        AppClassPath split = AppClassPath.of(fat.toString(), "");
        assertThat(split.splits()).isFalse();
        assertThat(split.shared()).containsExactly(fat.toString());
        assertThat(split.why()).isEqualTo("the app is in " + fat + " with celeriac's own classes");
    }

    @Test
    void noEntryHoldingTheAppMeansNoSplit() throws Exception {
        Path celeriac = jar("celeriac.jar", AppClassPath.CELERIAC_MARK);
        AppClassPath split = AppClassPath.of(path(celeriac, dir.resolve("missing.jar")), "com.example.Gone");
        assertThat(split.splits()).isFalse();
        assertThat(split.app()).isEmpty();
        assertThat(split.why()).isEqualTo("no class path entry holds com/example/Gone.class");
        assertThat(split.shared()).isEqualTo(List.of(celeriac.toString(), dir.resolve("missing.jar").toString()));
    }
}
