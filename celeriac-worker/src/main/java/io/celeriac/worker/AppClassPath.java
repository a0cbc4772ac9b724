package io.celeriac.worker;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipFile;

/**
 * The class path of a process-pool child split in two, for recycling by class loader
 * ({@code worker_max_tasks_per_child}): the entries that hold the app — the {@code app} class, or a
 * {@code META-INF/services/io.celeriac.CeleriacApp} file — are loaded by each of the child's
 * {@link AppGeneration}s, and the rest (celeriac, its dependencies, the app's other jars) stays on
 * the child's own class path, loaded once and shared by every generation.
 *
 * <p>The split is impossible — and a recycle then replaces the whole JVM, as before — when no entry
 * holds the app, or an entry that holds it also holds celeriac's own classes (an app built into one
 * jar with celeriac): such an entry cannot leave the JVM's class path, so the app's classes could
 * not be loaded afresh.
 *
 * @param shared the child's own class path (every entry but the app's)
 * @param app    the entries each generation loads; empty when there is no split
 * @param why    why there is no split, or null
 */
record AppClassPath(List<String> shared, List<String> app, String why) {
    /** A class only celeriac's own jars hold: an entry with it cannot be an app's alone. */
    static final String CELERIAC_MARK = "io/celeriac/worker/ChildMain.class";
    static final String SERVICES = "META-INF/services/io.celeriac.CeleriacApp";

    /** Whether the app can be loaded, and so recycled, by a class loader of its own. */
    boolean splits() {
        return !app.isEmpty();
    }

    /** {@code java.class.path} split for the app named {@code appClass} (blank: the apps listed in META-INF/services). */
    static AppClassPath of(String classPath, String appClass) {
        List<String> entries = new ArrayList<>();
        for (String e : classPath.split(File.pathSeparator)) {
            if (!e.isEmpty()) {
                entries.add(e);
            }
        }
        String marker = appClass == null || appClass.isBlank() ? SERVICES : appClass.trim().replace('.', '/') + ".class";
        List<String> shared = new ArrayList<>();
        List<String> app = new ArrayList<>();
        for (String e : entries) {
            if (holds(e, marker)) {
                if (holds(e, CELERIAC_MARK)) {
                    return new AppClassPath(entries, List.of(), "the app is in " + e + " with celeriac's own classes");
                }
                app.add(e);
            } else {
                shared.add(e);
            }
        }
        if (app.isEmpty()) {
            return new AppClassPath(entries, List.of(), "no class path entry holds " + marker);
        }
        return new AppClassPath(List.copyOf(shared), List.copyOf(app), null);
    }

    /** The shared entries joined as a {@code -cp} value. */
    String sharedPath() {
        return String.join(File.pathSeparator, shared);
    }

    /** The app's entries joined, for the child's {@link ChildMain#APP_CLASS_PATH}. */
    String appPath() {
        return String.join(File.pathSeparator, app);
    }

    /** Whether the directory or jar {@code entry} has the file {@code name} (a path with '/'). */
    static boolean holds(String entry, String name) {
        Path p = Path.of(entry);
        if (Files.isDirectory(p)) {
            return Files.isRegularFile(p.resolve(name));
        }
        if (!Files.isRegularFile(p)) {
            return false;
        }
        try (ZipFile zip = new ZipFile(p.toFile())) {
            return zip.getEntry(name) != null;
        } catch (IOException e) {
            return false; // not a jar: the JVM ignores it too
        }
    }
}
