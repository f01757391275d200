package dev.lambda.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Loopback ports for the embedded servers: a free one when none is given, a clear error when one is taken. */
public final class Ports {

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
            return requested;
        } catch (IOException e) {
            throw new IllegalStateException(what + " port " + requested + " is already in use; stop what uses it or choose another port");
        }
    }

    public static int free() {
        try (ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
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
