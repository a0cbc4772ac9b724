package io.celeriac.dashboard;

import io.celeriac.ConfigException;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Where and how the dashboard listens: {@code dashboard_bind}, {@code dashboard_port},
 * {@code dashboard_auth}, {@code dashboard_read_only}. {@link #of} refuses a bind address that is
 * not loopback without {@code dashboard_auth}, and an auth value of the wrong form.
 *
 * @param bind     the address to listen on
 * @param port     the TCP port (0: any free one)
 * @param auth     who may use it
 * @param readOnly no controls
 */
public record DashboardConfig(InetAddress bind, int port, Auth auth, boolean readOnly) {

    /** From the settings; {@code port} overrides {@code dashboard_port} when not null. */
    public static DashboardConfig of(Config config, Integer port) {
        String bindText = config.get(Settings.DASHBOARD_BIND).trim();
        InetAddress bind;
        try {
            bind = InetAddress.getByName(bindText);
        } catch (UnknownHostException e) {
            throw new ConfigException("dashboard_bind '" + bindText + "' is not an address of this machine");
        }
        int p = port != null ? port : config.get(Settings.DASHBOARD_PORT);
        if (p < 0 || p > 65535) {
            throw new ConfigException("--port must be 0 to 65535, got " + p);
        }
        Auth auth = Auth.parse(config.get(Settings.DASHBOARD_AUTH));
        if (!bind.isLoopbackAddress() && auth.isOpen()) {
            throw new ConfigException("dashboard_bind " + bindText + " is not a loopback address: set dashboard_auth"
                    + " (bearer:TOKEN, or basic:USER:HASH from 'celeriac dashboard hash-password') or bind 127.0.0.1");
        }
        return new DashboardConfig(bind, p, auth, config.get(Settings.DASHBOARD_READ_ONLY));
    }
}
