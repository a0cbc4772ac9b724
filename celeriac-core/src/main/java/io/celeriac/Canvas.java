package io.celeriac;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.protocol.Json;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Celery's canvas, built in Java: {@link #chain}, {@link #group} and {@link #chord} of
 * {@link Signature}s, serialised exactly as Celery 5 serialises them, so a workflow built here runs
 * on Celeriac and Python Celery workers alike. Apply one with {@link Celeriac#apply(Signature)}
 * (or {@link Celeriac#applyGroup(Signature)} for a group).
 *
 * <pre>{@code
 * AsyncResult total = app.apply(Canvas.chord(
 *         List.of(Signature.of("add", 1, 1), Signature.of("add", 2, 2)), Signature.of("tsum")));
 * total.get(Duration.ofSeconds(10));                                  // 6
 * }</pre>
 */
public final class Canvas {
    private Canvas() {
    }

    /**
     * Steps run one after another; each step's result is prepended to the next one's arguments
     * (unless it is immutable). Built as Celery's {@code chain(a, b, c)} builds it, by joining the
     * steps with its {@code |}: a group followed by a step becomes a chord with that step as body, a
     * step after a chord joins the chord's body, and a chain inside a chain is spliced in.
     *
     * @param steps the steps, in order
     * @return the chain (or what Celery's joining makes of it)
     */
    public static Signature chain(Signature... steps) {
        return chain(Arrays.asList(steps));
    }

    /**
     * {@link #chain(Signature...)} of a list.
     *
     * @param steps the steps, in order
     * @return the chain
     */
    public static Signature chain(List<Signature> steps) {
        Signature c = rawChain(List.of());
        for (Signature s : steps) {
            c = pipe(c, s);
        }
        return c;
    }

    private static Signature rawChain(List<Signature> steps) {
        return Signature.composite("celery.chain", "chain", tasks(steps), false);
    }

    /** Celery 5.2's {@code left | right} ({@code Signature.__or__}, {@code _chain.__or__}, {@code group.__or__}, {@code _chord.__or__}). */
    static Signature pipe(Signature left, Signature right) {
        switch (left.kind()) {
            case CHAIN: {
                List<Signature> steps = new ArrayList<>(unchain(left));
                if (right.kind() == Signature.Kind.GROUP) {
                    Signature g = unrollGroup(right);
                    if (steps.isEmpty()) {
                        return g;
                    }
                    steps.add(g);
                    return rawChain(steps);
                }
                if (right.kind() == Signature.Kind.CHAIN) {
                    steps.addAll(unchain(right));
                    return rawChain(steps);
                }
                if (!steps.isEmpty()) {
                    Signature last = steps.get(steps.size() - 1);
                    if (last.kind() == Signature.Kind.GROUP) {
                        steps.set(steps.size() - 1, chord(last.tasks(), right));
                        return rawChain(steps);
                    }
                    if (last.kind() == Signature.Kind.CHORD) {
                        steps.set(steps.size() - 1, last.withBody(pipe(last.body(), right)));
                        return rawChain(steps);
                    }
                }
                steps.add(right);
                return rawChain(steps);
            }
            case GROUP:
                return chord(left.tasks(), right).withOptions(left.options());
            case CHORD:
                if (right.kind() != Signature.Kind.GROUP && right.kind() != Signature.Kind.CHAIN) {
                    return left.withBody(pipe(left.body(), right));
                }
                return plain(left, right);
            default:
                return plain(left, right);
        }
    }

    /** {@code Signature.__or__}: a two-step chain (a chain on the right spliced in, a group of one unrolled). */
    private static Signature plain(Signature left, Signature right) {
        List<Signature> steps = new ArrayList<>();
        steps.add(left);
        if (right.kind() == Signature.Kind.CHAIN) {
            steps.addAll(unchain(right));
        } else if (right.kind() == Signature.Kind.GROUP) {
            steps.add(unrollGroup(right));
        } else {
            steps.add(right);
        }
        return rawChain(steps);
    }

    /** {@code unchain_tasks}: a chain's steps, each with the chain's own errbacks. */
    private static List<Signature> unchain(Signature chain) {
        List<Signature> steps = new ArrayList<>();
        List<Signature> errbacks = Signature.readAll(chain.option("link_error"));
        for (Signature t : chain.tasks()) {
            for (Signature eb : errbacks) {
                t = t.linkError(eb);
            }
            steps.add(t);
        }
        return steps;
    }

    /** {@code maybe_unroll_group}: a group of one is its task. */
    private static Signature unrollGroup(Signature group) {
        List<Signature> tasks = group.tasks();
        return tasks.size() == 1 ? tasks.get(0) : group;
    }

    /**
     * Tasks run in parallel; a {@link GroupResult} gathers their results in order. Apply it with
     * {@link Celeriac#applyGroup(Signature)}.
     *
     * @param tasks the members
     * @return the group
     */
    public static Signature group(Signature... tasks) {
        return group(Arrays.asList(tasks));
    }

    /**
     * {@link #group(Signature...)} of a list.
     *
     * @param tasks the members
     * @return the group
     */
    public static Signature group(List<Signature> tasks) {
        return Signature.composite("celery.group", "group", tasks(tasks), false);
    }

    /**
     * A group (the header) and a body that runs once every header task has finished, with the
     * header's results, in order, as its first argument. A failed header task fails the body with
     * {@code ChordError}.
     *
     * @param header the tasks run in parallel
     * @param body   the task run with their results
     * @return the chord; {@link Celeriac#apply(Signature)} gives the body's result
     */
    public static Signature chord(List<Signature> header, Signature body) {
        ObjectNode kwargs = Json.NODES.objectNode();
        kwargs.putObject("kwargs");
        kwargs.set("header", group(header).toJson());
        kwargs.set("body", body.toJson());
        return Signature.composite("celery.chord", "chord", kwargs, false);
    }

    /**
     * Celery's {@code task.chunks(items, n)}: a group of {@code celery.starmap} tasks, each over {@code n} argument lists.
     *
     * @param task  the task to call for each item
     * @param items its argument lists
     * @param n     how many items each chunk takes
     * @return the chunks, applied as a group
     * @throws IllegalArgumentException {@code n} is less than 1
     */
    public static Signature chunks(Signature task, List<? extends List<?>> items, int n) {
        if (n < 1) {
            throw new IllegalArgumentException("chunks need a size of at least 1, got " + n);
        }
        ObjectNode kwargs = Json.NODES.objectNode();
        kwargs.set("task", task.toJson());
        kwargs.set("it", Json.toTree(items));
        kwargs.put("n", n);
        return Signature.composite("celery.chunks", "chunks", kwargs, true);
    }

    /**
     * Celery's {@code task.starmap(items)}: one {@code celery.starmap} task calling {@code task(*item)} for each item.
     *
     * @param task  the task to call
     * @param items its argument lists
     * @return the starmap task; its result is the list of results
     */
    public static Signature starmap(Signature task, List<? extends List<?>> items) {
        return mapLike("celery.starmap", "xstarmap", task, items);
    }

    /**
     * Celery's {@code task.map(items)}: one {@code celery.map} task calling {@code task(item)} for each item.
     *
     * @param task  the task to call
     * @param items its single arguments
     * @return the map task; its result is the list of results
     */
    public static Signature map(Signature task, List<?> items) {
        return mapLike("celery.map", "xmap", task, items);
    }

    private static Signature mapLike(String name, String type, Signature task, List<?> items) {
        ObjectNode kwargs = Json.NODES.objectNode();
        kwargs.set("task", task.toJson());
        kwargs.set("it", Json.toTree(items));
        return Signature.composite(name, type, kwargs, true);
    }

    private static ObjectNode tasks(List<Signature> sigs) {
        ObjectNode kwargs = Json.NODES.objectNode();
        ArrayNode tasks = kwargs.putArray("tasks");
        sigs.forEach(s -> tasks.add(s.toJson()));
        return kwargs;
    }
}
