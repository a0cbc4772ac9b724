package io.celeriac;

/** A setting, configuration file, URL or command-line value is wrong. The message says which. */
public class ConfigException extends CeleriacException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public boolean isUserError() {
        return true;
    }
}
