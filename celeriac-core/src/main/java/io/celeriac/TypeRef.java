package io.celeriac;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;

/**
 * A generic type captured at compile time, for results whose type a {@link Class} cannot say
 * ({@code List<Report>}, {@code Map<String, Integer>}): subclass it anonymously.
 *
 * <pre>{@code
 * TaskRef<List<Report>> SCRAPE = TaskRef.of("scrape_all", new TypeRef<List<Report>>() {});
 * }</pre>
 *
 * @param <T> the type captured
 */
public abstract class TypeRef<T> {
    private final Type type;

    /**
     * Captures the type argument of the anonymous subclass.
     *
     * @throws IllegalArgumentException it was made without one ({@code new TypeRef() {}})
     */
    protected TypeRef() {
        Type sup = getClass().getGenericSuperclass();
        if (!(sup instanceof ParameterizedType p)) {
            throw new IllegalArgumentException("a TypeRef needs its type argument: new TypeRef<List<Report>>() {}");
        }
        this.type = p.getActualTypeArguments()[0];
    }

    /** @return the captured type, generic arguments included */
    public Type type() {
        return type;
    }

    @Override
    public String toString() {
        return type.getTypeName();
    }
}
