package io.celeriac.manager;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** Real processes: {@link ProcessBuilder}, with a thread per process pumping its output into the logs. */
public final class OsLauncher implements Launcher {

    @Override
    public Child launch(String processName, List<String> command, Map<String, String> environment, LineSink output)
            throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(environment);
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p = pb.start();
        Thread pump = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    output.line(processName, line);
                }
            } catch (IOException e) {
                // the process is gone
            }
        }, "celeriac-output-" + processName);
        pump.setDaemon(true);
        pump.start();
        return new Child() {
            @Override
            public long pid() {
                return p.pid();
            }

            @Override
            public Integer exitCode() {
                return p.isAlive() ? null : p.exitValue();
            }

            @Override
            public void terminate() {
                p.destroy();
            }

            @Override
            public void kill() {
                p.destroyForcibly();
            }
        };
    }
}
