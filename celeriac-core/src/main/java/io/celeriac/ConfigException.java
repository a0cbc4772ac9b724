package io.celeriac;

/**
 * A setting, configuration file, URL or command-line value is wrong. The message says which; the
 * command line prints it as one line and exits with status 2.
 *
 * <pre>{@code
 * try {
 *     Celeriac.open(config, registry);
 * } catch (ConfigException e) {
 *     System.err.println(e.getMessage());   // broker_url 'reddis://h': no broker module for scheme 'reddis' (available: …)
 * }
 * }</pre>
 */
public class ConfigException extends CeleriacException {
    /**
     * A configuration error.
     *
     * @param message which setting, file or value is wrong, and why
     */
    public ConfigException(String message) {
        super(message);
    }

    /**
     * A configuration error with its cause.
     *
     * @param message which setting, file or value is wrong, and why
     * @param cause   the underlying exception (a YAML parse error, say)
     */
    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public boolean isUserError() {
        return true;
    }
}
