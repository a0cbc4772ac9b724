package io.celeriac.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "logs", mixinStandardHelpOptions = true,
        description = {"Show a program's log (worker, beat, manager, or any program's name), or 'error' for the",
                "warnings and errors of every program. -f follows it as it grows (across rotations)."})
final class LogsCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", defaultValue = "worker")
    String name;

    @Option(names = {"-n", "--lines"}, paramLabel = "N", defaultValue = "50", description = "How many lines from the end (default 50).")
    int lines;

    @Option(names = {"-f", "--follow"}, description = "Keep printing lines as they are written (Ctrl-C to stop).")
    boolean follow;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (lines < 0) {
            throw new IllegalArgumentException("-n must not be negative");
        }
        ManagerContext ctx = new ManagerContext(config);
        List<Path> files = new ArrayList<>();
        if (name.equals("error")) {
            try (var s = Files.list(ctx.logDir)) {
                s.filter(p -> p.getFileName().toString().endsWith("_error.log")).sorted().forEach(files::add);
            } catch (IOException e) {
                // no log directory yet: reported below
            }
        } else {
            files.add(ctx.logDir.resolve(name + ".log"));
        }
        if (files.isEmpty() || files.stream().noneMatch(Files::exists)) {
            throw new io.celeriac.ConfigException("no log '" + name + "' in " + ctx.logDir + " (names: worker, beat, manager, error,"
                    + " or a program's name; logs are written by celeriac start)");
        }
        PrintWriter out = spec.commandLine().getOut();
        for (Path f : files) {
            if (files.size() > 1) {
                out.println("==> " + f + " <==");
            }
            StartCommand.tail(f, lines).forEach(out::println);
        }
        out.flush();
        if (follow) {
            follow(files.get(files.size() - 1), out);
        }
        return Main.OK;
    }

    /** Prints what is appended to {@code file}; starts over when it is rotated (it shrinks). */
    private static void follow(Path file, PrintWriter out) throws IOException, InterruptedException {
        long pos = Files.size(file);
        while (true) {
            Thread.sleep(200);
            if (!Files.exists(file)) {
                continue;
            }
            long size = Files.size(file);
            if (size < pos) {
                pos = 0; // rotated: the new file starts from the beginning
            }
            if (size > pos) {
                try (RandomAccessFile r = new RandomAccessFile(file.toFile(), "r")) {
                    r.seek(pos);
                    byte[] buf = new byte[(int) (size - pos)];
                    r.readFully(buf);
                    out.print(new String(buf, StandardCharsets.UTF_8));
                    out.flush();
                }
                pos = size;
            }
        }
    }
}
