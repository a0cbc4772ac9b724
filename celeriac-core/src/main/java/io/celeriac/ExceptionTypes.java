package io.celeriac;

import java.util.ArrayList;
import java.util.List;

/** Exception classes named in settings ({@code task_autoretry_for: [Exception, java.io.IOException]}). */
final class ExceptionTypes {
    private static final String[] SHORT_PACKAGES = {"java.lang.", "java.io.", "java.net.", "java.util.concurrent."};

    private ExceptionTypes() {
    }

    static List<Class<? extends Throwable>> resolve(String setting, List<String> names) {
        List<Class<? extends Throwable>> out = new ArrayList<>();
        for (String name : names) {
            out.add(resolve(setting, name));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    static Class<? extends Throwable> resolve(String setting, String name) {
        List<String> candidates = new ArrayList<>();
        if (name.contains(".")) {
            candidates.add(name);
        } else {
            for (String p : SHORT_PACKAGES) {
                candidates.add(p + name);
            }
        }
        for (String c : candidates) {
            try {
                Class<?> k = Class.forName(c, false, ExceptionTypes.class.getClassLoader());
                if (!Throwable.class.isAssignableFrom(k)) {
                    throw new ConfigException("setting '" + setting + "': " + c + " is not an exception class");
                }
                return (Class<? extends Throwable>) k;
            } catch (ClassNotFoundException e) {
                // try the next package
            }
        }
        throw new ConfigException("setting '" + setting + "': no exception class '" + name + "' on the class path"
                + (name.contains(".") ? "" : " (simple names are looked up in java.lang, java.io, java.net, java.util.concurrent)"));
    }
}
