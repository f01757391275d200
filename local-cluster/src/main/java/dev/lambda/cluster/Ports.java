package dev.lambda.cluster;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;

/** Loopback ports for the embedded servers: a free one when none is given, a clear error when one is taken. */
public final class Ports {

    /** How many ports below the outgoing-connection range {@link #free} picks from. */
    private static final int QUIET_PORTS = 10_000;
    private static final int EPHEMERAL_FROM = ephemeralFrom();
    private static final Random RANDOM = new Random();
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private Ports() {
    }

    /** {@code requested} if it is free, any free port if it is 0. */
    public static int resolve(int requested, String what) {
        if (requested == 0) {
            return free();
        }
        if (requested < 0 || requested > 65535) {
            throw new IllegalArgumentException(what + " port " + requested + " is not a port number");
        }
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), requested));
            HANDED_OUT.add(requested); // so free() never hands it to another server of this process
            return requested;
        } catch (IOException e) {
            throw new IllegalStateException(what + " port " + requested + " is already in use; stop what uses it or choose another port");
        }
    }

    /**
     * A free loopback port, taken below the range the system hands out for outgoing connections
     * where it can (Linux: {@code /proc/sys/net/ipv4/ip_local_port_range}, 32768 and up by default).
     * A port from that range (what binding port 0 returns) can be taken by any process's outgoing
     * connection between this check and the server's own bind: a forked Cassandra once failed to
     * start so in CI. Where that range leaves no room below it, any free port. Never the same
     * port twice in one process, so two servers started together do not get one port (the
     * system may hand out a just-closed port 0 again: it did in CI).
     */
    public static int free() {
        return free(EPHEMERAL_FROM, Ports::anyFree);
    }

    /**
     * {@link #free()} below the outgoing-connection range starting at {@code below}, or from
     * {@code anyFree} (the system's choice) where there is no room below it.
     */
    static int free(int below, IntSupplier anyFree) {
        if (below > QUIET_PORTS + 1024) {
            for (int i = 0; i < 200; i++) {
                int port = below - QUIET_PORTS + RANDOM.nextInt(QUIET_PORTS);
                if (!HANDED_OUT.contains(port) && isFree(port) && HANDED_OUT.add(port)) {
                    return port;
                }
            }
        }
        for (int i = 0; i < 200; i++) {
            int port = anyFree.getAsInt();
            if (HANDED_OUT.add(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no loopback port that was not handed out already");
    }

    /** The port the system gives a loopback socket bound to port 0. */
    private static int anyFree() {
        try (ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }

    /**
     * The first port of the system's outgoing-connection range. Where it cannot be read (not
     * Linux, or a sandbox without that file), Linux's default: 32768, below the 49152 of other systems.
     */
    private static int ephemeralFrom() {
        // Files.readString trusts the size /proc reports (0) and returned "3" of "32768 60999" here.
        try (BufferedReader reader = Files.newBufferedReader(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))) {
            return Integer.parseInt(reader.readLine().trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return 32768;
        }
    }

    /** Whether a server could listen on the loopback port now (checked without address reuse, as strictly as can be). */
    private static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(false);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether something accepts connections on the loopback port. */
    public static boolean isListening(int port) {
        try (java.net.Socket socket = new java.net.Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
