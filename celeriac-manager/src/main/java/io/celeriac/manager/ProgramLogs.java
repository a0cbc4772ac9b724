package io.celeriac.manager;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The programs' output, to files under {@code log_dir} (the seed's separate worker and beat logs):
 * everything to {@code NAME.log}, and warnings and errors (with the stack-trace lines that follow
 * them) also to {@code NAME_error.log}. Lines of a program with several processes go to the same
 * files. The level is read from Celeriac's log line prefix, {@code [date time: LEVEL/thread]}, or
 * from the start of its JSON line ({@code log_format: json}: {@code {"timestamp":"…","level":"LEVEL",…}},
 * one line with its stack trace inside).
 */
public final class ProgramLogs implements Launcher.LineSink, AutoCloseable {
    private static final Pattern LOG_LINE = Pattern.compile("^\\[\\d{4}-\\d\\d-\\d\\d [0-9:,]+: (\\w+)\\s*/");
    private static final Pattern JSON_LINE = Pattern.compile("^\\{\"timestamp\":\"[^\"]*\",\"level\":\"(\\w+)\"");
    /** Output that is not a log line but reads as trouble: a JVM that could not start, an uncaught exception. */
    private static final Pattern TROUBLE = Pattern.compile("(?i)(exception|error|fatal|caused by|could not|cannot)");

    private final Map<String, RotatingLog> all = new HashMap<>();
    private final Map<String, RotatingLog> errors = new HashMap<>();
    private final Map<String, String> programOf = new HashMap<>();
    private final Map<String, Boolean> inError = new HashMap<>();
    private final Path dir;

    public ProgramLogs(Path dir, List<ProgramSpec> programs, long maxBytes, int backups) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir);
        for (ProgramSpec p : programs) {
            all.put(p.name(), new RotatingLog(dir.resolve(p.name() + ".log"), maxBytes, backups));
            errors.put(p.name(), new RotatingLog(dir.resolve(p.name() + "_error.log"), maxBytes, backups));
            for (String process : p.processNames()) {
                programOf.put(process, p.name());
            }
        }
    }

    /** The file a process's lines go to: its program's {@code NAME.log}. */
    public Path file(String process) {
        return dir.resolve(programOf.getOrDefault(process, process) + ".log").toAbsolutePath();
    }

    @Override
    public void line(String process, String line) {
        String program = programOf.getOrDefault(process, process);
        RotatingLog log = all.get(program);
        if (log == null) {
            return;
        }
        log.write(line);
        var m = line.startsWith("{") ? JSON_LINE.matcher(line) : LOG_LINE.matcher(line);
        boolean error;
        synchronized (inError) {
            if (m.find()) {
                String level = m.group(1);
                error = level.equals("WARN") || level.equals("ERROR");
                inError.put(process, error);
            } else if (line.startsWith("\t") || line.startsWith(" ") || line.startsWith("Caused by")) {
                error = inError.getOrDefault(process, false); // a stack trace belongs with the line before it
            } else {
                error = TROUBLE.matcher(line).find(); // a banner is not an error; "Error: could not…" is
                inError.put(process, error);
            }
        }
        if (error) {
            errors.get(program).write(line);
        }
    }

    @Override
    public void close() {
        all.values().forEach(RotatingLog::close);
        errors.values().forEach(RotatingLog::close);
    }
}
